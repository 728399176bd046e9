import Foundation
import Testing
@testable import NNTrain

@Suite struct GradScalerTests {
    @Test func theScaleDoublesAfter2000CleanStepsAndHalvesOnAnOverflow() {
        var scaler = GradScaler(isDynamic: true)
        #expect(scaler.scale == 65536)
        for _ in 0..<1999 { scaler.update(foundNonFinite: false) }
        #expect(scaler.scale == 65536 && scaler.growthTracker == 1999)
        scaler.update(foundNonFinite: false)
        #expect(scaler.scale == 131072 && scaler.growthTracker == 0)
        for _ in 0..<5 { scaler.update(foundNonFinite: false) }
        scaler.update(foundNonFinite: true)
        #expect(scaler.scale == 65536 && scaler.growthTracker == 0 && scaler.skippedSteps == 1)
        // The count restarts after a backoff: 2000 more clean steps to grow again.
        for _ in 0..<1999 { scaler.update(foundNonFinite: false) }
        #expect(scaler.scale == 65536)
    }

    @Test func aFixedScaleNeverChangesAndTheScaleNeverGrowsToInfinity() {
        var fixed = GradScaler(scale: 1024, isDynamic: false)
        fixed.update(foundNonFinite: true)
        for _ in 0..<2000 { fixed.update(foundNonFinite: false) }
        #expect(fixed == GradScaler(scale: 1024, isDynamic: false, growthTracker: 0, skippedSteps: 1))
        var largest = GradScaler(scale: 0x1p127, isDynamic: true, growthTracker: 1999)
        largest.update(foundNonFinite: false)
        #expect(largest.scale == 0x1p127 && largest.growthTracker == 0)
    }

    @Test func finishingRoundsScalesAndFindsEveryNonFiniteValue() {
        var gradients: [Float] = [65504, -32768, 3, 0.1]
        let finite = gradients.withUnsafeMutableBufferPointer { Binary16.roundScaling($0.baseAddress!, count: 4, by: 1 / 65536) }
        #expect(finite && gradients == [65504 / 65536, -0.5, 3 / 65536, Float(Float16(0.1)) / 65536])
        var overflowing: [Float] = [1, 65520]  // rounds to infinity before the scaling
        #expect(!overflowing.withUnsafeMutableBufferPointer { Binary16.roundScaling($0.baseAddress!, count: 2, by: 0.5) })
        for bad in [Float.infinity, -.infinity, .nan, Float(bitPattern: 0xFF80_0001)] {
            var withBad: [Float] = [1, 2, 3, 4, 5, bad, 7]
            #expect(!withBad.withUnsafeMutableBufferPointer { Binary32.roundScaling($0.baseAddress!, count: 7, by: 1) })
        }
        var largest: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        #expect(largest.withUnsafeMutableBufferPointer { Binary32.roundScaling($0.baseAddress!, count: 2, by: 1) })
        #expect(GradScaler(scale: 3, isDynamic: false).inverseScale == Float(1.0 / 3))
    }

    /// The linear layers' gradients are rounded (autocast computes them in fp16), batch norm's are
    /// fp32 and only scaled.
    @Test func finishGradientsRoundsOnlyTheLinearLayers() {
        let network = Network.mlp(Network.MLPShape(inputWidth: 2, hidden: [3], outputWidth: 2, activation: .relu,
                                                   batchNorm: true, precision: .fp16))
        let gradients = network.parameters.gradients
        gradients.storage.update(repeating: 0.1)
        #expect(network.finishGradients(inverseScale: 0.5))
        for tensor in network.parameters.tensors {
            let expected = (tensor.role.isBatchNorm ? Float(0.1) : Float(Float16(0.1))) * 0.5
            #expect((0..<tensor.count).allSatisfy { gradients.base[tensor.offset + $0] == expected }, "\(tensor.name)")
        }
    }
}

