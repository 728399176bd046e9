import CFloatingPoint
import Foundation

/// The training loop. For each epoch: shuffle the training rows with the seeded generator, then
/// per batch
///
///     gather + normalise rows → augment → forward → loss, ∂L/∂output [× S] → backward
///       [→ unscale, skip on inf/NaN] → L1 → clip → lr, momentum = schedule(position) → optimizer step
///
/// then evaluate the validation split and step reduce_on_plateau. The bracketed parts are mixed
/// precision's (`training.precision` fp16 or bf16, see `Precision` and `GradScaler`): a skipped
/// step leaves weights, optimizer state and the schedule's position (`stepCount`) as they were.
/// Buffers are sized once in `init`, so the steps allocate nothing. The same configuration and
/// seed give the same numbers on the same machine.
public final class Trainer {
    public let configuration: Configuration
    public let data: TrainingData
    public let network: Network
    public let loss: Loss
    /// The loss reported on validation and test data: the training loss without label smoothing,
    /// so that figures compare between runs with and without it.
    public let evaluationLoss: Loss
    public let optimizer: any Optimizer
    public let schedule: Warmup
    /// reduce_on_plateau's state, stepped once per epoch; nil for the other schedules.
    public private(set) var plateau: ReduceLROnPlateau?
    /// Early stopping's state; nil when early_stopping.patience is not set.
    public private(set) var earlyStopping: EarlyStopping?
    /// Why the last `train` ended: "completed", or "early stop at epoch N".
    public private(set) var endReason = "completed"
    /// The epoch whose weights `restore_best` put back at the end, if it did.
    public private(set) var restoredEpoch: Int?
    private var bestSnapshot: Network.Snapshot?
    /// The loss scaler of a mixed-precision run with `training.loss_scale` dynamic or a number; nil
    /// otherwise.
    public private(set) var gradScaler: GradScaler?
    /// Rows per evaluation pass (larger than a typical batch: evaluation keeps no gradients).
    static let evaluationRows = 1024

    private let groups: [ParameterGroup]
    private let clipping: GradientClipping
    private let l1: Float
    private let trainLoader: BatchLoader
    private let augmenter: BatchAugmenter?
    private var shuffleRandom: RandomGenerator
    private var augmentRandom: RandomGenerator
    private var order: [Int32]
    /// Optimizer steps taken so far in the run.
    public private(set) var stepCount = 0
    /// Training seconds of the epochs finished so far (no evaluation time).
    public private(set) var trainingSeconds: Double = 0

    /// Random streams of a run, one per purpose, so each draws the same numbers whatever the others do.
    enum RandomStream: UInt64 { case initialization = 1, shuffle = 2, dropout = 3, augmentation = 4 }

