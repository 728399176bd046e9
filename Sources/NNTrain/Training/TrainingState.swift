/// Everything a `Trainer` carries from one step to the next, so that a trainer built from the same
/// configuration and data and given this state takes exactly the steps, draws exactly the random
/// numbers and reports exactly the figures the saved one would have (the timing figures aside):
///
/// - the model (parameters and batch-norm running statistics) and, with `restore_best`, the best
///   epoch's model;
/// - the optimizer's buffers and counters, reduce_on_plateau's and early stopping's state, the
///   loss scaler, the step count (which is the schedules' position: they are functions of it);
/// - the random streams (shuffling, augmentation, each dropout layer's) and the current epoch's
///   order of rows, which the next epoch shuffles in place;
/// - the position (epoch, batches done in it) and the running sums of the epoch in progress, so
///   that an epoch interrupted mid-way reports the figures of an uninterrupted one;
/// - the metrics of every finished epoch, and how training ended, if it has;
/// - the weight averages (EMA, SWA) with their counts, and SWALR's lr;
/// - the diagnostic warnings already given (`TrainingDiagnostics`: once per run).
public struct TrainingState: Equatable, Sendable {
    public var position: TrainingPosition
    public var stepCount: Int
    public var trainingSeconds: Double
    public var model: Network.Snapshot
    public var bestModel: Network.Snapshot?
    public var optimizer: OptimizerState
    public var plateau: ReduceLROnPlateau?
    public var earlyStopping: EarlyStopping?
    public var gradScaler: GradScaler?
    public var shuffleRandom: RandomGenerator
    public var augmentRandom: RandomGenerator
    /// One generator per dropout layer, in layer order.
    public var dropoutRandoms: [RandomGenerator]
    public var order: [Int32]
    public var progress: EpochProgress
    /// The activation-gradient rounding tally of the epoch in progress (`logging.precision_stats`).
    public var roundingCounts: RoundingCounts?
    public var history: [EpochMetrics]
    public var ending: TrainingEnd?
    public var restoredEpoch: Int?
    /// The pruning masks by their checkpoint names (`layers.0.weight_mask`, 1 kept, 0 pruned); empty
    /// without pruning.
    public var pruningMasks: [String: [Float]] = [:]
    /// The EMA (`ema.enabled`) and SWA (`swa.start_epoch`) averages with their n_averaged; nil without.
    public var ema: AveragedWeights? = nil
    public var swa: AveragedWeights? = nil
    /// SWALR's lr and frozen momentum once SWA has begun.
    public var swaSchedule: SWALR? = nil
    /// The diagnostic warnings the run has given (each is given once per run, see `TrainingDiagnostics`).
    public var warningsGiven: Set<TrainingDiagnostics.Warning> = []
}

/// Where a run stands: `epoch` is the epoch in progress, or the next one when `batch` is 0 (from
/// 1); `batch` the optimizer steps of it done.
public struct TrainingPosition: Equatable, Sendable, Codable {
    public var epoch: Int
    public var batch: Int

    public init(epoch: Int, batch: Int) {
        self.epoch = epoch
        self.batch = batch
    }
}

/// The running figures of the epoch in progress, from which its metrics.csv row is made.
public struct EpochProgress: Equatable, Sendable, Codable {
    public var sums = LossSums()
    public var norms = NormStatistics()
    /// GradScaler's skipped-step count when the epoch began.
    public var skippedAtStart = 0
    /// Training seconds of the epoch so far (over all the sessions it took).
    public var seconds: Double = 0
    /// The per-layer running sums (`logging.computesLayerStatistics`); nil otherwise, and in older checkpoints.
    public var layers: LayerSums? = nil

    public init(skippedAtStart: Int = 0) {
        self.skippedAtStart = skippedAtStart
    }
}

/// Mean and maximum of the per-step gradient norms of an epoch.
public struct NormStatistics: Equatable, Sendable, Codable {
    var sum: Double = 0
    var count = 0
    public private(set) var maximum: Double = 0

    mutating func add(_ norm: Double) {
        sum += norm
        count += 1
        maximum = max(maximum, norm)
    }

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }
}

