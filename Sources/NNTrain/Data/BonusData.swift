import Foundation

/// The true parameters behind a generated bonus dataset, stored beside its CSV file as
/// `<name>.weights.json`, so a trained linear model can be compared with them.
public struct BonusTruth: Codable, Equatable, Sendable {
    /// True weight of each feature, by column name (thousands per unit of the feature).
    public var weights: [String: Double]
    public var bias: Double
    /// Standard deviation σ of the Gaussian noise added to each bonus.
    public var noiseStd: Double
    public var rows: Int
    public var seed: UInt64

    public init(weights: [String: Double], bias: Double, noiseStd: Double, rows: Int, seed: UInt64) {
        self.weights = weights
        self.bias = bias
        self.noiseStd = noiseStd
        self.rows = rows
        self.seed = seed
    }

    /// The true weight of the feature column `name`, if it has one.
    public func weight(named name: String) -> Double? { weights[name] }

    /// The truth beside the CSV at `csvPath` (`BonusData.truthPath(forCSV:)`), nil when there is
    /// none; one that does not give a weight for exactly the feature columns `features` is refused.
    static func read(besideCSV csvPath: String, features: [String]) throws(NNTrainError) -> BonusTruth? {
        let truthFile = BonusData.truthPath(forCSV: csvPath)
        guard FileManager.default.fileExists(atPath: truthFile) else { return nil }
        let bytes = try InputFile.readAll(path: truthFile, expected: "the weights file of \(csvPath)")
        let truth: BonusTruth
        do {
            truth = try JSONDecoder().decode(BonusTruth.self, from: Data(bytes))
        } catch {
            throw .data(truthFile,
                        "not a weights file (\(ReportJSON.describe(error))); expected the JSON written by nntrain data bonus")
        }
        guard Set(truth.weights.keys) == Set(features) else {
            throw .data(truthFile, "weights are given for \(truth.weights.keys.sorted().joined(separator: ", ")); "
                + "expected \(features.joined(separator: ", "))")
        }
        return truth
    }
}

/// A synthetic regression dataset with known weights: the yearly bonus of an employee, in thousands,
/// as a linear function of five features plus Gaussian noise,
///
///     bonus = 0.5 years_experience + 1.2 performance_rating + 0.3 projects_completed
///           + 0.02 overtime_hours + 0.05 training_hours + 5.0 + ε,   ε ~ N(0, 0.5²)
///
/// with years_experience ~ U[0, 30), performance_rating uniform on the integers 1...5,
/// projects_completed uniform on 0...20, overtime_hours ~ U[0, 200), training_hours ~ U[0, 80).
///
/// The weights can be recovered from 10,000 rows: ordinary least squares has standard error
/// σ / (√n · sd(x_j)), which relative to w_j is largest for overtime_hours and training_hours,
/// 0.5 / (100 · 57.7) / 0.02 ≈ 0.43% and 0.5 / (100 · 23.1) / 0.05 ≈ 0.43%. The bias's standard
/// error, σ·√((XᵀX)⁻¹)₀₀ ≈ 0.025 on the 7,200 rows a run trains on (configs/bonus.txt holds out 20%
/// for test and 10% of the rest for validation), is why the bias is 5.0: relative to it that is 0.5%,
/// like the weights' 0.5% on 7,200 rows, so a 2% tolerance is four standard errors for every
/// coefficient and measures the optimizer rather than the sample.
///
/// CSV format: a header row, then one row per employee; the two integer features are written as
/// integers, the other numbers with exactly 4 decimals. Each bonus is computed from the features as
/// written, so the file matches the weights exactly up to the noise and the rounding of the bonus
/// (at most 0.00005, far below σ). Rows are drawn one after another from
/// `RandomGenerator(seed: seed, stream: BonusData.randomStream)` (five features, then the noise), so
/// the same seed gives byte-identical files and fewer rows give a prefix of more rows.
public enum BonusData {
    public static let featureNames = [
        "years_experience", "performance_rating", "projects_completed", "overtime_hours", "training_hours",
    ]
    public static let targetName = "bonus"
    /// The five numeric feature columns and the target, nothing missing allowed.
    public static let schema = TableSchema(
        columns: featureNames.map { TableSchema.Column(name: $0, encoding: .numeric(fill: nil)) }, target: targetName,
        task: .regression, missingValues: [])
    /// The true weights, in the order of `featureNames`.
    public static let trueWeights = [0.5, 1.2, 0.3, 0.02, 0.05]
    public static let trueBias = 5.0
    public static let noiseStd = 0.5
    /// The stream of the generator: the ASCII bytes of "bonus".
    public static let randomStream: UInt64 = 0x62_6F_6E_75_73
    /// Decimals written for the continuous features and the bonus.
    public static let decimals = 4

