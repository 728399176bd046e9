import CFloatingPoint
import Foundation

/// The training loop. For each epoch: shuffle the training rows with the seeded generator (or draw them,
/// `data.sampler: balanced`: see `BalancedSampler`), then
/// per batch
///
///     beforeStep → [prune] → gather + normalise rows → augment → forward [+ teacher] [layer stats: dead units]
///       → loss, ∂L/∂output [× S] → backward [→ unscale, skip on inf/NaN] [→ g ⊙ mask] → L1
///       [layer stats: gradient norms] → clip → lr, momentum = schedule(position)
///       → optimizer step [→ θ ⊙ mask] [→ ema] → afterStep → shouldStop
///
/// then [→ swa, SWALR] (see `WeightAverage`, `SWALR`), [layer stats: weight norms], evaluate the
/// validation split (the average with `ema.evaluate` or `swa.evaluate`), step reduce_on_plateau and
/// early stopping, tell the observers (`epochFinished`), then send them the epoch's diagnostic
/// warnings (`warning`, see `TrainingDiagnostics`). The `[layer stats]` parts run only with
/// `logging.computesLayerStatistics` (see `LayerStatistics`). The named hooks are `observers`' (see `TrainingObserver`): what
/// watches or steers training plugs in there, not as a parameter of the loop. The bracketed parts
/// are mixed precision's (`training.precision` fp16 or bf16, see `Precision` and `GradScaler`) and pruning's
/// (`pruner`, see `Pruner`: its masks act between back-propagation and clipping, and are checkpoint state,
/// so the trainer owns it rather than an observer): a
/// skipped step leaves weights, optimizer state and `stepCount` as they were. So per-batch schedules and the
/// warm-up count only the steps taken, as Hugging Face Accelerate's AcceleratedScheduler does (it
/// does not step the schedule after a skipped optimizer step; PyTorch's bare AMP recipe calls
/// `scheduler.step()` regardless), while per-epoch schedules change at the epoch boundary whatever
/// was skipped, as PyTorch's `scheduler.step()` after each epoch does (see `Warmup`).
/// With `training.accumulate_steps` K > 1, a step is a group of up to K micro-batches of `batch_size` rows:
/// each runs gather → forward → loss → ∂L/∂output [× S] × 1/K → backward, its parameter gradients added
/// into one sum, and the rest of the step (unscale once, masks, L1, clip, optimizer, EMA) runs once on the
/// sum. As Lightning's `accumulate_grad_batches` (its automatic optimization divides every micro-batch's
/// loss by K, and steps at the epoch's last batch), the epoch's last group steps with the micro-batches
/// it has, each still divided by K. `stepCount`, `position.batch`, the schedules, steps.csv and the
/// observers count optimizer steps, so a run stops (and a checkpoint falls) only between groups.
/// Buffers are sized once in `init`, so the steps allocate no buffers. The same configuration and
/// seed give the same numbers on the same machine.
public final class Trainer {
    public let configuration: Configuration
    public let data: TrainingData
    public let network: Network
    public let loss: Loss
    /// cross_entropy's class weights (`loss_weights`, balanced ones worked out from the training split), in
    /// class order; nil without them. Only the training loss uses them.
    public let classWeights: [Double]?
    /// The loss reported on validation and test data: the training loss without label smoothing or class weights,
    /// so that figures compare between runs with and without it.
    public let evaluationLoss: Loss
    /// The teacher of a distillation run (`distillation.teacher`), run on each training batch; nil
    /// without one. Validation and test figures are the student's own (`evaluationLoss`).
    public let teacher: Teacher?
    /// Where the run's initial weights came from (`model.init_from`), which its checkpoints record; nil:
    /// the initialiser's. A resumed run has its checkpoint's (`Checkpoint.restore`).
    public internal(set) var initialWeightsRecord: InitialWeights.Record?
    /// The training objective under a teacher: `loss` mixed with the teacher's term (see
    /// `DistillationLoss`); nil without a teacher.
    public let distillationLoss: DistillationLoss?
    public let optimizer: any Optimizer
    public let schedule: Warmup
    /// reduce_on_plateau's state, stepped once per epoch; nil for the other schedules.
    public internal(set) var plateau: ReduceLROnPlateau?
    /// Early stopping's state; nil when early_stopping.patience is not set.
    public internal(set) var earlyStopping: EarlyStopping?
    /// How training ended; nil while it can go on (and after an interruption, which `train`
    /// reports through its result).
    public internal(set) var ending: TrainingEnd?
    /// The epoch whose weights `restore_best` put back at the end, if it did.
    public internal(set) var restoredEpoch: Int?
    /// With `restore_best`: the model of the best epoch so far.
    var bestSnapshot: Network.Snapshot?
    /// The loss scaler of a mixed-precision run with `training.loss_scale` dynamic or a number; nil
    /// otherwise.
    public internal(set) var gradScaler: GradScaler?
    /// The pruning masks and their schedule when `pruning.method` is set; nil otherwise.
    public let pruner: Pruner?
    /// The exponential moving average of the weights (`ema.enabled`), updated after every
    /// `ema.every_n_steps`-th batch [→ ema]; nil otherwise. See `WeightAverage`.
    public let ema: WeightAverage?
    /// The SWA average (`swa.start_epoch`), updated at the end of each epoch from start_epoch on
    /// [→ swa], its batch norms recomputed when training ends (`updateBatchNorm`); nil otherwise.
    public let swa: WeightAverage?
    /// SWALR's lr (and the momentum frozen with it) once SWA has begun: the lr of every later step;
    /// nil before the first SWA update.
    public internal(set) var swaSchedule: SWALR?
    /// The copy of ASGD's averaged iterates that validation, the test and the final model use (see
    /// `iterateAverage`); nil for the other optimizers.
    let iterates: WeightAverage?
    /// Rows per evaluation pass (larger than a typical batch: evaluation keeps no gradients).
    static let evaluationRows = 1024

