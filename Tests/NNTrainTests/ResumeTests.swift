import Foundation
import Testing
@testable import NNTrain

/// A run interrupted at chosen steps, written to a checkpoint's bytes, read back into a fresh
/// trainer and continued, ends exactly as the run that never stopped: the same weights bit for bit,
/// the same metrics (timings aside).
@Suite struct ResumeTests {
    /// 60 rows of 16 features, 4 classes; 48 train (batches of 10: the fifth has 8 rows), 12 validation.
    static func classificationData() -> TrainingData {
        var random = RandomGenerator(seed: 21)
        let features = (0..<(60 * 16)).map { _ in Float(random.nextGaussian()) }
        let labels = (0..<60).map { Int32($0 % 4) }
        let all = Dataset(name: "blobs", features: .floats(features), featureCount: 16, targets: .classes(labels),
                          classNames: ["a", "b", "c", "d"])
        let train = all.subset(Array(0..<48)), validation = all.subset(Array(48..<60))
        return TrainingData(train: train, validation: validation, test: validation,
                            normalizer: Normalizer(fitting: train, mode: .standardize))
    }

    /// 40 random 28×28 "images" with 10 classes, for augmentation; 30 train, 10 validation.
    static func imageData() -> TrainingData {
        var random = RandomGenerator(seed: 22)
        let pixels = (0..<(40 * 784)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let all = Dataset(name: "images", features: .bytes(pixels), featureCount: 784,
                          targets: .classes((0..<40).map { Int32($0 % 10) }), classNames: FashionMNIST.classNames)
        let train = all.subset(Array(0..<30)), validation = all.subset(Array(30..<40))
        return TrainingData(train: train, validation: validation, test: validation,
                            normalizer: Normalizer(fitting: train, mode: .scale))
    }

    /// `imageData()` with the image schema, without which no augmenter is made (the rows are then a
    /// table of 784 columns and `data.augment` changes nothing).
    static func augmentableImageData(normalize: Normalization = .scale) -> TrainingData {
        var data = imageData()
        data.schema = .images(rows: 28, columns: 28)
        data.normalizer = Normalizer(fitting: data.train, mode: normalize)
        return data
    }

    /// SGD with Nesterov momentum and weight decay, reduce_on_plateau (patience 0, so it cuts),
    /// dropout, batch norm, L1, label smoothing, clipping, early stopping with restore_best.
    static func sgdConfig() -> Configuration {
        var config = Configuration()
        config.model.hidden = [24, 12]
        config.model.dropout = 0.25
        config.model.batchNorm = true
        config.optimizer.name = .sgd
        config.optimizer.lr = 0.05
        config.optimizer.momentum = 0.9
        config.optimizer.nesterov = true
        config.optimizer.weightDecay = 1e-3
        config.scheduler.name = .reduceOnPlateau
        config.scheduler.patience = 0
        config.scheduler.monitor = .valLoss
        config.scheduler.mode = .plateau(.min)
        config.regularization.l1 = 1e-4
        config.regularization.labelSmoothing = 0.1
        config.training.clip.norm = 1
        config.training.epochs = 6
        config.training.batchSize = .rows(10)
        config.earlyStopping.patience = 50
        config.earlyStopping.monitor = .valLoss
        config.earlyStopping.restoreBest = true
        return config
    }

    /// fp16 with dynamic loss scaling and rounding statistics, Adam with amsgrad, one_cycle with
    /// warm-up, and every augmentation (mixup included).
    static func mixedPrecisionConfig() -> Configuration {
        var config = Configuration()
        config.model.hidden = [16]
        config.optimizer.name = .adam
        config.optimizer.amsgrad = true
        config.scheduler.name = .oneCycle
        config.scheduler.maxLR = 0.01
        config.scheduler.warmupSteps = 2
        config.training.precision = .fp16
        config.training.lossScale = .dynamic
        config.logging.precisionStats = true
        config.data.augment.hflip = true
        config.data.augment.shift = 2
        config.data.augment.erasing = 0.5
        config.data.augment.mixup = 0.4
        config.training.epochs = 4
        config.training.batchSize = .rows(8)
        return config
    }

    /// The metrics with the two timing figures zeroed.
    static func withoutTimings(_ history: [EpochMetrics]) -> [EpochMetrics] {
        history.map {
            var metrics = $0
            metrics.epochSeconds = 0
            metrics.samplesPerSecond = 0
            return metrics
        }
    }

    /// Trains `config` on `data`, stopping after each step count of `stops` to save a checkpoint
    /// (through its file bytes) and restore it into a new trainer; returns the final trainer.
    static func train(_ config: Configuration, _ data: TrainingData, stoppingAfterSteps stops: [Int]) throws -> Trainer {
        var trainer = Trainer(configuration: config, data: data)
        for stop in stops {
            let current = trainer
            current.observers = [StopWhen { $0.stepCount == stop }]
            try current.train()
            #expect(current.ending == nil, "the run should have stopped at step \(stop)")
            #expect(current.stepCount == stop)
            let bytes = CheckpointFile.encode(try Checkpoint(trainer: current, bestRecord: nil, reason: .interrupted).contents())
            let checkpoint = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
            trainer = Trainer(configuration: config, data: data)
            try checkpoint.restore(into: trainer, path: "last.bin")
        }
        try trainer.train()
        return trainer
    }

    static func expectSameRun(_ config: Configuration, _ data: TrainingData, stops: [Int]) throws {
        let straight = try train(config, data, stoppingAfterSteps: [])
        let resumed = try train(config, data, stoppingAfterSteps: stops)
        let a = straight.state, b = resumed.state
        #expect(a.model.parameters.withUnsafeBytes(Array.init) == b.model.parameters.withUnsafeBytes(Array.init))
        #expect(a.model.runningStatistics == b.model.runningStatistics)
        #expect(withoutTimings(a.history) == withoutTimings(b.history))
        #expect(a.optimizer == b.optimizer && a.plateau == b.plateau && a.gradScaler == b.gradScaler)
        #expect(a.stepCount == b.stepCount && a.ending == b.ending && a.restoredEpoch == b.restoredEpoch)
        #expect(a.pruningMasks == b.pruningMasks)
        #expect(a.warningsGiven == b.warningsGiven && a.progress.layers == b.progress.layers)
        #expect(a.ema == b.ema && a.swa == b.swa && a.swaSchedule == b.swaSchedule)
        #expect(a.ema?.model.parameters.map(\.bitPattern) == b.ema?.model.parameters.map(\.bitPattern))
        #expect(a.swa?.model.parameters.map(\.bitPattern) == b.swa?.model.parameters.map(\.bitPattern))
    }

    /// Stops mid-epoch (steps 3 and 7 of 5-step epochs), at an epoch's end (step 10, the last of
    /// epoch 2, finishes the epoch first), and in the final epoch.
    @Test func sgdWithPlateauDropoutBatchNormAndEarlyStoppingResumesBitForBit() throws {
        try Self.expectSameRun(Self.sgdConfig(), Self.classificationData(), stops: [3, 7, 10, 27])
    }

    /// `model.norm: layer` in the SGD run's setting (dropout, weight decay of γ and β by
    /// decay_batch_norm, plateau, early stopping), stopped mid-epoch, at an epoch's end and late; and in
    /// bf16 with Adam. A layer norm keeps no running statistics: its γ and β are parameters like any other.
    @Test func layerNormResumesBitForBit() throws {
        var config = Self.sgdConfig()
        config.model.norm = .layer
        config.optimizer.decayBatchNorm = true
        try Self.expectSameRun(config, Self.classificationData(), stops: [3, 7, 10, 27])
        var mixed = Self.mixedPrecisionConfig()
        mixed.training.precision = .bf16
        mixed.training.lossScale = .none
        mixed.model.hidden = [16, 8]
        mixed.model.norm = .layer
        try Self.expectSameRun(mixed, Self.augmentableImageData(), stops: [1, 6, 9])
    }

    /// The optimizers of issue 20 in the SGD run's setting (plateau, dropout, batch norm, weight decay
    /// but for rprop), each with an option off its default; asgd averages from step 4, so `ax`, `eta`
    /// and `mu` all move before the stops.
    @Test(arguments: [OptimizerKind.adadelta, .adamax, .radam, .rprop, .asgd])
    func issue20OptimizersResumeBitForBit(name: OptimizerKind) throws {
        var config = Self.sgdConfig()
        config.optimizer.name = name
        config.optimizer.nesterov = false
        config.optimizer.momentum = 0
        config.optimizer.lr = name.defaultLR
        config.optimizer.eps = name.defaultEps
        if name == .rprop { config.optimizer.weightDecay = 0 }
        config.optimizer.rho = 0.8
        config.optimizer.decoupledWeightDecay = true
        config.optimizer.etas = [0.4, 1.3]
        config.optimizer.alpha = 0.75
        config.optimizer.t0 = 3
        config.optimizer.lambd = 1e-2
        config.training.epochs = 4
        try Self.expectSameRun(config, Self.classificationData(), stops: [3, 7, 10])
    }

    /// lbfgs on the full batch (one step an epoch, so the stops fall at epoch ends) in the SGD run's setting
    /// without weight decay and L1 (dropout, batch norm, clipping inside the closure, plateau), with each line
    /// search and a history of 3 (which the fixed step wraps within its first epoch's 5 iterations); d, t, the history, H_diag,
    /// prev_flat_grad and the counters come back from the checkpoint.
    /// In bf16 (no loss scaler, which lbfgs refuses), every evaluation's gradient is rounded as torch.autocast's.
    @Test(arguments: [(LineSearchKind.none, Precision.fp32), (.strongWolfe, .fp32), (.strongWolfe, .bf16)])
    func lbfgsResumesBitForBit(lineSearch: LineSearchKind, precision: Precision) throws {
        var config = Self.sgdConfig()
        config.training.precision = precision
        config.training.lossScale = .none
        config.optimizer.name = .lbfgs
        config.optimizer.lr = 0.5
        config.optimizer.weightDecay = 0
        config.regularization.l1 = 0
        config.optimizer.maxIter = 5
        config.optimizer.historySize = 3
        config.optimizer.lineSearchFn = lineSearch
        config.training.batchSize = .full
        config.training.epochs = 4
        try Self.expectSameRun(config, Self.classificationData(), stops: [1, 2, 3])
        // Without dropout (whose new masks at every evaluation make the objective noisy, which defeats
        // strong_wolfe), the run trains (its last epoch's loss below its first's) and keeps a history.
        config.model.dropout = 0
        let trainer = try Self.train(config, Self.classificationData(), stoppingAfterSteps: [])
        let losses = trainer.state.history.map(\.trainLoss)
        #expect(try #require(losses.last) < (try #require(losses.first)), "\(losses)")
        #expect(try #require((trainer.optimizer as? LBFGS)?.oldDirs.count) >= 2)
    }

    /// fp16 with dynamic loss scaling trains with each of them: the loss falls.
    @Test(arguments: [OptimizerKind.adadelta, .adamax, .radam, .rprop, .asgd])
    func issue20OptimizersTrainInFP16(name: OptimizerKind) throws {
        var config = Self.mixedPrecisionConfig()
        config.optimizer.name = name
        config.optimizer.lr = name.defaultLR
        config.optimizer.eps = name.defaultEps
        config.optimizer.alpha = 0.75
        config.scheduler.name = .constant
        config.scheduler.warmupSteps = 0
        config.data.augment = Configuration().data.augment
        config.training.epochs = 6
        let trainer = Trainer(configuration: config, data: Self.imageData())
        try trainer.train()
        let losses = trainer.state.history.map(\.trainLoss)
        #expect(losses.allSatisfy { $0.isFinite })
        let first = try #require(losses.first), last = try #require(losses.last)
        #expect(last < first, "\(name): \(losses)")
    }

    @Test func mixedPrecisionWithAugmentationAndOneCycleResumesBitForBit() throws {
        try Self.expectSameRun(Self.mixedPrecisionConfig(), Self.augmentableImageData(), stops: [1, 6, 9])
    }

    /// bf16, standardised pixels (black is not 0), and the augmentations of issue 20: resized crop,
    /// rotation, brightness and contrast, noise, and mixup and CutMix taking turns.
    @Test func bf16WithRotationCropCutMixColourAndNoiseResumesBitForBit() throws {
        var config = Self.mixedPrecisionConfig()
        config.training.precision = .bf16
        config.training.lossScale = .none
        config.data.augment.rotation = 15
        config.data.augment.cropScale = [0.7, 1]
        config.data.augment.cutmix = 1
        config.data.augment.brightness = 0.2
        config.data.augment.contrast = 0.3
        config.data.augment.noise = 0.05
        let data = Self.augmentableImageData(normalize: .standardize)
        try Self.expectSameRun(config, data, stops: [1, 6, 9])
        // The new augmentations change training: without them the run ends elsewhere.
        var plainConfig = config
        plainConfig.data.augment = Self.mixedPrecisionConfig().data.augment
        let plain = Trainer(configuration: plainConfig, data: data)
        try plain.train()
        let augmented = Trainer(configuration: config, data: data)
        try augmented.train()
        #expect(plain.state.model.parameters != augmented.state.model.parameters)
    }

    /// `model.residual` with an identity block and a projection (24 → 24 → 12), dropout, batch norm and weight decay
    /// (sgd's config), stopped mid-epoch; and in fp16 with loss scaling, the precision statistics and layer statistics
    /// (their rounding of the sums and of the gradients the shortcuts carry back).
    @Test func residualBlocksResumeBitForBit() throws {
        var config = Self.sgdConfig()
        config.model.hidden = [24, 24, 12]
        config.model.residual = true
        config.optimizer.weightDecay = 1e-3
        try Self.expectSameRun(config, Self.classificationData(), stops: [3, 7, 10, 27])
        var mixed = Self.mixedPrecisionConfig()
        mixed.model.hidden = [16, 16, 8]
        mixed.model.residual = true
        mixed.logging.layerStats = true
        try Self.expectSameRun(mixed, Self.imageData(), stops: [1, 6, 9])
        let trainer = Trainer(configuration: mixed, data: Self.imageData())
        #expect(trainer.network.skips.count == 2 && trainer.network.parameters.tensor(named: "shortcuts.2.weight") != nil)
        #expect(Checkpoint.architecture(of: trainer).hasSuffix(" relu, residual"))
    }

    /// The activations kept with their pre-activation, in fp16 (their rounded z and outputs), with
    /// their parameters away from torch's defaults; selu with its lecun_normal; prelu, whose slopes are
    /// parameters (and fp16-rounded copies in the forward pass).
    @Test(arguments: [ActivationKind.elu, .selu, .mish, .softplus, .hardswish, .prelu])
    func eachNewerActivationResumesBitForBit(activation: ActivationKind) throws {
        var config = Self.mixedPrecisionConfig()
        config.model.activation = activation
        config.model.eluAlpha = 0.7
        config.model.softplusBeta = 2
        config.model.softplusThreshold = 4
        if activation == .prelu { config.model.preluInit = 0.3 }
        if activation == .selu { config.model.initialization = .lecunNormal }
        try Self.expectSameRun(config, Self.imageData(), stops: [1, 6, 9])
    }

    @Test func classWeightsSamplerAccumulationAndTheNewSchedulesResumeBitForBit() throws {
        var weighted = Self.sgdConfig()
        weighted.lossWeights = .given([1, 2, 0.5, 1.5])
        weighted.data.sampler = .balanced
        weighted.training.accumulateSteps = 2
        weighted.scheduler = Configuration.SchedulerSection()
        weighted.scheduler.name = .polynomial
        weighted.scheduler.totalIters = 4
        weighted.scheduler.power = 2
        weighted.scheduler.warmupSteps = 3
        try Self.expectSameRun(weighted, Self.classificationData(), stops: [3, 7, 12])
        var mixed = Self.mixedPrecisionConfig()
        mixed.lossWeights = .balanced
        mixed.data.sampler = .balanced
        mixed.training.accumulateSteps = 2
        mixed.scheduler = Configuration.SchedulerSection()
        mixed.scheduler.name = .constant
        mixed.scheduler.factor = 0.5
        mixed.scheduler.totalIters = 2
        try Self.expectSameRun(mixed, Self.imageData(), stops: [1, 3, 6])  // 2 steps (groups of 2 × 8 rows) an epoch
    }

    @Test func aRunStoppedByEarlyStoppingStaysStoppedWhenResumed() throws {
        var config = Self.sgdConfig()
        config.earlyStopping.patience = 1
        config.training.epochs = 40
        let trainer = Trainer(configuration: config, data: Self.classificationData())
        var checkpoints: [Checkpoint] = []
        trainer.observers = [AfterEachEpoch { _, trainer in
            checkpoints.append(Checkpoint(trainer: trainer, bestRecord: nil, reason: .epoch))
        }]
        try trainer.train()
        guard case .earlyStopped(let epoch)? = trainer.ending else {
            Issue.record("expected early stopping within 40 epochs, got \(String(describing: trainer.ending))")
            return
        }
        // The checkpoint of the stopping epoch knows training is over: resuming trains nothing more
        // and restores the best epoch's model, as the run that never stopped did.
        let last = try #require(checkpoints.last)
        #expect(last.state.ending == .earlyStopped(epoch: epoch))
        let resumed = Trainer(configuration: config, data: Self.classificationData())
        try last.restore(into: resumed, path: "epoch.bin")
        resumed.observers = [AfterEachEpoch { _, _ in Issue.record("no epoch should be trained") }]
        let history = try resumed.train()
        #expect(history.count == epoch)
        #expect(resumed.state.model == trainer.state.model)
        #expect(resumed.restoredEpoch == trainer.restoredEpoch)
    }
}

/// A checkpoint's contents survive the file: every field reads back equal, and damaged or foreign
/// files are refused with a message naming the problem.
@Suite struct CheckpointTests {
    /// A checkpoint taken mid-epoch 2 of the SGD run, with a best model, plateau and early-stopping
    /// state, a loss scaler and figures whose bits a decimal round trip could lose.
    static func sample() throws -> Checkpoint {
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: ResumeTests.sgdConfig(), data: data)
        trainer.observers = [StopWhen { $0.stepCount == 7 }]
        try trainer.train()
        var checkpoint = Checkpoint(trainer: trainer, bestRecord: .init(value: 0.1 + 0.2, epoch: 1), reason: .interrupted)
        checkpoint.state.gradScaler = GradScaler(scale: 1024, isDynamic: true, growthTracker: 17, skippedSteps: 3)
        checkpoint.state.roundingCounts = RoundingCounts(values: 10, underflowed: 2, overflowed: 1)
        checkpoint.state.progress.sums.loss = 1 / 3
        checkpoint.state.trainingSeconds = .leastNonzeroMagnitude  // the smallest subnormal, 5e-324
        checkpoint.state.history[0].validation?.loss = .infinity
        checkpoint.dataFingerprint = "0badf00d"
        return checkpoint
    }

