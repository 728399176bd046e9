import Foundation
import Testing
@testable import NNTrain

@Suite struct TrainerTests {
    /// 64 rows of 16 random features with random labels among 4 classes: nothing to learn but
    /// the rows themselves, so only a network that fits can drive the loss to zero.
    static func memorisationData(rows: Int = 64) -> TrainingData {
        var random = RandomGenerator(seed: 3)
        let features = (0..<(rows * 16)).map { _ in Float(random.nextGaussian()) }
        let labels = (0..<rows).map { _ in Int32(random.next(upperBound: UInt64(4))) }
        let dataset = Dataset(name: "memorise", features: .floats(features), featureCount: 16, featureNames: [],
                              targets: .classes(labels), classNames: ["a", "b", "c", "d"], targetName: nil)
        let empty = dataset.subset([])
        return TrainingData(train: dataset, validation: empty, test: dataset,
                            normalizer: Normalizer(fitting: dataset, mode: .none))
    }

    static func memorisationConfig() -> Configuration {
        var config = Configuration()
        config.model.hidden = [64]
        config.optimizer.lr = 0.01
        config.training.epochs = 150
        config.training.batchSize = .rows(16)
        return config
    }

    @Test func aSmallNetworkOverfits64SamplesToNearZeroLoss() throws {
        let trainer = Trainer(configuration: Self.memorisationConfig(), data: Self.memorisationData())
        let history = try trainer.train()
        let first = try #require(history.first), last = try #require(history.last)
        #expect(first.trainLoss > 1.0)  // ≈ ln 4 = 1.386 at the start
        #expect(last.trainLoss < 0.01)
        let final = trainer.evaluate(trainer.data.train)
        #expect(final.accuracy == 1.0)
        #expect(final.loss < 0.01)
    }

    @Test func theSameSeedGivesTheSameMetricsAndWeights() throws {
        var config = Self.memorisationConfig()
        config.training.epochs = 3
        func run(seed: UInt64) throws -> ([EpochMetrics], [Float]) {
            config.seed = seed
            let trainer = Trainer(configuration: config, data: Self.memorisationData())
            let history = try trainer.train()
            let weights = Array(trainer.network.parameters.values.storage.prefix(trainer.network.parameters.count))
            return (history.map { var m = $0; m.epochSeconds = 0; m.samplesPerSecond = 0; return m }, weights)
        }
        let (metricsA, weightsA) = try run(seed: 5)
        let (metricsB, weightsB) = try run(seed: 5)
        let (metricsC, _) = try run(seed: 6)
        #expect(metricsA == metricsB)
        #expect(weightsA == weightsB)
        #expect(metricsA != metricsC)
    }

    @Test func aLossThatBecomesInfiniteStopsTrainingWithTheEpochAndStep() {
        var config = Self.memorisationConfig()
        config.optimizer.name = .sgd
        config.optimizer.lr = 1e30
        let trainer = Trainer(configuration: config, data: Self.memorisationData())
        #expect {
            _ = try trainer.train()
        } throws: { error in
            guard let error = error as? NNTrainError else { return false }
            return error.kind == .diverged && error.message.hasPrefix("training diverged at epoch 1, step ")
        }
    }
}

@Suite struct BonusRecoveryTests {
    /// configs/bonus.txt's recipe on 10,000 generated rows: a linear model trained by SGD recovers
    /// every true weight and the bias within 2% (ordinary least squares' standard errors are at most
    /// 0.5% here, see BonusData).
    @Test func aLinearModelRecoversTheTrueWeightsWithinTwoPercent() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-bonus-\(UUID().uuidString)")
        let csv = folder.appendingPathComponent("bonus.csv").path
        _ = try BonusData.write(rows: 10_000, seed: 42, to: csv)
        let config = try Configuration.parse(yaml: """
            data: {dataset: bonus, path: \(csv), validation_split: 0.1, test_split: 0.2, normalize: standardize}
            model: {hidden: []}
            loss: mse
            optimizer: {name: sgd, lr: 0.005, momentum: 0.9}
            training: {epochs: 100, batch_size: 512}
            """, source: "bonus-test")
        let trainer = Trainer(configuration: config, data: try TrainingData.load(config.data, seed: config.seed))
        _ = try trainer.train()
        let recovered = try #require(RunSummary.WeightRecovery.table(network: trainer.network, data: trainer.data))
        #expect(recovered.map(\.name) == BonusData.featureNames + ["bias"])
        for weight in recovered {
            #expect(weight.relativeError < 0.02, "\(weight.name): learned \(weight.learned), true \(weight.truth)")
        }
    }
}

