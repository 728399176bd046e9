import Foundation
import NNTrain
import Testing

/// `nntrain sweep`: trials as runs in their own folders, results.csv and best.yaml, a restart that
/// runs only what is unfinished, failed trials recorded, --list-trials, --trial, refusals.
@Suite struct SweepCommandTests {
    /// A folder with bonus data (b.csv), the base config b.txt and a sweep over the lr (grid) and
    /// dropout (random, 2 draws): 4 trials of 3 epochs.
    static func sweepFolder(extraGrid: String = "") throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: 300, seed: 1, config: """
            data: {dataset: bonus, path: b.csv}
            loss: mse
            model: {hidden: [4]}
            training: {epochs: 3, batch_size: 50}
            """)
        try CommandLineTests.write("""
            base: b.txt
            output: sw
            grid:
              optimizer.lr: [0.01, 0.1]\(extraGrid)
            random:
              trials: 2
              seed: 3
              params:
                model.dropout: {uniform: [0.0, 0.3]}
            """, to: "s.yaml", in: directory)
        return directory
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func everyTrialRunsAndTheResultsRankThem() throws {
        let directory = try Self.sweepFolder()
        let result = try CommandLineTests.run(["sweep", "s.yaml", "--jobs", "2"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let spec = try SweepSpec.load(path: directory.appendingPathComponent("s.yaml").path)
        let trials = spec.trials()
        // Each trial is a normal run of the base with its overrides.
        for trial in trials {
            let config = try Configuration.load(path: directory.appendingPathComponent("sw/\(trial.folderName)/config.yaml").path)
            let expected = try Configuration.load(path: directory.appendingPathComponent("b.txt").path,
                                                  overrides: trial.arguments + ["output.dir=sw/\(trial.folderName)"])
            #expect(config.optimizer.lr == expected.optimizer.lr && config.model.dropout == expected.model.dropout)
        }
        // results.csv: ranked by the lowest validation loss of each trial's metrics.csv.
        let rows = try Self.lines(directory.appendingPathComponent("sw/results.csv"))
        #expect(rows.first == "trial,optimizer.lr,model.dropout,val_loss,best_epoch,seconds,status,note")
        var best: [(String, Double)] = []
        for trial in trials {
            let metrics = try Self.lines(directory.appendingPathComponent("sw/\(trial.folderName)/metrics.csv"))
            let column = try #require(metrics.first?.split(separator: ",").firstIndex(of: "val_loss"))
            let losses = metrics.dropFirst().compactMap { row in
                Double(row.split(separator: ",", omittingEmptySubsequences: false)[column])
            }
            best.append((trial.folderName, try #require(losses.min())))
        }
        let ranked = best.sorted { $0.1 < $1.1 }
        #expect(rows.dropFirst().map { String($0.prefix(10)) } == ranked.map(\.0))
        #expect(rows.dropFirst().allSatisfy { $0.hasSuffix(",finished,completed") })
        // best.yaml is the best trial's config.yaml.
        #expect(try Data(contentsOf: directory.appendingPathComponent("sw/best.yaml"))
            == Data(contentsOf: directory.appendingPathComponent("sw/\(ranked[0].0)/config.yaml")))
        #expect(result.standardError.contains("done: 4 finished, 0 failed, 0 unfinished"))
    }

    /// A sweep started again runs only what is unfinished: a trial killed mid-run (here: its
    /// summary.json gone, its checkpoint kept) resumes from its checkpoint; the others are not run again.
    @Test func aRestartRunsOnlyTheUnfinishedTrials() throws {
        let directory = try Self.sweepFolder()
        #expect(try CommandLineTests.run(["sweep", "s.yaml"], in: directory).status == 0)
        let trial2 = directory.appendingPathComponent("sw/trial-0002")
        let before = try Data(contentsOf: trial2.appendingPathComponent("metrics.csv"))
        let untouched = try FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent("sw/trial-0001/summary.json").path)[.modificationDate] as? Date
        try FileManager.default.removeItem(at: trial2.appendingPathComponent("summary.json"))
        let again = try CommandLineTests.run(["sweep", "s.yaml"], in: directory)
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardError.contains("4 trials in sw, 1 to run"))
        #expect(again.standardError.contains("trial-0002: started") && !again.standardError.contains("trial-0001: started"))
        #expect(FileManager.default.fileExists(atPath: trial2.appendingPathComponent("summary.json").path))
        #expect(try Data(contentsOf: trial2.appendingPathComponent("metrics.csv")) == before)
        #expect(try FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent("sw/trial-0001/summary.json").path)[.modificationDate] as? Date
            == untouched)
    }

    /// A trial that fails (its data file is missing) is recorded with its one line; the others run,
    /// and the sweep exits 78.
    @Test func aFailedTrialIsRecordedAndTheOthersRun() throws {
        let directory = try Self.sweepFolder(extraGrid: "\n  data.path: [b.csv, missing.csv]")
        let result = try CommandLineTests.run(["sweep", "s.yaml"], in: directory)
        #expect(result.status == 78)
        let rows = try Self.lines(directory.appendingPathComponent("sw/results.csv"))
        #expect(rows.count == 9 && rows.filter { $0.contains(",finished,") }.count == 4)
        let failed = rows.filter { $0.contains(",failed,") }
        #expect(failed.count == 4 && failed.allSatisfy { $0.contains("missing.csv") })
        let error = try String(contentsOf: directory.appendingPathComponent("sw/trial-0003/error.txt"), encoding: .utf8)
        #expect(error.hasPrefix("error: ") && error.contains("missing.csv") && error.filter(\.isNewline).count == 1)
        #expect(result.standardError.contains("done: 4 finished, 4 failed, 0 unfinished"))
        // A job array's task (--trial N) answers for its own trial only.
        #expect(try CommandLineTests.run(["sweep", "s.yaml", "--trial", "1"], in: directory).status == 0)
        #expect(try CommandLineTests.run(["sweep", "s.yaml", "--trial", "3"], in: directory).status == 78)
    }

    /// A diverging trial is failed, not ranked; editing the sweep file leaves the folders of other
    /// trials alone, marked changed, and both make the sweep exit 78.
    @Test func aDivergedTrialFailsAndAnEditedSweepIsNotMixedUp() throws {
        let directory = try Self.sweepFolder()
        try CommandLineTests.write("base: b.txt\noutput: sw\ngrid:\n  optimizer.lr: [0.01, 1.0e+30]\n", to: "d.yaml",
                                   in: directory)
        let diverged = try CommandLineTests.run(["sweep", "d.yaml"], in: directory)
        #expect(diverged.status == 78)
        var rows = try Self.lines(directory.appendingPathComponent("sw/results.csv"))
        #expect(rows.count == 3 && rows[1].hasPrefix("trial-0001,0.01,") && rows[1].contains(",finished,completed"))
        #expect(rows[2].hasPrefix("trial-0002,1.0e+30,,") && rows[2].contains(",failed,\"diverged at epoch 1, step "))
        // The same folders under another grid: trial-0001 now means lr 0.02, which that folder did not run;
        // it is left alone (only the failed trial-0002 is tried again, and diverges again).
        try CommandLineTests.write("base: b.txt\noutput: sw\ngrid:\n  optimizer.lr: [0.02, 1.0e+30]\n", to: "d.yaml",
                                   in: directory)
        let edited = try CommandLineTests.run(["sweep", "d.yaml"], in: directory)
        #expect(edited.status == 78 && edited.standardError.contains("1 to run"))
        rows = try Self.lines(directory.appendingPathComponent("sw/results.csv"))
        #expect(rows[1] == "trial-0001,0.02,,,,changed,the folder holds another trial (optimizer.lr=0.01): the sweep file "
            + "changed; move or delete the folder to run this one")
    }

    @Test func listTrialsAndOneTrial() throws {
        let directory = try Self.sweepFolder()
        let list = try CommandLineTests.run(["sweep", "s.yaml", "--list-trials"], in: directory)
        #expect(list.status == 0)
        let commands = list.standardOutput.split(separator: "\n")
        #expect(commands.count == 4 && commands[0].hasPrefix("nntrain run b.txt --set optimizer.lr=0.01 --set model.dropout=")
            && commands[0].hasSuffix(" --set output.dir=sw/trial-0001 --quiet"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sw/trial-0001").path))
        let one = try CommandLineTests.run(["sweep", "s.yaml", "--trial", "3"], in: directory)
        #expect(one.status == 0, "\(one.standardError)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("sw").path)
        #expect(folders.filter { $0.hasPrefix("trial-") } == ["trial-0003"])
        #expect(try CommandLineTests.run(["sweep", "s.yaml", "--trial", "5"], in: directory).status == 64)
        // --status reads the folders and writes nothing; --report writes results.csv from them.
        let results = directory.appendingPathComponent("sw/results.csv")
        try FileManager.default.removeItem(at: results)
        let status = try CommandLineTests.run(["sweep", "s.yaml", "--status"], in: directory)
        #expect(status.status == 0)
        let lines = status.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 4 && lines[2].hasPrefix("trial-0003  finished val_loss ") && lines[2].hasSuffix("  completed"))
        #expect(lines[0].hasPrefix("trial-0001  unfinished  (optimizer.lr=0.01 model.dropout=")
            && lines[0].hasSuffix("  not started"))
        #expect(!FileManager.default.fileExists(atPath: results.path))
        #expect(try CommandLineTests.run(["sweep", "s.yaml", "--report"], in: directory).status == 0)
        let rows = try Self.lines(directory.appendingPathComponent("sw/results.csv"))
        #expect(rows.count == 5 && rows[1].hasPrefix("trial-0003,") && rows[2].hasSuffix(",unfinished,not started"))
        #expect(try CommandLineTests.run(["sweep", "s.yaml", "--status", "--report"], in: directory).status == 64)
    }

    /// A value a key does not take is refused before any trial runs, at its line of the sweep file.
    @Test func aBadValueIsRefusedAtItsLine() throws {
        let directory = try Self.sweepFolder()
        try CommandLineTests.write("base: b.txt\ngrid:\n  optimizer.lr: [0.1, -1]\n", to: "bad.yaml", in: directory)
        let result = try CommandLineTests.run(["sweep", "bad.yaml"], in: directory)
        #expect(result.status == 78)
        #expect(result.standardError == "error: bad.yaml:3: trial-0002: --set optimizer.lr=-1: optimizer.lr: -1 is out of "
            + "range; expected a number > 0\n")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("runs/bad").path))
    }
}

