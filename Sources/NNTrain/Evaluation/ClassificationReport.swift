import Foundation

/// Per-class and averaged figures of a classifier, with scikit-learn's `classification_report`
/// semantics (https://scikit-learn.org/stable/modules/generated/sklearn.metrics.classification_report.html)
/// and `zero_division=0`. For class c of the confusion matrix, with TP = counts[c][c], FP the rest of
/// column c and FN the rest of row c:
///
///     precision = TP / (TP + FP)        0 when nothing was predicted as c
///     recall    = TP / (TP + FN)        0 when c has no rows (support 0)
///     F1        = 2·TP / (2·TP + FP + FN) = 2·P·R / (P + R)     0 when TP + FP + FN = 0
///     support   = TP + FN               rows whose true class is c
///
/// The macro average is the plain mean over all classes of the matrix (as scikit-learn with
/// `labels=` every class, so a class absent from the data counts with zeros); the weighted average
/// weights each class by its support (0 when there are no rows). Both report the total support.
/// Accuracy is the diagonal over the total. Balanced accuracy is scikit-learn's
/// `balanced_accuracy_score` (adjusted=False): the mean recall over the classes with rows (support > 0;
/// scikit-learn leaves the others out as NaN), 0 when there are none.
public struct ClassificationReport: Codable, Equatable, Sendable {
    public struct ClassFigures: Codable, Equatable, Sendable {
        public var name: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    public struct Average: Codable, Equatable, Sendable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    /// The fraction of rows whose class is among the k largest logits (see `TopKAccuracy`).
    public struct TopK: Codable, Equatable, Sendable {
        public var k: Int
        public var accuracy: Double

        public init(k: Int, accuracy: Double) {
            self.k = k
            self.accuracy = accuracy
        }
    }

    /// Rows evaluated.
    public var rows: Int
    public var accuracy: Double
    /// The mean of the recalls of the classes with support > 0 (`balanced_accuracy_score`).
    public var balancedAccuracy: Double
    public var classes: [ClassFigures]
    public var macroAverage: Average
    public var weightedAverage: Average
    public var topK: [TopK]
    /// `confusionMatrix[true][predicted]`.
    public var confusionMatrix: [[Int]]

    /// The figures of `confusion`; class c is named `classNames[c]` (its index if the list is short).
    public init(confusion: ConfusionMatrix, classNames: [String], topK: [TopK] = []) {
        let n = confusion.classCount
        var classes: [ClassFigures] = []
        for c in 0..<n {
            let tp = confusion.counts[c][c], support = confusion.support(of: c), predicted = confusion.predicted(as: c)
            let fp = predicted - tp, fn = support - tp
            classes.append(ClassFigures(
                name: c < classNames.count ? classNames[c] : "\(c)",
                precision: Self.ratio(tp, predicted),
                recall: Self.ratio(tp, support),
                f1: Self.ratio(2 * tp, 2 * tp + fp + fn),
                support: support))
        }
        let total = confusion.total
        func mean(_ figure: KeyPath<ClassFigures, Double>) -> Double {
            n == 0 ? 0 : classes.reduce(0) { $0 + $1[keyPath: figure] } / Double(n)
        }
        func weighted(_ figure: KeyPath<ClassFigures, Double>) -> Double {
            total == 0 ? 0 : classes.reduce(0) { $0 + $1[keyPath: figure] * Double($1.support) } / Double(total)
        }
        self.rows = total
        self.accuracy = confusion.accuracy
        let present = classes.filter { $0.support > 0 }
        self.balancedAccuracy = present.isEmpty ? 0 : present.reduce(0) { $0 + $1.recall } / Double(present.count)
        self.classes = classes
        self.macroAverage = Average(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: total)
        self.weightedAverage = Average(precision: weighted(\.precision), recall: weighted(\.recall), f1: weighted(\.f1),
                                       support: total)
        self.topK = topK
        self.confusionMatrix = confusion.counts
    }

    /// The report of `logits` ([labels.count, classNames.count], row-major) against `labels`, with
    /// the top-k accuracy for each of `topK`.
    public init(logits: [Float], labels: [Int32], classNames: [String], topK: [Int] = []) throws(NNTrainError) {
        let confusion = try ConfusionMatrix(logits: logits, labels: labels, classCount: classNames.count)
        var figures: [TopK] = []
        for k in topK {
            figures.append(TopK(k: k, accuracy: try TopKAccuracy.accuracy(
                logits: logits, labels: labels, classCount: classNames.count, k: k)))
        }
        self.init(confusion: confusion, classNames: classNames, topK: figures)
    }

    /// a / b, or 0 when b is 0 (scikit-learn's zero_division=0).
    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    // MARK: Text

    /// The JSON text (see ReportJSON: pretty, sorted snake_case keys, inf and nan as strings).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "classification report")
    }

    /// The table of scikit-learn's `classification_report` with `digits` decimals (scikit-learn's
    /// default is 2): a row per class, then accuracy, macro avg and weighted avg, columns right-aligned
    /// in nine characters and names right-aligned to the longest; top-k accuracies follow in the
    /// accuracy row's layout.
    ///
    ///                   precision    recall  f1-score   support
    ///
    ///          cat         0.6667    0.6667    0.6667         3
    ///          ...
    ///     accuracy                             0.6000         5
    ///    macro avg         0.5000    0.5556    0.4889         5
    /// weighted avg         ...
    public func table(digits: Int = 4) -> String {
        let topKNames = topK.map { "top-\($0.k) accuracy" }
        let width = (classes.map(\.name) + ["weighted avg"] + topKNames).map(\.count).max() ?? 0
        func pad(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(width - text.count, 0)) + text
        }
        func number(_ value: Double) -> String { pad(String(format: "%.\(digits)f", value), 9) }
        func row(_ name: String, _ p: Double, _ r: Double, _ f: Double, _ support: Int) -> String {
            pad(name, width) + " " + [number(p), number(r), number(f), pad("\(support)", 9)].map { " " + $0 }.joined() + "\n"
        }
        func accuracyRow(_ name: String, _ value: Double) -> String {
            pad(name, width) + " " + [pad("", 9), pad("", 9), number(value), pad("\(rows)", 9)].map { " " + $0 }.joined() + "\n"
        }
        var text = pad("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + pad($0, 9) }.joined()
        text += "\n\n"
        for c in classes { text += row(c.name, c.precision, c.recall, c.f1, c.support) }
        text += "\n" + accuracyRow("accuracy", accuracy)
        text += row("macro avg", macroAverage.precision, macroAverage.recall, macroAverage.f1, macroAverage.support)
        text += row("weighted avg", weightedAverage.precision, weightedAverage.recall, weightedAverage.f1,
                    weightedAverage.support)
        if !topK.isEmpty {
            text += "\n" + zip(topKNames, topK).map { accuracyRow($0, $1.accuracy) }.joined()
        }
        return text
    }

    /// The per-class table as CSV (RFC 4180): header `class,precision,recall,f1,support`, then a row
    /// per class; a name holding a comma, quote or line end is double-quoted with quotes doubled.
    /// Numbers in full precision (Swift's shortest round-trip form), as metrics.csv.
    public func csv() -> String {
        var text = "class,precision,recall,f1,support\n"
        for c in classes {
            text += "\(Self.csvField(c.name)),\(c.precision),\(c.recall),\(c.f1),\(c.support)\n"
        }
        return text
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }
}
