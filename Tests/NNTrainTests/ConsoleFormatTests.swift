import Foundation
import Testing
@testable import NNTrain

/// The texts of nntrain's console output: numbers, tqdm's times, the live bar and the epoch line.
@Suite struct ConsoleFormatTests {
    @Test func numbersHaveFourSignificantDigits() {
        // Python: '%.4g' % x for each.
        #expect(ConsoleFormat.significant(0.046650635094610975) == "0.04665")
        #expect(ConsoleFormat.significant(0.001) == "0.001")
        #expect(ConsoleFormat.significant(3e-5) == "3e-05")
        #expect(ConsoleFormat.significant(1234.5678) == "1235")
        #expect(ConsoleFormat.significant(12345.6) == "1.235e+04")
        #expect(ConsoleFormat.significant(.nan) == "nan")
        #expect(ConsoleFormat.lossScale(65536) == "2^16")
        #expect(ConsoleFormat.lossScale(1000) == "1000")
        #expect(ConsoleFormat.lossScale(16_777_216) == "2^24")
    }

    /// tqdm.format_interval: int(t), then '{0:d}:{1:02d}:{2:02d}' with hours, else '{0:02d}:{1:02d}'.
    @Test func intervalsReadAsTqdmWritesThem() {
        #expect(ConsoleFormat.interval(0) == "00:00")
        #expect(ConsoleFormat.interval(7.9) == "00:07")
        #expect(ConsoleFormat.interval(754.9) == "12:34")
        #expect(ConsoleFormat.interval(3723) == "1:02:03")
        #expect(ConsoleFormat.interval(-1) == "?")
        #expect(ConsoleFormat.interval(.infinity) == "?")
    }

    @Test func timingShowsElapsedRemainingAndRate() {
        #expect(ConsoleFormat.timing(done: 0, total: 469, elapsed: 0) == "[00:00<?, ?it/s]")
        // 120 steps in 12 s: 10 it/s, 349 steps left take 34.9 s.
        #expect(ConsoleFormat.timing(done: 120, total: 469, elapsed: 12) == "[00:12<00:34, 10.00it/s]")
        // 3 steps in 4.56 s: 1.52 s/it, 47 left take 71.4 s.
        #expect(ConsoleFormat.timing(done: 3, total: 50, elapsed: 4.56) == "[00:04<01:11, 1.52s/it]")
        #expect(ConsoleFormat.timing(done: 50, total: 50, elapsed: 4) == "[00:04<00:00, 12.50it/s]")
    }

