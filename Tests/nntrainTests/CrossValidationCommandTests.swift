import Foundation
import NNTrain
import Testing

/// `nntrain cv`: K fold folders, cv.csv and cv.json equal to what the folders say, the ensemble of
/// the fold models equal to `nntrain eval`'s, --fold, a restart that runs only what is unfinished,
/// --status, refusals.
@Suite struct CrossValidationCommandTests {
    /// A folder with a CSV of 60 rows in 3 classes (two numeric features) and c.yaml training on it
    /// for 2 epochs, writing to `cvrun`.
    static func folder() throws -> URL {
        let directory = try CommandLineTests.temporaryDirectory()
        var csv = "x1,x2,label\n"
        for i in 0..<60 {
            let c = i % 3, wobble = Double((i * 37) % 11) / 10 - 0.5
            csv += "\(Double(c) + wobble),\(Double(-c) + wobble * wobble),\(["a", "b", "c"][c])\n"
        }
        try CommandLineTests.write(csv, to: "d.csv", in: directory)
        try CommandLineTests.write("""
            data: {dataset: csv, path: d.csv, target: label}
            model: {hidden: [4]}
            training: {epochs: 2, batch_size: 16}
            output: {dir: cvrun}
            """, to: "c.yaml", in: directory)
        return directory
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The row cv.csv must have for fold k, from its folder: the epoch of the lowest val_loss in
    /// metrics.csv with its val_loss and val_acc, summary.json's test loss and accuracy.
    static func expectedRow(_ fold: URL, _ k: Int) throws -> (row: [String], values: [Double]) {
        let metrics = try lines(fold.appendingPathComponent("metrics.csv")).map { $0.split(separator: ",").map(String.init) }
        let header = try #require(metrics.first)
        let loss = try #require(header.firstIndex(of: "val_loss")), acc = try #require(header.firstIndex(of: "val_acc"))
        let best = try #require(metrics.dropFirst().min { Double($0[loss])! < Double($1[loss])! })
        // RunSummary's decoder, not JSONSerialization, whose numbers may lose their last bits.
        let summary = try RunSummary.decode(Data(contentsOf: fold.appendingPathComponent("summary.json")))
        let testLoss = try #require(summary.test?.loss), testAcc = try #require(summary.test?.accuracy)
        let values = [Double(best[loss])!, Double(best[acc])!, testLoss, testAcc]
        return (["\(k)", best[0]] + values.map { "\($0)" }, values)
    }

    @Test func everyFoldRunsAndTheReportIsTheFoldersOwn() throws {
        let directory = try Self.folder()
        let result = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--jobs", "2", "--ensemble"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let run = directory.appendingPathComponent("cvrun")
        var values: [[Double]] = []
        let rows = try Self.lines(run.appendingPathComponent("cv.csv"))
        #expect(rows.first == "fold,best_epoch,val_loss,val_acc,test_loss,test_acc,seconds,status")
        for k in 1...3 {
            let fold = run.appendingPathComponent("fold-\(k)")
            // A normal run of the config with data.folds=3 and data.fold=k.
            let config = try Configuration.load(path: fold.appendingPathComponent("config.yaml").path)
            #expect(config.data.folds == 3 && config.data.fold == k && config.output.dir == "cvrun/fold-\(k)")
            let (row, figures) = try Self.expectedRow(fold, k)
            let fields = rows[k].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(Array(fields.prefix(6)) == row && fields.last == "finished")
            values.append(figures)
        }
        // cv.json: each figure's mean and population std (ddof 0) over the three folds, computed here.
        let report = try Self.json(run.appendingPathComponent("cv.json"))
        let figures = try #require(report["figures"] as? [String: [String: Any]])
        for (index, name) in ["val_loss", "val_acc", "test_loss", "test_acc"].enumerated() {
            let column = values.map { $0[index] }
            let mean = column.reduce(0, +) / 3
            let std = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
            let figure = try #require(figures[name])
            #expect(abs(try #require(figure["mean"] as? Double) - mean) < 1e-12, "\(name)")
            #expect(abs(try #require(figure["std"] as? Double) - std) < 1e-12, "\(name)")
        }
        #expect(report["k"] as? Int == 3 && report["seed"] as? Int == 42 && report["std_ddof"] as? Int == 0)
        // --ensemble: the figures of `nntrain eval fold-1 ... fold-3` on the test split.
        let checkpoints = (1...3).map { "cvrun/fold-\($0)/checkpoints/last.bin" }
        let eval = try CommandLineTests.run(["eval"] + checkpoints + ["--json"], in: directory)
        #expect(eval.status == 0, "\(eval.standardError)")
        let evaluation = try #require(try JSONSerialization.jsonObject(with: Data(eval.standardOutput.utf8)) as? [String: Any])
        let ensemble = try #require(evaluation["ensemble"] as? [String: Any])
        let accuracy = try #require((ensemble["classification"] as? [String: Any])?["accuracy"] as? Double)
        let cvEnsemble = try #require(report["ensemble"] as? [String: Any])
        let cvTest = try #require(cvEnsemble["test"] as? [String: Any])
        #expect(cvTest["accuracy"] as? Double == accuracy && cvTest["loss"] as? Double == ensemble["loss"] as? Double)
        // Each member's own test figure beside it: its fold's summary.json.
        let members = try #require(cvEnsemble["members"] as? [[String: Any]])
        let memberAccuracies = members.compactMap { ($0["test"] as? [String: Any])?["accuracy"] as? Double }
        #expect(memberAccuracies.count == 3 && zip(memberAccuracies, values).allSatisfy { abs($0 - $1[3]) < 1e-12 })
        let summary = String(format: "cv: 3 folds, val_acc %.4f ± ", try #require(figures["val_acc"]?["mean"] as? Double))
        #expect(result.standardError.contains(summary)
            && result.standardError.contains(String(format: "; ensemble test_acc %.4f", accuracy)))
    }

    /// --fold 2 runs fold 2 alone; --status reads the folders; a later cv runs the rest, and a fold
    /// whose summary.json is gone (a run killed before it) resumes from its checkpoint, its metrics
    /// kept; a finished fold is not run again.
    @Test func oneFoldThenTheRestAndARestartRunsOnlyWhatIsUnfinished() throws {
        let directory = try Self.folder()
        let one = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--fold", "2"], in: directory)
        #expect(one.status == 0, "\(one.standardError)")
        let run = directory.appendingPathComponent("cvrun")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix("fold-") } == ["fold-2"])
        var rows = try Self.lines(run.appendingPathComponent("cv.csv"))
        #expect(rows[1] == "1,,,,,,,unfinished" && rows[2].hasSuffix(",finished") && rows[3] == "3,,,,,,,unfinished")
        let status = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--status"], in: directory)
        #expect(status.status == 0)
        let lines = status.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0] == "fold-1  unfinished  not started"
            && lines[1].hasPrefix("fold-2  finished best_epoch ") && lines[1].hasSuffix("  completed"))

        let all = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3"], in: directory)
        #expect(all.status == 0 && all.standardError.contains("3 folds in cvrun, 2 to run"), "\(all.standardError)")
        #expect(!all.standardError.contains("fold-2: started"))
        let fold1 = run.appendingPathComponent("fold-1")
        let metrics = try Data(contentsOf: fold1.appendingPathComponent("metrics.csv"))
        try FileManager.default.removeItem(at: fold1.appendingPathComponent("summary.json"))
        let again = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3"], in: directory)
        #expect(again.status == 0 && again.standardError.contains("1 to run"), "\(again.standardError)")
        #expect(again.standardError.contains("fold-1: started") && !again.standardError.contains("fold-3: started"))
        #expect(try Data(contentsOf: fold1.appendingPathComponent("metrics.csv")) == metrics)
        rows = try Self.lines(run.appendingPathComponent("cv.csv"))
        #expect(rows.dropFirst().allSatisfy { $0.hasSuffix(",finished") })
        // Other --set values make the folders another cross-validation's: changed, exit 78.
        let changed = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--set", "optimizer.lr=0.5"], in: directory)
        #expect(changed.status == 78 && changed.standardError.contains("3 changed"))
        let states = try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--set", "optimizer.lr=0.5", "--status"],
                                              in: directory)
        #expect(states.standardOutput.hasPrefix("fold-1  changed  the folder holds another cross-validation's fold "
            + "(data.validation_split=null data.folds=3 data.fold=1): --set or --folds changed; move or delete the folder "
            + "to run this one\n"))
    }

    /// SIGTERM while the folds train (8000 epochs of 48 rows, a few seconds): they checkpoint and stop,
    /// cv writes cv.csv (both unfinished) and exits 130, naming the command that resumes them; started
    /// again, the folds resume and finish.
    @Test func anInterruptedCrossValidationResumes() throws {
        let directory = try Self.folder()
        try CommandLineTests.write("""
            data: {dataset: csv, path: d.csv, target: label}
            model: {hidden: [4]}
            training: {epochs: 8000, batch_size: 16}
            early_stopping: {patience: 100000}
            checkpoint: {every_n_epochs: 100000}
            output: {dir: cvrun}
            """, to: "long.yaml", in: directory)
        let process = CommandLineTests.process(["cv", "long.yaml", "--folds", "2", "--jobs", "2"], in: directory)
        let log = directory.appendingPathComponent("cv.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Once both folds have finished an epoch (their signal handlers are in place), SIGTERM.
        let metrics = (1...2).map { directory.appendingPathComponent("cvrun/fold-\($0)/metrics.csv").path }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning, !metrics.allSatisfy({
            (try? String(contentsOfFile: $0, encoding: .utf8))?.contains("\n1,") == true
        }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        // As Slurm's time limit does, fold 1's run gets the SIGTERM too (its PID is in its lock file):
        // cv must not pass it a second one, which would stop it at once without its checkpoint.
        let lock = try String(contentsOf: directory.appendingPathComponent("cvrun/fold-1/.lock"), encoding: .utf8)
        let child = try #require(Int32(lock.trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(child, SIGTERM)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationStatus == 130, "\(text)")
        let foldLog = try String(contentsOf: directory.appendingPathComponent("cvrun/fold-1/stderr.log"), encoding: .utf8)
        #expect(foldLog.contains("stopping after this step") && !foldLog.contains("interrupted again"), "\(foldLog)")
        let checkpoint = directory.appendingPathComponent("cvrun/fold-1/checkpoints/last.bin")
        #expect(FileManager.default.fileExists(atPath: checkpoint.path))
        #expect(text.contains("interrupted: the unfinished folds resume when cv is started again: "
            + "nntrain cv long.yaml --folds 2"))
        let rows = try Self.lines(directory.appendingPathComponent("cvrun/cv.csv"))
        #expect(rows.dropFirst() == ["1,,,,,,,unfinished", "2,,,,,,,unfinished"])
        let again = try CommandLineTests.run(["cv", "long.yaml", "--folds", "2", "--jobs", "2"], in: directory)
        #expect(again.status == 0 && again.standardError.contains("2 folds in cvrun, 2 to run"), "\(again.standardError)")
        for k in 1...2 {
            let path = directory.appendingPathComponent("cvrun/fold-\(k)/summary.json")
            let summary = try RunSummary.decode(Data(contentsOf: path))
            #expect(summary.resumedFrom != nil && summary.ended == "completed" && summary.epochsCompleted == 8000)
        }
    }

    /// A CSV with a missing value and `missing: impute`: each fold fills it with its own training rows'
    /// mean, so the fold models encode the column differently. The ensemble still evaluates: each
    /// member encodes the test rows with its own schema, and its figures are those of `nntrain eval`
    /// of it alone.
    @Test func anEnsembleOfFoldsThatEncodeDifferentlyEncodesWithEachMembersOwn() throws {
        let directory = try Self.folder()
        let csv = try String(contentsOf: directory.appendingPathComponent("d.csv"), encoding: .utf8)
        var lines = csv.split(separator: "\n").map(String.init)
        for row in stride(from: 2, through: 60, by: 4) {  // NA in x1 on every fourth row: test rows and folds have some
            lines[row] = "NA," + lines[row].split(separator: ",").dropFirst().joined(separator: ",")
        }
        try CommandLineTests.write(lines.joined(separator: "\n") + "\n", to: "d.csv", in: directory)
        try CommandLineTests.write("""
            data: {dataset: csv, path: d.csv, target: label, missing: impute}
            model: {hidden: [4]}
            training: {epochs: 1}
            output: {dir: cvrun}
            """, to: "i.yaml", in: directory)
        let result = try CommandLineTests.run(["cv", "i.yaml", "--folds", "2", "--ensemble"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let checkpoints = (1...2).map { "cvrun/fold-\($0)/checkpoints/last.bin" }
        let inspected = try checkpoints.map { try CommandLineTests.run(["inspect", $0, "--json"], in: directory).standardOutput }
        #expect(inspected[0] != inspected[1] && inspected.allSatisfy { $0.contains("x1") })
        let together = try Self.evalJSON(checkpoints, in: directory)
        let members = try #require(together["members"] as? [[String: Any]])
        for (index, checkpoint) in checkpoints.enumerated() {
            let alone = try Self.evalJSON([checkpoint], in: directory)
            #expect(members[index]["loss"] as? Double == alone["loss"] as? Double, "\(checkpoint)")
        }
        let report = try Self.json(directory.appendingPathComponent("cvrun/cv.json"))
        #expect(report["ensemble"] != nil && report["ensemble_error"] == nil)
    }

    /// `nntrain eval CHECKPOINTS --json`, parsed.
    static func evalJSON(_ checkpoints: [String], in directory: URL) throws -> [String: Any] {
        let result = try CommandLineTests.run(["eval"] + checkpoints + ["--json"], in: directory)
        try #require(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    @Test func refusals() throws {
        let directory = try Self.folder()
        CommandLineTests.expectFailure(try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--set", "data.fold=1"],
                                                                in: directory), status: 64,
                                       message: "--set data.fold=1: nntrain cv sets data.fold of each fold itself; expected "
                                           + "--folds K (and --fold k to run one fold) (see 'nntrain cv --help')")
        #expect(try CommandLineTests.run(["cv", "c.yaml", "--folds", "1"], in: directory).status == 64)
        #expect(try CommandLineTests.run(["cv", "c.yaml", "--folds", "3", "--fold", "4"], in: directory).status == 64)
        try CommandLineTests.write("data: {dataset: csv, path: d.csv, target: label,\n  validation_split: 0.2}\n"
                                       + "training: {epochs: 2}\n",
                                   to: "v.yaml", in: directory)
        // A config's own validation_split gives way to the folds (nntrain cv unsets it); nntrain run refuses both.
        #expect(try CommandLineTests.run(["cv", "v.yaml", "--folds", "3", "--fold", "1"], in: directory).status == 0)
        let metrics = try Self.lines(directory.appendingPathComponent("runs/v/fold-1/metrics.csv"))
        let valLoss = try #require(metrics.first?.split(separator: ",").firstIndex(of: "val_loss"))
        #expect(metrics.count == 3 && metrics.dropFirst().allSatisfy { Double($0.split(separator: ",")[valLoss]) != nil })
        let config = try String(contentsOf: directory.appendingPathComponent("runs/v/fold-1/config.yaml"), encoding: .utf8)
        #expect(config.contains("  folds: 3") && config.contains("  fold: 1") && !config.contains("\n  validation_split: "))
        let both = ["run", "v.yaml", "--set", "data.folds=3", "--set", "data.fold=1"]
        CommandLineTests.expectFailure(try CommandLineTests.run(both, in: directory), status: 78,
                                       message: "v.yaml:2: data.validation_split: given together with data.folds, whose fold "
                                           + "data.fold is the validation split; expected one of the two "
                                           + "(nntrain cv unsets it itself)")
        // More folds than training rows: the fold's run fails with the one line, the others run.
        let many = try CommandLineTests.run(["cv", "c.yaml", "--folds", "49", "--fold", "1"], in: directory)
        #expect(many.status == 78)
        let error = try String(contentsOf: directory.appendingPathComponent("cvrun/fold-1/error.txt"), encoding: .utf8)
        #expect(error.contains("data.folds: 49 folds of the 48 training rows of d.csv leave a fold empty; expected at most 48"))
    }
}
