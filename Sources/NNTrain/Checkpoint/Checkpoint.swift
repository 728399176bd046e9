import Foundation

/// Everything a checkpoint file holds: a trainer's whole state (`TrainingState`), the resolved
/// configuration, the model's layout, the normalisation, the class and feature names, save_best's
/// record and the nntrain version. `nntrain run --resume` continues from it bit for bit;
/// `nntrain eval` rebuilds the model from it alone.
///
/// In the file (safetensors, see `SafeTensors` and `CheckpointFile`), the model's tensors carry
/// PyTorch's state_dict names, so they load into an equivalent nn.Module:
///
///     layers.<i>.weight [out, in], layers.<i>.bias [out]      F32   each linear layer
///     norms.<i>.weight, .bias, .running_mean, .running_var     F32   each batch norm (a layer norm: .weight, .bias)
///     shortcuts.<i>.weight [out, in]                           F32   a residual block's projection (`model.residual`,
///                                                                    where hidden width i − 1 ≠ width i)
///     best.<name>                                              F32   restore_best's model
///     ema.<name>, swa.<name>                                   F32   the EMA and SWA averages (with their
///                                                                    batch norms' running statistics)
///     optimizer.<buffer>                  [parameter count]    F32   exp_avg, exp_avg_sq, momentum_buffer, …
///     pruning.layers.<i>.weight_mask      [out · in]           F32   1 kept, 0 pruned (pruning only; torch's name)
///     rng.shuffle, rng.augment [4], rng.dropout [layers, 4]    U64   xoshiro256** states
///     data.order                          [training rows]      I32   the epoch's order of rows
///     normalizer.shift, normalizer.scale  [features]           F32   x' = (x − shift) · scale
///     target.shift, target.scale          [1]                  F32   y = scale · z + shift (`TargetScaling`)
///
/// `target.*` are present only for a standardised regression target (`data.standardize_target`);
/// a checkpoint without them (every classifier, bonus by default, any checkpoint written before
/// they existed) has a network whose output is the last linear layer's.
///
/// and in `__metadata__` (strings): `nntrain.version`, `nntrain.config` (the resolved YAML),
/// `nntrain.architecture` ("784-256-128-10 relu"), `nntrain.parameters` and `nntrain.batch_norms`
/// (the names above, in the flat buffer's order), `nntrain.class_names`, `nntrain.feature_names`,
/// `nntrain.state` (position, step, optimizer counters, schedule, early stopping and loss-scaler
/// state, the running sums of the epoch in progress, as JSON), `nntrain.history` (every finished
/// epoch's metrics, JSON), `nntrain.reason` (epoch, interrupted, final) and `nntrain.data_crc32`
/// (the CRC-32 of the training rows, see `Dataset.contentCRC32`; `nntrain run` always writes it, and a
/// checkpoint made through the API without one is resumed without the data check), and `nntrain.input`
/// (the `InputSchema`, JSON: how raw input becomes the model's input; a checkpoint of nntrain 0.x
/// before it has its dataset's, which the config names), and for a distilled student `nntrain.teacher`
/// (JSON: each teacher checkpoint's path and `nntrain.crc32`, see `Teacher.Record`), which a resume
/// must match; `nntrain.final_model` (`ema` or `swa`) when an average is the run's final model, which
/// eval, predict and export then read (`servedModel`); the averages' counts (n_averaged) and SWALR's
/// lr are in `nntrain.state`; `nntrain.init_from` (JSON: path, crc32, layers, normalizer; see
/// `InitialWeights.Record`) when the run started from trained weights (`model.init_from`), which a resume
/// keeps without reading the file again.
public struct Checkpoint: Equatable, Sendable {
    /// Why the checkpoint was written.
    public enum Reason: String, Equatable, Sendable {
        /// After an epoch, by `checkpoint.every_n_epochs` or save_best.
        case epoch
        /// On Ctrl-C or SIGTERM, possibly mid-epoch.
        case interrupted
        /// When training ended.
        case final
    }

