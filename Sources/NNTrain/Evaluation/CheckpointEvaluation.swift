import Foundation

/// What `nntrain eval` computes: a checkpoint's model, rebuilt from the checkpoint alone (its
/// config, tensors and normalisation), on one split of its data, or of other data of the same
/// kind (`dataPath`).
///
/// The splits are those of the training run: the checkpoint's config and seed draw the same
/// validation (and, for a CSV, test) rows again. Rows are normalised with the checkpoint's own
/// statistics, which the model was trained with; the forward pass runs in the training precision,
/// in evaluation mode (dropout off, batch norm's running statistics), so the test figures equal
/// summary.json's for the same model. The loss is the training loss without label smoothing.
public struct CheckpointEvaluation: Codable, Sendable {
    public enum Split: String, CaseIterable, Codable, Sendable {
        case test, val, train
    }

    public var checkpoint: String
    public var architecture: String
    public var dataset: String
    public var dataPath: String
    public var split: Split
    public var rows: Int
    public var loss: Double
    /// Classification: accuracy, per-class precision/recall/F1/support, averages, top-k, confusion.
    public var classification: ClassificationReport?
    /// Regression: MSE, RMSE, MAE, R².
    public var regression: RegressionReport?
    /// A linear model on data with known true weights beside it: learned against true weights.
    public var weights: [RunSummary.WeightRecovery]?
    /// The data's notes and warnings (`TrainingData.notes`, `.warnings`): rows dropped, categories
    /// the model never saw.
    public var notes: [String] = []
    public var warnings: [String] = []
    /// With `quantization`: the mode, int8's scales and zero points, and the model's size per format.
    public var quantization: QuantizationReport?

