import Foundation

/// A checkpoint's model ready to predict batches of raw rows: rebuilt as `nntrain eval` rebuilds
/// it (`CheckpointEvaluation.model`: the checkpoint's config, tensors and batch-norm statistics, in
/// its training precision), with its input schema, normaliser and class names.
///
/// A batch is filled raw (pixels as their byte values, CSV records as `TableSchema.encode` writes
/// them) into `inputRow(_:)`, then `outputs(rows:)` normalises it in place with the checkpoint's
/// `Normalizer` (the arithmetic of `Normalizer.gather`) and runs the network in evaluation mode.
/// Every buffer is sized once here for `batchCapacity` rows, so the forward pass of a batch, or of
/// one row, allocates no buffers. A row's outputs equal eval's for the same row when the batches are cut at the
/// same rows (eval's are 1024, `Prediction.defaultBatchSize`).
///
/// With a quantization (fp16 or int8), the rows run through the model in inference form with its
/// weights in that mode (`QuantizedInference`), as `nntrain eval --quantize` runs them.
///
/// An ensemble (`init(checkpointPaths:)` with several checkpoints, see `Ensemble`): each member
/// normalises a copy of the raw batch with its own normaliser and runs it; `outputs(rows:)` is then
/// the mean of the members' probabilities (classification: `outputsAreProbabilities`) or values, and
/// `memberOutputs(_:)` each member's own logits or values for the same rows.
public final class Predictor {
    /// The checkpoint's path, as messages name it.
    public let checkpointPath: String
    public let schema: InputSchema
    /// The class names by output index; `[]` for a regression model (one output).
    public let classNames: [String]
    public let batchCapacity: Int
    /// With a quantization: what it made of the model (mode, int8's scales, sizes).
    public let quantization: QuantizationReport?
    /// The checkpoints' paths, one for a single model; several for an ensemble.
    public let memberPaths: [String]
    private let network: Network
    private let quantized: QuantizedInference?
    private let normalizer: Normalizer
    private let inputs: FloatBuffer
    /// An ensemble's members (the first is `network`) with their normalisers, empty for one model; the
    /// copy of the raw batch each normalises, and the averaged outputs.
    private let members: [(network: Network, normalizer: Normalizer)]
    private let memberInputs: FloatBuffer
    private let averaged: FloatBuffer
    private var lastOutputs: [MatrixView] = []

