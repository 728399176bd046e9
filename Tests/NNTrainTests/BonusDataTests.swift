import Foundation
import Testing

@testable import NNTrain

@Suite struct BonusDataTests {
    /// Fixture files of one test; a suite instance lives exactly as long as its test.
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    @Test func theSameSeedGivesTheSameFileAndAnotherSeedAnother() {
        let first = BonusData.generate(rows: 200, seed: 42).csv
        #expect(BonusData.generate(rows: 200, seed: 42).csv == first)
        #expect(BonusData.generate(rows: 200, seed: 43).csv != first)
        // Rows are drawn one after another, so fewer rows are a prefix.
        #expect(first.hasPrefix(BonusData.generate(rows: 50, seed: 42).csv))
    }

    @Test func rowsHaveTheDocumentedColumnsFormatsAndRanges() throws {
        let lines = BonusData.generate(rows: 500, seed: 1).csv.split(separator: "\n")
        #expect(lines.first == "years_experience,performance_rating,projects_completed,overtime_hours,training_hours,bonus")
        #expect(lines.count == 501)
        let decimal = /-?\d+\.\d{4}/
        let integer = /\d+/
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",")
            try #require(fields.count == 6)
            for index in [0, 3, 4, 5] { #expect(fields[index].wholeMatch(of: decimal) != nil, "\(line)") }
            for index in [1, 2] { #expect(fields[index].wholeMatch(of: integer) != nil, "\(line)") }
            let values = fields.compactMap { Double($0) }
            try #require(values.count == 6)
            #expect((0..<30).contains(values[0]) && (1...5).contains(values[1]) && (0...20).contains(values[2]))
            #expect((0..<200).contains(values[3]) && (0..<80).contains(values[4]))
        }
    }