    public var state: TrainingState
    public var configurationYAML: String
    public var nntrainVersion: String
    /// The model's tensors: name and shape, in the flat parameter buffer's order.
    public var parameterLayout: [(name: String, shape: [Int])]
    /// The name prefix of each batch norm (`norms.0`), in layer order.
    public var batchNormNames: [String]
    /// Layer widths and activation, for people reading the metadata ("784-256-128-10 relu", "5-1 linear").
    public var architecture: String
    public var normalizer: Normalizer
    public var classNames: [String]
    public var featureNames: [String]
    /// How raw input (image bytes, CSV fields) becomes the model's input, before `normalizer`.
    public var inputSchema: InputSchema
    /// save_best's best figure so far and its epoch.
    public var bestRecord: BestRecord?
    public var reason: Reason
    /// The CRC-32 of the training split's contents (`Dataset.contentCRC32`) it was trained on, which
    /// a resume compares with its own data's; nil in a checkpoint written without it.
    public var dataFingerprint: String? = nil
    /// μ and σ of a standardised regression target, which the network's last step applies; nil: none.
    public var targetScaling: TargetScaling? = nil
    /// The teacher a distilled student learned from (each member's path and fingerprint); `[]`: none.
    public var teachers: [Teacher.Record] = []
    /// Which of its weights are the run's final model (`nntrain.final_model`; see `Trainer.finalModel`):
    /// the model tensors, or an average's (`ema.*`, `swa.*`), which eval, predict and export then use.
    public var finalModel: FinalModel = .model
    /// The file the run's initial weights came from (`model.init_from`: path, CRC-32, layers copied); nil: none.
    public var initialWeights: InitialWeights.Record? = nil

    /// The best value of save_best's monitored figure and the epoch it came from.
    public struct BestRecord: Equatable, Sendable, Codable {
        public var value: Double
        public var epoch: Int
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.state == b.state && a.configurationYAML == b.configurationYAML && a.nntrainVersion == b.nntrainVersion
            && a.parameterLayout.map(\.name) == b.parameterLayout.map(\.name)
            && a.parameterLayout.map(\.shape) == b.parameterLayout.map(\.shape)
            && a.batchNormNames == b.batchNormNames && a.architecture == b.architecture && a.normalizer == b.normalizer
            && a.classNames == b.classNames && a.featureNames == b.featureNames && a.inputSchema == b.inputSchema
            && a.bestRecord == b.bestRecord
            && a.reason == b.reason && a.dataFingerprint == b.dataFingerprint && a.targetScaling == b.targetScaling
            && a.teachers == b.teachers && a.finalModel == b.finalModel && a.initialWeights == b.initialWeights
    }

    /// The weights `nntrain eval`, `predict`, `export` and a teacher use: `finalModel`'s.
    public var servedModel: Network.Snapshot {
        switch finalModel {
        case .model: state.model
        case .ema: state.ema?.model ?? state.model
        case .swa: state.swa?.model ?? state.model
        case .ax: state.optimizer.buffers["ax"].map {
            Network.Snapshot(parameters: $0, runningStatistics: state.model.runningStatistics)
        } ?? state.model
        }
    }
}

extension Checkpoint {
    /// A checkpoint of `trainer` as it stands.
    public init(trainer: Trainer, bestRecord: BestRecord?, reason: Reason) {
        let network = trainer.network
        self.init(
            state: trainer.state, configurationYAML: trainer.configuration.resolvedYAML(),
            nntrainVersion: NNTrainVersion.string,
            parameterLayout: network.parameters.tensors.map { ($0.name, $0.shape) },
            batchNormNames: network.layers.compactMap { ($0 as? BatchNorm)?.name },
            architecture: Self.architecture(of: trainer),
            normalizer: trainer.data.normalizer, classNames: trainer.data.train.classNames,
            featureNames: trainer.data.train.featureNames, inputSchema: trainer.data.schema, bestRecord: bestRecord,
            reason: reason, targetScaling: trainer.network.targetScaling, teachers: trainer.teacher?.records ?? [],
            finalModel: trainer.finalModel, initialWeights: trainer.initialWeightsRecord)
    }

