/// Counts of (true class, predicted class) pairs: `counts[t][p]` rows of class t predicted as p, as
/// scikit-learn's `confusion_matrix(y_true, y_pred)` lays them out (true on rows, predicted on columns).
///
/// The prediction of a row of logits is its arg-max, the first column holding the largest value,
/// found by scanning with `>` exactly as the loss counts training accuracy (Loss.swift), so the
/// accuracy here equals the trainer's. (A NaN logit never wins the scan unless it is in column 0.)
///
/// Labels and predictions outside `0..<classCount`, and arrays of different lengths, are refused as
/// `.internal` errors: the data readers check labels against the classes, so either is a bug.
public struct ConfusionMatrix: Equatable, Sendable {
    public let classCount: Int
    /// `counts[t][p]`: rows whose true class is t and whose predicted class is p.
    public private(set) var counts: [[Int]]

    /// An empty matrix of `classCount` classes.
    public init(classCount: Int) {
        self.classCount = max(classCount, 0)
        counts = Array(repeating: Array(repeating: 0, count: self.classCount), count: self.classCount)
    }

    /// The matrix of `labels` against `predictions`, row by row.
    public init(labels: [Int32], predictions: [Int32], classCount: Int) throws(NNTrainError) {
        self.init(classCount: classCount)
        guard labels.count == predictions.count else {
            throw NNTrainError(.internal,
                               "confusion matrix: \(labels.count) labels but \(predictions.count) predictions; expected as many")
        }
        for (label, prediction) in zip(labels, predictions) {
            try add(label: Int(label), prediction: Int(prediction))
        }
    }

    /// The matrix of `labels` against the arg-max of each row of `logits` ([rows, classCount], row-major).
    public init(logits: [Float], labels: [Int32], classCount: Int) throws(NNTrainError) {
        self.init(classCount: classCount)
        try add(logits: logits, labels: labels)
    }

    /// Counts one row.
    public mutating func add(label: Int, prediction: Int) throws(NNTrainError) {
        guard (0..<classCount).contains(label), (0..<classCount).contains(prediction) else {
            throw NNTrainError(.internal,
                "confusion matrix: label \(label), prediction \(prediction); expected both in 0...\(classCount - 1)")
        }
        counts[label][prediction] += 1
    }

    /// Counts a batch: `logits` is [labels.count, classCount], row-major.
    public mutating func add(logits: [Float], labels: [Int32]) throws(NNTrainError) {
        try Self.checkShape(logits: logits, labels: labels, classCount: classCount)
        for (row, label) in labels.enumerated() {
            try add(label: Int(label), prediction: Self.prediction(logits[row * classCount ..< (row + 1) * classCount]))
        }
    }

    /// The arg-max of one row of logits: the first index of the largest value (0 for an empty row).
    public static func prediction(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for index in row.indices where row[index] > row[best] { best = index }
        return best - row.startIndex
    }

    static func checkShape(logits: [Float], labels: [Int32], classCount: Int) throws(NNTrainError) {
        guard classCount > 0, logits.count == labels.count * classCount else {
            throw NNTrainError(.internal,
                "logits: \(logits.count) values for \(labels.count) labels of \(classCount) classes; "
                    + "expected \(labels.count * classCount)")
        }
    }

    /// Rows counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Rows predicted right: the diagonal's sum.
    public var correct: Int { (0..<classCount).reduce(0) { $0 + counts[$1][$1] } }

    /// correct / total; 0 for an empty matrix.
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Rows whose true class is `c` (row sum: the support of c).
    public func support(of c: Int) -> Int { counts[c].reduce(0, +) }

    /// Rows predicted as `c` (column sum).
    public func predicted(as c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }
}

/// Top-k accuracy from logits: the fraction of rows whose true class is among the k most likely.
///
/// Ties: the true class counts as in the top k when fewer than k classes have a strictly larger
/// logit, so tied classes all share the better rank (a row whose logits are all equal is a hit for
/// any k ≥ 1). With k = 1 and no ties this is plain accuracy; with ties it can exceed the arg-max
/// accuracy, which picks the first tied class. A NaN logit of the true class is a miss. (scikit-learn's
/// `top_k_accuracy_score` breaks ties by position instead; for real-valued logits ties are rare.)
public enum TopKAccuracy {
    /// Whether `label` is in the top `k` of `row`.
    public static func contains(_ row: ArraySlice<Float>, label: Int, k: Int) -> Bool {
        let value = row[row.startIndex + label]
        guard !value.isNaN else { return false }
        return row.lazy.filter { $0 > value }.count < k
    }

    /// Rows of `logits` ([labels.count, classCount], row-major) whose label is in the top `k`.
    public static func hits(logits: [Float], labels: [Int32], classCount: Int, k: Int) throws(NNTrainError) -> Int {
        try ConfusionMatrix.checkShape(logits: logits, labels: labels, classCount: classCount)
        guard k >= 1 else { throw NNTrainError(.internal, "top-k accuracy: k = \(k); expected k >= 1") }
        var hits = 0
        for (row, label) in labels.enumerated() {
            guard (0..<classCount).contains(Int(label)) else {
                throw NNTrainError(.internal, "top-k accuracy: label \(label) of row \(row); expected 0...\(classCount - 1)")
            }
            if contains(logits[row * classCount ..< (row + 1) * classCount], label: Int(label), k: k) { hits += 1 }
        }
        return hits
    }

    /// hits / rows; 0 with no rows.
    public static func accuracy(logits: [Float], labels: [Int32], classCount: Int, k: Int) throws(NNTrainError) -> Double {
        let hits = try hits(logits: logits, labels: labels, classCount: classCount, k: k)
        return labels.isEmpty ? 0 : Double(hits) / Double(labels.count)
    }
}