/// Loss scaling in the training loop, on a linear model y = w·x + b with one feature, trained with
/// MSE and plain SGD from w = b = 0 on identical rows, so that every gradient is a power of two
/// that can be followed by hand: ∂L/∂y = 2(y − t)/B per row, dw = Σ_rows ∂L/∂y · x, db = Σ_rows ∂L/∂y.
@Suite struct MixedPrecisionTrainingTests {
    static func train(x: Float, target: Float, rows: Int, batch: BatchSize, epochs: Int, lr: Double = 0.125,
                      precision: Precision = .fp16, lossScale: LossScaling,
                      edit: (inout Configuration) -> Void = { _ in }) throws -> (Trainer, [EpochMetrics]) {
        let dataset = Dataset(name: "line", features: .floats([Float](repeating: x, count: rows)), featureCount: 1,
                              targets: .values([Float](repeating: target, count: rows)))
        let data = TrainingData(train: dataset, validation: dataset.subset([]), test: dataset,
                                normalizer: Normalizer(fitting: dataset, mode: .none))
        var config = Configuration()
        config.data.dataset = .bonus
        config.loss = .mse
        config.model.hidden = []
        config.optimizer.name = .sgd
        config.optimizer.lr = lr
        config.training.epochs = epochs
        config.training.batchSize = batch
        config.training.precision = precision
        config.training.lossScale = lossScale
        config.logging.precisionStats = true
        edit(&config)
        let trainer = Trainer(configuration: config, data: data)
        trainer.network.parameters.values.storage.update(repeating: 0)
        return (trainer, try trainer.train())
    }

    static func weights(_ trainer: Trainer) -> [Float] { Array(trainer.network.parameters.values.storage.prefix(2)) }

    /// t = 2^-20, 128 rows in one batch: ∂L/∂y = 2·(0 − 2^-20)/128 = −2^-26, below half of fp16's
    /// smallest subnormal 2^-24, so it rounds to 0 and nothing moves.
    @Test func gradientsBelowTheSmallestSubnormalAreLostWithoutLossScaling() throws {
        let (trainer, history) = try Self.train(x: 1, target: 0x1p-20, rows: 128, batch: .full, epochs: 3, lossScale: .none)
        #expect(Self.weights(trainer) == [0, 0])
        #expect(history.map(\.trainLoss) == [0x1p-40, 0x1p-40, 0x1p-40])
        #expect(history.map(\.mixedPrecision) == [MixedPrecisionMetrics?](
            repeating: MixedPrecisionMetrics(lossScale: nil, skippedSteps: 0, gradientUnderflow: 1, gradientOverflow: 0),
            count: 3))
    }

    /// The same with GradScaler: −2^-26 · 2^16 = −2^-10 survives; dw = db = 128 · −2^-10 = −2^-3,
    /// unscaled −2^-19; lr 2^-3 puts w = b = 2^-22, so y = 2^-21 and the error halves every step:
    /// w = b = 2^-22, 3·2^-23, 7·2^-24, every value on fp16's grid, the loss a quarter each step.
    @Test func dynamicLossScalingLiftsThemIntoRangeAndTheModelTrains() throws {
        let (trainer, history) = try Self.train(x: 1, target: 0x1p-20, rows: 128, batch: .full, epochs: 3, lossScale: .dynamic)
        #expect(history.map(\.trainLoss) == [0x1p-40, 0x1p-42, 0x1p-44])
        #expect(Self.weights(trainer) == [7 * 0x1p-24, 7 * 0x1p-24])
        #expect(history.last?.mixedPrecision == MixedPrecisionMetrics(lossScale: 65536, skippedSteps: 0,
                                                                      gradientUnderflow: 0, gradientOverflow: 0))
    }

    /// Two identical rows in batches of one, t = −0.75: ∂L/∂y = 2·0.75 = 1.5. Scaled by 65536 it is
    /// 98304, beyond fp16's 65504: the first step is skipped and the scale halved; the second, at
    /// 32768 (49152, finite), is taken. With a 4-step warm-up its lr is the first warm-up step's,
    /// 0.125 · 1/4: the skipped step did not advance the schedule.
    @Test func anOverflowSkipsTheStepHalvesTheScaleAndHoldsTheSchedule() throws {
        let (trainer, history) = try Self.train(x: 1, target: -0.75, rows: 2, batch: .rows(1), epochs: 1,
                                                lossScale: .dynamic) { $0.scheduler.warmupSteps = 4 }
        #expect(trainer.stepCount == 1)
        #expect(history.map(\.learningRate) == [0.125 / 4])
        #expect(Self.weights(trainer) == [-0.125 / 4 * 1.5, -0.125 / 4 * 1.5])
        #expect(trainer.gradScaler == GradScaler(scale: 32768, isDynamic: true, growthTracker: 1, skippedSteps: 1))
        #expect(history.first?.mixedPrecision == MixedPrecisionMetrics(lossScale: 32768, skippedSteps: 1,
                                                                       gradientUnderflow: 0, gradientOverflow: 0.5))
        #expect(history.first?.trainLoss == 0.5625)  // both batches' forward passes count
    }

    @Test func aFixedScaleSkipsOverflowingStepsWithoutChangingTheScale() throws {
        let (trainer, history) = try Self.train(x: 1, target: -0.75, rows: 2, batch: .rows(1), epochs: 1,
                                                lossScale: .fixed(65536))
        #expect(trainer.stepCount == 0 && Self.weights(trainer) == [0, 0])
        #expect(history.first?.mixedPrecision?.lossScale == 65536 && history.first?.mixedPrecision?.skippedSteps == 2)
    }

    @Test func withoutLossScalingAnOverflowingGradientStopsTheRun() {
        #expect(throws: NNTrainError(.diverged, "training diverged at epoch 1, step 1: a gradient became infinite or NaN "
            + "in fp16 without loss scaling; try training.loss_scale: dynamic")) {
            _ = try Self.train(x: 1, target: -40000, rows: 2, batch: .rows(1), epochs: 1, lossScale: .none)
        }
    }

    /// 1000 rows in batches of one, two epochs: the 2000th clean step doubles the scale.
    @Test func theScaleGrowsAfter2000CleanSteps() throws {
        let (trainer, history) = try Self.train(x: 0.5, target: 0.125, rows: 1000, batch: .rows(1), epochs: 2, lr: 0.01,
                                                lossScale: .dynamic)
        #expect(history.map { $0.mixedPrecision?.lossScale } == [65536, 131072])
        #expect(history.map { $0.mixedPrecision?.skippedSteps } == [0, 0])
        #expect(trainer.gradScaler?.growthTracker == 0 && trainer.stepCount == 2000)
    }

    /// The memorisation task of TrainerTests in both formats, batch norm and dropout included.
    @Test(arguments: [Precision.fp16, .bf16])
    func aSmallNetworkStillLearnsInLowPrecision(precision: Precision) throws {
        var config = TrainerTests.memorisationConfig()
        config.training.epochs = 30
        config.training.precision = precision
        config.training.lossScale = precision.defaultLossScaling
        config.model.batchNorm = true
        config.model.dropout = 0.1
        config.model.activation = .gelu
        let trainer = Trainer(configuration: config, data: TrainerTests.memorisationData())
        let history = try trainer.train()
        let first = try #require(history.first), last = try #require(history.last)
        #expect(last.trainLoss < first.trainLoss * 0.5, "\(first.trainLoss) → \(last.trainLoss)")
    }
}