    /// Evaluates the checkpoint at `checkpointPath` on `split` of its data (at `dataPath` when
    /// given), with top-k accuracy for each k of `topK` (classification; a regression model ignores
    /// it). Throws `.usage` for a k outside 1...classes (checked before the data are read), `.data`
    /// when the data do not fit the model (another number of features or classes) or the split is
    /// empty.
    /// `defaultTopK` is the k reported when `topK` is empty, lowered to the number of classes (a
    /// two-class model has no top-3).
    /// With `quantization`, the figures are those of the model in inference form with its weights in
    /// that mode (`QuantizedInference`: what ONNX Runtime computes on the exported file), and the
    /// evaluation carries its `QuantizationReport`; mode `.none` keeps the figures of the checkpoint's
    /// own network, as without it.
    public static func run(checkpointPath: String, dataPath: String? = nil, split: Split, topK: [Int] = [],
                           defaultTopK: Int? = nil, quantization: QuantizationSettings? = nil)
        throws(NNTrainError) -> CheckpointEvaluation
    {
        let checkpoint = try Checkpoint.read(path: checkpointPath)
        let topK = try resolvedTopK(topK, defaultTopK: defaultTopK, classCount: checkpoint.classNames.count,
                                    path: checkpointPath)
        let (data, configuration) = try Self.data(of: checkpoint, path: checkpointPath, dataPath: dataPath)
        let network = try model(of: checkpoint, configuration: configuration, path: checkpointPath)

        let dataset = try Self.dataset(split, of: data, configuration: configuration, path: checkpointPath)
        let loss = Loss(configuration.loss, huberDelta: configuration.huberDelta)
        var report: QuantizationReport?
        var quantized: QuantizedInference?
        if let quantization {
            let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: checkpointPath)
            let weights = try quantization.weights(of: model, checkpointPath: checkpointPath)
            report = QuantizationReport(model: model, weights: weights)
            if quantization.mode != .none || network.precision != .fp32 {  // see Predictor: none is the export's float32
                quantized = QuantizedInference(model: model, weights: weights,
                                               rowCapacity: min(Trainer.evaluationRows, dataset.count))
            }
        }
        let (outputs, sums) = if let quantized {
            Self.outputs(of: quantized, on: dataset, normalizer: data.normalizer, loss: loss)
        } else {
            Self.outputs(of: network, on: dataset, normalizer: data.normalizer, loss: loss)
        }
        var evaluation = CheckpointEvaluation(
            checkpoint: checkpointPath, architecture: checkpoint.architecture, dataset: configuration.data.dataset.rawValue,
            dataPath: configuration.data.path, split: split, rows: dataset.count, loss: sums.loss / Double(max(sums.rows, 1)),
            notes: data.notes, warnings: data.warnings, quantization: report)
        try evaluation.report(outputs: outputs, targets: dataset.targets, classNames: checkpoint.classNames, topK: topK)
        if case .values = dataset.targets { evaluation.weights = RunSummary.WeightRecovery.table(network: network, data: data) }
        return evaluation
    }

    /// `topK`, or `[defaultTopK]` lowered to the number of classes when it is empty (none for a
    /// regression); throws `.usage` for a k outside 1...classes.
    static func resolvedTopK(_ topK: [Int], defaultTopK: Int?, classCount: Int, path: String) throws(NNTrainError) -> [Int] {
        var topK = topK
        if topK.isEmpty, let k = defaultTopK, classCount > 0 { topK = [min(k, classCount)] }
        if classCount > 0, let k = topK.first(where: { !(1...classCount).contains($0) }) {
            throw NNTrainError(.usage, "--top-k \(k): expected an integer from 1 to \(classCount), "
                + "the number of classes of \(path)")
        }
        return topK
    }

    /// The rows of `split`; throws `.data` when it is empty, saying why and which splits to ask for.
    static func dataset(_ split: Split, of data: TrainingData, configuration: Configuration, path checkpointPath: String)
        throws(NNTrainError) -> Dataset
    {
        let dataset: Dataset = switch split {
        case .test: data.test
        case .val: data.validation
        case .train: data.train
        }
        guard dataset.count > 0 else {
            let why = switch split {
            case .val: (configuration.data.folds.map { "data.fold \(configuration.data.fold ?? 0) of data.folds \($0)" }
                ?? "validation_split \(configuration.data.validationSplit)") + " in the checkpoint's config holds out no row "
                + "of \(data.train.count) training rows"
            case .test: configuration.data.dataset.isImages ? "\(configuration.data.path) has no test images"
                : "test_split \(configuration.data.testFraction) of the checkpoint's config holds out no row of the "
                    + "\(data.train.count + data.validation.count) rows of \(configuration.data.path)"
            case .train: "\(configuration.data.path) has no training rows"
            }
            let others = Split.allCases.filter { $0 != split }.map { "--split \($0.rawValue)" }.joined(separator: " or ")
            throw .data(checkpointPath, "the \(split.rawValue) split is empty (\(why)); expected \(others)")
        }
        return dataset
    }

    /// Fills `classification` (logits or probabilities, row-major [rows, classes]: only their order
    /// within a row counts) or `regression` from the outputs against `targets`.
    mutating func report(outputs: [Float], targets: Targets, classNames: [String], topK: [Int]) throws(NNTrainError) {
        switch targets {
        case .classes(let labels):
            classification = try ClassificationReport(logits: outputs, labels: labels, classNames: classNames, topK: topK)
        case .values(let values):
            regression = try RegressionReport(predictions: outputs, targets: values)
        }
    }

    /// The checkpoint's data (at `dataPath` when given, with no separate test file: its own test
    /// split), read and split as in its training run (its config, its seed), with the checkpoint's
    /// normaliser and target scaling in place of ones fitted again; and the config that read it.
    /// Throws `.data` when the data do not fit the model (another image size, number of features or
    /// of classes).
    public static func data(of checkpoint: Checkpoint, path checkpointPath: String, dataPath: String?)
        throws(NNTrainError) -> (data: TrainingData, configuration: Configuration)
    {
        var configuration = try checkpoint.configuration(path: checkpointPath)
        if let dataPath {  // its own test split, not the test file the model was tested on
            configuration.data.path = dataPath
            configuration.data.testPath = nil
        }
        // Images are labelled with the checkpoint's classes (labels beyond them are refused) and
        // must have its image size.
        if configuration.data.dataset.isImages { configuration.data.classNames = checkpoint.classNames }
        var data = try TrainingData.load(for: &configuration, file: checkpointPath,
                                         trained: TrainedInput(schema: checkpoint.inputSchema, classNames: checkpoint.classNames))
        if case .images(let rows, let columns) = checkpoint.inputSchema,
           case .images(let dataRows, let dataColumns) = data.schema, (rows, columns) != (dataRows, dataColumns) {
            throw .data(checkpointPath, "the model takes images of \(rows)×\(columns) pixels but \(configuration.data.path) "
                + "holds images of \(dataRows)×\(dataColumns); expected images of the size the checkpoint was trained on")
        }
        let inputWidth = checkpoint.parameterLayout.first?.shape.last ?? 0
        let outputWidth = checkpoint.parameterLayout.last { $0.name.hasPrefix("layers.") }?.shape.first ?? 0
        guard data.train.featureCount == inputWidth, checkpoint.normalizer.scale.count == inputWidth else {
            throw .data(checkpointPath, "the model takes \(inputWidth) inputs but \(configuration.data.path) has "
                + "\(data.train.featureCount) features per row; expected data of the kind the checkpoint was trained on")
        }
        guard data.outputWidth == outputWidth else {
            throw .data(checkpointPath, "the model has \(outputWidth) outputs but \(configuration.data.path) has "
                + "\(data.outputWidth) \(data.isClassification ? "classes" : "targets"); expected data of the kind the "
                + "checkpoint was trained on")
        }
        data.normalizer = checkpoint.normalizer
        data.targetScaling = checkpoint.targetScaling
        return (data, configuration)
    }

    /// The checkpoint's model: the network `configuration` (the checkpoint's own) describes, with
    /// the checkpoint's final model's parameters and batch-norm statistics (an average's when
    /// `nntrain.final_model` names one, see `Checkpoint.servedModel`) and its target scaling (outputs in the
    /// target's units), after checking that they are that
    /// network's tensors (first their widths, which size the network, against its input schema's
    /// and class names').
    public static func model(
        of checkpoint: Checkpoint, configuration: Configuration, path: String
    ) throws(NNTrainError) -> Network {
        let inputWidth = checkpoint.parameterLayout.first?.shape.last ?? 0
        let outputWidth = checkpoint.parameterLayout.last { $0.name.hasPrefix("layers.") }?.shape.first ?? 0
        let expectedOutputs = checkpoint.classNames.isEmpty ? 1 : checkpoint.classNames.count
        guard inputWidth == checkpoint.inputSchema.width, outputWidth == expectedOutputs else {
            throw .data(path, "the model takes \(inputWidth) inputs to \(outputWidth) outputs but its input schema and "
                + "classes make \(checkpoint.inputSchema.width) to \(expectedOutputs); expected a checkpoint written by "
                + "nntrain run")
        }
        let network = configuration.makeNetwork(inputWidth: inputWidth, outputWidth: outputWidth,
                                                targetScaling: checkpoint.targetScaling)
        guard network.parameters.tensors.map(\.name) == checkpoint.parameterLayout.map(\.name),
              network.parameters.tensors.map(\.shape) == checkpoint.parameterLayout.map(\.shape),
              checkpoint.servedModel.parameters.count == network.parameters.count,
              checkpoint.servedModel.runningStatistics.map(\.count) == network.snapshot().runningStatistics.map(\.count)
        else {
            throw .data(path, "its tensors do not match the model its config describes "
                + "(\(checkpoint.architecture)); expected a checkpoint written by nntrain run")
        }
        network.restore(checkpoint.servedModel)
        return network
    }

    /// The network's outputs for every row of `dataset` in order ([rows, outputs] row-major), and
    /// the loss sums, in evaluation mode and in chunks of the network's row capacity.
    public static func outputs(of network: Network, on dataset: Dataset, normalizer: Normalizer, loss: Loss)
        -> (outputs: [Float], sums: LossSums)
    {
        network.reserve(rows: Trainer.evaluationRows)
        var outputs: [Float] = []
        outputs.reserveCapacity(dataset.count * network.outputWidth)
        var sums = LossSums()
        network.forEachEvaluationBatch(of: dataset, normalizer: normalizer) { output, targets in
            loss.evaluate(output: output, targets: targets, gradient: nil, into: &sums)
            outputs += UnsafeBufferPointer(start: output.base, count: output.count)
        }
        return (outputs, sums)
    }

    /// `outputs(of:on:normalizer:loss:)` with a quantized model, in chunks of its row capacity.
    static func outputs(of inference: QuantizedInference, on dataset: Dataset, normalizer: Normalizer, loss: Loss)
        -> (outputs: [Float], sums: LossSums)
    {
        let loader = BatchLoader(dataset: dataset, normalizer: normalizer, capacity: inference.rowCapacity)
        var outputs: [Float] = []
        outputs.reserveCapacity(dataset.count * inference.model.outputWidth)
        var sums = LossSums()
        let order = (0..<Int32(dataset.count)).map { $0 }
        order.withUnsafeBufferPointer { order in
            for start in stride(from: 0, to: dataset.count, by: inference.rowCapacity) {
                loader.withBatch(order: order, range: start..<min(start + inference.rowCapacity, dataset.count)) { x, targets in
                    let output = inference.forward(x)
                    loss.evaluate(output: output, targets: targets, gradient: nil, into: &sums)
                    outputs += UnsafeBufferPointer(start: output.base, count: output.count)
                }
            }
        }
        return (outputs, sums)
    }

    /// The JSON text (see ReportJSON: pretty, sorted snake_case keys, inf and nan as strings).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "eval")
    }
}
