import Foundation

/// The one seam around the training loop: everything that watches or steers training without being
/// the arithmetic of a step — the progress display, steps.csv (`StepLog`), Ctrl-C and the time limit,
/// a run's checkpoints and metrics.csv (`TrainingRun`), and the coming TensorBoard and per-layer
/// statistics — is a `TrainingObserver` in
/// `Trainer.observers`, told of each event in list order. Every method has a default that does
/// nothing, so an observer implements only the events it needs. A new observer is one type
/// conforming to this protocol, added to `Trainer.observers` (or to `TrainingRun.execute`'s
/// `observers`, which go after the run's own).
///
/// The events of a run, in order (`TrainingRun` sends the run's, `Trainer.train` the others):
///
///     runStarted(plan)                       the data and model are ready; resume warnings just went out
///     checkpointWritten(path, position)      a resumed run's checkpoint, then each last.bin written
///     per epoch:
///       epochStarted(trainer)                order shuffled; trainer.position is the epoch and its batches
///                                            already done (0 unless resumed mid-epoch)
///       per batch:
///         beforeStep(trainer)                before the batch is gathered and the lr scheduled
///         (gather → forward → loss → backward → [unscale] → L1 → clip → lr = schedule → optimizer step)
///         afterStep(report, trainer)         the weights updated (unless the loss scaler skipped the step),
///                                            trainer.position and stepCount advanced
///         shouldStop(trainer)                after every step but the epoch's last (training then stops
///                                            there; last.bin resumes it exactly)
///       epochFinished(metrics, trainer)      validation, reduce_on_plateau and early stopping done:
///                                            the state a checkpoint captures
///       warning(message)                     the epoch's diagnostic warnings, if any (`TrainingDiagnostics`)
///       shouldStop(trainer)                  unless training just ended
///     runEnded(summary, ending)              summary.json written, however training ended
///
/// `warning(_:)` comes before `runStarted` (a resume's accepted config changes), after it (what the data's
/// reading found), and after an epoch's `epochFinished` (the diagnostic warnings of `TrainingDiagnostics`:
/// vanishing gradients, dead ReLUs, overfitting; each once per run). The learning-rate
/// range test (`findLearningRate`) takes steps but no part in this: its result holds each step.
///
/// What an observer may do: read anything of the trainer; keep its own buffers (allocated in
/// `runStarted` or its first event, not per step: the step allocates nothing, and `beforeStep`,
/// `afterStep` and `shouldStop` run every step); write its own files, throwing `NNTrainError` from
/// `afterStep` or `epochFinished` to end the run (a `.cannotWrite` error then names the last good
/// checkpoint); change the weights in `beforeStep` or `afterStep` (a pruning mask, an averaged copy
/// swapped in) as a deliberate part of training. What it may not do: draw from the trainer's random
/// streams, reorder its rows, or change its position, step count or history — a checkpoint would no
/// longer resume the run exactly (an observer with state of its own has no place in the checkpoint
/// yet) — nor block: all events come on the training thread, between steps.
public protocol TrainingObserver: AnyObject {
    /// What the run is about to do (`TrainingRun` only, once, before the first epoch).
    func runStarted(_ plan: TrainingRun.Plan)
    /// A line for the person running it: a resume's accepted config changes (before `runStarted`), what
    /// the data's reading found, and the diagnostic warnings after an epoch (`TrainingDiagnostics`).
    func warning(_ message: String)
    /// An epoch (or the rest of one, when resumed mid-epoch) is about to be trained.
    func epochStarted(_ trainer: Trainer)
    /// Before each batch's step: `trainer.position.batch` is the batches of the epoch done so far.
    func beforeStep(_ trainer: Trainer)
    /// After each batch's step (taken or skipped, see `StepReport.gradientNorm`).
    func afterStep(_ step: StepReport, trainer: Trainer) throws(NNTrainError)
    /// After each epoch, once the trainer's state is that of the epoch's end (`trainer.ending` set
    /// when training ended with it). A throw ends training; observers after this one then do not hear
    /// of the epoch.
    func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError)
    /// Whether training should stop here (asked after each step but an epoch's last, and after each
    /// epoch). The first observer to say yes ends the asking.
    func shouldStop(_ trainer: Trainer) -> Bool
    /// A checkpoint the run could be resumed from is on disk at `path`, written at `position`.
    func checkpointWritten(path: String, position: TrainingPosition)
    /// The run's summary.json is written: the last event (`TrainingRun` only; a diverged run's error
    /// is thrown after it).
    func runEnded(_ summary: RunSummary, ending: TrainingRun.Ending)
}

extension TrainingObserver {
    public func runStarted(_ plan: TrainingRun.Plan) {}
    public func warning(_ message: String) {}
    public func epochStarted(_ trainer: Trainer) {}
    public func beforeStep(_ trainer: Trainer) {}
    public func afterStep(_ step: StepReport, trainer: Trainer) throws(NNTrainError) {}
    public func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {}
    public func shouldStop(_ trainer: Trainer) -> Bool { false }
    public func checkpointWritten(path: String, position: TrainingPosition) {}
    public func runEnded(_ summary: RunSummary, ending: TrainingRun.Ending) {}
}

/// One batch's step, as `TrainingObserver.afterStep` hears of it. A value of plain figures, so
/// reporting it allocates nothing; the clock is read only if `trainingSeconds` is asked for.
public struct StepReport: Sendable {
    /// Where training stands after the step: its epoch, and the batches of it done (this one included).
    public var position: TrainingPosition
    public var batchesPerEpoch: Int
    /// Optimizer steps taken in the run so far, this one included unless it was skipped.
    public var stepCount: Int
    /// The learning rate the schedule gave this step.
    public var learningRate: Double
    /// This batch's mean training loss.
    public var loss: Double
    /// The mean training loss of the epoch so far, this batch included.
    public var epochMeanLoss: Double
    /// The global gradient norm before clipping; nil when the loss scaler skipped the step for inf/NaN
    /// gradients (weights, optimizer state and `stepCount` unchanged).
    public var gradientNorm: Double?
    /// Training seconds of the run before this session of the epoch began, and when it began
    /// (`DispatchTime` nanoseconds).
    var secondsBeforeSession: Double
    var sessionStart: UInt64

    /// Training seconds of the run up to now, evaluation excluded (over every session of a resumed run).
    public var trainingSeconds: Double {
        secondsBeforeSession + Double(DispatchTime.now().uptimeNanoseconds - sessionStart) / 1e9
    }
}

/// Stops training once `condition` holds for the trainer, asked where training can stop (after each
/// step but an epoch's last, and after each epoch): a fixed number of steps, a flag set elsewhere.
public final class StopWhen: TrainingObserver {
    private let condition: (Trainer) -> Bool

    public init(_ condition: @escaping (Trainer) -> Bool) {
        self.condition = condition
    }

    public func shouldStop(_ trainer: Trainer) -> Bool { condition(trainer) }
}
