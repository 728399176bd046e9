import Foundation
import Testing

/// `nntrain eval` and `nntrain lr-find` as a script sees them: figures, files, exit statuses.
@Suite struct EvalAndLRFindCommandTests {
    /// A folder with a linear bonus model trained for two epochs (runs/b).
    static func trainedBonus() throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: 1500, seed: 4, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize}
            model: {hidden: []}
            loss: mse
            optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
            training: {epochs: 2, batch_size: 32}
            """)
        let run = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        return directory
    }

    @Test func evalPrintsTheFiguresAsTablesOrJSON() throws {
        let directory = try Self.trainedBonus()
        let table = try CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin"], in: directory)
        #expect(table.status == 0, "\(table.standardError)")
        #expect(table.standardOutput
            .hasPrefix("runs/b/checkpoints/last.bin: 5-1 linear, test split of bonus (b.csv), 300 rows\n"))
        #expect(table.standardOutput.contains("\nr2    0.9"))
        #expect(table.standardOutput.contains("learned vs true weights (CSV units):\n  years_experience"))
        let json = try CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin", "--json", "--split", "train"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(object["split"] as? String == "train" && object["rows"] as? Int == 1080)
        #expect((object["regression"] as? [String: Any])?["r2"] is Double)
        #expect((object["weights"] as? [Any])?.count == 6)
        let plot = try CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin", "--plot", "c.svg"], in: directory)
        CommandLineTests.expectFailure(try CommandLineTests.run(["eval", "x.bin", "--top-k", "0"], in: directory), status: 64,
                                       message: "--top-k 0: expected an integer from 1 to the number of classes "
                                           + "(see 'nntrain eval --help')")
        let split = try CommandLineTests.run(["eval", "x.bin", "--split", "dev"], in: directory)
        #expect(split.status == 64 && split.standardError.hasPrefix("error: The value 'dev' is invalid for '--split <split>'"))
        #expect(split.standardError.filter { $0 == "\n" }.count == 1)
        CommandLineTests.expectFailure(plot, status: 64, message: "--csv and --plot draw the per-class table and confusion "
            + "matrix of a classifier; runs/b/checkpoints/last.bin is a regression model (see 'nntrain eval --help')")
    }

    @Test func evalRefusesMissingAndDamagedCheckpoints() throws {
        let directory = try Self.trainedBonus()
        CommandLineTests.expectFailure(try CommandLineTests.run(["eval", "none.bin"], in: directory), status: 66,
                                       message: "none.bin: no such file or folder (expected an nntrain checkpoint (.bin))")
        let bytes = try Data(contentsOf: directory.appendingPathComponent("runs/b/checkpoints/last.bin"))
        try bytes.prefix(bytes.count - 10).write(to: directory.appendingPathComponent("cut.bin"))
        let cut = try CommandLineTests.run(["eval", "cut.bin"], in: directory)
        #expect(cut.status == 65)
        #expect(cut.standardError.hasPrefix("error: cut.bin: ") && cut.standardError.filter { $0 == "\n" }.count == 1)
    }

    @Test func lrFindWritesItsCurveAndRecommendsARate() throws {
        let directory = try Self.trainedBonus()
        let result = try CommandLineTests.run(["lr-find", "b.txt", "--steps", "40", "--start", "1e-5", "--end", "1"],
                                              in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("lr-find: lr from 1e-05 towards 1, "))
        #expect(result.standardOutput.contains("\nrecommendation: optimizer.lr: "))
        #expect(result.standardOutput.hasSuffix("wrote runs/b/lr_find.csv, runs/b/lr_find.svg\n"))
        let csv = try String(contentsOf: directory.appendingPathComponent("runs/b/lr_find.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "lr,loss,smoothed_loss" && lines.count > 6 && lines.count <= 41)
        // The run's own files are left as they were: still two epochs of metrics.
        let metrics = try String(contentsOf: directory.appendingPathComponent("runs/b/metrics.csv"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 3)
        let json = try CommandLineTests.run(["lr-find", "b.txt", "--steps", "10", "--json", "--out", "elsewhere"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect((object["points"] as? [Any])?.isEmpty == false)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("elsewhere/lr_find.svg").path))
        CommandLineTests.expectFailure(try CommandLineTests.run(["lr-find", "b.txt", "--steps", "3"], in: directory),
                                       status: 64,
                                       message: "lr-find: 3 steps; expected at least 6 (see 'nntrain lr-find --help')")
        CommandLineTests.expectFailure(try CommandLineTests.run(["lr-find", "b.txt", "--start=-1"], in: directory), status: 64,
                                       message: "lr-find: start lr -1.0 and end lr 10.0; expected 0 < start < end, both finite "
                                           + "(see 'nntrain lr-find --help')")
    }
}