    @Test func theBarShowsTheEpochStepsLossAndTiming() {
        // 20 columns × 120 / 469 = 5.1: five filled.
        #expect(ConsoleFormat.progressBar(epoch: 3, epochs: 15, batch: 120, batches: 469, meanLoss: 0.345_612, elapsed: 12)
            == "ep 3/15 [#####...............] 120/469 loss 0.3456 [00:12<00:34, 10.00it/s]")
        // Resumed after batch 100: 20 batches in 2 s, 349 left at 10 it/s (tqdm's initial=100).
        #expect(ConsoleFormat.progressBar(epoch: 3, epochs: 15, batch: 120, batches: 469, initialBatch: 100,
                                          meanLoss: 0.345_612, elapsed: 2)
            == "ep 3/15 [#####...............] 120/469 loss 0.3456 [00:02<00:34, 10.00it/s]")
    }

    static func metrics(epoch: Int = 3, classification: Bool = true, validation: Bool = true,
                        precision: MixedPrecisionMetrics? = nil) -> EpochMetrics {
        EpochMetrics(
            epoch: epoch, learningRate: 0.046650635094610975, trainLoss: 0.345_612,
            trainAccuracy: classification ? 0.876_54 : nil,
            validation: validation ? EvaluationMetrics(rows: 100, loss: 0.382_14, accuracy: classification ? 0.861 : nil,
                                                       r2: classification ? nil : 0.987_64) : nil,
            gradientNormMean: 1, gradientNormMax: 2, epochSeconds: 0.3312, samplesPerSecond: 181_000,
            mixedPrecision: precision)
    }

    @Test func epochLinesNameEachFigureOnce() {
        #expect(ConsoleFormat.epochLine(Self.metrics(), epochs: 15)
            == "ep 3/15  loss 0.3456 acc 87.65%  val 0.3821 86.10%  lr 0.04665  0.331s")
        #expect(ConsoleFormat.epochLine(Self.metrics(classification: false), epochs: 15)
            == "ep 3/15  loss 0.3456  val 0.3821 r2 0.9876  lr 0.04665  0.331s")
        #expect(ConsoleFormat.epochLine(Self.metrics(validation: false), epochs: 15)
            == "ep 3/15  loss 0.3456 acc 87.65%  lr 0.04665  0.331s")
        let half = MixedPrecisionMetrics(lossScale: 32768, skippedSteps: 2, gradientUnderflow: 1.234_56e-5, gradientOverflow: 0)
        #expect(ConsoleFormat.epochLine(Self.metrics(precision: half), epochs: 15)
            == "ep 3/15  loss 0.3456 acc 87.65%  val 0.3821 86.10%  lr 0.04665  scale 2^15 skip 2  0.331s")
        #expect(ConsoleFormat.precisionStatsLine(Self.metrics(precision: half))
            == "  gradients rounded: 1.235e-05 underflowed to 0, 0 overflowed to inf")
        var long = Self.metrics(validation: false)
        long.epochSeconds = 1234.56
        #expect(ConsoleFormat.epochLine(long, epochs: 15).hasSuffix("  lr 0.04665  1235s"))
        long.epochSeconds = 0.000194  // a tiny model: milliseconds, never exponent notation
        #expect(ConsoleFormat.epochLine(long, epochs: 15).hasSuffix("  lr 0.04665  0.194ms"))
        #expect(ConsoleFormat.duration(9.01e-5) == "0.0901ms" && ConsoleFormat.duration(0.0123) == "0.0123s")
        let unscaled = MixedPrecisionMetrics(lossScale: nil, skippedSteps: 0)
        #expect(ConsoleFormat.epochLine(Self.metrics(precision: unscaled), epochs: 15).contains("  scale none skip 0  "))
        #expect(ConsoleFormat.precisionStatsLine(Self.metrics(precision: unscaled)) == nil)
        #expect(ConsoleFormat.precisionStatsLine(Self.metrics()) == nil)
    }

    /// Every option on, every figure at its widest short of the absurd: 999 epochs, losses of five
    /// significant places, 100% accuracy, an lr with an exponent, GradScaler grown to 2^24, thousands
    /// of skipped steps and an epoch of 999 s.
    @Test func theWidestEpochLineFits100Columns() {
        var widest = Self.metrics(epoch: 999, precision: MixedPrecisionMetrics(
            lossScale: 16_777_216, skippedSteps: 12345, gradientUnderflow: 0.123_456_7, gradientOverflow: 1.234_5e-7))
        widest.trainLoss = 0.012_345_6
        widest.trainAccuracy = 1
        widest.validation?.loss = 0.012_345_6
        widest.validation?.accuracy = 1
        widest.learningRate = 1.234_56e-5
        widest.epochSeconds = 999.4
        let line = ConsoleFormat.epochLine(widest, epochs: 999)
        #expect(line == "ep 999/999  loss 0.01235 acc 100.00%  val 0.01235 100.00%  lr 1.235e-05  scale 2^24 skip 12345  999s")
        #expect(line.count <= ConsoleFormat.lineWidth, "\(line.count): \(line)")
        let stats = ConsoleFormat.precisionStatsLine(widest) ?? ""
        #expect(stats.count <= ConsoleFormat.lineWidth, "\(stats.count): \(stats)")
    }
}

/// Messages that quote a learning rate use the same four digits.
@Suite struct LearningRateInMessagesTests {
    /// SGD whose lr grows 3.1× an epoch diverges in epoch 3 at lr 0.01 · 3.1² = 0.09610000000000002,
    /// quoted as 0.0961.
    @Test func aDivergenceQuotesTheLearningRateToFourDigits() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: [
                "output.dir=\(folder.file("run"))", "optimizer.name=sgd", "scheduler.name=exponential", "scheduler.gamma=3.1"])
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return message.hasPrefix("training diverged at epoch 3, step ")
                && message.contains("; the learning rate 0.0961 (optimizer.lr 0.01 under the exponential schedule) is likely")
        }
    }
}
