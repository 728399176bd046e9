import Foundation

/// What a checkpoint file is, for a person or a script (`nntrain inspect`), read from the file
/// alone: the model, when and why it was written, the best figure it knows, the data it was
/// trained on, and the versions that wrote it. Reading it verifies the file as every reader does
/// (`CheckpointFile.read`, `Checkpoint(contents:path:)`).
public struct CheckpointDescription: Equatable, Sendable, Encodable {
    public var path: String
    public var fileBytes: Int
    /// The checkpoint layout's version (`nntrain.format_version`) and the nntrain that wrote it.
    public var formatVersion: Int
    public var nntrainVersion: String
    /// "5-4-1 relu": layer widths and activation.
    public var architecture: String
    /// The model's parameters: the count, and each tensor's PyTorch state_dict name and shape.
    public var parameters: Int
    public var parameterTensors: [ParameterTensor]
    /// Why it was written: `epoch` (every_n_epochs), `best` (an epoch checkpoint holding
    /// save_best's best so far, as best.bin does), `interrupted` (Ctrl-C, SIGTERM or
    /// training.max_seconds) or `final` (training ended).
    public var reason: String
    /// "after epoch 2" or "at epoch 3, step 7": where training stood.
    public var position: String
    public var epochsCompleted: Int
    /// Optimizer steps taken since the run began.
    public var steps: Int
    /// How training ended (`completed`, `early stop at epoch 3`); nil while it was still going.
    public var ended: String?
    /// The last finished epoch's figures, as in metrics.csv; nil before the first epoch ended.
    public var lastEpoch: EpochFigures?
    /// save_best's best so far (checkpoint.monitor) and early stopping's (early_stopping.monitor).
    public var best: MonitoredBest?
    public var earlyStoppingBest: MonitoredBest?
    public var dataset: String
    public var dataPath: String
    public var trainingRows: Int
    /// The CRC-32 of the training rows (`Dataset.contentCRC32`); nil in checkpoints written without it.
    public var dataCRC32: String?
    /// How raw input becomes the model's input (`nntrain.input`): an image size, or the CSV columns
    /// with their encodings, fills and the target.
    public var input: InputSchema
    /// The classes by label; `[]` for regression.
    public var classNames: [String]
    /// μ and σ of a standardised regression target (y = σ·z + μ); nil without one.
    public var targetScaling: TargetScalingFigures?
    /// The pruning masks' figures (0% sparsity until the first pruning step); nil for a run without pruning.
    public var pruning: PruningFigures?
    /// With distillation, the teacher's checkpoints (an ensemble has several) with the CRC-32 each had
    /// (`nntrain.crc32`), which a resume must give again; nil without distillation.
    public var teachers: [Teacher.Record]?
    /// The file the run's initial weights came from (`model.init_from`), its CRC-32 and the layers copied; nil
    /// for a run that started from the initialiser.
    public var initFrom: InitialWeights.Record?
    /// The distillation's temperature T and alpha; nil without distillation.
    public var distillation: DistillationFigures?
    /// The weight averages' updates so far (n_averaged) and which weights are the final model
    /// (`nntrain.final_model`); nil without `ema:` or `swa:`.
    public var averaging: AveragingFigures?

    public struct AveragingFigures: Equatable, Sendable, Encodable {
        public var emaUpdates: Int?
        public var swaUpdates: Int?
        /// `model`, `ema` or `swa`.
        public var finalModel: String
    }

    public struct DistillationFigures: Equatable, Sendable, Encodable {
        public var temperature: Double
        public var alpha: Double
    }

    public struct TargetScalingFigures: Equatable, Sendable, Encodable {
        public var mean: Float
        public var std: Float
    }

    public struct ParameterTensor: Equatable, Sendable, Encodable {
        public var name: String
        public var shape: [Int]
    }

    public struct EpochFigures: Equatable, Sendable, Encodable {
        public var epoch: Int
        public var lr: Double
        public var trainLoss: Double
        public var valLoss: Double?
    }

