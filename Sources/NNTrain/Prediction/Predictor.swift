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
public final class Predictor {
    /// The checkpoint's path, as messages name it.
    public let checkpointPath: String
    public let schema: InputSchema
    /// The class names by output index; `[]` for a regression model (one output).
    public let classNames: [String]
    public let batchCapacity: Int
    /// With a quantization: what it made of the model (mode, int8's scales, sizes).
    public let quantization: QuantizationReport?
    private let network: Network
    private let quantized: QuantizedInference?
    private let normalizer: Normalizer
    private let inputs: FloatBuffer

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

    public var task: PredictionTask { classNames.isEmpty ? .regression : .classification }
    public var inputWidth: Int { network.inputWidth }
    public var outputWidth: Int { network.outputWidth }

    /// Where row `row` (< batchCapacity) of the next batch is written, raw.
    public func inputRow(_ row: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition((0..<batchCapacity).contains(row), "Predictor: row \(row) outside the batch")
        return UnsafeMutableBufferPointer(start: inputs.base + row * inputWidth, count: inputWidth)
    }

    /// The outputs [rows, outputWidth] of the first `rows` rows written with `inputRow` (logits of
    /// a classifier, values of a regression), valid until the next call.
    public func outputs(rows: Int) -> MatrixView {
        precondition((1...batchCapacity).contains(rows), "Predictor: \(rows) rows for a batch of \(batchCapacity)")
        let x = inputs.matrix(rows: rows, columns: inputWidth)
        normalizer.normalize(x)
        return quantized?.forward(x) ?? network.forward(x, training: false)
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
