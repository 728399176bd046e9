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
/// `MixedPrecisionMetrics`). With `logging.layer_stats`, after every other column: `grad_norm_layer<i>`
/// for each linear layer i (the epoch's mean of its per-step gradient norm), then `weight_norm_layer<i>`
/// for each (sqrt(Σ w²) at the epoch's end), then `dead_units_layer<i>` for each relu hidden layer (the
/// epoch's mean fraction of units zero for every row of a batch); see `LayerStatistics`. The columns
/// depend only on the config, so every row has the header's.
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
        /// With `logging.layer_stats`, the per-layer columns (`LayerStatistics.columns(of:)`); nil without.
        public var layers: LayerColumns? = nil

        public init(classification: Bool, mixedPrecision: Bool = false, precisionStats: Bool = false,
                    prunedLayers: [Int] = [], layers: LayerColumns? = nil) {
            self.classification = classification
            self.mixedPrecision = mixedPrecision
            self.precisionStats = precisionStats
            self.prunedLayers = prunedLayers
            self.layers = layers
        }
    }

    /// The per-layer columns: `grad_norm_layer<i>` and `weight_norm_layer<i>` for each of the `count`
    /// linear layers, and `dead_units_layer<i>` for the relu layers of `deadUnitLayers`.
    public struct LayerColumns: Equatable, Sendable {
        public var count: Int
        public var deadUnitLayers: [Int]

        public init(count: Int, deadUnitLayers: [Int]) {
            self.count = count
            self.deadUnitLayers = deadUnitLayers
        }
    }

    public let path: String
    private let handle: AppendingFile
    private let columns: Columns

    public static func header(_ columns: Columns) -> String {
        fields(of: nil, columns).map(\.name).joined(separator: ",")
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
        fields(of: m, columns).map(\.text).joined(separator: ",")
    }

    /// One column of a row: its name and value, a count (`epoch`, `skipped_steps`) written as a whole number.
    public struct Field: Sendable {
        public var name: String
        public var value: Double?
        var isCount = false

        /// The value as metrics.csv writes it: Swift's shortest round-trip form, empty for nil.
        var text: String {
            guard let value else { return "" }
            return isCount ? "\(Int(value))" : "\(value)"
        }
    }

    /// The columns of `columns` in order, each with its value in `m` (nil: empty; every value nil
    /// without `m`): the one list the header, the rows and TensorBoard's epoch scalars
    /// (`TensorBoardLog`) are made from.
    public static func fields(of m: EpochMetrics?, _ columns: Columns) -> [Field] {
        func figure(_ name: String, _ value: Double?) -> Field { Field(name: name, value: value) }
        func count(_ name: String, _ value: Int?) -> Field { Field(name: name, value: value.map(Double.init), isCount: true) }
        let validation = m?.validation, precision = m?.mixedPrecision
        var fields = [count("epoch", m?.epoch), figure("lr", m?.learningRate), figure("train_loss", m?.trainLoss)]
        fields += columns.classification
            ? [figure("train_acc", m?.trainAccuracy), figure("val_loss", validation?.loss),
               figure("val_acc", validation?.accuracy)]
            : [figure("val_loss", validation?.loss), figure("val_mae", validation?.meanAbsoluteError),
               figure("val_r2", validation?.r2)]
        fields += [figure("grad_norm_mean", m?.gradientNormMean), figure("grad_norm_max", m?.gradientNormMax),
                   figure("epoch_seconds", m?.epochSeconds), figure("samples_per_second", m?.samplesPerSecond)]
        if columns.mixedPrecision {
            fields += [figure("loss_scale", precision?.lossScale), count("skipped_steps", precision?.skippedSteps)]
        }
        if columns.precisionStats {
            fields += [figure("grad_underflow", precision?.gradientUnderflow),
                       figure("grad_overflow", precision?.gradientOverflow)]
        }
        if !columns.prunedLayers.isEmpty {
            fields.append(figure("sparsity", m?.pruning?.sparsity))
            for (position, index) in columns.prunedLayers.enumerated() {
                fields.append(figure("sparsity_\(index)", m?.pruning?.layers.dropFirst(position).first))
            }
        }
        if let layers = columns.layers {
            let figures = m?.layers
            func at<T>(_ values: [T]?, _ i: Int) -> T? { values.flatMap { $0.indices.contains(i) ? $0[i] : nil } }
            fields += (0..<layers.count).map { figure("grad_norm_layer\($0)", at(figures?.gradientNorms, $0)) }
            fields += (0..<layers.count).map { figure("weight_norm_layer\($0)", at(figures?.weightNorms, $0)) }
            fields += layers.deadUnitLayers.map { figure("dead_units_layer\($0)", at(figures?.deadFractions, $0) ?? nil) }
        }
        return fields
    }

    /// Appends the epoch's row and flushes it to disk.
    public func append(_ metrics: EpochMetrics) throws(NNTrainError) {
        try handle.append(Self.row(metrics, columns) + "\n", synchronize: true)
    }
}
