import Foundation

/// metrics.csv: a header once, then one row per epoch, appended and flushed as each epoch ends so a
/// run stopped at any moment keeps every finished epoch.
///
/// Columns, classification: epoch, lr, train_loss, train_acc, val_loss, val_acc, grad_norm_mean,
/// grad_norm_max, epoch_seconds, samples_per_second. Regression: epoch, lr, train_loss, val_loss,
/// val_mae, val_r2, grad_norm_mean, grad_norm_max, epoch_seconds, samples_per_second. `lr` is the
/// learning rate of the epoch's last step; the gradient norms are global L2 norms before clipping.
/// A validation figure is empty when validation_split is 0. Numbers are written in full precision
/// (Swift's shortest round-trip form), so equal runs give equal files apart from the two timing columns.
///
/// A mixed-precision run (fp16, bf16) adds `loss_scale` (GradScaler's scale at the end of the epoch,
/// empty with `loss_scale: none`) and `skipped_steps` (steps of the epoch skipped for inf/NaN
/// gradients), and with `logging.precision_stats` `grad_underflow` and `grad_overflow` (see
/// `MixedPrecisionMetrics`). The columns depend only on the config, so every row has the header's.
public final class MetricsLog {
    /// Which columns the file has.
    public struct Columns: Equatable, Sendable {
        public var classification: Bool
        /// `loss_scale` and `skipped_steps`.
        public var mixedPrecision = false
        /// `grad_underflow` and `grad_overflow`.
        public var precisionStats = false
        /// With pruning, the linear layers whose weights are masked (their indices): `sparsity` (all of
        /// them) and `sparsity_<index>` for each; empty without pruning.
        public var prunedLayers: [Int] = []

        public init(classification: Bool, mixedPrecision: Bool = false, precisionStats: Bool = false,
                    prunedLayers: [Int] = []) {
            self.classification = classification
            self.mixedPrecision = mixedPrecision
            self.precisionStats = precisionStats
            self.prunedLayers = prunedLayers
        }
    }

    public let path: String
    private let handle: AppendingFile
    private let columns: Columns

    public static func header(_ columns: Columns) -> String {
        (columns.classification
            ? "epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second"
            : "epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second")
            + (columns.mixedPrecision ? ",loss_scale,skipped_steps" : "")
            + (columns.precisionStats ? ",grad_underflow,grad_overflow" : "")
            + (columns.prunedLayers.isEmpty ? "" : ",sparsity" + columns.prunedLayers.map { ",sparsity_\($0)" }.joined())
    }

    /// Writes the file at `path` anew with the header and the rows of `rows` (the epochs a resumed
    /// run has behind it; none for a new run), replacing whatever was there at once (see
    /// OutputFile), and opens it for appending.
    public init(path: String, columns: Columns, rows: [EpochMetrics] = []) throws(NNTrainError) {
        let text = ([Self.header(columns)] + rows.map { Self.row($0, columns) }).map { $0 + "\n" }.joined()
        try OutputFile.write(Array(text.utf8), to: path)
        self.handle = try AppendingFile(path: path)
        self.path = path
        self.columns = columns
    }

    public static func row(_ m: EpochMetrics, _ columns: Columns) -> String {
        func text(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let validation = m.validation, precision = m.mixedPrecision
        let figures = columns.classification
            ? [text(m.trainLoss), text(m.trainAccuracy), text(validation?.loss), text(validation?.accuracy)]
            : [text(m.trainLoss), text(validation?.loss), text(validation?.meanAbsoluteError), text(validation?.r2)]
        let scaling = columns.mixedPrecision ? [text(precision?.lossScale), precision.map { "\($0.skippedSteps)" } ?? ""] : []
        let stats = columns.precisionStats ? [text(precision?.gradientUnderflow), text(precision?.gradientOverflow)] : []
        let pruned = columns.prunedLayers.isEmpty ? []
            : [text(m.pruning?.sparsity)] + columns.prunedLayers.indices.map { text(m.pruning?.layers.dropFirst($0).first) }
        return (["\(m.epoch)", text(m.learningRate)] + figures
            + [text(m.gradientNormMean), text(m.gradientNormMax), text(m.epochSeconds), text(m.samplesPerSecond)]
            + scaling + stats + pruned)
            .joined(separator: ",")
    }

    /// Appends the epoch's row and flushes it to disk.
    public func append(_ metrics: EpochMetrics) throws(NNTrainError) {
        try handle.append(Self.row(metrics, columns) + "\n", synchronize: true)
    }
}