@Suite struct MixedPrecisionReportTests {
    @Test func metricsCSVGainsTheScalingColumnsAndTheStatistics() {
        let columns = MetricsLog.Columns(classification: true, mixedPrecision: true, precisionStats: true)
        #expect(MetricsLog.header(columns) == "epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,"
            + "epoch_seconds,samples_per_second,loss_scale,skipped_steps,grad_underflow,grad_overflow")
        var metrics = EpochMetrics(epoch: 2, learningRate: 0.5, trainLoss: 1, trainAccuracy: 0.25, validation: nil,
                                   gradientNormMean: 3, gradientNormMax: 4, epochSeconds: 5, samplesPerSecond: 6,
                                   mixedPrecision: MixedPrecisionMetrics(lossScale: 32768, skippedSteps: 3,
                                                                         gradientUnderflow: 0.125, gradientOverflow: 0))
        #expect(MetricsLog.row(metrics, columns) == "2,0.5,1.0,0.25,,,3.0,4.0,5.0,6.0,32768.0,3,0.125,0.0")
        metrics.mixedPrecision = MixedPrecisionMetrics(lossScale: nil, skippedSteps: 0)
        #expect(MetricsLog.row(metrics, MetricsLog.Columns(classification: true, mixedPrecision: true))
            == "2,0.5,1.0,0.25,,,3.0,4.0,5.0,6.0,,0")
        #expect(MetricsLog.header(MetricsLog.Columns(classification: false)).hasSuffix("epoch_seconds,samples_per_second"))
    }
}