    /// "784-256-128-10 relu": the trainer's layer widths and activation ("linear" without hidden layers),
    /// then ", layer norm" with `model.norm: layer` (a batch norm is told by its running statistics'
    /// names, `batchNormNames`, as older checkpoints tell it) and ", residual" for skip connections
    /// (`model.residual`; eval, predict and export read it from the config).
    static func architecture(of trainer: Trainer) -> String {
        let model = trainer.configuration.model, network = trainer.network
        return ([network.inputWidth] + model.hidden + [network.outputWidth]).map(String.init).joined(separator: "-") + " "
            + (model.hidden.isEmpty ? "linear" : model.activation.rawValue)
            + (model.norm == .layer && !model.hidden.isEmpty ? ", layer norm" : "") + (network.skips.isEmpty ? "" : ", residual")
    }

    /// The configuration the checkpoint was written with, read from its resolved YAML; `path`
    /// names the file in errors.
    public func configuration(path: String) throws(NNTrainError) -> Configuration {
        try Self.configuration(yaml: configurationYAML, path: path)
    }

    /// A checkpoint's configuration from its resolved YAML; `path` names the checkpoint in errors.
    static func configuration(yaml: String, path: String) throws(NNTrainError) -> Configuration {
        do { return try Configuration.parse(yaml: yaml, source: path + " (its config)") } catch {
            throw .data(path, "its config cannot be read by this nntrain (\(error.message)); expected a checkpoint "
                + "written by nntrain \(NNTrainVersion.string)")
        }
    }

    /// Checks that this checkpoint's model and data fit `trainer` (same tensors, same number of training rows,
    /// same normalisation, the same target scaling or none, and when the checkpoint records one, the same CRC-32
    /// of the training rows: `dataFingerprint`, computed from the trainer's data if not given), then puts its
    /// state into it. `path` names the file in errors.
    public func restore(into trainer: Trainer, path: String, dataFingerprint: String? = nil) throws(NNTrainError) {
        let expected = trainer.network.parameters.tensors
        guard parameterLayout.map(\.name) == expected.map(\.name), parameterLayout.map(\.shape) == expected.map(\.shape) else {
            throw .config(path, line: nil, "the checkpoint's model is \(architecture) but the config's is "
                + "\(Self.architecture(of: trainer)); expected the config the checkpoint was written with")
        }
        guard normalizer == trainer.data.normalizer, state.order.count == trainer.data.train.count else {
            throw .config(path, line: nil, "the training data differ from the checkpoint's (\(state.order.count) rows "
                + "then, \(trainer.data.train.count) now, or other normalisation statistics); expected the same data file")
        }
        guard targetScaling == trainer.network.targetScaling else {
            throw .config(path, line: nil, "the checkpoint's target scaling is \(Self.describe(targetScaling)) but the "
                + "data's is \(Self.describe(trainer.network.targetScaling)); expected the same data file and "
                + "data.standardize_target")
        }
        if let saved = self.dataFingerprint {
            let current = dataFingerprint ?? trainer.data.train.contentCRC32()
            guard saved == current else {
                throw .config(path, line: nil, "the training data differ from the checkpoint's (the CRC-32 of the training "
                    + "rows was \(saved), it is \(current) now from \(trainer.configuration.data.path)); expected the data "
                    + "file the checkpoint was trained on")
            }
        }
        let current = trainer.teacher?.records ?? []
        guard teachers.map(\.fingerprint) == current.map(\.fingerprint) else {
            throw .config(path, line: nil, "the checkpoint was distilled from \(Self.describe(teachers)) but the config's "
                + "teacher is \(Self.describe(current)); expected the teacher the checkpoint was trained with")
        }
        trainer.initialWeightsRecord = initialWeights
        do { try trainer.restore(state) } catch {
            throw .data(path, "the checkpoint's state does not fit its own model: \(error.description)")
        }
    }
}