    public struct MonitoredBest: Equatable, Sendable, Encodable {
        public var monitor: String
        public var value: Double
        public var epoch: Int
    }

    /// Reads and verifies the checkpoint at `path` and describes it.
    public static func read(path: String) throws(NNTrainError) -> CheckpointDescription {
        let file = try CheckpointFile.read(path: path)
        let checkpoint = try Checkpoint(contents: file, path: path)
        let configuration = try checkpoint.configuration(path: path)
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return CheckpointDescription(
            checkpoint: checkpoint, configuration: configuration, path: path, fileBytes: fileBytes,
            formatVersion: file.metadata[CheckpointFile.versionKey].flatMap { Int($0) } ?? CheckpointFile.formatVersion)
    }

    init(checkpoint: Checkpoint, configuration: Configuration, path: String, fileBytes: Int, formatVersion: Int) {
        let state = checkpoint.state
        let finished = state.position.epoch - 1
        self.path = path
        self.fileBytes = fileBytes
        self.formatVersion = formatVersion
        nntrainVersion = checkpoint.nntrainVersion
        architecture = checkpoint.architecture
        parameterTensors = checkpoint.parameterLayout.map { ParameterTensor(name: $0.name, shape: $0.shape) }
        parameters = parameterTensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let holdsBest = checkpoint.reason == .epoch && state.position.batch == 0 && checkpoint.bestRecord?.epoch == finished
        reason = holdsBest ? "best" : checkpoint.reason.rawValue
        position = TrainingRun.describe(state.position)
        epochsCompleted = finished
        steps = state.stepCount
        ended = state.ending?.description
        lastEpoch = state.history.last.map {
            EpochFigures(epoch: $0.epoch, lr: $0.learningRate, trainLoss: $0.trainLoss, valLoss: $0.validation?.loss)
        }
        if let record = checkpoint.bestRecord, let monitor = configuration.checkpoint.monitor {
            best = MonitoredBest(monitor: monitor.rawValue, value: record.value, epoch: record.epoch)
        }
        earlyStoppingBest = state.earlyStopping.flatMap { stopping in
            stopping.best.map { MonitoredBest(monitor: stopping.monitor.rawValue, value: $0, epoch: stopping.bestEpoch) }
        }
        pruning = PruningFigures(method: configuration.pruning.method, weights: checkpoint.parameterLayout,
                                 masks: checkpoint.state.pruningMasks)
        if !checkpoint.teachers.isEmpty {
            teachers = checkpoint.teachers
            distillation = DistillationFigures(temperature: configuration.distillation.temperature,
                                               alpha: configuration.distillation.alpha)
        }
        initFrom = checkpoint.initialWeights
        if state.ema != nil || state.swa != nil || checkpoint.finalModel == .ax {
            averaging = AveragingFigures(emaUpdates: state.ema?.count, swaUpdates: state.swa?.count,
                                         finalModel: checkpoint.finalModel.rawValue)
        }
        dataset = configuration.data.dataset.rawValue
        dataPath = configuration.data.path
        trainingRows = state.order.count
        dataCRC32 = checkpoint.dataFingerprint
        input = checkpoint.inputSchema
        classNames = checkpoint.classNames
        targetScaling = checkpoint.targetScaling.map { TargetScalingFigures(mean: $0.shift, std: $0.scale) }
    }

