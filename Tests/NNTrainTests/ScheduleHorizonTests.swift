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
        let steps = try Self.trainLoggingSteps { log in
            trainer.observers = [log]
            try trainer.train()
        }
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
        let steps = try Self.trainLoggingSteps { log in
            trainer.observers = [log]
            try trainer.train()
        }
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

/// The schedules whose length follows the run's count the epochs after the warm-up, as PyTorch's
/// `SequentialLR([LinearLR(...), CosineAnnealingLR(T_max=epochs - warmup)], milestones=[warmup])`,
/// and the run's config lists every default the schedule worked out.
@Suite struct WarmupHorizonTests {
    /// SGD at lr 0.1 on ResumeTests' 48 training rows in batches of 10 (5 steps an epoch).
    static func config(_ edit: (inout Configuration) -> Void) -> Configuration {
        var config = Configuration()
        config.model.hidden = [8]
        config.optimizer.name = .sgd
        config.optimizer.lr = 0.1
        config.training.batchSize = .rows(10)
        edit(&config)
        return config
    }

    /// warmup_epochs 1, cosine with η_min 0.001, 6 epochs: epoch 1 ends the warm-up at the peak,
    /// epoch e ≥ 2 runs at η_min + (0.1 − η_min)(1 + cos(π(e − 2)/5))/2, and the step after the last
    /// epoch is at η_min exactly: T_max = 6 − 1.
    @Test func aCosineBehindAWarmupInEpochsEndsAtEtaMin() throws {
        let config = Self.config {
            $0.scheduler.name = .cosine
            $0.scheduler.etaMin = 0.001
            $0.scheduler.warmupEpochs = 1
            $0.training.epochs = 6
        }
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let history = try trainer.train()
        #expect(trainer.configuration.scheduler.tMax == 5)
        let etaMin = 0.001, peak = 0.1
        let cosineEpochs: [Double] = (2...6).map { (epoch: Int) -> Double in
            etaMin + (peak - etaMin) * (1 + cos(Double.pi * Double(epoch - 2) / 5)) / 2
        }
        let expected = [peak] + cosineEpochs
        #expect(history.count == 6)
        for (metrics, rate) in zip(history, expected) {
            #expect(abs(metrics.learningRate - rate) <= 1e-15,
                    "epoch \(metrics.epoch): \(metrics.learningRate), expected \(rate)")
        }
        #expect(trainer.scheduledValues(epoch: 6).learningRate == 0.001)
    }

    /// A warm-up in steps takes out of t_max the epochs it fills entirely: ⌊W / 5⌋.
    @Test(arguments: [(0, 6), (4, 6), (5, 5), (7, 5), (10, 4), (40, 1)])
    func aWarmupInStepsTakesTheEpochsItFills(warmupSteps: Int, tMax: Int) {
        let config = Self.config {
            $0.scheduler.name = .cosine
            $0.scheduler.warmupSteps = warmupSteps
            $0.training.epochs = 6
        }
        #expect(config.makeSchedule(stepsPerEpoch: 5) == Warmup(.steps(warmupSteps), then: .cosine(tMax: tMax)))
        #expect(config.resolvingScheduleDefaults(stepsPerEpoch: 5).scheduler.tMax == tMax)
        #expect(Warmup(.steps(warmupSteps), then: .constant()).epochs(stepsPerEpoch: 5) == warmupSteps / 5)
    }

    /// The resolved YAML lists the defaults each schedule works out from other keys, and reads
    /// back to a config whose schedule gives the same values.
    @Test(arguments: [
        ("name: cosine", ["t_max: 6"]),
        ("name: step\n  step_size: 2", ["gamma: 0.1"]),
        ("name: multistep\n  milestones: [2, 4]", ["gamma: 0.1"]),
        ("name: one_cycle", ["max_lr: 0.1", "base_momentum: 0.85", "max_momentum: 0.95"]),
        ("name: cyclic", ["gamma: 1.0", "max_lr: 0.1", "base_lr: 0.01", "base_momentum: 0.8", "max_momentum: 0.9",
                          "step_size_down: 2000"]),
    ])
    func theResolvedConfigListsTheScheduleDefaults(scheduler: String, lines: [String]) throws {
        let yaml = "optimizer: {name: sgd, lr: 0.1, momentum: 0.9}\ntraining: {epochs: 6}\nscheduler:\n  \(scheduler)\n"
        let given = try Configuration.parse(yaml: yaml, source: "c.yaml")
        let resolved = given.resolvingScheduleDefaults(stepsPerEpoch: 5)
        let text = resolved.resolvedYAML()
        for line in lines { #expect(text.contains("\n  \(line)\n"), "\(line) in\n\(text)") }
        let readBack = try Configuration.parse(yaml: text, source: "config.yaml")
        #expect(readBack == resolved)
        let before = given.makeSchedule(stepsPerEpoch: 5), after = readBack.makeSchedule(stepsPerEpoch: 5)
        for step in stride(from: 0, to: 5000, by: 7) {
            let position = SchedulePosition(epoch: step / 5, step: step, stepsPerEpoch: 5)
            #expect(after.values(at: position, baseLR: 0.1) == before.values(at: position, baseLR: 0.1), "step \(step)")
        }
    }
}