// MARK: - The file

extension Checkpoint {
    private enum Key {
        static let version = "nntrain.version", config = "nntrain.config", architecture = "nntrain.architecture"
        static let parameters = "nntrain.parameters", batchNorms = "nntrain.batch_norms"
        static let classNames = "nntrain.class_names", featureNames = "nntrain.feature_names"
        static let state = "nntrain.state", history = "nntrain.history", reason = "nntrain.reason"
        static let dataCRC32 = "nntrain.data_crc32", input = "nntrain.input", teacher = "nntrain.teacher"
        static let finalModel = "nntrain.final_model", initFrom = "nntrain.init_from"
    }

    /// The scalar part of the state, as `nntrain.state`'s JSON.
    private struct Scalars: Codable {
        var position: TrainingPosition
        var stepCount: Int
        var trainingSeconds: Double
        var optimizerCounters: [String: Double]
        var plateau: ReduceLROnPlateau?
        var earlyStopping: EarlyStopping?
        var gradScaler: GradScaler?
        var progress: EpochProgress
        var roundingCounts: RoundingCounts?
        var ending: TrainingEnd?
        var restoredEpoch: Int?
        var bestRecord: BestRecord?
        /// The averages' n_averaged (nil: no such average) and SWALR's state.
        var emaCount: Int?
        var swaCount: Int?
        var swaSchedule: SWALR?
        /// The diagnostic warnings given so far (`TrainingDiagnostics.Warning` raw values; absent before them,
        /// and a name this version does not know is ignored).
        var warningsGiven: [String]?
    }