/// How a training run ended (summary.json's `ended`).
public enum TrainingEnd: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Every epoch of `training.epochs` was trained.
    case completed
    /// Early stopping ended it after this epoch.
    case earlyStopped(epoch: Int)

    public var description: String {
        switch self {
        case .completed: "completed"
        case .earlyStopped(let epoch): Self.earlyStopPrefix + "\(epoch)"
        }
    }

    /// The words before the epoch in an early stop's description, as summary.json's `ended` holds it
    /// (read back by `LearningCurves` for curves.svg's mark).
    static let earlyStopPrefix = "early stop at epoch "
}

extension Trainer {
    /// The trainer's whole state (see `TrainingState`).
    public var state: TrainingState {
        TrainingState(
            position: position, stepCount: stepCount, trainingSeconds: trainingSeconds,
            model: network.snapshot(), bestModel: bestSnapshot, optimizer: optimizerState,
            plateau: plateau, earlyStopping: earlyStopping, gradScaler: gradScaler,
            shuffleRandom: shuffleRandom, augmentRandom: augmentRandom,
            dropoutRandoms: dropoutLayers.map(\.random), order: order, progress: progress,
            roundingCounts: network.gradientRoundingCounts, history: history, ending: ending,
            restoredEpoch: restoredEpoch,
            pruningMasks: Dictionary(pruner?.masks ?? [], uniquingKeysWith: { first, _ in first }),
            ema: ema?.state, swa: swa?.state, swaSchedule: swaSchedule, warningsGiven: warningsGiven)
    }

    /// The optimizer's state, with the thawed layers' counters as `thawed.<name>` (`training.freeze_epochs`).
    private var optimizerState: OptimizerState {
        var state = optimizer.state
        for (name, value) in thawedCounters ?? [:] { state.counters[Trainer.thawedPrefix + name] = value }
        return state
    }

    /// Puts back a state taken from a trainer of the same configuration and data. A state that
    /// does not fit (other shapes, another optimizer, another number of rows) is refused with a
    /// one-line description of the misfit, and nothing is changed.
    public func restore(_ state: TrainingState) throws(TrainingStateMismatch) {
        let current = self.state
        func check(_ saved: Int, _ expected: Int, _ what: String) throws(TrainingStateMismatch) {
            guard saved == expected else {
                throw TrainingStateMismatch(description: "\(what): \(saved) saved, \(expected) in this model and data")
            }
        }
        try check(state.model.parameters.count, current.model.parameters.count, "parameters")
        try check(state.model.runningStatistics.count, current.model.runningStatistics.count, "batch-norm statistics")
        for (saved, expected) in zip(state.model.runningStatistics, current.model.runningStatistics) {
            try check(saved.count, expected.count, "batch-norm features")
        }
        if let best = state.bestModel {
            try check(best.parameters.count, current.model.parameters.count, "parameters of the best model")
        }
        try check(state.dropoutRandoms.count, current.dropoutRandoms.count, "dropout layers")
        try check(state.order.count, current.order.count, "training rows")
        guard state.order.allSatisfy({ $0 >= 0 && Int($0) < order.count }) else {
            throw TrainingStateMismatch(description: "the row order names rows beyond the \(order.count) training rows")
        }
        guard state.position.epoch >= 1, (0..<batchesPerEpoch).contains(state.position.batch) else {
            throw TrainingStateMismatch(description: "position epoch \(state.position.epoch), batch \(state.position.batch); "
                + "expected an epoch from 1 and a batch below the \(batchesPerEpoch) of an epoch")
        }
        let savedMasks = try pruningMasks(state.pruningMasks)
        try checkAverage(state.ema, of: ema, named: "ema", current: current.model)
        try checkAverage(state.swa, of: swa, named: "swa", current: current.model)
        var thawed = thawedCounters
        for name in (thawedCounters ?? [:]).keys {
            guard let value = state.optimizer.counters[Trainer.thawedPrefix + name] else {
                throw TrainingStateMismatch(description: "optimizer \(configuration.optimizer.name.rawValue): missing "
                    + "counter \(Trainer.thawedPrefix + name) (the layers that thaw after training.freeze_epochs)")
            }
            thawed?[name] = value
        }
        do { try optimizer.restore(state.optimizer) } catch {
            throw TrainingStateMismatch(description: "optimizer \(configuration.optimizer.name.rawValue): \(error.description)")
        }
        thawedCounters = thawed
        network.restore(state.model)
        bestSnapshot = state.bestModel
        position = state.position
        stepCount = state.stepCount
        trainingSeconds = state.trainingSeconds
        // The thresholds come from the configuration (which may have changed), the progress from the state.
        if var plateau, let saved = state.plateau {
            (plateau.learningRate, plateau.best, plateau.badEpochs, plateau.cooldownCounter) =
                (saved.learningRate, saved.best, saved.badEpochs, saved.cooldownCounter)
            self.plateau = plateau
        }
        if let stopper = earlyStopping, let saved = state.earlyStopping { earlyStopping = stopper.continuing(saved) }
        if gradScaler != nil, let saved = state.gradScaler { gradScaler = saved }
        shuffleRandom = state.shuffleRandom
        augmentRandom = state.augmentRandom
        for (layer, random) in zip(dropoutLayers, state.dropoutRandoms) { layer.random = random }
        order = state.order
        progress = state.progress
        network.gradientRoundingCounts = state.roundingCounts
        history = state.history
        ending = state.ending
        restoredEpoch = state.restoredEpoch
        if let pruner, let savedMasks { pruner.restore(masks: savedMasks) }
        if let ema, let saved = state.ema { ema.restore(saved) }
        if let swa, let saved = state.swa { swa.restore(saved) }
        swaSchedule = swa == nil ? nil : state.swaSchedule
        warningsGiven = state.warningsGiven
    }