/// The optimization toolbox wired into the training loop.
@Suite struct TrainerOptionsTests {
    static func train(_ edit: (inout Configuration) -> Void, data: TrainingData = TrainerTests.memorisationData())
        throws -> (Trainer, [EpochMetrics])
    {
        var config = TrainerTests.memorisationConfig()
        config.training.epochs = 4
        edit(&config)
        let trainer = Trainer(configuration: config, data: data)
        return (trainer, try trainer.train())
    }

    @Test func aStepScheduleSetsTheLearningRateOfEachEpoch() throws {
        let (_, history) = try Self.train {
            $0.scheduler.name = .step
            $0.scheduler.stepSize = 1
            $0.scheduler.gamma = 0.5
        }
        #expect(history.map(\.learningRate) == [0.01, 0.005, 0.0025, 0.00125])
    }

    @Test func reduceOnPlateauCutsTheRateAfterPatienceBadEpochs() throws {
        // A 90% relative threshold makes every epoch after the first a bad one; with patience 1
        // the rate is cut after the second bad epoch (epoch 3), so epoch 4 trains at lr × 0.1. The
        // cut resets the count (PyTorch's num_bad_epochs = 0), so epoch 4, bad again, is only the first.
        let (trainer, history) = try Self.train {
            $0.scheduler.name = .reduceOnPlateau
            $0.scheduler.monitor = .trainLoss
            $0.scheduler.mode = .plateau(.min)
            $0.scheduler.patience = 1
            $0.scheduler.threshold = 0.9
        }
        #expect(history.map(\.learningRate) == [0.01, 0.01, 0.01, 0.01 * 0.1])
        #expect(trainer.plateau?.learningRate == 0.01 * 0.1)
        #expect(trainer.plateau?.badEpochs == 1)
    }

    @Test func warmupRampsTheFirstStepsLinearly() throws {
        // 64 rows in batches of 16: 4 steps per epoch; 8 warm-up steps reach the full rate at step 8.
        let (_, history) = try Self.train { $0.scheduler.warmupSteps = 8 }
        #expect(history.map(\.learningRate) == [0.01 * 4 / 8, 0.01, 0.01, 0.01])
    }

    @Test func normClippingBoundsEachStepAndTheLoggedNormIsTakenBeforeClipping() throws {
        let data = TrainerTests.memorisationData()
        var config = TrainerTests.memorisationConfig()
        config.optimizer.name = .sgd
        config.optimizer.lr = 1
        config.training.epochs = 1
        config.training.batchSize = .full
        config.training.clip.norm = 0.001
        let trainer = Trainer(configuration: config, data: data)
        #expect(trainer.batchesPerEpoch == 1)
        let before = Array(trainer.network.parameters.values.storage)
        let history = try trainer.train()
        let after = Array(trainer.network.parameters.values.storage)
        // Plain SGD with lr 1: θ moves by exactly the clipped gradient, of norm 0.001·‖g‖/(‖g‖ + 1e-6).
        let step = zip(before, after).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        #expect(abs(step - 0.001) < 1e-5)
        let epoch = try #require(history.first)
        #expect(epoch.gradientNormMax > 0.1)  // the pre-clip norm, far above the clipped 0.001
        #expect(epoch.gradientNormMean == epoch.gradientNormMax)  // one step
    }

    @Test func everyOptimizerAndLossOptionTrainsTheMemorisationTask() throws {
        for name in OptimizerKind.allCases where name != .lbfgs {  // lbfgs needs the full batch: LBFGSTests
            let (_, history) = try Self.train {
                $0.optimizer.name = name
                // RAdam's rectification r ≈ √(t/ρ∞) keeps its first hundreds of steps short (ρ∞ = 1999).
                $0.optimizer.lr = name == .sgd ? 0.1 : name.defaultLR * (name == .radam ? 10 : 3)
                $0.training.epochs = 30
                $0.regularization.labelSmoothing = 0.05
                $0.regularization.l1 = 1e-5
                $0.model.dropout = 0.1
                $0.model.batchNorm = true
                $0.model.initialization = .kaimingNormal
            }
            let first = try #require(history.first), last = try #require(history.last)
            #expect(last.trainLoss < first.trainLoss * 0.7, "\(name): \(first.trainLoss) → \(last.trainLoss)")
        }
    }