    /// The checkpoint as safetensors contents (CheckpointFile adds the format, version and checksum).
    public func contents() throws(NNTrainError) -> SafeTensors {
        var tensors: [(name: String, tensor: SafeTensors.Tensor)] = []
        func addModel(_ model: Network.Snapshot, prefix: String) {
            var offset = 0
            for (name, shape) in parameterLayout {
                let count = shape.reduce(1, *)
                let end = min(offset + count, model.parameters.count)
                tensors.append((prefix + name, SafeTensors.Tensor(Array(model.parameters[offset..<end]), shape: shape)))
                offset += count
            }
            for (index, name) in batchNormNames.enumerated() where 2 * index + 1 < model.runningStatistics.count {
                tensors.append((prefix + name + ".running_mean", SafeTensors.Tensor(model.runningStatistics[2 * index])))
                tensors.append((prefix + name + ".running_var", SafeTensors.Tensor(model.runningStatistics[2 * index + 1])))
            }
        }
        addModel(state.model, prefix: "")
        if let best = state.bestModel { addModel(best, prefix: "best.") }
        if let ema = state.ema { addModel(ema.model, prefix: "ema.") }
        if let swa = state.swa { addModel(swa.model, prefix: "swa.") }
        for (name, buffer) in state.optimizer.buffers.sorted(by: { $0.key < $1.key }) where !buffer.isEmpty {
            tensors.append(("optimizer." + name, SafeTensors.Tensor(buffer)))
        }
        for (name, mask) in state.pruningMasks.sorted(by: { $0.key < $1.key }) {
            tensors.append(("pruning." + name, SafeTensors.Tensor(mask)))
        }
        tensors.append(("rng.shuffle", SafeTensors.Tensor(Self.words(state.shuffleRandom))))
        tensors.append(("rng.augment", SafeTensors.Tensor(Self.words(state.augmentRandom))))
        if !state.dropoutRandoms.isEmpty {
            var dropout = SafeTensors.Tensor(state.dropoutRandoms.flatMap(Self.words))
            dropout.shape = [state.dropoutRandoms.count, 4]
            tensors.append(("rng.dropout", dropout))
        }
        tensors.append(("data.order", SafeTensors.Tensor(state.order)))
        tensors.append(("normalizer.shift", SafeTensors.Tensor(normalizer.shift)))
        tensors.append(("normalizer.scale", SafeTensors.Tensor(normalizer.scale)))
        if let targetScaling {
            tensors.append(("target.shift", SafeTensors.Tensor([targetScaling.shift])))
            tensors.append(("target.scale", SafeTensors.Tensor([targetScaling.scale])))
        }

        let scalars = Scalars(
            position: state.position, stepCount: state.stepCount, trainingSeconds: state.trainingSeconds,
            optimizerCounters: state.optimizer.counters, plateau: state.plateau, earlyStopping: state.earlyStopping,
            gradScaler: state.gradScaler, progress: state.progress, roundingCounts: state.roundingCounts,
            ending: state.ending, restoredEpoch: state.restoredEpoch, bestRecord: bestRecord,
            emaCount: state.ema?.count, swaCount: state.swa?.count, swaSchedule: state.swaSchedule,
            warningsGiven: state.warningsGiven.map(\.rawValue).sorted())
        var metadata = [
            Key.version: nntrainVersion, Key.config: configurationYAML, Key.architecture: architecture,
            Key.parameters: try Self.json(parameterLayout.map(\.name)), Key.batchNorms: try Self.json(batchNormNames),
            Key.classNames: try Self.json(classNames), Key.featureNames: try Self.json(featureNames),
            Key.state: try Self.json(scalars), Key.history: try Self.json(state.history), Key.reason: reason.rawValue,
            Key.input: try Self.json(inputSchema),
        ]
        if let dataFingerprint { metadata[Key.dataCRC32] = dataFingerprint }
        if !teachers.isEmpty { metadata[Key.teacher] = try Self.json(teachers) }
        if let initialWeights { metadata[Key.initFrom] = try Self.json(initialWeights) }
        if finalModel != .model { metadata[Key.finalModel] = finalModel.rawValue }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// Reads a checkpoint back from verified safetensors contents; `path` names the file in errors,
    /// which say which tensor or metadata entry is missing or malformed.
    public init(contents file: SafeTensors, path: String) throws(NNTrainError) {
        func fail(_ message: String) -> NNTrainError { .data(path, message) }
        func text(_ key: String) throws(NNTrainError) -> String {
            guard let value = file.metadata[key] else {
                throw fail("metadata \(key) is missing; expected a checkpoint written by nntrain run")
            }
            return value
        }
        func decoded<T: Decodable>(_ key: String, as type: T.Type) throws(NNTrainError) -> T {
            let value = try text(key)
            do { return try Self.decoder.decode(T.self, from: Data(value.utf8)) } catch {
                throw fail("metadata \(key) is not valid (\(Self.describe(error))); expected the JSON nntrain writes")
            }
        }
        func tensor(_ name: String, _ dtype: SafeTensors.DType, count: Int? = nil) throws(NNTrainError) -> SafeTensors.Tensor {
            guard let tensor = file[name] else { throw fail("tensor '\(name)' is missing") }
            guard tensor.dtype == dtype else {
                throw fail("tensor '\(name)' is \(tensor.dtype.rawValue); expected \(dtype.rawValue)")
            }
            if let count, tensor.elementCount != count {
                throw fail("tensor '\(name)' holds \(tensor.elementCount) values; expected \(count)")
            }
            return tensor
        }
        func generator(_ words: [UInt64]) -> RandomGenerator {
            var random = RandomGenerator(seed: 0)
            random.state = (words[0], words[1], words[2], words[3])
            return random
        }

        let names = try decoded(Key.parameters, as: [String].self)
        let normNames = try decoded(Key.batchNorms, as: [String].self)
        var layout: [(name: String, shape: [Int])] = []
        for name in names { layout.append((name, try tensor(name, .f32).shape)) }
        // A batch norm's running statistics have one value per feature, as its weight has; the
        // weight must be one of the parameters, or nothing would check the statistics' length.
        var normWidths: [Int] = []
        for name in normNames {
            guard let weight = layout.first(where: { $0.name == name + ".weight" }) else {
                throw fail("metadata \(Key.batchNorms) names '\(name)' but \(Key.parameters) has no '\(name).weight'; "
                    + "expected the batch norms of the model's parameters")
            }
            normWidths.append(weight.shape.reduce(1, *))
        }
        func model(prefix: String) throws(NNTrainError) -> Network.Snapshot {
            var parameters: [Float] = []
            for name in names { parameters += try tensor(prefix + name, .f32).elements(as: Float.self) }
            var statistics: [[Float]] = []
            for (name, width) in zip(normNames, normWidths) {
                statistics.append(try tensor(prefix + name + ".running_mean", .f32, count: width).elements(as: Float.self))
                statistics.append(try tensor(prefix + name + ".running_var", .f32, count: width).elements(as: Float.self))
            }
            return Network.Snapshot(parameters: parameters, runningStatistics: statistics)
        }
        let current = try model(prefix: "")
        let best = file.tensors.contains { $0.name.hasPrefix("best.") } ? try model(prefix: "best.") : nil

        var buffers: [String: [Float]] = [:]
        for (name, buffer) in file.tensors where name.hasPrefix("optimizer.") {
            guard buffer.dtype == .f32, buffer.elementCount == current.parameters.count else {
                throw fail("tensor '\(name)' is \(buffer.dtype.rawValue) of \(buffer.elementCount) values; "
                    + "expected F32 of \(current.parameters.count), one per parameter")
            }
            buffers[String(name.dropFirst("optimizer.".count))] = buffer.elements(as: Float.self)
        }
        var masks: [String: [Float]] = [:]
        for (name, mask) in file.tensors where name.hasPrefix("pruning.") {
            guard mask.dtype == .f32 else {
                throw fail("tensor '\(name)' is \(mask.dtype.rawValue); expected F32 (a pruning mask of zeros and ones)")
            }
            masks[String(name.dropFirst("pruning.".count))] = mask.elements(as: Float.self)
        }
        let dropoutWords = file["rng.dropout"] == nil ? [] : try tensor("rng.dropout", .u64).elements(as: UInt64.self)
        guard dropoutWords.count % 4 == 0 else {
            throw fail("tensor 'rng.dropout' holds \(dropoutWords.count) words; expected 4 per layer")
        }
        let shuffle = try tensor("rng.shuffle", .u64, count: 4).elements(as: UInt64.self)
        let augment = try tensor("rng.augment", .u64, count: 4).elements(as: UInt64.self)
        let shift = try tensor("normalizer.shift", .f32).elements(as: Float.self)
        let scale = try tensor("normalizer.scale", .f32, count: shift.count).elements(as: Float.self)

        var targetScaling: TargetScaling?
        if file["target.shift"] != nil || file["target.scale"] != nil {
            let shift = try tensor("target.shift", .f32, count: 1).elements(as: Float.self).first ?? .nan
            let scale = try tensor("target.scale", .f32, count: 1).elements(as: Float.self).first ?? .nan
            guard shift.isFinite, scale.isNormal, scale > 0 else {
                throw fail("tensors 'target.shift' and 'target.scale' are \(shift) and \(scale); expected a finite "
                    + "mean and a positive standard deviation")
            }
            targetScaling = TargetScaling(shift: shift, scale: scale)
        }

        let scalars = try decoded(Key.state, as: Scalars.self)
        // Counters a resumed run adds to (steps, epochs, patience, the loss scaler's growth tracker)
        // are Ints: one near Int.max would overflow, which traps, a step or an epoch later. Encoded
        // again, the Int fields are the JSON integers (a Double is written with a fraction or an exponent).
        if let number = Self.integerOutOfRange(in: try Self.json(scalars)) {
            throw fail("metadata \(Key.state) holds the count \(number); expected counts from -2^53 to 2^53")
        }
        guard scalars.stepCount >= 0, scalars.position.epoch >= 0, scalars.position.batch >= 0 else {
            throw fail("metadata \(Key.state): step \(scalars.stepCount), epoch \(scalars.position.epoch), batch "
                + "\(scalars.position.batch); expected counts >= 0")
        }
        if let (name, value) = scalars.optimizerCounters.first(where: { !($0.value.isFinite && abs($0.value) <= 0x1p53) }) {
            throw fail("metadata \(Key.state): optimizer counter \(name) is \(value); expected a finite count")
        }
        func average(_ prefix: String, count: Int?) throws(NNTrainError) -> AveragedWeights? {
            guard let count else { return nil }
            guard count >= 0 else { throw fail("metadata \(Key.state): \(prefix) count \(count); expected a count >= 0") }
            let model = try model(prefix: prefix + ".")
            guard model.parameters.count == current.parameters.count else {
                throw fail("the \(prefix).* tensors hold \(model.parameters.count) parameters; expected "
                    + "\(current.parameters.count), as the model's")
            }
            return AveragedWeights(model: model, count: count)
        }
        let ema = try average("ema", count: scalars.emaCount), swa = try average("swa", count: scalars.swaCount)
        if let schedule = scalars.swaSchedule,
           !(schedule.learningRate.isFinite && schedule.learningRate >= 0 && (schedule.momentum?.isFinite ?? true)) {
            throw fail("metadata \(Key.state): swaSchedule holds lr \(schedule.learningRate), momentum "
                + "\(schedule.momentum.map { "\($0)" } ?? "none"); expected a finite lr >= 0 and a finite momentum")
        }
        let finalModel = try file.metadata[Key.finalModel].map { (text) throws(NNTrainError) -> FinalModel in
            let present = switch FinalModel(rawValue: text) {
            case .model: true
            case .ema: ema != nil
            case .swa: swa != nil
            case .ax: buffers["ax"]?.count == current.parameters.count
            case nil: false
            }
            guard present, let kind = FinalModel(rawValue: text) else {
                throw fail("metadata \(Key.finalModel) is '\(text)'; expected model, ema or swa with its average's "
                    + "tensors, or ax with optimizer.ax")
            }
            return kind
        } ?? .model
        let featureNames = try decoded(Key.featureNames, as: [String].self)
        let inputSchema = file.metadata[Key.input] == nil
            ? try Self.schemaBeforeInputKey(configurationYAML: try text(Key.config), path: path)
            : try decoded(Key.input, as: InputSchema.self)
        guard inputSchema.width == shift.count else {
            throw fail("metadata \(Key.input) describes \(inputSchema.width) inputs but the normaliser has \(shift.count); "
                + "expected as many")
        }
        guard let reason = Reason(rawValue: try text(Key.reason)) else {
            throw fail("metadata \(Key.reason) is '\(file.metadata[Key.reason] ?? "")'; expected epoch, interrupted or final")
        }
        self.init(
            state: TrainingState(
                position: scalars.position, stepCount: scalars.stepCount, trainingSeconds: scalars.trainingSeconds,
                model: current, bestModel: best,
                optimizer: OptimizerState(buffers: buffers, counters: scalars.optimizerCounters),
                plateau: scalars.plateau, earlyStopping: scalars.earlyStopping, gradScaler: scalars.gradScaler,
                shuffleRandom: generator(shuffle), augmentRandom: generator(augment),
                dropoutRandoms: stride(from: 0, to: dropoutWords.count, by: 4).map {
                    generator(Array(dropoutWords[$0..<($0 + 4)]))
                },
                order: try tensor("data.order", .i32).elements(as: Int32.self), progress: scalars.progress,
                roundingCounts: scalars.roundingCounts, history: try decoded(Key.history, as: [EpochMetrics].self),
                ending: scalars.ending, restoredEpoch: scalars.restoredEpoch, pruningMasks: masks, ema: ema, swa: swa,
                swaSchedule: scalars.swaSchedule,
                warningsGiven: Set((scalars.warningsGiven ?? []).compactMap(TrainingDiagnostics.Warning.init(rawValue:)))),
            configurationYAML: try text(Key.config), nntrainVersion: try text(Key.version), parameterLayout: layout,
            batchNormNames: normNames, architecture: try text(Key.architecture),
            normalizer: Normalizer(shift: shift, scale: scale), classNames: try decoded(Key.classNames, as: [String].self),
            featureNames: featureNames, inputSchema: inputSchema, bestRecord: scalars.bestRecord, reason: reason,
            dataFingerprint: file.metadata[Key.dataCRC32], targetScaling: targetScaling,
            teachers: file.metadata[Key.teacher] == nil ? [] : try decoded(Key.teacher, as: [Teacher.Record].self),
            finalModel: finalModel,
            initialWeights: file.metadata[Key.initFrom] == nil ? nil
                : try decoded(Key.initFrom, as: InitialWeights.Record.self))
    }

    /// The input schema of a checkpoint written before `nntrain.input` existed, when the only datasets
    /// were Fashion-MNIST's images and the bonus CSV: the one its config names (a checkpoint of a
    /// kind added since always has the key).
    private static func schemaBeforeInputKey(configurationYAML: String, path: String) throws(NNTrainError) -> InputSchema {
        switch try configuration(yaml: configurationYAML, path: path).data.dataset {
        case .fashionMNIST: return .images(rows: FashionMNIST.imageRows, columns: FashionMNIST.imageColumns)
        case .bonus: return .table(BonusData.schema)
        case let kind:
            throw .data(path, "metadata \(Key.input) is missing; expected it in a checkpoint of \(kind.rawValue), "
                + "which nntrain has written since it could read \(kind.rawValue)")
        }
    }

    /// "mean 150.2, std 77.09" or "none", in messages.
    private static func describe(_ scaling: TargetScaling?) -> String {
        scaling.map { "mean \($0.shift), std \($0.scale)" } ?? "none"
    }

    /// A teacher as messages name it: "no teacher", or each member's path and fingerprint.
    private static func describe(_ teachers: [Teacher.Record]) -> String {
        teachers.isEmpty ? "no teacher"
            : teachers.map { "\($0.path) (CRC-32 \($0.fingerprint))" }.joined(separator: " + ")
    }

    /// Writes the checkpoint to `path` atomically (see CheckpointFile and OutputFile).
    public func write(to path: String) throws(NNTrainError) {
        try CheckpointFile.write(contents(), to: path)
    }

    /// Reads and verifies the checkpoint file at `path`.
    public static func read(path: String) throws(NNTrainError) -> Checkpoint {
        try Checkpoint(contents: CheckpointFile.read(path: path), path: path)
    }

    private static func words(_ random: RandomGenerator) -> [UInt64] {
        let s = random.state
        return [s.0, s.1, s.2, s.3]
    }

    /// The metadata JSON of `value` (`ReportJSON.compact`).
    private static func json<T: Encodable>(_ value: T) throws(NNTrainError) -> String {
        try ReportJSON.compact(value, naming: "checkpoint")
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy =
            .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()

    /// The first integer in the JSON `text` beyond ±2^53, if any (nil too for text that is not JSON,
    /// which decoding then refuses with its own message).
    private static func integerOutOfRange(in text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return nil
        }
        func search(_ value: Any) -> String? {
            switch value {
            case let array as [Any]: return array.lazy.compactMap(search).first
            case let object as [String: Any]: return object.values.lazy.compactMap(search).first
            case let number as NSNumber:
                let type = String(cString: number.objCType)
                guard !["c", "d", "f"].contains(type) else { return nil }
                if type == "Q" || type == "L" { return number.uint64Value > 1 << 53 ? "\(number.uint64Value)" : nil }
                return number.int64Value.magnitude > 1 << 53 ? "\(number.int64Value)" : nil
            default: return nil
            }
        }
        return search(object)
    }

    /// A decoding error as "key.path: what" for a one-line message.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let context):
            return "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let place = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (place.isEmpty ? "" : place + ": ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}
