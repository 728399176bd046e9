import ArgumentParser
import NNTrain

/// `nntrain data ...`: make datasets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Make datasets.", subcommands: [Bonus.self])

    /// `nntrain data bonus`: the synthetic employee-bonus regression dataset.
    struct Bonus: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the synthetic employee-bonus CSV and, beside it, its true weights (.weights.json).")

        @Option(help: "Number of employees (rows).")
        var rows = 10_000

        @Option(help: "Seed of the generator; the same seed writes the same file.")
        var seed: UInt64 = 42

        @Option(help: "The CSV file to write.", completion: .csvFile)
        var out = "data/bonus.csv"

        func validate() throws {
            guard (1...10_000_000).contains(rows) else {
                throw ValidationError("--rows must be between 1 and 10000000, got \(rows)")
            }
        }

        func run() throws {
            let truth = try BonusData.write(rows: rows, seed: seed, to: out)
            print("wrote \(rows) rows to \(out) (true weights: \(BonusData.truthPath(forCSV: out)), bias \(truth.bias))")
        }
    }
}
