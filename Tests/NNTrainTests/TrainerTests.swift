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
        let history = try trainer.train(observer: nil) { _ in }
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
            let history = try trainer.train(observer: nil) { _ in }
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
            _ = try trainer.train(observer: nil) { _ in }
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
        _ = try trainer.train(observer: nil) { _ in }
        let recovered = try #require(TrainingRun.weightRecovery(trainer))
        #expect(recovered.map(\.name) == BonusData.featureNames + ["bias"])
        for weight in recovered {
            #expect(weight.relativeError < 0.02, "\(weight.name): learned \(weight.learned), true \(weight.truth)")
        }
    }
}
