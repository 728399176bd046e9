import Foundation

/// steps.csv: every N-th optimizer step (`logging.every_n_steps`), for looking inside an epoch —
/// the lr a schedule set, the loss of that batch, the gradient norm before clipping, and the
/// training seconds since the run began, evaluation excluded (loss against time, as
/// `make compare-gd` shows it).
///
/// Columns: step, epoch, lr, loss, grad_norm, seconds. Rows are flushed with each epoch's
/// metrics.csv row and before each checkpoint.
public final class StepLog {
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

    func append(step: Int, epoch: Int, learningRate: Double, loss: Double, gradientNorm: Double,
                seconds: Double) throws(NNTrainError) {
        pending += "\(step),\(epoch),\(learningRate),\(loss),\(gradientNorm),\(seconds)\n"
        if pending.utf8.count >= 1 << 16 { try flush() }
    }

    /// Writes the rows held so far.
    public func flush() throws(NNTrainError) {
        guard !pending.isEmpty else { return }
        try handle.append(pending, synchronize: false)
        pending.removeAll(keepingCapacity: true)
    }
}
