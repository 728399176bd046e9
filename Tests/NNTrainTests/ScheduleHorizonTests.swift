import Foundation
import Testing
@testable import NNTrain

/// Per-epoch schedules change their rate at the training epoch's boundary, as PyTorch's
/// `scheduler.step()` after each epoch does, whatever GradScaler skipped in between; per-batch
/// schedules and the warm-up count the optimizer steps actually taken.
@Suite struct EpochSchedulesUnderSkippedStepsTests {
    /// The steps.csv rows (step, epoch, lr) of a trainer trained with every step logged.
    static func trainLoggingSteps(_ train: (StepLog) throws -> Void) throws -> [(step: Int, epoch: Int, lr: Double)] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-steps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("steps.csv").path
        let log = try StepLog(path: path, every: 1)
        try train(log)
        try log.flush()
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",")
            return (Int(fields[0]) ?? -1, Int(fields[1]) ?? -1, Double(fields[2]) ?? .nan)
        }
    }

    /// MixedPrecisionTrainingTests' line y = w·x + b, trained with MSE and SGD at lr 0.125 from
    /// w = b = 0 on `rows` identical rows (x = 1, t = −0.75) in batches of one, in fp16 with
    /// dynamic loss scaling: the first step (∂L/∂y = 1.5, scaled by 65536 beyond fp16's 65504) is
    /// skipped, the scale halves, and the rest are taken. `edit` sets the schedule.
    static func lineTrainer(rows: Int, epochs: Int, edit: (inout Configuration) -> Void) -> Trainer {
        let trainer = Trainer(configuration: lineConfig(epochs: epochs, edit: edit), data: lineData(rows: rows))
        trainer.network.parameters.values.storage.update(repeating: 0)
        return trainer
    }

    static func lineData(rows: Int) -> TrainingData {
        let dataset = Dataset(name: "line", features: .floats([Float](repeating: 1, count: rows)), featureCount: 1,
                              targets: .values([Float](repeating: -0.75, count: rows)))
        return TrainingData(train: dataset, validation: dataset.subset([]), test: dataset,
                            normalizer: Normalizer(fitting: dataset, mode: .none))
    }

    static func lineConfig(epochs: Int, edit: (inout Configuration) -> Void) -> Configuration {
        var config = Configuration()
        config.data.dataset = .bonus
        config.loss = .mse
        config.model.hidden = []
        config.optimizer.name = .sgd
        config.optimizer.lr = 0.125
        config.training.epochs = epochs
        config.training.batchSize = .rows(1)
        config.training.precision = .fp16
        config.training.lossScale = .dynamic
        edit(&config)
        return config
    }

    /// StepLR with step_size 1 and gamma 0.5 on two rows: epoch 1 at 0.125, epoch 2 at 0.0625 from
    /// its first step, although only one step was taken before it. The weights follow by hand:
    /// epoch 1's taken step w = b = −0.125 · 1.5 = −0.1875; epoch 2, y = 2w = −0.375, ∂L/∂y = 0.75,
    /// w = −0.1875 − 0.0625 · 0.75 = −0.234375; then y = −0.46875, ∂L/∂y = 0.5625,
    /// w = −0.234375 − 0.0625 · 0.5625 = −0.26953125 (every value on fp16's grid).
    @Test func aSkippedStepDoesNotDelayThePerEpochSchedule() throws {
        let trainer = Self.lineTrainer(rows: 2, epochs: 2) { config in
            config.scheduler.name = .step
            config.scheduler.stepSize = 1
            config.scheduler.gamma = 0.5
        }
        let steps = try Self.trainLoggingSteps { log in try trainer.train(observer: nil, stepLog: log) { _ in } }
        #expect(trainer.gradScaler?.skippedSteps == 1)
        #expect(steps.map(\.epoch) == [1, 2, 2])
        #expect(steps.map(\.lr) == [0.125, 0.0625, 0.0625])
        #expect(MixedPrecisionTrainingTests.weights(trainer) == [-0.26953125, -0.26953125])
    }

    /// A per-epoch schedule behind a warm-up in steps: the warm-up counts the steps taken (the
    /// skipped first step leaves it at its first value), and the epochs after it start at the
    /// training epoch boundaries. Four rows in batches of one, warm-up of 2 steps, StepLR halving
    /// every epoch from 0.125: step 1 skipped; steps taken at 0.125·1/2, 0.125·2/2 (the warm-up's
    /// last), then the rest of epoch 1 at the wrapped schedule's epoch 0, 0.125; epoch 2 at its
    /// epoch 1, 0.0625, from its first step.
    @Test func aWarmupInStepsCountsTakenStepsAndTheScheduleAfterItTheEpochs() throws {
        let trainer = Self.lineTrainer(rows: 4, epochs: 2) { config in
            config.scheduler.name = .step
            config.scheduler.stepSize = 1
            config.scheduler.gamma = 0.5
            config.scheduler.warmupSteps = 2
        }
        let steps = try Self.trainLoggingSteps { log in try trainer.train(observer: nil, stepLog: log) { _ in } }
        #expect(trainer.gradScaler?.skippedSteps == 1)
        #expect(steps.map(\.epoch) == [1, 1, 1, 2, 2, 2, 2])
        #expect(steps.map(\.lr) == [0.0625, 0.125, 0.125, 0.0625, 0.0625, 0.0625, 0.0625])
    }

    /// A run with skipped steps, a warm-up in steps and a per-epoch schedule, interrupted mid-epoch
    /// and at an epoch's end, resumes bit for bit: the checkpoint's position (epoch and batch) and
    /// step count are all the schedule needs.
    @Test func aRunWithSkippedStepsResumesBitForBit() throws {
        let config = Self.lineConfig(epochs: 4) { config in
            config.scheduler.name = .step
            config.scheduler.stepSize = 1
            config.scheduler.gamma = 0.5
            config.scheduler.warmupSteps = 3
        }
        let straight = try ResumeTests.train(config, Self.lineData(rows: 5), stoppingAfterSteps: [])
        #expect((straight.gradScaler?.skippedSteps ?? 0) > 0)
        try ResumeTests.expectSameRun(config, Self.lineData(rows: 5), stops: [2, 4, 9, 13])
    }
}