    /// Reads the checkpoint at `path` (refused as eval refuses it) and sizes the batch buffers; with
    /// `quantization`, quantizes its model (int8: calibrated on its training rows).
    public init(checkpointPath path: String, batchCapacity: Int, quantization: QuantizationSettings? = nil)
        throws(NNTrainError)
    {
        precondition(batchCapacity > 0, "Predictor: batchCapacity must be positive")
        let checkpoint = try Checkpoint.read(path: path)
        network = try CheckpointEvaluation.model(of: checkpoint, configuration: checkpoint.configuration(path: path),
                                                 path: path)
        guard checkpoint.normalizer.scale.count == network.inputWidth else {
            throw .data(path, "its normaliser has \(checkpoint.normalizer.scale.count) features but the model takes "
                + "\(network.inputWidth) inputs; expected a checkpoint written by nntrain run")
        }
        checkpointPath = path
        memberPaths = [path]
        members = []
        memberInputs = FloatBuffer(count: 0)
        averaged = FloatBuffer(count: 0)
        schema = checkpoint.inputSchema
        classNames = checkpoint.classNames
        normalizer = checkpoint.normalizer
        self.batchCapacity = batchCapacity
        inputs = FloatBuffer(count: batchCapacity * network.inputWidth)
        if let quantization {
            let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: path)
            let weights = try quantization.weights(of: model, checkpointPath: path)
            self.quantization = QuantizationReport(model: model, weights: weights)
            // `none` of a model trained in float32 is the network itself (bit for bit eval's); of one trained
            // in fp16 or bf16, the float32 arithmetic of the exported file rather than the autocast emulation.
            quantized = quantization.mode == .none && network.precision == .fp32 ? nil
                : QuantizedInference(model: model, weights: weights, rowCapacity: batchCapacity)
        } else {
            self.quantization = nil
            quantized = nil
        }
        if quantized == nil { network.reserve(rows: batchCapacity) }
    }

    /// The ensemble of the checkpoints at `paths` (refused as `Ensemble.members` refuses them), or the
    /// one model of a single path (`init(checkpointPath:)`); quantization is for a single model only
    /// (`.usage`, `Ensemble.quantizationRefusal`).
    public convenience init(checkpointPaths paths: [String], batchCapacity: Int, quantization: QuantizationSettings? = nil)
        throws(NNTrainError)
    {
        precondition(!paths.isEmpty, "Predictor: no checkpoint")
        guard paths.count > 1 else {
            try self.init(checkpointPath: paths[0], batchCapacity: batchCapacity, quantization: quantization)
            return
        }
        if quantization != nil { throw NNTrainError(.usage, Ensemble.quantizationRefusal) }
        try self.init(members: Ensemble.members(paths: paths), batchCapacity: batchCapacity)
    }

    private init(members: [Ensemble.Member], batchCapacity: Int) throws(NNTrainError) {
        precondition(batchCapacity > 0, "Predictor: batchCapacity must be positive")
        var models: [(network: Network, normalizer: Normalizer)] = []
        for member in members {
            let network = try CheckpointEvaluation.model(of: member.checkpoint,
                                                         configuration: member.checkpoint.configuration(path: member.path),
                                                         path: member.path)
            guard member.checkpoint.normalizer.scale.count == network.inputWidth else {
                throw .data(member.path, "its normaliser has \(member.checkpoint.normalizer.scale.count) features but the "
                    + "model takes \(network.inputWidth) inputs; expected a checkpoint written by nntrain run")
            }
            network.reserve(rows: batchCapacity)
            models.append((network, member.checkpoint.normalizer))
        }
        let first = members[0]
        checkpointPath = first.path
        memberPaths = members.map(\.path)
        schema = first.checkpoint.inputSchema
        classNames = first.checkpoint.classNames
        self.batchCapacity = batchCapacity
        quantization = nil
        quantized = nil
        (network, normalizer) = models[0]
        self.members = models
        lastOutputs.reserveCapacity(models.count)
        inputs = FloatBuffer(count: batchCapacity * network.inputWidth)
        memberInputs = FloatBuffer(count: batchCapacity * network.inputWidth)
        averaged = FloatBuffer(count: batchCapacity * network.outputWidth)
    }

    public var task: PredictionTask { classNames.isEmpty ? .regression : .classification }
    /// Whether `outputs(rows:)` are probabilities (an ensemble classifier's p̄) rather than logits or values.
    public var outputsAreProbabilities: Bool { !members.isEmpty && task == .classification }
    public var inputWidth: Int { network.inputWidth }
    public var outputWidth: Int { network.outputWidth }

    /// Where row `row` (< batchCapacity) of the next batch is written, raw.
    public func inputRow(_ row: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition((0..<batchCapacity).contains(row), "Predictor: row \(row) outside the batch")
        return UnsafeMutableBufferPointer(start: inputs.base + row * inputWidth, count: inputWidth)
    }

    /// The outputs [rows, outputWidth] of the first `rows` rows written with `inputRow` (logits of
    /// a classifier, values of a regression; an ensemble's mean probabilities or values), valid until
    /// the next call. The raw rows are consumed (normalised in place).
    public func outputs(rows: Int) -> MatrixView {
        precondition((1...batchCapacity).contains(rows), "Predictor: \(rows) rows for a batch of \(batchCapacity)")
        let x = inputs.matrix(rows: rows, columns: inputWidth)
        guard !members.isEmpty else {
            normalizer.normalize(x)
            return quantized?.forward(x) ?? network.forward(x, training: false)
        }
        lastOutputs.removeAll(keepingCapacity: true)
        for (network, normalizer) in members {
            let copy = memberInputs.matrix(rows: rows, columns: inputWidth)
            _ = copy.elements.update(fromContentsOf: UnsafeBufferPointer(x.elements))
            normalizer.normalize(copy)
            lastOutputs.append(network.forward(copy, training: false))
        }
        let mean = averaged.matrix(rows: rows, columns: outputWidth)
        Ensemble.average(lastOutputs, classification: task == .classification, into: mean)
        return mean
    }

    /// An ensemble's member `index`'s own outputs (logits or values) for the rows of the last
    /// `outputs(rows:)`, valid until the next call; a single model's are `outputs(rows:)` themselves.
    public func memberOutputs(_ index: Int) -> MatrixView {
        precondition(lastOutputs.indices.contains(index), "Predictor: no outputs of member \(index)")
        return lastOutputs[index]
    }

    /// The softmax of one row of logits, as `torch.softmax`: pᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z),
    /// summed in Double and each rounded to Float once.
    public static func probabilities(_ logits: UnsafeBufferPointer<Float>, into probabilities: inout [Float]) {
        let largest = logits.reduce(-Double.infinity) { max($0, Double($1)) }
        var total = 0.0
        for logit in logits { total += exp(Double(logit) - largest) }
        probabilities.removeAll(keepingCapacity: true)
        for logit in logits { probabilities.append(Float(exp(Double(logit) - largest) / total)) }
    }

    /// The `k` classes of the largest logits, best first; equal logits rank the lower index first
    /// (so the first is `ConfusionMatrix.prediction`'s arg-max, and ties break as scikit-learn's
    /// `top_k_accuracy_score` breaks them), and a NaN logit ranks below every number. One sort of
    /// the class indices: O(C log C) a row for C classes, whatever k.
    public static func ranking(_ logits: UnsafeBufferPointer<Float>, first k: Int, into ranking: inout [Int]) {
        ranking.removeAll(keepingCapacity: true)
        ranking.append(contentsOf: logits.indices)
        func key(_ index: Int) -> Float { logits[index].isNaN ? -.infinity : logits[index] }
        ranking.sort { key($0) > key($1) || (key($0) == key($1) && $0 < $1) }
        ranking.removeLast(ranking.count - min(k, ranking.count))
    }
}