/// When a resumed run that already ended stays ended, and what the message says.
@Suite struct EndedRunTests {
    /// Early stopping on val_loss with patience 2 that has waited `wait` epochs.
    static func stopper(wait: Int, patience: Int = 2) -> EarlyStopping {
        var stopper = EarlyStopping(monitor: .valLoss, higherIsBetter: false, patience: patience, minDelta: 0)
        _ = stopper.update(epoch: 1, value: 1)
        for epoch in 0..<wait { _ = stopper.update(epoch: epoch + 2, value: 2) }
        return stopper
    }

    static func config(epochs: Int, patience: Int?, monitor: MonitoredMetric = .valLoss) -> Configuration {
        var config = Configuration()
        config.training.epochs = epochs
        config.earlyStopping.patience = patience
        config.earlyStopping.monitor = monitor
        config.earlyStopping.mode = .min
        return config
    }

    @Test func aCompletedRunGoesOnOnlyWithMoreEpochs() {
        let after6 = TrainingPosition(epoch: 7, batch: 0)
        let ended = Self.config(epochs: 6, patience: nil).endedRun(ending: .completed, position: after6, earlyStopping: nil)
        #expect(ended == EndedRun(ending: .completed, epochsDone: 6, needsEpochs: true, stopper: nil))
        #expect(ended?.reason == "completed 6 of 6 epochs")
        #expect(ended?.remedy == "raise training.epochs above 6 (e.g. --set training.epochs=12)")
        #expect(Self.config(epochs: 4, patience: nil).endedRun(ending: .completed, position: after6, earlyStopping: nil) != nil)
        #expect(Self.config(epochs: 7, patience: nil).endedRun(ending: .completed, position: after6, earlyStopping: nil) == nil)
        // Not ended (interrupted): never.
        #expect(Self.config(epochs: 1, patience: nil).endedRun(ending: nil, position: after6, earlyStopping: nil) == nil)
    }

    /// Stopped at epoch 3 of 6 after waiting 2 epochs with patience 2: the stop holds while
    /// patience ≤ 2; more patience, early stopping off or another monitor let it go on.
    @Test func anEarlyStoppedRunGoesOnWhenEarlyStoppingNoLongerSaysStop() {
        let after3 = TrainingPosition(epoch: 4, batch: 0), saved = Self.stopper(wait: 2)
        let same = Self.config(epochs: 6, patience: 2).endedRun(ending: .earlyStopped(epoch: 3), position: after3,
                                                                earlyStopping: saved)
        #expect(same?.reason == "stopped early at epoch 3 (val_loss has not improved for 2 epochs, early_stopping.patience 2)")
        #expect(same?.remedy == "raise early_stopping.patience above 2 (e.g. --set early_stopping.patience=4) "
            + "or unset it (--set early_stopping.patience=null)")
        #expect(Self.config(epochs: 6, patience: 1).endedRun(ending: .earlyStopped(epoch: 3), position: after3,
                                                             earlyStopping: saved) != nil)
        for config in [Self.config(epochs: 6, patience: 3), Self.config(epochs: 6, patience: nil),
                       Self.config(epochs: 6, patience: 2, monitor: .trainLoss)] {
            #expect(config.endedRun(ending: .earlyStopped(epoch: 3), position: after3, earlyStopping: saved) == nil)
        }
        // Stopped at the last epoch: more patience alone is not enough, and both may be needed.
        let after6 = TrainingPosition(epoch: 7, batch: 0)
        let epochsOnly = Self.config(epochs: 6, patience: 5).endedRun(ending: .earlyStopped(epoch: 6), position: after6,
                                                                      earlyStopping: saved)
        #expect(epochsOnly?.reason == "stopped early at epoch 6")
        #expect(epochsOnly?.remedy == "raise training.epochs above 6 (e.g. --set training.epochs=12)")
        let both = Self.config(epochs: 6, patience: 1).endedRun(ending: .earlyStopped(epoch: 6), position: after6,
                                                                earlyStopping: Self.stopper(wait: 1))
        #expect(both?.reason == "stopped early at epoch 6 (val_loss has not improved for 1 epoch, early_stopping.patience 1)")
        #expect(both?.remedy == "raise training.epochs above 6 (e.g. --set training.epochs=12), and raise "
            + "early_stopping.patience above 1 (e.g. --set early_stopping.patience=2) "
            + "or unset it (--set early_stopping.patience=null)")
    }
}

