import Foundation
import Testing
@testable import NNTrain

/// Calls `action` after each epoch, with the trainer in its state at the epoch's end.
final class AfterEachEpoch: TrainingObserver {
    private let action: (EpochMetrics, Trainer) -> Void

    init(_ action: @escaping (EpochMetrics, Trainer) -> Void) {
        self.action = action
    }

    func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) { action(metrics, trainer) }
}

/// The observer seam (`TrainingObserver`): which events come, in which order, with which figures,
/// through `Trainer.train` and `TrainingRun.execute`.
@Suite struct TrainingObserverTests {
    /// Every event as one line: the epoch and batches done (`epoch.batch`) and the step count where
    /// they apply.
    final class EventLog: TrainingObserver {
        var events: [String] = []

        func runStarted(_ plan: TrainingRun.Plan) { events.append("runStarted") }
        func warning(_ message: String) { events.append("warning") }
        func epochStarted(_ trainer: Trainer) { events.append("epochStarted \(trainer.position.epoch)") }
        func beforeStep(_ trainer: Trainer) {
            events.append("beforeStep \(trainer.position.epoch).\(trainer.position.batch) step \(trainer.stepCount)")
        }
        func afterStep(_ step: StepReport, trainer: Trainer) {
            let position = step.position
            events.append("afterStep \(position.epoch).\(position.batch) of \(step.batchesPerEpoch) step \(step.stepCount)")
        }
        func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) { events.append("epochFinished \(metrics.epoch)") }
        func shouldStop(_ trainer: Trainer) -> Bool {
            events.append("shouldStop")
            return false
        }
        func checkpointWritten(path: String, position: TrainingPosition) {
            events.append("checkpointWritten \(position.epoch).\(position.batch)")
        }
        func runEnded(_ summary: RunSummary, ending: TrainingRun.Ending) { events.append("runEnded \(ending)") }
    }

    /// The events of `epochs` epochs of `batches` steps from the start of `firstEpoch`, as
    /// `EventLog` writes them for a run whose last.bin is written after each epoch; the run's last
    /// epoch asks `shouldStop` no more, since training ended with it.
    static func epochEvents(_ firstEpoch: Int, through lastEpoch: Int, batches: Int) -> [String] {
        var events: [String] = []
        for epoch in firstEpoch...lastEpoch {
            events.append("epochStarted \(epoch)")
            let stepsBefore = (epoch - 1) * batches
            for batch in 1...batches {
                events.append("beforeStep \(epoch).\(batch - 1) step \(stepsBefore + batch - 1)")
                events.append("afterStep \(epoch).\(batch) of \(batches) step \(stepsBefore + batch)")
                if batch < batches { events.append("shouldStop") }
            }
            events += ["checkpointWritten \(epoch + 1).0", "epochFinished \(epoch)"]
            if epoch < lastEpoch { events.append("shouldStop") }
        }
        return events
    }

    /// Two epochs of 15 steps: the plan, each step between its before and after, the stop asked
    /// after every step but an epoch's last, the epoch's checkpoint on disk before the observers
    /// after the run's own hear of the epoch, and the end last.
    @Test func aRunTellsItsObserversEachEventInOrder() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let log = EventLog()
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(folder.file("run"))", "training.epochs=2"],
                                    observers: [log])
        #expect(log.events == ["runStarted"] + Self.epochEvents(1, through: 2, batches: 15) + ["runEnded completed"])
    }

    /// A resume warns of its changes before the plan and names the checkpoint it starts from after it.
    @Test func aResumedRunWarnsBeforeThePlanAndNamesItsCheckpointAfterIt() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let run = folder.file("run")
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "training.epochs=1"])
        let log = EventLog()
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "training.epochs=2"],
                                    start: .resumeLast, observers: [log])
        #expect(log.events == ["warning", "runStarted", "checkpointWritten 2.0"] + Self.epochEvents(2, through: 2, batches: 15)
            + ["runEnded completed"])
    }

    /// The first observer that says stop ends the asking: one after it is not asked. The run ends
    /// `.interrupted` at the step, with last.bin written there and named to the observers.
    @Test func theFirstObserverToSayStopEndsTheAskingAndTheRunIsInterrupted() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let log = EventLog()
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(folder.file("run"))"],
                                              observers: [StopWhen { $0.stepCount == 3 }, log])
        guard case .interrupted(let interruption) = outcome.ending else {
            Issue.record("expected an interruption, got \(outcome.ending)")
            return
        }
        #expect(interruption.position == TrainingPosition(epoch: 1, batch: 3) && interruption.timeLimit == nil)
        #expect(log.events.filter { $0 == "shouldStop" }.count == 2)
        #expect(log.events.suffix(3) == ["afterStep 1.3 of 15 step 3", "checkpointWritten 1.3",
                                         "runEnded interrupted at epoch 1, step 3"])
    }

    /// An observer that throws at an epoch's end ends training with its error; the observers after
    /// it do not hear of that epoch.
    @Test func anObserverThatThrowsEndsTrainingBeforeTheObserversAfterIt() throws {
        let trainer = Trainer(configuration: TrainerTests.memorisationConfig(), data: TrainerTests.memorisationData())
        final class Refusing: TrainingObserver {
            func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {
                throw NNTrainError(.cannotWrite, "refused epoch \(metrics.epoch)")
            }
        }
        let log = EventLog()
        trainer.observers = [Refusing(), log]
        #expect(throws: NNTrainError(.cannotWrite, "refused epoch 1")) { try trainer.train() }
        #expect(!log.events.isEmpty && !log.events.contains("epochFinished 1"))
    }

    /// A diverged run tells the observers how it ended, after summary.json, before throwing.
    @Test func aDivergedRunEndsItsObserversBeforeThrowing() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let log = EventLog()
        #expect(throws: NNTrainError.self) {
            _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(folder.file("run"))", "optimizer.lr=1e30"],
                                        observers: [log])
        }
        #expect(log.events.last?.hasPrefix("runEnded diverged at epoch 1, step ") == true, "\(log.events.last ?? "")")
    }

    /// The place of a message; the command line adds the epoch's steps.
    @Test func aPositionIsDescribedAfterAnEpochOrAtAStep() {
        #expect(TrainingRun.describe(TrainingPosition(epoch: 3, batch: 0)) == "after epoch 2")
        #expect(TrainingRun.describe(TrainingPosition(epoch: 3, batch: 0), of: 15) == "after epoch 2")
        #expect(TrainingRun.describe(TrainingPosition(epoch: 3, batch: 7)) == "at epoch 3, step 7")
        #expect(TrainingRun.describe(TrainingPosition(epoch: 3, batch: 7), of: 15) == "at epoch 3, step 7 of 15")
    }
}
