import Foundation

/// The figures of a one-output regression, as scikit-learn's metrics compute them
/// (https://scikit-learn.org/stable/modules/model_evaluation.html#regression-metrics), in double
/// precision over n rows with predictions ŷᵢ and targets yᵢ:
///
///     MSE  = Σ (yᵢ − ŷᵢ)² / n                       mean_squared_error
///     RMSE = √MSE                                   root_mean_squared_error
///     MAE  = Σ |yᵢ − ŷᵢ| / n                        mean_absolute_error
///     R²   = 1 − SS_res / SS_tot,  SS_res = Σ (yᵢ − ŷᵢ)²,  SS_tot = Σ (yᵢ − ȳ)²    r2_score
///
/// As r2_score with its default `force_finite=True`: when the targets are all equal (SS_tot = 0),
/// R² is 1 for perfect predictions and 0 otherwise; with fewer than two rows R² is not defined and
/// is NaN (written `nan` in JSON). SS_tot is summed about the mean in a second pass, not as
/// Σy² − (Σy)²/n, which loses digits when the mean is large against the spread.
public struct RegressionReport: Codable, Equatable, Sendable {
    public var rows: Int
    public var meanSquaredError: Double
    public var rootMeanSquaredError: Double
    public var meanAbsoluteError: Double
    public var r2: Double

    enum CodingKeys: String, CodingKey {
        case rows
        case meanSquaredError = "mse"
        case rootMeanSquaredError = "rmse"
        case meanAbsoluteError = "mae"
        case r2
    }

    /// The figures of `predictions` against `targets`, row by row; at least one row, as many of each.
    public init<T: BinaryFloatingPoint>(predictions: [T], targets: [T]) throws(NNTrainError) {
        guard predictions.count == targets.count, !targets.isEmpty else {
            throw NNTrainError(.internal,
                "regression report: \(predictions.count) predictions for \(targets.count) targets; "
                    + "expected as many, at least one")
        }
        let n = Double(targets.count)
        var squared = 0.0, absolute = 0.0, sum = 0.0
        for (prediction, target) in zip(predictions, targets) {
            let error = Double(target) - Double(prediction)
            squared += error * error
            absolute += abs(error)
            sum += Double(target)
        }
        let mean = sum / n
        let total = targets.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        rows = targets.count
        meanSquaredError = squared / n
        rootMeanSquaredError = meanSquaredError.squareRoot()
        meanAbsoluteError = absolute / n
        if targets.count < 2 {
            r2 = .nan
        } else if total == 0 {
            r2 = squared == 0 ? 1 : 0
        } else {
            r2 = 1 - squared / total
        }
    }

    /// The JSON text (see ReportJSON: pretty, sorted snake_case keys, inf and nan as strings).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "regression report")
    }

    /// One figure a line, names padded to one width, numbers with `digits` decimals:
    ///
    ///     rows  200
    ///     mse   0.1250
    ///     rmse  0.3536
    ///     mae   0.2500
    ///     r2    0.9375
    public func table(digits: Int = 4) -> String {
        let figures = [("mse", meanSquaredError), ("rmse", rootMeanSquaredError), ("mae", meanAbsoluteError), ("r2", r2)]
        return "rows  \(rows)\n" + figures.map { name, value in
            name.padding(toLength: 6, withPad: " ", startingAt: 0) + String(format: "%.\(digits)f", value) + "\n"
        }.joined()
    }
}
