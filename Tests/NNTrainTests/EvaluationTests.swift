import Foundation
import Testing
@testable import NNTrain

/// Confusion matrix, classification report, top-k and regression figures against numbers worked out
/// by hand in the comments.
@Suite struct EvaluationTests {
    static func expectClose(_ actual: Double, _ expected: Double, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(actual - expected) <= 1e-12, "\(what): \(actual) vs \(expected)", sourceLocation: sourceLocation)
    }

    /// Labels and predictions whose confusion matrix is `counts` (rows true, columns predicted).
    static func pairs(_ counts: [[Int]]) -> (labels: [Int32], predictions: [Int32]) {
        var labels: [Int32] = [], predictions: [Int32] = []
        for (t, row) in counts.enumerated() {
            for (p, count) in row.enumerated() {
                labels += Array(repeating: Int32(t), count: count)
                predictions += Array(repeating: Int32(p), count: count)
            }
        }
        return (labels, predictions)
    }

    /// The hand-built matrix of the report tests:
    ///
    ///               predicted cat  dog  bird     support (row sum)
    ///     true cat             5    2    1        8
    ///     true dog             1    6    3       10
    ///     true bird            0    2    4        6
    ///     predicted (column)   6   10    8       24 rows, 15 on the diagonal
    static let counts = [[5, 2, 1], [1, 6, 3], [0, 2, 4]]

    @Test func theMatrixCountsTrueOnRowsAndPredictedOnColumns() throws {
        let (labels, predictions) = Self.pairs(Self.counts)
        let matrix = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: 3)
        #expect(matrix.counts == Self.counts)
        #expect(matrix.total == 24 && matrix.correct == 15)
        #expect(matrix.accuracy == 15.0 / 24)
        #expect((0..<3).map(matrix.support(of:)) == [8, 10, 6])
        #expect((0..<3).map(matrix.predicted(as:)) == [6, 10, 8])
    }

    @Test func precisionRecallAndF1ByHand() throws {
        let (labels, predictions) = Self.pairs(Self.counts)
        let matrix = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: 3)
        let report = ClassificationReport(confusion: matrix, classNames: ["cat", "dog", "bird"])
        // cat:  TP 5, FP 1, FN 3: P = 5/6, R = 5/8, F1 = 2·5 / (10 + 1 + 3) = 10/14
        //       (and 2PR/(P+R) = (50/48) / (35/24) = 10/14 too).
        // dog:  TP 6, FP 4, FN 4: P = 6/10, R = 6/10, F1 = 12/20.
        // bird: TP 4, FP 4, FN 2: P = 4/8, R = 4/6, F1 = 8/14.
        let expected: [(Double, Double, Double, Int)] = [(5.0 / 6, 5.0 / 8, 10.0 / 14, 8), (0.6, 0.6, 0.6, 10),
                                                          (0.5, 4.0 / 6, 8.0 / 14, 6)]
        #expect(report.classes.map(\.name) == ["cat", "dog", "bird"])
        for (figures, (p, r, f, s)) in zip(report.classes, expected) {
            Self.expectClose(figures.precision, p, "\(figures.name) precision")
            Self.expectClose(figures.recall, r, "\(figures.name) recall")
            Self.expectClose(figures.f1, f, "\(figures.name) f1")
            #expect(figures.support == s)
        }
        // Macro: plain means. P = (5/6 + 3/5 + 1/2)/3 = 58/90 = 29/45; R = (5/8 + 3/5 + 2/3)/3 = 227/360;
        // F1 = (5/7 + 3/5 + 4/7)/3 = (9/7 + 3/5)/3 = 22/35.
        Self.expectClose(report.macroAverage.precision, 29.0 / 45, "macro precision")
        Self.expectClose(report.macroAverage.recall, 227.0 / 360, "macro recall")
        Self.expectClose(report.macroAverage.f1, 22.0 / 35, "macro f1")
        // Weighted by support 8, 10, 6 of 24: P = (8·5/6 + 10·3/5 + 6·1/2)/24 = (20/3 + 9)/24 = 47/72;
        // R = (5 + 6 + 4)/24 = 15/24, the accuracy (always so); F1 = (8·5/7 + 10·3/5 + 6·4/7)/24 = (64/7 + 6)/24 = 53/84.
        Self.expectClose(report.weightedAverage.precision, 47.0 / 72, "weighted precision")
        Self.expectClose(report.weightedAverage.recall, 15.0 / 24, "weighted recall")
        Self.expectClose(report.weightedAverage.f1, 53.0 / 84, "weighted f1")
        #expect(report.macroAverage.support == 24 && report.weightedAverage.support == 24)
        #expect(report.accuracy == 0.625 && report.rows == 24)
        #expect(report.confusionMatrix == Self.counts)
    }

    @Test func anAbsentClassScoresZeroAndStillCountsInTheMacroAverage() throws {
        // Class 2 is neither true nor predicted anywhere: P, R, F1 all 0 by zero_division=0.
        // Class 1 is never predicted: P = 0/0 → 0, R = 0/2 = 0, F1 = 0/(0 + 0 + 2) = 0.
        // Class 0: TP 3, FP 2, FN 0: P = 3/5, R = 1, F1 = 6/8.
        let matrix = try ConfusionMatrix(labels: [0, 0, 0, 1, 1], predictions: [0, 0, 0, 0, 0], classCount: 3)
        let report = ClassificationReport(confusion: matrix, classNames: ["a", "b"])
        #expect(report.classes.map(\.name) == ["a", "b", "2"])  // a missing name is the index
        #expect(report.classes.map(\.precision) == [0.6, 0, 0])
        #expect(report.classes.map(\.recall) == [1, 0, 0])
        #expect(report.classes.map(\.f1) == [0.75, 0, 0])
        Self.expectClose(report.macroAverage.f1, 0.75 / 3, "macro f1 over three classes")
        Self.expectClose(report.weightedAverage.f1, 0.75 * 3 / 5, "weighted f1")
        let empty = ClassificationReport(confusion: ConfusionMatrix(classCount: 2), classNames: ["a", "b"])
        #expect(empty.accuracy == 0 && empty.weightedAverage.f1 == 0 && empty.macroAverage.precision == 0)
        #expect(empty.balancedAccuracy == 0)
    }

    @Test func balancedAccuracyIsScikitLearnsMeanRecallOverPresentClasses() throws {
        // balanced_accuracy_score(y_true, y_pred) for the 24 rows above: recalls 5/8, 6/10, 4/6, mean 0.63056.
        let (labels, predictions) = Self.pairs(Self.counts)
        let matrix = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: 3)
        let report = ClassificationReport(confusion: matrix, classNames: ["cat", "dog", "bird"])
        Self.expectClose(report.balancedAccuracy, (5.0 / 8 + 0.6 + 4.0 / 6) / 3, "balanced accuracy")
        // scikit-learn's docstring: y_true [0, 1, 0, 0, 1, 0], y_pred [0, 1, 0, 0, 0, 1] → 0.625. A class
        // with no true rows (class 2, only predicted) is left out, not counted as recall 0.
        let docstring = try ConfusionMatrix(labels: [0, 1, 0, 0, 1, 0], predictions: [0, 1, 0, 0, 0, 1], classCount: 3)
        let docReport = ClassificationReport(confusion: docstring, classNames: ["a", "b", "c"])
        #expect(docReport.balancedAccuracy == 0.625)
        let predictedOnly = try ConfusionMatrix(labels: [0, 1, 0, 0, 1, 0], predictions: [2, 1, 0, 0, 0, 1], classCount: 3)
        Self.expectClose(ClassificationReport(confusion: predictedOnly, classNames: []).balancedAccuracy,
                         (2.0 / 4 + 1.0 / 2) / 2, "mean of two recalls")
    }

    @Test func logitsPredictTheFirstLargestColumn() throws {
        // Rows: argmax 2; a tie between columns 0 and 1 goes to 0; argmax 1.
        let logits: [Float] = [0.1, 0.2, 0.9, 3, 3, 1, -1, 0, -2]
        let matrix = try ConfusionMatrix(logits: logits, labels: [2, 1, 1], classCount: 3)
        #expect(matrix.counts == [[0, 0, 0], [1, 1, 0], [0, 0, 1]])
        #expect(ConfusionMatrix.prediction([Float.nan, 1, 2][...]) == 0)  // as the loss's scan does
        #expect(ConfusionMatrix.prediction([1, Float.nan, 2][...]) == 2)
    }

    @Test func badShapesAndLabelsAreRefusedNotTrapped() {
        #expect(throws: NNTrainError.self) { try ConfusionMatrix(labels: [0, 1], predictions: [0], classCount: 2) }
        #expect(throws: NNTrainError.self) { try ConfusionMatrix(labels: [0, 2], predictions: [0, 1], classCount: 2) }
        #expect(throws: NNTrainError.self) { try ConfusionMatrix(logits: [1, 2, 3], labels: [0, 1], classCount: 2) }
        #expect(throws: NNTrainError.self) { try TopKAccuracy.hits(logits: [1, 2], labels: [-1], classCount: 2, k: 1) }
        #expect(throws: NNTrainError.self) { try TopKAccuracy.hits(logits: [1, 2], labels: [0], classCount: 2, k: 0) }
    }

    @Test func topKCountsTiesInTheTrueClassFavour() throws {
        // Row 0: label 1 (0.5); only 0.9 is larger: rank 2.
        // Row 1: all equal, label 2: nothing is strictly larger: a hit for k = 1 (arg-max says class 0).
        // Row 2: label 2 (value 2, tied with class 1); only 3 is larger: rank 2.
        // Row 3: label 1 (−1); 0, 5 and 4 are larger: rank 4.
        let logits: [Float] = [0.1, 0.5, 0.2, 0.9,
                               1, 1, 1, 1,
                               3, 2, 2, 1,
                               0, -1, 5, 4]
        let labels: [Int32] = [1, 2, 2, 1]
        let accuracies = try (1...4).map { try TopKAccuracy.accuracy(logits: logits, labels: labels, classCount: 4, k: $0) }
        #expect(accuracies == [0.25, 0.75, 0.75, 1])
        // The arg-max gets none of the four right.
        #expect(try ConfusionMatrix(logits: logits, labels: labels, classCount: 4).accuracy == 0)
        // A NaN true-class logit is a miss; a NaN elsewhere is not larger than anything.
        #expect(!TopKAccuracy.contains([Float.nan, 1, 2][...], label: 0, k: 3))
        #expect(TopKAccuracy.contains([1, Float.nan, 0][...], label: 0, k: 1))
        let report = try ClassificationReport(logits: logits, labels: labels, classNames: ["a", "b", "c", "d"], topK: [1, 3])
        #expect(report.topK == [.init(k: 1, accuracy: 0.25), .init(k: 3, accuracy: 0.75)])
    }

    @Test func theTableIsScikitLearnsClassificationReport() throws {
        let (labels, predictions) = Self.pairs(Self.counts)
        var report = ClassificationReport(
            confusion: try ConfusionMatrix(labels: labels, predictions: predictions, classCount: 3),
            classNames: ["cat", "dog", "bird"])
        // As sklearn.metrics.classification_report(..., digits=2) prints it (0.625 rounds half to even: 0.62).
        #expect(report.table(digits: 2) == """
                          precision    recall  f1-score   support

                     cat       0.83      0.62      0.71         8
                     dog       0.60      0.60      0.60        10
                    bird       0.50      0.67      0.57         6

                accuracy                           0.62        24
               macro avg       0.64      0.63      0.63        24
            weighted avg       0.65      0.62      0.63        24

            """)
        // Top-k rows follow in the accuracy row's layout; the names column widens to hold them.
        report.topK = [.init(k: 2, accuracy: 0.875)]
        let lines = report.table(digits: 2).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[lines.count - 2] == "top-2 accuracy                           0.88        24")
        #expect(lines[2] == "           cat       0.83      0.62      0.71         8")
    }

    @Test func csvAndJSONCarryThePerClassFigures() throws {
        let matrix = try ConfusionMatrix(labels: [0, 0, 1], predictions: [0, 1, 1], classCount: 2)
        let report = ClassificationReport(confusion: matrix, classNames: ["T-shirt/top & <\"odd\">", "b,c"])
        // Class 0: TP 1, FN 1: P = 1, R = 0.5, F1 = 2/3. Class 1: TP 1, FP 1: P = 0.5, R = 1, F1 = 2/3.
        #expect(report.csv() == """
            class,precision,recall,f1,support
            "T-shirt/top & <""odd"">",1.0,0.5,\(2.0 / 3),2
            "b,c",0.5,1.0,\(2.0 / 3),1

            """)
        let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        #expect(Set(object.keys) == ["accuracy", "balanced_accuracy", "classes", "confusion_matrix", "macro_average", "rows",
                                     "top_k", "weighted_average"])
        #expect(object["balanced_accuracy"] as? Double == 0.75)  // recalls 1/2 and 1/1
        #expect(object["confusion_matrix"] as? [[Int]] == [[1, 1], [0, 1]])
        let first = try #require((object["classes"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "T-shirt/top & <\"odd\">" && first["recall"] as? Double == 0.5)
    }

    @Test func regressionFiguresByHand() throws {
        // Errors y − ŷ: −1, 0, 2, −1. MSE = (1 + 0 + 4 + 1)/4 = 1.5; RMSE = √1.5; MAE = 4/4 = 1.
        // ȳ = 20/4 = 5, SS_tot = 16 + 1 + 4 + 9 = 30, SS_res = 6: R² = 1 − 6/30 = 0.8.
        let report = try RegressionReport(predictions: [2, 4, 5, 9] as [Float], targets: [1, 4, 7, 8])
        #expect(report.rows == 4)
        #expect(report.meanSquaredError == 1.5)
        #expect(report.rootMeanSquaredError == 1.5.squareRoot())
        #expect(report.meanAbsoluteError == 1)
        Self.expectClose(report.r2, 0.8, "r2")
        #expect(report.table(digits: 3) == "rows  4\nmse   1.500\nrmse  1.225\nmae   1.000\nr2    0.800\n")
        let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        #expect(Set(object.keys) == ["rows", "mse", "rmse", "mae", "r2"])
    }

    @Test func regressionEdgeCasesFollowR2Score() throws {
        // Constant targets: SS_tot = 0, so R² is 1 for perfect predictions and 0 otherwise (force_finite).
        #expect(try RegressionReport(predictions: [3, 3] as [Double], targets: [3, 3]).r2 == 1)
        #expect(try RegressionReport(predictions: [3, 4] as [Double], targets: [3, 3]).r2 == 0)
        // One row: R² is undefined.
        let one = try RegressionReport(predictions: [1] as [Double], targets: [2])
        #expect(one.r2.isNaN && one.meanAbsoluteError == 1)
        #expect(String(decoding: try one.json(), as: UTF8.self).contains("\"r2\" : \"nan\""))
        #expect(throws: NNTrainError.self) { try RegressionReport(predictions: [1, 2] as [Double], targets: [1]) }
        #expect(throws: NNTrainError.self) { try RegressionReport(predictions: [] as [Double], targets: []) }
    }
}