    static func bytes(_ checkpoint: Checkpoint) throws -> [UInt8] {
        CheckpointFile.encode(try checkpoint.contents())
    }

    static func read(_ bytes: [UInt8]) throws -> Checkpoint {
        try Checkpoint(contents: CheckpointFile.verify(bytes, path: "c.bin"), path: "c.bin")
    }

    @Test func everyFieldReadsBackEqual() throws {
        let checkpoint = try Self.sample()
        #expect(checkpoint.state.bestModel != nil && checkpoint.state.plateau != nil && checkpoint.state.earlyStopping != nil)
        #expect(checkpoint.state.position == TrainingPosition(epoch: 2, batch: 2))
        let read = try Self.read(Self.bytes(checkpoint))
        #expect(read == checkpoint)
        #expect(read.state == checkpoint.state)
        #expect(read.state.history[0].validation?.loss == .infinity)
        #expect(read.state.trainingSeconds.bitPattern == 1)
    }

    /// The model's tensors carry PyTorch's names and shapes, so the file loads into an nn.Module.
    @Test func theModelTensorsHaveStateDictNamesAndShapes() throws {
        let file = try CheckpointFile.verify(Self.bytes(Self.sample()), path: "c.bin")
        #expect(file["layers.0.weight"]?.shape == [24, 16])
        #expect(file["layers.2.bias"]?.shape == [4])
        #expect(file["norms.1.running_var"]?.shape == [12])
        #expect(file["best.layers.0.weight"]?.shape == [24, 16])
        #expect(file["optimizer.momentum_buffer"]?.dtype == .f32)
        #expect(file["rng.dropout"]?.shape == [2, 4])
        #expect(file["data.order"]?.shape == [48])
        #expect(file.metadata["nntrain.architecture"] == "16-24-12-4 relu")
        #expect(file.metadata["nntrain.reason"] == "interrupted")
        let config = try Configuration.parse(yaml: #require(file.metadata["nntrain.config"]), source: "c")
        #expect(config.model == ResumeTests.sgdConfig().model && config.optimizer.nesterov)
    }

    /// A file whose checksum is right but whose contents are not what nntrain writes.
    @Test(arguments: [
        ("data.order", "c.bin: tensor 'data.order' is missing"),
        ("nntrain.state", "c.bin: metadata nntrain.state is missing; expected a checkpoint written by nntrain run"),
    ])
    func aMissingPartIsNamed(part: String, message: String) throws {
        var contents = try Self.sample().contents()
        contents.tensors.removeAll { $0.name == part }
        contents.metadata[part] = nil
        #expect {
            _ = try Self.read(CheckpointFile.encode(contents))
        } throws: { error in
            (error as? NNTrainError)?.message == message
        }
    }

