import Foundation

/// steps.csv: every N-th optimizer step (`logging.every_n_steps`), for looking inside an epoch —
/// the lr a schedule set, the loss of that batch, the gradient norm before clipping, and the
/// training seconds since the run began, evaluation excluded (loss against time, as
/// `make compare-gd` shows it).
///
/// Columns: step, epoch, lr, loss, grad_norm, seconds, and with `logging.layer_stats` (`layers` > 0)
/// grad_norm_layer0, grad_norm_layer1, … (each linear layer's gradient norm at the step, measured where
/// grad_norm is, so their squares sum to its square without batch norm; see `LayerStatistics`).
/// A `TrainingObserver`: it writes the row of
/// each step taken whose count is a multiple of `every` (a step the loss scaler skipped has none),
/// and flushes the rows at each epoch's end, before the observers after it (a run's checkpoint and
/// metrics.csv row, see `TrainingRun`) hear of the epoch.
public final class StepLog: TrainingObserver {
    public let path: String
    public let every: Int
    private let handle: AppendingFile
    private var pending = ""
    /// The linear layers whose gradient norms each row ends with (0: none).
    public let layers: Int

    public static let header = "step,epoch,lr,loss,grad_norm,seconds"

    /// The header with the per-layer columns of `layers` linear layers.
    public static func header(layers: Int) -> String {
        ([header] + (0..<layers).map { "grad_norm_layer\($0)" }).joined(separator: ",")
    }

    /// Writes the file at `path` anew with the header, keeping, for a resumed run
    /// (`continuingThrough` its step count), the rows of the steps it has behind it (given the
    /// header's number of fields: a resume that turned `logging.layer_stats` on leaves their layer
    /// fields empty, one that turned it off drops them); then opens it for appending.
    public init(path: String, every: Int, layers: Int = 0, continuingThrough lastStep: Int? = nil) throws(NNTrainError) {
        var kept: [String] = []
        let fieldCount = 6 + layers
        if let lastStep, let data = FileManager.default.contents(atPath: path) {
            kept = String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().filter { line in
                line.split(separator: ",", maxSplits: 1).first.flatMap { Int($0) }.map { $0 <= lastStep } ?? false
            }.map { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return (fields.prefix(fieldCount) + Array(repeating: "", count: max(0, fieldCount - fields.count)))
                    .joined(separator: ",")
            }
        }
        let text = ([Self.header(layers: layers)] + kept).map { $0 + "\n" }.joined()
        try OutputFile.write(Array(text.utf8), to: path)
        self.handle = try AppendingFile(path: path)
        self.path = path
        self.every = max(every, 1)
        self.layers = layers
        pending.reserveCapacity(1 << 16)
    }

    public func afterStep(_ step: StepReport, trainer: Trainer) throws(NNTrainError) {
        guard let gradientNorm = step.gradientNorm, step.stepCount % every == 0 else { return }
        let seconds = step.trainingSeconds
        pending += "\(step.stepCount),\(step.position.epoch),\(step.learningRate),\(step.loss),\(gradientNorm),\(seconds)"
        if layers > 0, let norms = trainer.layerStatistics?.lastStepGradientNorms {
            for i in 0..<layers { pending += i < norms.count ? ",\(norms[i])" : "," }
        }
        pending += "\n"
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