    /// How each feature, in the order of `featureNames`, is drawn.
    private enum Draw {
        case uniform(Double, Double)  // [low, high), written with `decimals` decimals
        case integer(Int, Int)  // low...high

        func next(_ generator: inout RandomGenerator) -> Double {
            switch self {
            case .uniform(let low, let high):
                BonusData.rounded(low + (high - low) * generator.nextUnitDouble())
            case .integer(let low, let high):
                Double(low + Int(generator.next(upperBound: UInt64(high - low + 1))))
            }
        }

        func text(_ value: Double) -> String {
            switch self {
            case .uniform: BonusData.fixed(value)
            case .integer: String(Int(value))
            }
        }
    }

    private static let draws: [Draw] = [.uniform(0, 30), .integer(1, 5), .integer(0, 20), .uniform(0, 200), .uniform(0, 80)]

    /// The CSV text of `rows` employees and the truth behind it.
    public static func generate(rows: Int, seed: UInt64) -> (csv: String, truth: BonusTruth) {
        precondition(rows >= 0, "BonusData.generate: negative row count")
        var generator = RandomGenerator(seed: seed, stream: randomStream)
        var csv = (featureNames + [targetName]).joined(separator: ",") + "\n"
        var fields: [String] = []
        for _ in 0..<rows {
            fields.removeAll(keepingCapacity: true)
            var bonus = trueBias
            for (draw, weight) in zip(draws, trueWeights) {
                let value = draw.next(&generator)
                bonus += weight * value
                fields.append(draw.text(value))
            }
            bonus += noiseStd * generator.nextGaussian()
            fields.append(fixed(bonus))
            csv += fields.joined(separator: ",")
            csv += "\n"
        }
        let truth = BonusTruth(
            weights: Dictionary(uniqueKeysWithValues: zip(featureNames, trueWeights)),
            bias: trueBias, noiseStd: noiseStd, rows: rows, seed: seed)
        return (csv, truth)
    }

    /// The file beside a CSV file that holds its truth: `data/bonus.csv` → `data/bonus.weights.json`.
    public static func truthPath(forCSV csvPath: String) -> String {
        (csvPath as NSString).deletingPathExtension + ".weights.json"
    }

    /// Generates `rows` employees and writes the CSV to `path` and the truth (pretty JSON, sorted
    /// keys) to `truthPath(forCSV: path)`, creating the folder if needed.
    @discardableResult
    public static func write(rows: Int, seed: UInt64, to path: String) throws(NNTrainError) -> BonusTruth {
        let (csv, truth) = generate(rows: rows, seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do {
            json = try encoder.encode(truth)
        } catch {
            throw NNTrainError(.internal, "\(truthPath(forCSV: path)): cannot encode the weights: \(error)")
        }
        try OutputFile.write(Array(csv.utf8), to: path)
        try OutputFile.write(Array(json) + Array("\n".utf8), to: truthPath(forCSV: path))
        return truth
    }

    /// The csv options of the preset `data.dataset: bonus`: the five numeric feature columns (others
    /// are ignored), the target `bonus`, regression, no text taken for missing (an empty field, `NA`
    /// or any other text is refused as not a number), with the given splits.
    static func options(testSplit: Double, validationSplit: Double) -> CSVDataset.Options {
        CSVDataset.Options(target: targetName, task: .regression, features: featureNames, missingValues: [],
                           missing: .refuse, testSplit: testSplit, validationSplit: validationSplit, describesItself: false,
                           textIsCategorical: false)
    }

    /// Reads a bonus CSV whole, as the preset reads it (`options`, nothing held out), and the truth
    /// beside it (`BonusTruth.read`).
    public static func load(path: String) throws(NNTrainError) -> (dataset: Dataset, truth: BonusTruth?) {
        let loaded = try CSVDataset.load(path: path, options: options(testSplit: 0, validationSplit: 0), seed: 0,
                                         trained: nil, name: DatasetKind.bonus.rawValue) { key, message in
            NNTrainError(.config, "\(key): \(message)")
        }
        return (loaded.trainAll, loaded.bonusTruth)
    }

    /// `value` rounded to `decimals` decimals.
    static func rounded(_ value: Double) -> Double {
        let factor = pow(10, Double(decimals))
        return (value * factor).rounded() / factor
    }

    /// `value` with exactly `decimals` decimals, without locale or `printf`: "12.3400", "-0.5000".
    static func fixed(_ value: Double) -> String {
        let factor = Int(pow(10, Double(decimals)))
        let units = Int((value * Double(factor)).rounded())
        let fraction = String(units.magnitude % UInt(factor))
        let sign = units < 0 ? "-" : ""
        return "\(sign)\(units.magnitude / UInt(factor)).\(String(repeating: "0", count: decimals - fraction.count))\(fraction)"
    }
}