    /// The optimizer's groups, split by layer when layers freeze or have their own lr; a frozen layer's are
    /// inactive (see `applyFreeze(epoch:)`).
    private var groups: [ParameterGroup]
    /// With frozen layers or `optimizer.layer_lr`: the optimizer's passes of a step (see `optimizerStep`); nil:
    /// one plain step over every parameter.
    private var layerPasses: [LayerPass]?
    /// With `training.freeze_epochs`: the optimizer counters of the layers frozen in the first epochs, which
    /// begin stepping (with fresh state, as torch's per-parameter state) when they thaw; nil otherwise.
    var thawedCounters: [String: Double]?
    /// The counter names under which checkpoints keep `thawedCounters`: `thawed.step`, ….
    static let thawedPrefix = "thawed."
    /// K of `training.accumulate_steps`: micro-batches of `trainLoader.capacity` rows per optimizer step.
    let accumulateSteps: Int
    /// With K > 1, the sum of the group's micro-batch gradients so far (one parameter-sized buffer; the
    /// batch-sized buffers stay those of one micro-batch); empty otherwise.
    private var gradientSum: [Float]
    private let clipping: GradientClipping
    private let l1: Float
    let trainLoader: BatchLoader
    private let augmenter: BatchAugmenter?
    var shuffleRandom: RandomGenerator
    /// `data.sampler: balanced`'s rows by class; nil: each epoch shuffles the rows.
    let sampler: BalancedSampler?
    var augmentRandom: RandomGenerator
    /// The training rows in the order of the current epoch (each epoch shuffles the previous
    /// epoch's order in place).
    var order: [Int32]
    /// Where training stands: the epoch in progress or next (from 1) and its batches done.
    public internal(set) var position = TrainingPosition(epoch: 1, batch: 0)
    /// The running figures of the epoch in progress.
    var progress = EpochProgress()
    /// What watches and steers training (a progress display, steps.csv, signals, a run's checkpoints),
    /// told of each epoch and step in this order; see `TrainingObserver`. Not part of the state a
    /// checkpoint restores.
    public var observers: [any TrainingObserver] = []
    /// Every finished epoch's metrics, in order.
    public internal(set) var history: [EpochMetrics] = []
    /// Optimizer steps taken so far in the run.
    public internal(set) var stepCount = 0
    /// Training seconds of the epochs finished so far (no evaluation time).
    public internal(set) var trainingSeconds: Double = 0
    /// Per-layer gradient norms, weight norms and dead-unit fractions (see `LayerStatistics`), measured at
    /// `[layer stats]` in `step` when `logging.computesLayerStatistics`; nil otherwise. Its per-step
    /// figures (`lastStepGradientNorms`) are for observers; the epoch's sums are in `progress.layers`.
    public let layerStatistics: LayerStatistics?
    /// The diagnostic warnings given so far (`TrainingDiagnostics`), each at most once per run.
    public internal(set) var warningsGiven: Set<TrainingDiagnostics.Warning> = []

    /// Random streams of a run, one per purpose, so each draws the same numbers whatever the others do.
    enum RandomStream: UInt64 { case initialization = 1, shuffle = 2, dropout = 3, augmentation = 4 }