    @Test func dropoutAndBatchNormAreOffInEvaluation() throws {
        let (trainer, _) = try Self.train {
            $0.model.dropout = 0.5
            $0.model.batchNorm = true
            $0.training.epochs = 2
        }
        let first = trainer.evaluate(trainer.data.train), second = trainer.evaluate(trainer.data.train)
        #expect(first == second)
    }

    /// Augmentation on tiny 28×28 "images" of random pixels: reproducible by seed, and validation
    /// figures (never augmented) equal a separate evaluation of the same model.
    @Test func augmentationIsSeededAndNeverTouchesEvaluation() throws {
        var random = RandomGenerator(seed: 4)
        let pixels = (0..<(32 * 784)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let labels = (0..<32).map { Int32($0 % 10) }
        let images = Dataset(name: "images", features: .bytes(pixels), featureCount: 784, targets: .classes(labels),
                             classNames: FashionMNIST.classNames)
        let data = TrainingData(train: images, validation: images, test: images,
                                normalizer: Normalizer(fitting: images, mode: .scale))
        func run() throws -> (Trainer, [EpochMetrics]) {
            try Self.train({
                $0.model.hidden = [16]
                $0.training.epochs = 2
                $0.data.augment.hflip = true
                $0.data.augment.shift = 2
                $0.data.augment.erasing = 0.5
                $0.data.augment.mixup = 0.4
            }, data: data)
        }
        let (trainer, history) = try run()
        let (_, again) = try run()
        #expect(history.map(\.trainLoss) == again.map(\.trainLoss))
        let last = try #require(history.last)
        #expect(last.validation == trainer.evaluate(images))
    }
}

@Suite struct EarlyStoppingTests {
    @Test func stopsAfterPatienceEpochsWithoutImprovementBeyondMinDelta() {
        var stopper = EarlyStopping(monitor: .valLoss, higherIsBetter: false, patience: 3, minDelta: 0.01)
        // Epoch 3 improves by less than min_delta, so epochs 3, 4, 5 are the three without improvement.
        let values = [1.0, 0.8, 0.795, 0.9, 0.85, 0.1]
        var verdicts: [(Bool, Bool)] = []
        for (index, value) in values.enumerated() {
            verdicts.append(stopper.update(epoch: index + 1, value: value))
            if verdicts.last!.1 { break }
        }
        #expect(verdicts.map(\.0) == [true, true, false, false, false])
        #expect(verdicts.map(\.1) == [false, false, false, false, true])
        #expect(stopper.bestEpoch == 2 && stopper.best == 0.8)
        var accuracy = EarlyStopping(monitor: .valAcc, higherIsBetter: true, patience: 1, minDelta: 0)
        #expect(accuracy.update(epoch: 1, value: 0.5) == (true, false))
        #expect(accuracy.update(epoch: 2, value: 0.5) == (false, true))
    }

    /// Random labels: the training rows can be memorised, the validation rows cannot be predicted,
    /// so validation loss bottoms out early and then rises as the network overfits.
    @Test func anOverfittingRunStopsAtTheRightEpochAndRestoresTheBestWeights() throws {
        var random = RandomGenerator(seed: 12)
        let features = (0..<(96 * 16)).map { _ in Float(random.nextGaussian()) }
        let labels = (0..<96).map { _ in Int32(random.next(upperBound: UInt64(4))) }
        let all = Dataset(name: "noise", features: .floats(features), featureCount: 16, targets: .classes(labels),
                          classNames: ["a", "b", "c", "d"])
        let train = all.subset(Array(0..<64)), validation = all.subset(Array(64..<96))
        let data = TrainingData(train: train, validation: validation, test: validation,
                                normalizer: Normalizer(fitting: train, mode: .none))
        var config = TrainerTests.memorisationConfig()
        config.training.epochs = 100
        config.earlyStopping.patience = 3
        config.earlyStopping.monitor = .valLoss
        config.earlyStopping.restoreBest = true
        let trainer = Trainer(configuration: config, data: data)
        let history = try trainer.train()
        let losses = history.compactMap { $0.validation?.loss }
        let bestIndex = try #require(losses.indices.min { losses[$0] < losses[$1] })
        #expect(history.count == bestIndex + 1 + 3)  // the best epoch, then three without improvement
        #expect(history.count < 100)
        #expect(trainer.ending == .earlyStopped(epoch: history.count))
        #expect(trainer.restoredEpoch == bestIndex + 1)
        #expect(trainer.evaluate(validation).loss == losses[bestIndex])  // the best epoch's weights are back
    }
}