    public init(configuration: Configuration, data: TrainingData) {
        self.configuration = configuration
        self.data = data
        let model = configuration.model
        let activation = Activation(model.activation, leakySlope: Float(model.leakySlope))
        network = Network.mlp(
            Network.MLPShape(inputWidth: data.train.featureCount, hidden: model.hidden, outputWidth: data.outputWidth,
                             activation: activation, dropout: Float(model.dropout), batchNorm: model.batchNorm,
                             precision: configuration.training.precision),
            dropoutSeed: configuration.seed ^ RandomStream.dropout.rawValue)
        let batchRows = configuration.training.batchSize.rows(of: data.train.count)
        network.reserve(rows: max(batchRows, Trainer.evaluationRows))
        var initRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.initialization.rawValue)
        configuration.initialization.apply(to: network, activation: activation, random: &initRandom)
        loss = Loss(configuration.loss, labelSmoothing: configuration.regularization.labelSmoothing,
                    huberDelta: configuration.huberDelta)
        evaluationLoss = Loss(configuration.loss, huberDelta: configuration.huberDelta)
        groups = network.parameters.groups(decayBatchNorm: configuration.optimizer.decayBatchNorm)
        optimizer = configuration.optimizer.makeOptimizer(groups: groups)
        plateau = configuration.makePlateau()
        earlyStopping = configuration.makeEarlyStopping()
        gradScaler = GradScaler(configuration.training.lossScale)
        clipping = GradientClipping(maxNorm: configuration.training.clip.norm.map(Float.init),
                                    maxValue: configuration.training.clip.value.map(Float.init))
        l1 = Float(configuration.regularization.l1)
        trainLoader = BatchLoader(dataset: data.train, normalizer: data.normalizer, capacity: batchRows)
        schedule = configuration.makeSchedule(stepsPerEpoch: (data.train.count + batchRows - 1) / batchRows)
        augmenter = configuration.makeAugmenter(normalizer: data.normalizer, batchCapacity: batchRows)
        shuffleRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.shuffle.rawValue)
        augmentRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.augmentation.rawValue)
        order = (0..<Int32(data.train.count)).map { $0 }
    }

    /// Number of optimizer steps in one epoch (the last batch may be smaller).
    public var batchesPerEpoch: Int {
        let rows = trainLoader.capacity
        return (data.train.count + rows - 1) / rows
    }

    /// Trains for `training.epochs` epochs, reporting to `observer` and `stepLog`; returns every
    /// epoch's metrics. Throws `.diverged` when a batch's loss stops being finite, or in mixed
    /// precision without loss scaling when a gradient does.
    ///
    /// Subnormal floats (below 1.2e-38) are flushed to zero while training, as most GPU training
    /// does: Adam's moments of rarely active inputs decay geometrically into the subnormal range,
    /// where x86 arithmetic is up to a hundred times slower, which doubled the epoch time on
    /// Fashion-MNIST from the second epoch on. Values that small change no update measurably.
    public func train(observer: (any TrainingObserver)?, stepLog: StepLog? = nil,
                      epochFinished: (EpochMetrics) throws(NNTrainError) -> Void) throws(NNTrainError) -> [EpochMetrics]
    {
        let floatingPointMode = nntrain_flush_subnormals()
        defer { nntrain_restore_floating_point_mode(floatingPointMode) }
        var history: [EpochMetrics] = []
        let epochs = configuration.training.epochs
        endReason = "completed"
        for epoch in 1...epochs {
            let metrics = try trainEpoch(epoch, epochs: epochs, observer: observer, stepLog: stepLog)
            history.append(metrics)
            if var plateau, let metric = metrics.value(of: configuration.scheduler.monitor ?? .trainLoss) {
                plateau.step(metric: metric)
                self.plateau = plateau
            }
            var stop = false
            if var stopper = earlyStopping, let value = metrics.value(of: stopper.monitor) {
                let verdict = stopper.update(epoch: epoch, value: value)
                earlyStopping = stopper
                if verdict.improved, configuration.earlyStopping.restoreBest { bestSnapshot = network.snapshot() }
                stop = verdict.stop
            }
            try epochFinished(metrics)
            observer?.epochFinished(metrics, epochs: epochs)
            if stop {
                endReason = "early stop at epoch \(epoch)"
                break
            }
        }
        if let bestSnapshot, let stopper = earlyStopping {
            network.restore(bestSnapshot)
            restoredEpoch = stopper.bestEpoch
        }
        return history
    }

    /// The learning rate and momentum (or β1) of the next step: the schedule's, warm-up included,
    /// on top of reduce_on_plateau's current lr when that is the schedule.
    func scheduledValues(epoch: Int) -> ScheduledValues {
        let position = SchedulePosition(epoch: epoch, step: stepCount, stepsPerEpoch: batchesPerEpoch)
        return schedule.values(at: position, baseLR: plateau?.learningRate ?? configuration.optimizer.lr)
    }

    private func trainEpoch(_ epoch: Int, epochs: Int, observer: (any TrainingObserver)?, stepLog: StepLog?)
        throws(NNTrainError) -> EpochMetrics
    {
        let batches = batchesPerEpoch, batchRows = trainLoader.capacity, rowCount = data.train.count
        observer?.epochStarted(epoch: epoch, epochs: epochs, batches: batches)
        shuffleRandom.shuffle(&order)
        var sums = LossSums(), norms = NormStatistics(), values = scheduledValues(epoch: epoch - 1)
        let parameters = network.parameters
        let skippedBefore = gradScaler?.skippedSteps ?? 0
        if configuration.logging.precisionStats { network.gradientRoundingCounts = RoundingCounts() }
        let start = DispatchTime.now().uptimeNanoseconds
        try order.withUnsafeBufferPointer { (order) throws(NNTrainError) in
            for batch in 0..<batches {
                let range = (batch * batchRows)..<min((batch + 1) * batchRows, rowCount)
                values = scheduledValues(epoch: epoch - 1)
                let lossBefore = sums.loss
                try trainLoader.withBatch(order: order, range: range) { (x, targets) throws(NNTrainError) in
                    let targets = augment(x, targets)
                    let output = network.forward(x, training: true)
                    loss.evaluate(output: output, targets: targets, gradient: network.outputGradient, into: &sums)
                    guard sums.loss.isFinite else {
                        let overflow = configuration.training.precision == .fp16 ? " (fp16 overflows beyond ±65504)" : ""
                        throw NNTrainError(.diverged, "training diverged at epoch \(epoch), step \(batch + 1): "
                            + "the loss became \(sums.loss)\(overflow); try a smaller optimizer.lr than \(values.learningRate) "
                            + "or training.clip.norm")
                    }
                    gradScaler?.scaleLossGradient(network.outputGradient)
                    network.backward(input: x)
                }
                if try unscaleGradients(epoch: epoch, step: batch + 1) {
                    if l1 > 0 {
                        L1Penalty.addGradient(lambda: l1, parameters: parameters.values.base,
                                              gradients: parameters.gradients.base, groups: groups)
                    }
                    let norm = clipping.clip(parameters.gradients.storage)
                    norms.add(norm)
                    optimizer.step(parameters: parameters.values.storage,
                                   gradients: UnsafeBufferPointer(parameters.gradients.storage),
                                   learningRate: Float(values.learningRate), momentum: values.momentum)
                    stepCount += 1
                    if let stepLog, stepCount % stepLog.every == 0 {
                        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                        try stepLog.append(step: stepCount, epoch: epoch, learningRate: values.learningRate,
                                           loss: (sums.loss - lossBefore) / Double(range.count), gradientNorm: norm,
                                           seconds: trainingSeconds + elapsed)
                    }
                }
                observer?.batchFinished(epoch: epoch, batch: batch + 1, batches: batches,
                                        meanLoss: sums.loss / Double(sums.rows))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        trainingSeconds += seconds
        return EpochMetrics(
            epoch: epoch, learningRate: values.learningRate, trainLoss: sums.loss / Double(sums.rows),
            trainAccuracy: data.isClassification ? sums.correct / Double(sums.rows) : nil,
            validation: data.validation.count > 0 ? evaluate(data.validation) : nil,
            gradientNormMean: norms.mean, gradientNormMax: norms.maximum,
            epochSeconds: seconds, samplesPerSecond: Double(rowCount) / max(seconds, 1e-9),
            mixedPrecision: configuration.training.precision == .fp32 ? nil : MixedPrecisionMetrics(
                lossScale: gradScaler.map { Double($0.scale) }, skippedSteps: (gradScaler?.skippedSteps ?? 0) - skippedBefore,
                gradientUnderflow: network.gradientRoundingCounts?.underflowFraction,
                gradientOverflow: network.gradientRoundingCounts?.overflowFraction))
    }

    /// In mixed precision, after back-propagation: rounds and unscales the gradients (g · 1/S),
    /// checks them for ±inf and NaN, updates the loss scaler, and says whether the optimizer may step. A
    /// non-finite gradient skips the step under loss scaling; without it (`loss_scale: none`) it
    /// stops the run, since the step would write NaN into the weights (as an unguarded PyTorch
    /// step does). In fp32 nothing is checked here: a diverging run shows in its loss.
    private func unscaleGradients(epoch: Int, step: Int) throws(NNTrainError) -> Bool {
        let precision = configuration.training.precision
        guard precision != .fp32 else { return true }
        let finite = network.finishGradients(inverseScale: gradScaler?.inverseScale ?? 1)
        guard var scaler = gradScaler else {
            guard finite else {
                throw NNTrainError(.diverged, "training diverged at epoch \(epoch), step \(step): a gradient became "
                    + "infinite or NaN in \(precision.rawValue) without loss scaling; try training.loss_scale: dynamic")
            }
            return true
        }
        scaler.update(foundNonFinite: !finite)
        gradScaler = scaler
        return finite
    }

    /// Augments a gathered training batch in place; under mixup, the targets become the two labels
    /// and λ.
    private func augment(_ x: MatrixView, _ targets: TargetBatch) -> TargetBatch {
        guard let augmenter else { return targets }
        guard case .classes(let labels) = targets else {
            _ = augmenter.apply(to: x, labels: nil, random: &augmentRandom)
            return targets
        }
        guard let mixup = augmenter.apply(to: x, labels: labels, random: &augmentRandom),
              let partners = mixup.partnerLabels?.baseAddress else { return targets }
        return .mixedClasses(labels, partners: partners, lambda: mixup.lambda)
    }

    /// Loss and metrics of the current model on `dataset`, in eval mode, in its natural row order.
    public func evaluate(_ dataset: Dataset) -> EvaluationMetrics {
        let chunk = min(network.rowCapacity, max(dataset.count, 1))
        let loader = BatchLoader(dataset: dataset, normalizer: data.normalizer, capacity: chunk)
        let order = (0..<Int32(dataset.count)).map { $0 }
        var sums = LossSums(), regression = RegressionSums()
        order.withUnsafeBufferPointer { order in
            for start in stride(from: 0, to: dataset.count, by: chunk) {
                loader.withBatch(order: order, range: start..<min(start + chunk, dataset.count)) { x, targets in
                    let output = network.forward(x, training: false)
                    evaluationLoss.evaluate(output: output, targets: targets, gradient: nil, into: &sums)
                    if case .values(let y) = targets { regression.add(output: output, targets: y) }
                }
            }
        }
        let rows = max(sums.rows, 1)
        let classification = data.isClassification
        return EvaluationMetrics(
            rows: sums.rows, loss: sums.loss / Double(rows),
            accuracy: classification ? sums.correct / Double(rows) : nil,
            meanAbsoluteError: classification ? nil : regression.meanAbsoluteError,
            r2: classification ? nil : regression.r2)
    }
}

/// Mean and maximum of the per-step gradient norms of an epoch.
struct NormStatistics {
    private var sum: Double = 0
    private var count = 0
    private(set) var maximum: Double = 0

    mutating func add(_ norm: Double) {
        sum += norm
        count += 1
        maximum = max(maximum, norm)
    }

    var mean: Double { count == 0 ? 0 : sum / Double(count) }
}

extension BatchSize {
    /// Rows per batch for a training split of `count` rows.
    func rows(of count: Int) -> Int {
        switch self {
        case .full: max(count, 1)
        case .rows(let rows): max(min(rows, count), 1)
        }
    }
}