    /// The description as one pretty JSON object (see ReportJSON).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "checkpoint description")
    }

    /// The description for a person at a terminal, one fact a line.
    public func text() -> String {
        var lines = [
            "\(path): nntrain checkpoint, format version \(formatVersion), written by nntrain \(nntrainVersion), "
                + "\(fileBytes) bytes",
            "model: \(architecture), \(parameters) parameters in \(parameterTensors.count) tensors",
            "written: \(position) (\(reason)), \(steps) optimizer steps" + (ended.map { "; training \($0)" } ?? ""),
        ]
        if let pruning {
            let layers = pruning.layers.map { "\($0.name) \(percent($0.sparsity))" }.joined(separator: ", ")
            let widths = pruning.hiddenWidths.map { "; hidden widths at inference " + $0.map(String.init).joined(separator: "-") }
            lines.append("pruning: \(pruning.method), \(percent(pruning.sparsity)) of the masked weights pruned (\(layers))"
                + (widths ?? ""))
        }
        if let teachers, let distillation {
            lines.append("distilled from: " + teachers.map { "\($0.path) (CRC-32 \($0.fingerprint))" }.joined(separator: " + ")
                + ", temperature \(figure(distillation.temperature)), alpha \(figure(distillation.alpha))")
        }
        if let initFrom {
            let layers = initFrom.layers.isEmpty ? "no layer" : (initFrom.layers.count == 1 ? "layer " : "layers ")
                + initFrom.layers.map(String.init).joined(separator: ", ")
            lines.append("initial weights: \(initFrom.path) (CRC-32 \(initFrom.crc32)), \(layers) copied"
                + (initFrom.normalizer ? ", its input normalisation" : ""))
        }
        if let averaging {
            let counts = [averaging.emaUpdates.map { "ema \($0) updates" }, averaging.swaUpdates.map { "swa \($0) updates" },
                          averaging.finalModel == FinalModel.ax.rawValue ? "asgd's ax" : nil]
            let tensors = switch FinalModel(rawValue: averaging.finalModel) {
            case .model, nil: "the model tensors"
            case .ax: "optimizer.ax"
            case .ema, .swa: averaging.finalModel + ".*"
            }
            lines.append("averaged weights: " + counts.compactMap { $0 }.joined(separator: ", ") + "; final model: \(tensors)")
        }
        if let lastEpoch {
            lines.append("epoch \(lastEpoch.epoch): lr \(figure(lastEpoch.lr)), train_loss \(figure(lastEpoch.trainLoss))"
                + (lastEpoch.valLoss.map { ", val_loss \(figure($0))" } ?? ""))
        }
        if let best { lines.append("best (save_best): \(best.monitor) \(figure(best.value)) at epoch \(best.epoch)") }
        if let earlyStoppingBest {
            lines.append("best (early_stopping): \(earlyStoppingBest.monitor) \(figure(earlyStoppingBest.value)) "
                + "at epoch \(earlyStoppingBest.epoch)")
        }
        lines.append("data: \(dataset) (\(dataPath)), \(trainingRows) training rows, CRC-32 \(dataCRC32 ?? "not recorded")")
        lines.append("input: " + Self.describe(input))
        switch (classNames.isEmpty, input) {
        case (false, .table(let table)): lines.append("target: \(table.target), classes \(classNames.joined(separator: ", "))")
        case (false, .images): lines.append("classes: \(classNames.joined(separator: ", "))")
        case (true, .table(let table)):
            lines.append("target: \(table.target), regression" + (targetScaling.map {
                ", standardised (y = \(figure(Double($0.std))) z + \(figure(Double($0.mean))))"
            } ?? ""))
        case (true, .images): break
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// "images of 28×28 pixels", or "9 values from 6 columns: bill_length_mm (fill 43.9), ..., island
    /// one-hot over Biscoe, Dream, Torgersen (fill Biscoe)".
    static func describe(_ input: InputSchema) -> String {
        switch input {
        case .images(let rows, let columns): return "images of \(rows)×\(columns) pixels"
        case .table(let table):
            let columns = table.columns.map { column -> String in
                switch column.encoding {
                case .numeric(let fill):
                    return column.name + (fill.map { " (fill \(ConsoleFormat.significant(Double($0))))" } ?? "")
                case .categorical(let categories, let fill):
                    return "\(column.name) one-hot over \(categories.joined(separator: ", "))"
                        + (fill.map { " (fill \($0))" } ?? "")
                }
            }
            return "\(table.width) values from \(table.columns.count) columns: \(columns.joined(separator: "; "))"
        }
    }

    /// A figure as the console prints it (4 significant digits); `--json` keeps full precision.
    private func figure(_ value: Double) -> String { ConsoleFormat.significant(value) }
    private func percent(_ fraction: Double) -> String { String(format: "%.1f%%", 100 * fraction) }
}