    /// A trainer of `configuration` on `data`, whose `configuration` becomes the given one with the
    /// scheduler defaults that depend on the data's batches filled in (`resolvingScheduleDefaults`).
    /// With a `teacher` (`Teacher.load` reads the one `distillation.teacher` names), each step's loss
    /// is the distillation loss of `distillation.temperature` and `alpha`.
    ///
    /// With `initialWeights` (`InitialWeights.load` reads the file `model.init_from` names), its layers
    /// overwrite the initialiser's right after it has run, before anything copies the weights (EMA, SWA).
    public init(configuration: Configuration, data: TrainingData, teacher: Teacher? = nil,
                initialWeights: InitialWeights? = nil) {
        let stepsPerEpoch = configuration.stepsPerEpoch(trainRows: data.train.count)
        let configuration = configuration.resolvingScheduleDefaults(stepsPerEpoch: stepsPerEpoch)
        self.configuration = configuration
        self.data = data
        batchesPerEpoch = stepsPerEpoch
        network = configuration.makeNetwork(inputWidth: data.train.featureCount, outputWidth: data.outputWidth,
                                            targetScaling: data.targetScaling)
        let batchRows = configuration.training.batchSize.rows(of: data.train.count)
        network.reserve(rows: max(batchRows, Trainer.evaluationRows))
        var initRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.initialization.rawValue)
        configuration.initialization.apply(to: network, activation: configuration.model.activationFunction, random: &initRandom)
        initialWeights?.apply(to: network)
        initialWeightsRecord = initialWeights?.record
        classWeights = Trainer.classWeights(configuration, data: data)
        loss = Loss(configuration.loss, labelSmoothing: configuration.regularization.labelSmoothing,
                    huberDelta: configuration.huberDelta, classWeights: classWeights)
        evaluationLoss = Loss(configuration.loss, huberDelta: configuration.huberDelta)
        self.teacher = teacher
        teacher?.reserve(rows: batchRows)
        distillationLoss = teacher == nil ? nil : DistillationLoss(
            hard: Loss(configuration.loss, labelSmoothing: configuration.regularization.labelSmoothing,
                       huberDelta: configuration.huberDelta, classWeights: classWeights),
            temperature: Float(configuration.distillation.temperature), alpha: Float(configuration.distillation.alpha))
        let training = configuration.training
        let byLayer = training.freeze != nil || training.freezeEpochs != nil || configuration.optimizer.layerLR != nil
        groups = network.parameters.groups(decayBatchNorm: configuration.optimizer.decayBatchNorm, byLayer: byLayer)
        optimizer = configuration.optimizer.makeOptimizer(groups: groups)
        if training.freezeEpochs != nil { thawedCounters = optimizer.counters }
        plateau = configuration.makePlateau()
        earlyStopping = configuration.makeEarlyStopping()
        gradScaler = GradScaler(configuration.training.lossScale)
        if let method = configuration.pruning.method {
            pruner = Pruner(configuration.pruning, method: method, parameters: network.parameters,
                            epochs: configuration.training.epochs, stepsPerEpoch: stepsPerEpoch)
        } else {
            pruner = nil
        }
        ema = configuration.ema.enabled ? WeightAverage(kind: .ema(decay: configuration.ema.decay), network: network) : nil
        swa = configuration.swa.startEpoch == nil ? nil : WeightAverage(kind: .swa, network: network)
        iterates = optimizer is ASGD ? WeightAverage(kind: .iterates, network: network) : nil
        clipping = GradientClipping(maxNorm: configuration.training.clip.norm.map(Float.init),
                                    maxValue: configuration.training.clip.value.map(Float.init))
        l1 = Float(configuration.regularization.l1)
        accumulateSteps = max(configuration.training.accumulateSteps, 1)
        gradientSum = accumulateSteps > 1 ? [Float](repeating: 0, count: network.parameters.gradients.storage.count) : []
        trainLoader = BatchLoader(dataset: data.train, normalizer: data.normalizer, capacity: batchRows)
        schedule = configuration.makeSchedule(stepsPerEpoch: stepsPerEpoch)
        augmenter = configuration.makeAugmenter(schema: data.schema, normalizer: data.normalizer, batchCapacity: batchRows)
        shuffleRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.shuffle.rawValue)
        augmentRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.augmentation.rawValue)
        order = (0..<Int32(data.train.count)).map { $0 }
        layerStatistics = configuration.logging.computesLayerStatistics ? LayerStatistics(network: network) : nil
        if configuration.data.sampler == .balanced, case .classes(let labels) = data.train.targets {
            sampler = BalancedSampler(labels: labels, classCount: data.outputWidth)
        } else {
            sampler = nil
        }
        applyFreeze(epoch: 1)
    }

    /// One pass of the optimizer in a step: its groups (those of other passes and of frozen layers inactive),
    /// the multiplier of the scheduled lr, and whether its layers are the thawed ones (`thawedCounters`).
    struct LayerPass {
        var groups: [ParameterGroup]
        var lrScale: Double
        var thawed: Bool
    }

    /// Freezes the layers `training.freeze` / `freeze_epochs` freeze during `epoch` (`Network.freeze(layers:)`) and
    /// lays out the optimizer's passes: one per distinct (layer_lr multiplier, thawed or not) among the layers that
    /// train. A no-op for a run without frozen layers or layer_lr.
    func applyFreeze(epoch: Int) {
        guard groups.contains(where: { $0.layer != nil }) else { return }
        let training = configuration.training, layerCount = configuration.model.hidden.count + 1
        let frozen = training.frozenLayers(epoch: epoch, layerCount: layerCount)
        let thawing = training.freezeEpochs == nil ? [] : training.frozenLayers(epoch: 1, layerCount: layerCount)
        if frozen != network.frozenLayers { network.freeze(layers: frozen) }
        for g in groups.indices { groups[g].active = !(groups[g].layer.map(frozen.contains) ?? false) }
        // Split by layer, every group has one: `Tensor.layer` of an MLP's names.
        func layer(_ group: ParameterGroup) -> Int {
            guard let layer = group.layer else { preconditionFailure("a parameter group without its layer") }
            return layer
        }
        var passes: [LayerPass] = []
        for group in groups where group.active {
            let scale = configuration.optimizer.layerLR?[layer(group)] ?? 1, thawed = thawing.contains(layer(group))
            if !passes.contains(where: { $0.lrScale == scale && $0.thawed == thawed }) {
                let members = groups.map { member in
                    var member = member
                    member.active = member.active && (configuration.optimizer.layerLR?[layer(member)] ?? 1) == scale
                        && thawing.contains(layer(member)) == thawed
                    return member
                }
                passes.append(LayerPass(groups: members, lrScale: scale, thawed: thawed))
            }
        }
        layerPasses = passes
        optimizer.groups = groups
    }

    /// The optimizer's update of one step at the scheduled `values`. Without frozen layers or layer_lr, one
    /// step over every parameter. Otherwise one step per `LayerPass`, each over its own layers at lr × its
    /// multiplier (as torch steps each param group at its own `lr`), every pass starting from the counters of
    /// its cohort: the step count (and NAdam's μ product, SGD's seeded momentum) of the layers that trained from
    /// the start, or of those that thawed after `freeze_epochs` (`thawedCounters`), whose steps start from 1
    /// as torch's per-parameter `state['step']` does for a parameter that first gets a gradient then.
    private func optimizerStep(values: ScheduledValues) {
        let parameters = network.parameters
        let theta = parameters.values.storage, gradients = UnsafeBufferPointer(parameters.gradients.storage)
        guard let layerPasses else {
            optimizer.step(parameters: theta, gradients: gradients, learningRate: Float(values.learningRate),
                           momentum: values.momentum)
            return
        }
        let start = optimizer.counters
        var after = start, thawedAfter = thawedCounters
        for pass in layerPasses {
            optimizer.groups = pass.groups
            optimizer.counters = pass.thawed ? thawedCounters ?? start : start
            optimizer.step(parameters: theta, gradients: gradients, learningRate: Float(values.learningRate * pass.lrScale),
                           momentum: values.momentum)
            if pass.thawed { thawedAfter = optimizer.counters } else { after = optimizer.counters }
        }
        optimizer.groups = groups
        optimizer.counters = after
        thawedCounters = thawedAfter
    }

    /// The class weights of `configuration.lossWeights` for `data`'s training split; nil without them, for
    /// regression, or for balanced weights of a split missing a class (`TrainingData.load` refuses that).
    static func classWeights(_ configuration: Configuration, data: TrainingData) -> [Double]? {
        guard configuration.loss == .crossEntropy, let lossWeights = configuration.lossWeights,
              case .classes(let labels) = data.train.targets else { return nil }
        guard case .success(let weights) = lossWeights.weights(labels: labels, classCount: data.outputWidth),
              weights.count == data.outputWidth else { return nil }
        return weights
    }

    /// Number of optimizer steps in one epoch (the last batch may be smaller); read by every step's
    /// schedule position, so worked out once.
    public let batchesPerEpoch: Int

    /// Trains from `position` to the end of epoch `training.epochs`, telling `observers` of each epoch
    /// and step (see `TrainingObserver` for the events and their order). Returns every epoch's metrics
    /// of the run, those of earlier sessions included.
    ///
    /// The observers' `shouldStop` is asked after every optimizer step; when one says yes, training
    /// stops there (finishing the epoch instead if that was its last step) and `train` returns with
    /// `ending` nil and `position` at the next step, from which a restored trainer goes on exactly. When
    /// training ends by completion or early stopping, `restore_best` puts the best epoch's model
    /// back. Throws `.diverged` when a batch's loss stops being finite, or in mixed precision
    /// without loss scaling when a gradient does, and what an observer throws.
    ///
    /// Subnormal floats (below 1.2e-38) are flushed to zero while training, as most GPU training
    /// does: Adam's moments of rarely active inputs decay geometrically into the subnormal range,
    /// where x86 arithmetic is up to a hundred times slower, which doubled the epoch time on
    /// Fashion-MNIST from the second epoch on. Values that small change no update measurably.
    @discardableResult
    public func train() throws(NNTrainError) -> [EpochMetrics] {
        let floatingPointMode = nntrain_flush_subnormals()
        defer { nntrain_restore_floating_point_mode(floatingPointMode) }
        let epochs = configuration.training.epochs
        // A resumed run that had ended trains on when its configuration now lets it (more epochs, more patience).
        if ending != nil, configuration.endedRun(ending: ending, position: position, earlyStopping: earlyStopping) == nil {
            ending = nil
        }
        while ending == nil, position.epoch <= epochs {
            let epoch = position.epoch
            guard let metrics = try trainEpoch() else { return history }
            history.append(metrics)
            if var plateau, let metric = metrics.value(of: configuration.scheduler.monitor ?? .trainLoss) {
                plateau.step(metric: metric)
                self.plateau = plateau
            }
            if var stopper = earlyStopping, pruningSettled, let value = metrics.value(of: stopper.monitor) {
                let verdict = stopper.update(epoch: epoch, value: value)
                earlyStopping = stopper
                if verdict.improved, configuration.earlyStopping.restoreBest {
                    bestSnapshot = validatedAverage?.snapshot ?? network.snapshot()
                }
                if verdict.stop { ending = .earlyStopped(epoch: epoch) }
            }
            position = TrainingPosition(epoch: epoch + 1, batch: 0)
            if ending == nil, epoch == epochs { ending = .completed }
            // Before the epoch's checkpoints, so that the last holds the final SWA model.
            if ending != nil { try finishAveraging() }
            // Decided (and marked given) before the epoch's checkpoint, sent after its line is shown.
            let warnings = diagnosticWarnings(layerSums: progress.layers)
            for observer in observers { try observer.epochFinished(metrics, trainer: self) }
            for line in warnings {
                for observer in observers { observer.warning(line) }
            }
            if ending == nil, stopRequested() { return history }
        }
        if ending == nil {  // resumed with training.epochs at or below its position
            ending = .completed
            try finishAveraging()
        }
        restoreBest()
        return history
    }

    /// False while pruning's schedule has pruning steps to come. Until the masks reach their final
    /// sparsity, an epoch is not a candidate for the best model (early stopping's patience and best,
    /// restore_best, save_best): a denser epoch would otherwise win and undo the pruning. NNCF does
    /// the same: its controllers' `compression_stage()` is "used on saving best checkpoints to
    /// distinguish between uncompressed, partially compressed, and fully compressed models".
    public var pruningSettled: Bool { pruner.map { !$0.schedule.isRunning(atStep: batchesTrained) } ?? true }

    /// The batches trained since the run began, (epoch − 1)·B + batch: the optimizer steps, counting any
    /// a loss scaler skipped; pruning's schedule runs on it.
    public var batchesTrained: Int { (position.epoch - 1) * batchesPerEpoch + position.batch }

    /// Whether an observer asks training to stop (the first that does ends the asking).
    private func stopRequested() -> Bool {
        for observer in observers where observer.shouldStop(self) { return true }
        return false
    }

    /// With `restore_best`, puts the best epoch's model back (however training ended).
    public func restoreBest() {
        guard let bestSnapshot, let stopper = earlyStopping else { return }
        network.restore(bestSnapshot)
        restoredEpoch = stopper.bestEpoch
    }

    /// The learning rate and momentum (or β1) of the next step: the schedule's, warm-up included,
    /// on top of reduce_on_plateau's current lr when that is the schedule.
    func scheduledValues(epoch: Int) -> ScheduledValues {
        if let swaSchedule { return ScheduledValues(learningRate: swaSchedule.learningRate, momentum: swaSchedule.momentum) }
        let position = SchedulePosition(epoch: epoch, step: stepCount, stepsPerEpoch: batchesPerEpoch)
        return schedule.values(at: position, baseLR: plateau?.learningRate ?? configuration.optimizer.lr)
    }

    /// Trains the rest of the epoch at `position` (all of it when its batch is 0: then the order
    /// is shuffled first) and returns its metrics, or nil when an observer stopped it before its
    /// last step.
    private func trainEpoch() throws(NNTrainError) -> EpochMetrics? {
        let epoch = position.epoch
        let batches = batchesPerEpoch, batchRows = trainLoader.capacity * accumulateSteps, rowCount = data.train.count
        applyFreeze(epoch: epoch)
        if position.batch == 0 {
            if let sampler { sampler.draw(into: &order, random: &shuffleRandom) } else { shuffleRandom.shuffle(&order) }
            progress = EpochProgress(skippedAtStart: gradScaler?.skippedSteps ?? 0)
            if configuration.logging.precisionStats { network.gradientRoundingCounts = RoundingCounts() }
            progress.layers = layerStatistics?.makeSums()
        }
        // A checkpoint without the sums (older, or of a run without layer statistics) starts them here.
        if let layerStatistics, progress.layers?.gradientNormSums.count != layerStatistics.count {
            progress.layers = layerStatistics.makeSums()
        } else if layerStatistics == nil {
            progress.layers = nil
        }
        for observer in observers { observer.epochStarted(self) }
        var values = scheduledValues(epoch: epoch - 1)
        let secondsBefore = trainingSeconds + progress.seconds
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let finished = try order.withUnsafeBufferPointer { (order) throws(NNTrainError) -> Bool in
            for batch in position.batch..<batches {
                for observer in observers { observer.beforeStep(self) }
                let range = (batch * batchRows)..<min((batch + 1) * batchRows, rowCount)
                values = scheduledValues(epoch: epoch - 1)
                let lossBefore = progress.sums.loss
                let norm = try step(rows: order, range: range, values: values, sums: &progress.sums, epoch: epoch,
                                    batch: batch + 1)
                if let norm {
                    progress.norms.add(norm)
                    stepCount += 1
                }
                if let layerStatistics {
                    progress.layers?.addBatch(layerStatistics.lastBatchDeadFractions)
                    if norm != nil { progress.layers?.addStep(layerStatistics.lastStepGradientNorms) }
                }
                position.batch = batch + 1
                if let ema, batchesTrained % configuration.ema.everyNSteps == 0 {
                    ema.update(from: network)
                    if let pruner { ema.applyMasks(of: pruner) }
                }
                let report = StepReport(
                    position: position, batchesPerEpoch: batches, stepCount: stepCount, learningRate: values.learningRate,
                    loss: (progress.sums.loss - lossBefore) / Double(range.count),
                    epochMeanLoss: progress.sums.loss / Double(progress.sums.rows), gradientNorm: norm,
                    secondsBeforeSession: secondsBefore, sessionStart: start)
                for observer in observers { try observer.afterStep(report, trainer: self) }
                if batch + 1 < batches, stopRequested() { return false }
            }
            return true
        }
        progress.seconds += elapsed()
        guard finished else { return nil }
        averageEpoch(epoch, lastStep: values)
        let seconds = progress.seconds, sums = progress.sums
        trainingSeconds += seconds
        // The model trained (before validation swaps an average in).
        let layers = layerStatistics.flatMap { statistics in
            progress.layers?.metrics(weightNorms: statistics.weightNorms(network.parameters.values.base))
        }
        return EpochMetrics(
            epoch: epoch, learningRate: values.learningRate, trainLoss: sums.loss / Double(sums.rows),
            trainAccuracy: data.isClassification ? sums.correct / Double(sums.rows) : nil,
            validation: data.validation.count > 0 ? try evaluateValidation() : nil,
            gradientNormMean: progress.norms.mean, gradientNormMax: progress.norms.maximum,
            epochSeconds: seconds, samplesPerSecond: Double(rowCount) / max(seconds, 1e-9),
            mixedPrecision: configuration.training.precision == .fp32 ? nil : MixedPrecisionMetrics(
                lossScale: gradScaler.map { Double($0.scale) },
                skippedSteps: (gradScaler?.skippedSteps ?? 0) - progress.skippedAtStart,
                gradientUnderflow: network.gradientRoundingCounts?.underflowFraction,
                gradientOverflow: network.gradientRoundingCounts?.overflowFraction),
            pruning: pruner?.metrics, layers: layers)
    }

    /// One optimizer step on the training rows `order[range]` at the learning rate and momentum of
    /// `values`: [prune, on the pruning schedule's steps], gather and normalise, augment, forward, loss
    /// (added to `sums`), backward, then [unscale], [g ⊙ mask], L1, clipping, the optimizer's update
    /// and [θ ⊙ mask] (see `Pruner`); the trainer then updates the EMA [→ ema] (see `WeightAverage`).
    /// Returns the global gradient norm before
    /// clipping, or nil when the loss scaler skipped the step for inf/NaN gradients. Throws
    /// `.diverged`, naming `epoch` and `batch`, when the loss or the gradient norm stops being finite
    /// (before the optimizer step, so the weights stay finite).
    func step(rows order: UnsafeBufferPointer<Int32>, range: Range<Int>, values: ScheduledValues, sums: inout LossSums,
              epoch: Int, batch: Int) throws(NNTrainError) -> Double? {
        pruner?.prepareStep(batchesBefore: (epoch - 1) * batchesPerEpoch + batch - 1, optimizer: optimizer)
        if let lbfgs = optimizer as? LBFGS {
            return try closureStep(lbfgs, rows: order, range: range, values: values, sums: &sums, epoch: epoch, batch: batch)
        }
        let microRows = trainLoader.capacity
        for (index, start) in stride(from: range.lowerBound, to: range.upperBound, by: microRows).enumerated() {
            try microStep(rows: order, range: start..<min(start + microRows, range.upperBound), values: values,
                          sums: &sums, epoch: epoch, batch: batch)
            if accumulateSteps > 1 { accumulateGradients(first: index == 0) }
        }
        if accumulateSteps > 1 {
            gradientSum.withUnsafeBufferPointer { sum in
                _ = network.parameters.gradients.storage.update(fromContentsOf: sum)
            }
        }
        guard try unscaleGradients(epoch: epoch, step: batch) else { return nil }
        pruner?.maskGradients()
        let parameters = network.parameters
        if l1 > 0 {
            L1Penalty.addGradient(lambda: l1, parameters: parameters.values.base, gradients: parameters.gradients.base,
                                  groups: groups)
        }
        layerStatistics?.measureGradients(parameters.gradients.base)
        let norm = clipping.clip(parameters.gradients.storage)
        guard norm.isFinite else {  // the step would write NaN into the weights
            throw divergence(epoch: epoch, step: batch, what: "the gradient norm became \(norm)",
                             learningRate: values.learningRate)
        }
        optimizerStep(values: values)
        pruner?.maskWeights()
        return norm
    }

    /// One step of a closure optimizer (lbfgs, which the configuration allows only with the full batch, no
    /// accumulation and no loss scaling), as a PyTorch user writes it:
    ///
    ///     x, y = batch (gathered and augmented once)
    ///     def closure(): optimizer.zero_grad(); loss = criterion(model(x), y); loss.backward()
    ///                    [g ⊙ mask]; clip_grad_norm_ / clip_grad_value_; return loss
    ///     optimizer.step(closure)
    ///
    /// Every evaluation runs forward [+ teacher] → loss → backward [→ round in bf16/fp16] [→ g ⊙ mask] → clip,
    /// so clipping acts on each gradient the optimizer sees (the clip inside the closure of torch's
    /// examples), and dropout draws new masks at each (as torch's closure does; the objective is then noisy).
    /// The step's loss, accuracy and gradient norm (before clipping) are the first evaluation's, at the
    /// weights the step starts from (torch's `step` returns that `orig_loss`), so the epoch's training loss
    /// is the loss before its one step; layer statistics measure that evaluation too. Then [θ ⊙ mask].
    private func closureStep(_ lbfgs: LBFGS, rows order: UnsafeBufferPointer<Int32>, range: Range<Int>,
                             values: ScheduledValues, sums: inout LossSums, epoch: Int,
                             batch: Int) throws(NNTrainError) -> Double {
        let parameters = network.parameters
        var evaluations = 0, firstNorm = 0.0
        try trainLoader.withBatch(order: order, range: range) { (x, targets) throws(NNTrainError) in
            let targets = augment(x, targets)
            _ = try lbfgs.step(parameters: parameters.values.storage,
                               gradients: UnsafeBufferPointer(parameters.gradients.storage),
                               learningRate: Float(values.learningRate)) { () throws(NNTrainError) -> Double in
                evaluations += 1
                let first = evaluations == 1
                var evaluationSums = LossSums()
                let output = network.forward(x, training: true)
                if first { layerStatistics?.measureDeadUnits(network) }
                try evaluateLoss(output: output, input: x, targets: targets, into: &evaluationSums, epoch: epoch,
                                 batch: batch, learningRate: values.learningRate)
                network.backward(input: x)
                _ = try unscaleGradients(epoch: epoch, step: batch)  // no scaler: true, or throws
                pruner?.maskGradients()
                if first { layerStatistics?.measureGradients(parameters.gradients.base) }
                let norm = clipping.clip(parameters.gradients.storage)
                guard norm.isFinite else {
                    throw divergence(epoch: epoch, step: batch, what: "the gradient norm became \(norm)",
                                     learningRate: values.learningRate)
                }
                if first {
                    firstNorm = norm
                    sums.loss += evaluationSums.loss
                    sums.correct += evaluationSums.correct
                    sums.rows += evaluationSums.rows
                }
                return evaluationSums.loss / Double(max(evaluationSums.rows, 1))
            }
        }
        pruner?.maskWeights()
        return firstNorm
    }

    /// Adds the parameter gradients of the micro-batch just back-propagated into `gradientSum` (copies
    /// them there for the group's first).
    private func accumulateGradients(first: Bool) {
        let gradients = network.parameters.gradients.storage
        gradientSum.withUnsafeMutableBufferPointer { sum in
            if first {
                _ = sum.update(fromContentsOf: gradients)
            } else {
                for i in 0..<sum.count { sum[i] += gradients[i] }
            }
        }
    }

    /// The training objective of a forward pass's `output` for input `x` (the loss, or the distillation loss
    /// with its teacher), its sums added to `sums` and dL/d(output) written to `network.outputGradient`; a
    /// loss that is not finite ends the run as diverged at this step.
    private func evaluateLoss(output: MatrixView, input x: MatrixView, targets: TargetBatch, into sums: inout LossSums,
                              epoch: Int, batch: Int, learningRate: Double) throws(NNTrainError) {
        if let teacher, let distillationLoss {
            distillationLoss.evaluate(output: output, teacher: teacher.outputs(for: x), targets: targets,
                                      gradient: network.outputGradient, into: &sums)
        } else {
            loss.evaluate(output: output, targets: targets, gradient: network.outputGradient, into: &sums)
        }
        guard sums.loss.isFinite else {
            let overflow = configuration.training.precision == .fp16 ? " (fp16 overflows beyond ±65504)" : ""
            throw divergence(epoch: epoch, step: batch, what: "the loss became \(sums.loss)\(overflow)",
                             learningRate: learningRate)
        }
    }

    /// One micro-batch's forward and backward pass on `order[range]`: gather and normalise, augment,
    /// forward [+ teacher], loss (added to `sums`), ∂L/∂output [× S] × 1/K, backward, leaving its parameter
    /// gradients in the network's gradient buffer.
    private func microStep(rows order: UnsafeBufferPointer<Int32>, range: Range<Int>, values: ScheduledValues,
                           sums: inout LossSums, epoch: Int, batch: Int) throws(NNTrainError) {
        try trainLoader.withBatch(order: order, range: range) { (x, targets) throws(NNTrainError) in
            let targets = augment(x, targets)
            let output = network.forward(x, training: true)
            // With accumulate_steps, the group's last micro-batch is the one its dead units are counted in.
            layerStatistics?.measureDeadUnits(network)
            try evaluateLoss(output: output, input: x, targets: targets, into: &sums, epoch: epoch, batch: batch,
                             learningRate: values.learningRate)
            gradScaler?.scaleLossGradient(network.outputGradient)
            if accumulateSteps > 1 {
                // Lightning's `closure_loss / accumulate_grad_batches`, for every group, the last one too.
                let gradient = network.outputGradient, inverse = 1 / Float(accumulateSteps)
                for i in 0..<(gradient.rows * gradient.columns) { gradient.base[i] *= inverse }
            }
            network.backward(input: x)
        }
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
        var sums = LossSums(), regression = RegressionSums()
        network.forEachEvaluationBatch(of: dataset, normalizer: data.normalizer) { output, targets in
            evaluationLoss.evaluate(output: output, targets: targets, gradient: nil, into: &sums)
            if case .values(let y) = targets { regression.add(output: output, targets: y) }
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

extension BatchSize {
    /// Rows per batch for a training split of `count` rows.
    func rows(of count: Int) -> Int {
        switch self {
        case .full: max(count, 1)
        case .rows(let rows): max(min(rows, count), 1)
        }
    }
}