    /// A saved average fits the trainer's: present exactly when the trainer keeps one, of the model's
    /// shapes, with a count >= 0.
    private func checkAverage(_ saved: AveragedWeights?, of average: WeightAverage?, named name: String,
                              current: Network.Snapshot) throws(TrainingStateMismatch) {
        guard let saved else {
            guard average == nil else {
                throw TrainingStateMismatch(description: "the \(name) average is missing; expected the \(name).* tensors "
                    + "of a run with \(name == "ema" ? "ema.enabled" : "swa.start_epoch")")
            }
            return
        }
        guard average != nil else { return }  // an average this config does not keep is not restored
        guard saved.model.parameters.count == current.parameters.count,
              saved.model.runningStatistics.map(\.count) == current.runningStatistics.map(\.count), saved.count >= 0 else {
            throw TrainingStateMismatch(description: "the \(name) average holds \(saved.model.parameters.count) parameters "
                + "and count \(saved.count); expected \(current.parameters.count) and a count >= 0")
        }
    }

    /// The saved masks in the order of `pruner.layers`, checked: one per pruned layer, as long as its
    /// weight, of zeros and ones; nil when there is nothing to restore (no pruner, or a state without
    /// masks). A pruning run's states always have them: all ones until the first pruning step.
    private func pruningMasks(_ saved: [String: [Float]]) throws(TrainingStateMismatch) -> [[Float]]? {
        guard let pruner, !saved.isEmpty else { return nil }
        var masks: [[Float]] = []
        for layer in pruner.layers {
            guard let mask = saved[layer.maskName] else {
                throw TrainingStateMismatch(description: "pruning mask \(layer.maskName) is missing; expected one per "
                    + "pruned layer (\(pruner.layers.map(\.maskName).joined(separator: ", ")))")
            }
            guard mask.count == layer.range.count, mask.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw TrainingStateMismatch(description: "pruning mask \(layer.maskName) holds \(mask.count) values; "
                    + "expected \(layer.range.count) zeros and ones")
            }
            masks.append(mask)
        }
        return masks
    }

    var dropoutLayers: [Dropout] { network.layers.compactMap { $0 as? Dropout } }
}

/// Why a saved training state does not fit the trainer it was given to.
public struct TrainingStateMismatch: Error, CustomStringConvertible {
    public var description: String
}