    @Test func writeAndLoadRoundTripWithTheTruthBeside() throws {
        let path = folder.file("sub/bonus.csv")  // the folder is created
        let truth = try BonusData.write(rows: 20, seed: 5, to: path)
        #expect(
            truth
                == BonusTruth(
                    weights: [
                        "years_experience": 0.5, "performance_rating": 1.2, "projects_completed": 0.3,
                        "overtime_hours": 0.02, "training_hours": 0.05,
                    ],
                    bias: 5, noiseStd: 0.5, rows: 20, seed: 5))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == BonusData.generate(rows: 20, seed: 5).csv)
        #expect(
            try String(contentsOfFile: folder.file("sub/bonus.weights.json"), encoding: .utf8) == """
                {
                  "bias" : 5,
                  "noiseStd" : 0.5,
                  "rows" : 20,
                  "seed" : 5,
                  "weights" : {
                    "overtime_hours" : 0.02,
                    "performance_rating" : 1.2,
                    "projects_completed" : 0.3,
                    "training_hours" : 0.05,
                    "years_experience" : 0.5
                  }
                }

                """)

        let (dataset, loadedTruth) = try BonusData.load(path: path)
        #expect(loadedTruth == truth)
        #expect(truth.weight(named: "overtime_hours") == 0.02 && truth.weight(named: "bonus") == nil)
        #expect(BonusData.truthPath(forCSV: path) == folder.file("sub/bonus.weights.json"))
        #expect(dataset.count == 20 && dataset.featureCount == 5)
        #expect(dataset.featureNames == BonusData.featureNames && dataset.targetName == "bonus" && dataset.classNames.isEmpty)
        // The first row as written, parsed back.
        let firstRow = BonusData.generate(rows: 1, seed: 5).csv.split(separator: "\n")[1].split(separator: ",")
            .compactMap { Float($0) }
        try #require(firstRow.count == 6)
        guard case .floats(let features) = dataset.features, case .values(let targets) = dataset.targets else {
            Issue.record("the bonus data must load as floats with value targets")
            return
        }
        #expect(Array(features.prefix(5)) == Array(firstRow.prefix(5)))
        #expect(targets.first == firstRow[5])
    }

    @Test func theTruthIsOptionalButMustBeValidWhenPresent() throws {
        let path = folder.file("bonus.csv")
        try folder.write(BonusData.generate(rows: 3, seed: 1).csv, to: "bonus.csv")
        #expect(try BonusData.load(path: path).truth == nil)

        let truthPath = try folder.write(#"{"bias": 2}"#, to: "bonus.weights.json")
        #expect(
            throws: NNTrainError.data(
                truthPath, "not a weights file (missing key 'weights'); expected the JSON written by nntrain data bonus")
        ) {
            try BonusData.load(path: path)
        }

        try folder.write(
            #"{"bias": 2, "noiseStd": 0.5, "rows": 3, "seed": 1, "weights": {"years_experience": 0.5, "age": 1}}"#,
            to: "bonus.weights.json")
        #expect(
            throws: NNTrainError.data(
                truthPath,
                "weights are given for age, years_experience; expected years_experience, performance_rating, "
                    + "projects_completed, overtime_hours, training_hours")
        ) {
            try BonusData.load(path: path)
        }
    }

    @Test func unwritablePaths() throws {
        let blocker = try folder.write("a file, not a folder", to: "file.txt")
        let underAFile = folder.file("file.txt/bonus.csv")
        #expect(throws: NNTrainError.cannotWrite(underAFile, "cannot create the folder \(blocker)")) {
            try BonusData.write(rows: 1, seed: 1, to: underAFile)
        }
        let aFolder = folder.file("taken.csv")
        try FileManager.default.createDirectory(atPath: aFolder, withIntermediateDirectories: false)
        #expect(throws: NNTrainError.cannotWrite(aFolder, "Is a directory")) {
            try BonusData.write(rows: 1, seed: 1, to: aFolder)
        }
        // Nothing half-written is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["file.txt", "taken.csv"])
    }

    /// The generator is honest: ordinary least squares on 10,000 generated rows, read back from the
    /// CSV file, recovers each true weight within 2% (over four standard errors, see `BonusData`)
    /// and the bias within 0.1 (about four standard errors).
    @Test func leastSquaresRecoversTheTrueWeights() throws {
        let path = folder.file("bonus.csv")
        try BonusData.write(rows: 10_000, seed: 42, to: path)
        let (dataset, truth) = try BonusData.load(path: path)
        let known = try #require(truth)
        guard case .floats(let features) = dataset.features, case .values(let targets) = dataset.targets else {
            Issue.record("the bonus data must load as floats with value targets")
            return
        }
        // Normal equations (XᵀX) β = Xᵀy with X = [features | 1], accumulated in Double.
        let width = dataset.featureCount + 1
        var gram = [[Double]](repeating: [Double](repeating: 0, count: width), count: width)
        var moment = [Double](repeating: 0, count: width)
        for row in 0..<dataset.count {
            let x = (0..<dataset.featureCount).map { Double(features[row * dataset.featureCount + $0]) } + [1]
            for i in 0..<width {
                moment[i] += x[i] * Double(targets[row])
                for j in 0..<width { gram[i][j] += x[i] * x[j] }
            }
        }
        let beta = try solve(gram, moment)
        for (index, name) in BonusData.featureNames.enumerated() {
            let trueWeight = try #require(known.weights[name])
            #expect(abs(beta[index] - trueWeight) <= 0.02 * trueWeight, "\(name): \(beta[index]) vs \(trueWeight)")
        }
        #expect(abs(beta[width - 1] - known.bias) <= 0.1, "bias: \(beta[width - 1]) vs \(known.bias)")
    }

    /// Solves a x = b by Gaussian elimination with partial pivoting.
    private func solve(_ a: [[Double]], _ b: [Double]) throws -> [Double] {
        var a = a
        var b = b
        let n = b.count
        for column in 0..<n {
            let pivot = try #require((column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) })
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            try #require(a[column][column] != 0)
            for row in (column + 1)..<n {
                let factor = a[row][column] / a[column][column]
                for k in column..<n { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            let rest = ((row + 1)..<n).reduce(0.0) { $0 + a[row][$1] * x[$1] }
            x[row] = (b[row] - rest) / a[row][row]
        }
        return x
    }
}
