import Foundation

/// steps.csv: every N-th optimizer step (`logging.every_n_steps`), for looking inside an epoch —
/// the lr a schedule set, the loss of that batch, the gradient norm before clipping, and the
/// training seconds since the run began, evaluation excluded (loss against time, as
/// `make compare-gd` shows it).
///
/// Columns: step, epoch, lr, loss, grad_norm, seconds. A `TrainingObserver`: it writes the row of
/// each step taken whose count is a multiple of `every` (a step the loss scaler skipped has none),
/// and flushes the rows at each epoch's end, before the observers after it (a run's checkpoint and
/// metrics.csv row, see `TrainingRun`) hear of the epoch.
public final class StepLog: TrainingObserver {
    public let path: String
    public let every: Int
    private let handle: AppendingFile
    private var pending = ""

    public static let header = "step,epoch,lr,loss,grad_norm,seconds"

    /// Writes the file at `path` anew with the header, keeping, for a resumed run
    /// (`continuingThrough` its step count), the rows of the steps it has behind it; then opens it
    /// for appending.
    public init(path: String, every: Int, continuingThrough lastStep: Int? = nil) throws(NNTrainError) {
        var kept: [Substring] = []
        if let lastStep, let data = FileManager.default.contents(atPath: path) {
            kept = String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().filter { line in
                line.split(separator: ",", maxSplits: 1).first.flatMap { Int($0) }.map { $0 <= lastStep } ?? false
            }
        }
        let text = ([Self.header[...]] + kept).map { $0 + "\n" }.joined()
        try OutputFile.write(Array(text.utf8), to: path)
        self.handle = try AppendingFile(path: path)
        self.path = path
        self.every = max(every, 1)
        pending.reserveCapacity(1 << 16)
    }

    public func afterStep(_ step: StepReport, trainer: Trainer) throws(NNTrainError) {
        guard let gradientNorm = step.gradientNorm, step.stepCount % every == 0 else { return }
        let seconds = step.trainingSeconds
        pending += "\(step.stepCount),\(step.position.epoch),\(step.learningRate),\(step.loss),\(gradientNorm),\(seconds)\n"
        if pending.utf8.count >= 1 << 16 { try flush() }
    }

    public func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {
        try flush()
    }

    /// Writes the rows held so far.
    public func flush() throws(NNTrainError) {
        guard !pending.isEmpty else { return }
        try handle.append(pending, synchronize: false)
        pending.removeAll(keepingCapacity: true)
    }
}