    @Test func malformedStateAndWrongDtypesAreRefused() throws {
        var contents = try Self.sample().contents()
        contents.metadata["nntrain.state"] = #"{"position": {"epoch": "two"}}"#
        #expect {
            _ = try Self.read(CheckpointFile.encode(contents))
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return message.hasPrefix("c.bin: metadata nntrain.state is not valid (")
                && message.hasSuffix("expected the JSON nntrain writes")
        }
        contents = try Self.sample().contents()
        let index = try #require(contents.tensors.firstIndex { $0.name == "rng.shuffle" })
        contents.tensors[index].tensor = SafeTensors.Tensor([Float](repeating: 0, count: 8))
        #expect {
            _ = try Self.read(CheckpointFile.encode(contents))
        } throws: { error in
            (error as? NNTrainError)?.message == "c.bin: tensor 'rng.shuffle' is F32; expected U64"
        }
    }

    @Test func truncatedAndBitFlippedFilesAreRefused() throws {
        let bytes = try Self.bytes(Self.sample())
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            #expect(throws: NNTrainError.self) { _ = try Self.read(Array(bytes.prefix(length))) }
        }
        var flipped = bytes
        flipped[flipped.count / 2 + 100] ^= 0x01
        #expect {
            _ = try Self.read(flipped)
        } throws: { error in
            (error as? NNTrainError)?.message.contains("checksum mismatch") == true
        }
    }

    /// A checkpoint of another model, or of other data, does not go into a trainer.
    @Test func aCheckpointOfAnotherModelOrOtherDataIsRefused() throws {
        let checkpoint = try Self.sample()
        var other = ResumeTests.sgdConfig()
        other.model.hidden = [24, 8]
        #expect {
            try checkpoint.restore(into: Trainer(configuration: other, data: ResumeTests.classificationData()), path: "c.bin")
        } throws: { error in
            (error as? NNTrainError)?.message == "c.bin: the checkpoint's model is 16-24-12-4 relu but the config's is "
                + "16-24-8-4 relu; expected the config the checkpoint was written with"
        }
        let data = ResumeTests.classificationData()
        let fewer = TrainingData(train: data.train.subset(Array(0..<40)), validation: data.validation, test: data.test,
                                 normalizer: data.normalizer)
        #expect {
            try checkpoint.restore(into: Trainer(configuration: ResumeTests.sgdConfig(), data: fewer), path: "c.bin")
        } throws: { error in
            (error as? NNTrainError)?.message
                .hasPrefix("c.bin: the training data differ from the checkpoint's (48 rows then, 40 now") == true
        }
    }
}
