import Foundation

/// steps.csv: every N-th optimizer step (`logging.every_n_steps`), for looking inside an epoch —
/// the lr a schedule set, the loss of that batch, the gradient norm before clipping, and the
/// training seconds since the run began, evaluation excluded (loss against time, as
/// `make compare-gd` shows it).
///
/// Columns: step, epoch, lr, loss, grad_norm, seconds. Rows are flushed with each epoch's
/// metrics.csv row.
public final class StepLog {
    public let path: String
    public let every: Int
    private let handle: FileHandle
    private var pending = ""

    public static let header = "step,epoch,lr,loss,grad_norm,seconds"

    public init(path: String, every: Int) throws(NNTrainError) {
        guard FileManager.default.createFile(atPath: path, contents: Data((Self.header + "\n").utf8)),
              let handle = FileHandle(forWritingAtPath: path)
        else { throw NNTrainError.cannotWrite(path, "cannot create the file") }
        handle.seekToEndOfFile()
        self.path = path
        self.every = max(every, 1)
        self.handle = handle
        pending.reserveCapacity(1 << 16)
    }

    deinit { try? handle.close() }

    func append(step: Int, epoch: Int, learningRate: Double, loss: Double, gradientNorm: Double,
                seconds: Double) throws(NNTrainError) {
        pending += "\(step),\(epoch),\(learningRate),\(loss),\(gradientNorm),\(seconds)\n"
        if pending.utf8.count >= 1 << 16 { try flush() }
    }

    /// Writes the rows held so far.
    public func flush() throws(NNTrainError) {
        guard !pending.isEmpty else { return }
        do {
            try handle.write(contentsOf: Data(pending.utf8))
            pending.removeAll(keepingCapacity: true)
        } catch {
            throw NNTrainError.cannotWrite(path, error.localizedDescription)
        }
    }
}
