import Foundation

/// metrics.csv: a header once, then one row per epoch, appended and flushed as each epoch ends so a
/// run stopped at any moment keeps every finished epoch.
///
/// Columns, classification: epoch, lr, train_loss, train_acc, val_loss, val_acc, grad_norm_mean,
/// grad_norm_max, epoch_seconds, samples_per_second. Regression: epoch, lr, train_loss, val_loss,
/// val_mae, val_r2, grad_norm_mean, grad_norm_max, epoch_seconds, samples_per_second. `lr` is the
/// learning rate of the epoch's last step; the gradient norms are global L2 norms before clipping.
/// A validation figure is empty when validation_split is 0. Numbers are written in full precision (Swift's shortest round-trip form),
/// so equal runs give equal files apart from the two timing columns.
public final class MetricsLog {
    public let path: String
    private let handle: FileHandle
    private let classification: Bool

    public static func header(classification: Bool) -> String {
        classification
            ? "epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second"
            : "epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second"
    }

    /// Creates (or empties) the file at `path` and writes the header.
    public init(path: String, classification: Bool) throws(NNTrainError) {
        guard FileManager.default.createFile(atPath: path, contents: Data((Self.header(classification: classification) + "\n").utf8)),
              let handle = FileHandle(forWritingAtPath: path)
        else { throw NNTrainError.cannotWrite(path, "cannot create the file") }
        handle.seekToEndOfFile()
        self.path = path
        self.handle = handle
        self.classification = classification
    }

    deinit { try? handle.close() }

    public static func row(_ m: EpochMetrics, classification: Bool) -> String {
        func text(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let validation = m.validation
        let figures = classification
            ? [text(m.trainLoss), text(m.trainAccuracy), text(validation?.loss), text(validation?.accuracy)]
            : [text(m.trainLoss), text(validation?.loss), text(validation?.meanAbsoluteError), text(validation?.r2)]
        return (["\(m.epoch)", text(m.learningRate)] + figures
            + [text(m.gradientNormMean), text(m.gradientNormMax), text(m.epochSeconds), text(m.samplesPerSecond)])
            .joined(separator: ",")
    }

    public func append(_ metrics: EpochMetrics) throws(NNTrainError) {
        do {
            try handle.write(contentsOf: Data((Self.row(metrics, classification: classification) + "\n").utf8))
            try handle.synchronize()
        } catch {
            throw NNTrainError.cannotWrite(path, error.localizedDescription)
        }
    }
}