/// What a resume's warning says: the changed keys with both values, the defaults that followed
/// them, and the learning rate of the next step under the checkpoint's config and the new one.
@Suite struct ResumeChangesTests {
    /// The state of a run of `config` on ResumeTests' data (5 steps an epoch), trained to its end.
    static func finishedState(_ config: Configuration) throws -> TrainingState {
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        return trainer.state
    }

    /// A cosine run of 6 epochs resumed with 12: the next epoch (index 6) moves from
    /// (1 + cos(π·6/6))/2 · 0.1 = 0 to (1 + cos(π·6/12))/2 · 0.1 = 0.05.
    @Test func moreEpochsMoveCosinesDefaultTMaxAndTheNextRate() throws {
        let saved = WarmupHorizonTests.config {
            $0.scheduler.name = .cosine
            $0.training.epochs = 6
        }
        var resumed = saved
        resumed.training.epochs = 12
        let (refused, changes) = resumed.resumeChanges(from: saved, state: try Self.finishedState(saved))
        #expect(refused.isEmpty)
        let allowed = try #require(changes)
        #expect(allowed.changes == [
            ResumeChanges.Change(key: "training.epochs", saved: "6", new: "12", defaultFollows: nil),
            ResumeChanges.Change(key: "scheduler.t_max", saved: "6", new: "12", defaultFollows: "training.epochs"),
        ])
        #expect(allowed.nextLearningRate.saved == 0)
        #expect(abs(allowed.nextLearningRate.new - (1 + cos(Double.pi / 2)) / 2 * 0.1) <= 1e-16)
        #expect(allowed.description == "resumed with changed training.epochs (6 -> 12), scheduler.t_max (6 -> 12, following "
            + "training.epochs) (allowed: they do not alter the model or the data); the learning rate of the next step "
            + "moves from 0 to 0.05; set scheduler.t_max=6 to keep the old schedule")
        // Given in the new config, t_max does not follow: no change, no move.
        resumed.scheduler.tMax = 6
        let kept = try #require(resumed.resumeChanges(from: saved, state: try Self.finishedState(saved)).allowed)
        #expect(kept.keys == ["training.epochs"] && kept.nextLearningRate.saved == kept.nextLearningRate.new)
        #expect(kept.description
            == "resumed with changed training.epochs (6 -> 12) (allowed: they do not alter the model or the data)")
    }

    /// one_cycle spans epochs × 5 steps: resumed after 6 epochs with 12, its next step (30) moves
    /// from the end of 30 steps (min = 0.1/25/1e4, clamped) into the fall of 60 steps, which
    /// begins at 0.3·60 − 1 = 17: pct = 13/42, min + (0.1 − min)(cos(π·13/42) + 1)/2.
    @Test func moreEpochsMoveOneCyclesTotalSteps() throws {
        let saved = WarmupHorizonTests.config {
            $0.scheduler.name = .oneCycle
            $0.training.epochs = 6
        }
        var resumed = saved
        resumed.training.epochs = 12
        let allowed = try #require(resumed.resumeChanges(from: saved, state: try Self.finishedState(saved)).allowed)
        let minimum = 0.1 / 25 / 1e4
        #expect(allowed.oneCycleSteps?.saved == 30 && allowed.oneCycleSteps?.new == 60)
        #expect(abs(allowed.nextLearningRate.saved - minimum) <= 1e-18)
        #expect(abs(allowed.nextLearningRate.new - (minimum + (0.1 - minimum) * (cos(.pi * 13 / 42) + 1) / 2)) <= 1e-16)
        #expect(allowed.description.hasSuffix("; the learning rate of the next step moves from 4e-07 to "
            + String(format: "%.4g", allowed.nextLearningRate.new)
            + " (one_cycle spans 30 -> 60 steps, following training.epochs)"))
    }

    /// reduce_on_plateau's rate is the checkpoint's, whatever optimizer.lr says now.
    @Test func aNewLearningRateUnderReduceOnPlateauMovesNothing() throws {
        let saved = WarmupHorizonTests.config {
            $0.scheduler.name = .reduceOnPlateau
            $0.scheduler.monitor = .valLoss
            $0.scheduler.mode = .plateau(.min)
            $0.training.epochs = 2
        }
        var resumed = saved
        resumed.optimizer.lr = 0.5
        let state = try Self.finishedState(saved)
        let allowed = try #require(resumed.resumeChanges(from: saved, state: state).allowed)
        #expect(allowed.keys == ["optimizer.lr"])
        #expect(allowed.nextLearningRate.saved == state.plateau?.learningRate && allowed.nextLearningRate.new == 0.1)
    }

    @Test func ratesThatAgreeToFourDigitsGetMore() {
        #expect(ResumeChanges.distinctFigures(0.00123456, 0.00123457) == ("0.00123456", "0.00123457"))
        #expect(ResumeChanges.distinctFigures(0.0043, 0.0055) == ("0.0043", "0.0055"))
    }
}