/// `prune: median`: trials whose validation loss is hopeless next to the finished trials' stop early.
@Suite struct SweepPruningCommandTests {
    /// Two good learning rates finish first, each run alone (`--trial N`, as a job array's tasks),
    /// in 30 epochs; then, with the base's epochs raised to 3000 (so that a trial left to run cannot
    /// end between two polls of the sweep), the two tiny ones are pruned, each at the epoch its
    /// pruned.txt names, by the rule as `MedianPruning` decides it from the folders' metrics.csv.
    @Test func hopelessTrialsArePrunedAndNotRunAgain() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 300, seed: 1, config: """
            data: {dataset: bonus, path: b.csv}
            loss: mse
            model: {hidden: [4]}
            training: {epochs: 30, batch_size: 50}
            """)
        try CommandLineTests.write("""
            base: b.txt
            output: sw
            grid:
              optimizer.lr: [0.1, 0.05, 1.0e-6, 2.0e-6]
            prune: median
            prune_startup_trials: 2
            """, to: "s.yaml", in: directory)
        for number in [1, 2] {
            let one = try CommandLineTests.run(["sweep", "s.yaml", "--trial", "\(number)"], in: directory)
            #expect(one.status == 0, "\(one.standardError)")
            #expect(one.standardError.contains("done: \(number) finished, 0 pruned, 0 failed, \(4 - number) unfinished"))
        }
        let base = try String(contentsOf: directory.appendingPathComponent("b.txt"), encoding: .utf8)
        try CommandLineTests.write(base.replacingOccurrences(of: "epochs: 30", with: "epochs: 3000"), to: "b.txt",
                                   in: directory)
        let result = try CommandLineTests.run(["sweep", "s.yaml"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("done: 2 finished, 2 pruned, 0 failed, 0 unfinished"))
        let folder = directory.appendingPathComponent("sw")
        func values(_ trial: String) -> [Int: Double] {
            Dictionary(SweepTrialOutcome.epochValues(of: .valLoss, metricsCSV: folder.path + "/\(trial)/metrics.csv")
                .map { ($0.epoch, $0.value) }, uniquingKeysWith: { _, last in last })
        }
        let finished = [values("trial-0001"), values("trial-0002")]
        #expect(finished.allSatisfy { $0.count == 30 })
        for trial in ["trial-0003", "trial-0004"] {
            let line = try String(contentsOf: folder.appendingPathComponent("\(trial)/pruned.txt"), encoding: .utf8)
            #expect(line.hasPrefix("pruned at epoch ") && line.filter(\.isNewline).count == 1, "\(line)")
            let epoch = try #require(Int(line.dropFirst("pruned at epoch ".count).prefix { $0.isNumber }))
            let seen = values(trial)
            #expect(seen.count < 100, "\(trial) ran \(seen.count) epochs")
            // The decision the rule takes on the epochs up to the one named, against the finished trials.
            let decision = MedianPruning(startupTrials: 2).decide(values: seen.filter { $0.key <= epoch }, completed: finished,
                                                                  mode: .min)
            #expect(decision.map { $0.line(metric: .valLoss) + "\n" } == line)
            #expect(result.standardError.contains("\(trial): " + line))
        }
        let rows = try SweepCommandTests.lines(folder.appendingPathComponent("results.csv"))
        #expect(rows.count == 5 && rows[1...2].allSatisfy { $0.hasSuffix(",finished,completed") })
        #expect(rows[3...4].allSatisfy { $0.contains(",pruned,pruned at epoch ") })
        let best = try #require(rows[1].split(separator: ",").first)
        #expect(try Data(contentsOf: folder.appendingPathComponent("best.yaml"))
            == Data(contentsOf: folder.appendingPathComponent("\(best)/config.yaml")))
        // sweep.svg beside results.csv: the lr panel with both kinds of trial.
        let svg = try String(contentsOf: folder.appendingPathComponent("sweep.svg"), encoding: .utf8)
        #expect(svg.contains(">optimizer.lr (log scale)<") && svg.contains(">pruned (best so far)<")
            && svg.contains("4 trials: 4 drawn, none left out"))
        // Pruned is done: started again, the sweep runs nothing; --status shows them.
        let again = try CommandLineTests.run(["sweep", "s.yaml"], in: directory)
        #expect(result.standardError.contains("4 trials in sw, 2 to run"))
        #expect(again.status == 0 && again.standardError.contains("4 trials in sw, 0 to run")
            && !again.standardError.contains("started"))
        let status = try CommandLineTests.run(["sweep", "s.yaml", "--status"], in: directory)
        #expect(status.standardOutput.split(separator: "\n").filter { $0.contains("  pruned val_loss ") }.count == 2)
    }
}
