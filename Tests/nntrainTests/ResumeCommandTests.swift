import Foundation
import Testing

/// `nntrain run --resume` on runs that already ended, the resume warning, the schedule behind a
/// warm-up, per-epoch schedules under fp16's skipped steps, and two configs of one file name.
@Suite struct ResumeCommandTests {
    /// A bonus folder (200 rows: 144 train, 16 validation, 40 test) with `config` as b.txt.
    static func folder(_ config: String) throws -> URL {
        try CommandLineTests.bonusFolder(rows: 200, seed: 5, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize}
            model: {hidden: [8]}
            loss: mse
            \(config)
            """)
    }

    /// Every file under `directory` (hidden ones included) with its bytes and modification time.
    static func snapshot(_ directory: URL) throws -> [String: (bytes: Data, modified: Date)] {
        var files: [String: (bytes: Data, modified: Date)] = [:]
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.contentModificationDateKey, .isRegularFileKey])
            guard values.isRegularFile == true else { continue }
            files[url.path] = (try Data(contentsOf: url), values.contentModificationDate ?? .distantPast)
        }
        return files
    }

    static func expectUnchanged(_ before: [String: (bytes: Data, modified: Date)], _ directory: URL,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let after = try snapshot(directory)
        #expect(after.keys.sorted() == before.keys.sorted(), sourceLocation: sourceLocation)
        for (path, file) in before {
            #expect(after[path]?.bytes == file.bytes, "\(path) changed", sourceLocation: sourceLocation)
            #expect(after[path]?.modified == file.modified, "\(path) was rewritten", sourceLocation: sourceLocation)
        }
    }

    static func lines(_ name: String, in directory: URL) throws -> [[String]] {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    // MARK: Bug 4: a run that already ended

    @Test func aCompletedRunResumedWithoutMoreEpochsSaysSoAndTouchesNoFile() throws {
        let directory = try Self.folder("training: {epochs: 2, batch_size: 30}")
        let first = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(first.status == 0, "\(first.standardError)")
        let run = directory.appendingPathComponent("runs/b")
        let before = try Self.snapshot(run)
        #expect(before.keys.contains { $0.hasSuffix("/.lock") } && before.keys.contains { $0.hasSuffix("/curves.svg") })

        let again = try CommandLineTests.run(["run", "b.txt", "--resume"], in: directory)
        #expect(again.status == 0)
        #expect(again.standardOutput.isEmpty)
        #expect(again.standardError == "runs/b/checkpoints/last.bin: the run already ended (completed 2 of 2 epochs); "
            + "nothing was done; to train on, raise training.epochs above 2 (e.g. --set training.epochs=4)\n")
        try Self.expectUnchanged(before, run)

        // A process killed between the final checkpoint and summary.json: the resume writes the
        // last files, training nothing.
        try FileManager.default.removeItem(at: run.appendingPathComponent("summary.json"))
        let finishing = try CommandLineTests.run(["run", "b.txt", "-q", "--resume"], in: directory)
        #expect(finishing.status == 0 && finishing.standardError.isEmpty, "\(finishing.standardError)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
        #expect((summary as? [String: Any])?["ended"] as? String == "completed")
        #expect((summary as? [String: Any])?["epochs_completed"] as? Int == 2)

        // More epochs continue it, as before.
        let more = try CommandLineTests.run(["run", "b.txt", "-q", "--resume", "--set", "training.epochs=3"], in: directory)
        #expect(more.status == 0)
        #expect(more.standardError == "warning: resumed with changed training.epochs (2 -> 3) "
            + "(allowed: they do not alter the model or the data)\n")
        #expect(try Self.lines("runs/b/metrics.csv", in: directory).map { $0[0] } == ["1", "2", "3"])
    }

    /// patience 1 with a min_delta no loss can beat: epoch 1 improves (the first always does),
    /// epoch 2 does not, so early stopping ends the run at epoch 2 of 6.
    @Test func anEarlyStoppedRunSaysWhyAndWhatWouldLetItGoOn() throws {
        let directory = try Self.folder("""
            training: {epochs: 6, batch_size: 30}
            early_stopping: {patience: 1, min_delta: 1.0e+9}
            """)
        let first = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(first.status == 0, "\(first.standardError)")
        let run = directory.appendingPathComponent("runs/b")
        let before = try Self.snapshot(run)

        let again = try CommandLineTests.run(["run", "b.txt", "-q", "--resume", "--set", "training.epochs=9"], in: directory)
        #expect(again.status == 0)
        #expect(again.standardError == "runs/b/checkpoints/last.bin: the run already ended (stopped early at epoch 2 "
            + "(val_loss has not improved for 1 epoch, early_stopping.patience 1)); nothing was done; to train on, raise "
            + "early_stopping.patience above 1 (e.g. --set early_stopping.patience=2) "
            + "or unset it (--set early_stopping.patience=null)\n")
        try Self.expectUnchanged(before, run)

        // With patience 3 it waits two more epochs without improvement, and stops at epoch 4.
        let patient = try CommandLineTests.run(["run", "b.txt", "-q", "--resume", "--set", "early_stopping.patience=3"],
                                               in: directory)
        #expect(patient.status == 0)
        #expect(patient.standardError == "warning: resumed with changed early_stopping.patience (1 -> 3) "
            + "(allowed: they do not alter the model or the data)\n")
        #expect(try Self.lines("runs/b/metrics.csv", in: directory).map { $0[0] } == ["1", "2", "3", "4"])
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
        #expect((summary as? [String: Any])?["ended"] as? String == "early stop at epoch 4")
    }

    // MARK: Bug 5: the resume warning, before training, with the next step's learning rate

    /// A cosine run of 2 epochs resumed with 4: its t_max follows training.epochs, so the next
    /// epoch (index 2) moves from η_min + (0.01 − η_min)(1 + cos(π·2/2))/2 = 0 to
    /// (1 + cos(π·2/4))/2 · 0.01 = 0.005. The warning comes before training: a resume that then
    /// diverges prints it before the error.
    @Test func theWarningNamesTheValuesAndTheLearningRateOfTheNextStepBeforeTraining() throws {
        let directory = try Self.folder("""
            optimizer: {name: sgd, lr: 0.01}
            scheduler: {name: cosine}
            training: {epochs: 2, batch_size: 30}
            """)
        let first = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(first.status == 0, "\(first.standardError)")
        let old = (1 + cos(Double.pi * 2 / 2)) / 2 * 0.01, new = (1 + cos(Double.pi * 2 / 4)) / 2 * 0.01
        #expect(String(format: "%.4g", old) == "0" && String(format: "%.4g", new) == "0.005")

        let diverging = try CommandLineTests.run(["run", "b.txt", "-q", "--resume", "--set", "training.epochs=4",
                                                  "--set", "optimizer.lr=1e30"], in: directory)
        #expect(diverging.status == 80)
        let lines = diverging.standardError.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "warning: resumed with changed optimizer.lr (0.01 -> 1e+30), training.epochs (2 -> 4), "
            + "scheduler.t_max (2 -> 4, following training.epochs) (allowed: they do not alter the model or the data); "
            + "the learning rate of the next step moves from 0 to 5e+29; set scheduler.t_max=2 to keep the old schedule")
        #expect(lines.last?.hasPrefix("error: training diverged at epoch 3") == true, "\(diverging.standardError)")

        let resumed = try CommandLineTests.run(["run", "b.txt", "-q", "--resume", "--set", "training.epochs=4"], in: directory)
        #expect(resumed.status == 0)
        #expect(resumed.standardError == "warning: resumed with changed training.epochs (2 -> 4), scheduler.t_max (2 -> 4, "
            + "following training.epochs) (allowed: they do not alter the model or the data); the learning rate of the "
            + "next step moves from 0 to 0.005; set scheduler.t_max=2 to keep the old schedule\n")
        // Epochs 1 and 2 as trained with t_max 2, epochs 3 and 4 with t_max 4.
        let rates = try Self.lines("runs/b/metrics.csv", in: directory).map { Double($0[1]) ?? .nan }
        let expected = [0.01, (1 + cos(Double.pi / 2)) / 2 * 0.01, new, (1 + cos(Double.pi * 3 / 4)) / 2 * 0.01]
        #expect(rates.count == 4 && zip(rates, expected).allSatisfy { abs($0 - $1) <= 1e-15 }, "\(rates)")
        // Keeping the old t_max keeps the old schedule: the lr does not move, nothing more to say.
        let kept = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "output.dir=kept", "--set", "training.epochs=2"],
                                            in: directory)
        #expect(kept.status == 0)
        let keep = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "output.dir=kept", "--set", "training.epochs=4",
                                             "--set", "scheduler.t_max=2", "--resume"], in: directory)
        #expect(keep.standardError == "warning: resumed with changed training.epochs (2 -> 4) "
            + "(allowed: they do not alter the model or the data)\n")
    }

    // MARK: Bug 6: warm-up plus a schedule finishes the schedule

    /// warmup_epochs 1, cosine, 6 epochs: as SequentialLR([LinearLR, CosineAnnealingLR(T_max=5)],
    /// milestones=[1]), epoch e ≥ 2 (from 1) runs at (1 + cos(π(e − 2)/5))/2 · lr, so the
    /// schedule's T_max = 5 lands on η_min = 0 just after the last epoch; epoch 1 ends the warm-up
    /// at lr. config.yaml lists the resolved t_max.
    @Test func aWarmupInFrontOfCosineLeavesTheCosineTheEpochsAfterIt() throws {
        let directory = try Self.folder("""
            optimizer: {name: sgd, lr: 0.01}
            scheduler: {name: cosine, warmup_epochs: 1}
            training: {epochs: 6, batch_size: 30}
            """)
        let result = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let expected = [0.01] + (2...6).map { epoch in (1 + cos(Double.pi * Double(epoch - 2) / 5)) / 2 * 0.01 }
        let rates = try Self.lines("runs/b/metrics.csv", in: directory).map { Double($0[1]) ?? .nan }
        #expect(rates.count == 6)
        for (rate, expected) in zip(rates, expected) { #expect(abs(rate - expected) <= 1e-15, "\(rates)") }
        let config = try String(contentsOf: directory.appendingPathComponent("runs/b/config.yaml"), encoding: .utf8)
        #expect(config.contains("\n  t_max: 5\n"))
    }

    // MARK: Bug 9: per-epoch schedules under fp16's skipped steps

    /// fp16 with dynamic loss scaling from 65536: the bonus data's large early gradients overflow,
    /// so GradScaler skips some of the 5 steps of an epoch; StepLR halves the lr at epoch 2's first
    /// step all the same (steps.csv lists the steps taken).
    @Test func skippedStepsDoNotDelayAPerEpochSchedule() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 200, seed: 1, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize}
            model: {hidden: [8]}
            loss: mse
            optimizer: {name: sgd, lr: 0.01}
            scheduler: {name: step, step_size: 1, gamma: 0.5}
            training: {epochs: 2, batch_size: 30, precision: fp16}
            logging: {every_n_steps: 1}
            """)
        let result = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let metrics = try Self.lines("runs/b/metrics.csv", in: directory)
        #expect((Int(metrics.first?.last ?? "") ?? 0) > 0, "epoch 1 should skip steps: \(metrics)")
        let steps = try Self.lines("runs/b/steps.csv", in: directory)
        #expect(steps.contains { $0[1] == "2" })
        #expect(steps.map { "\($0[1]) \($0[2])" } == steps.map { $0[1] == "1" ? "1 0.01" : "2 0.005" })
    }

    // MARK: Friction: two configs of one file name

    @Test func aRunOfAnotherConfigWithTheSameFileNameIsNamedAndOutputDirSuggested() throws {
        let directory = try Self.folder("")
        let config = """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: []}
            loss: mse
            training: {epochs: 1, batch_size: 50}
            """
        for experiment in ["expA", "expB"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("my/\(experiment)"),
                                                    withIntermediateDirectories: true)
            try CommandLineTests.write(config, to: "my/\(experiment)/config.yaml", in: directory)
        }
        let a = try CommandLineTests.run(["run", "my/expA/config.yaml", "-q"], in: directory)
        #expect(a.status == 0, "\(a.standardError)")
        let yaml = try String(contentsOf: directory.appendingPathComponent("runs/config/config.yaml"), encoding: .utf8)
        #expect(yaml.hasPrefix("# resolved from my/expA/config.yaml\nseed: 42\n"))

        let b = try CommandLineTests.run(["run", "my/expB/config.yaml", "-q"], in: directory)
        CommandLineTests.expectFailure(b, status: 73, message: "runs/config already holds a run of my/expA/config.yaml "
            + "(metrics.csv, summary.json, checkpoints/); for my/expB/config.yaml, set a run directory of its own, "
            + "e.g. --set output.dir=runs/expB (--force would delete the run of my/expA/config.yaml)")
        // The same config again (named another way) gets the usual refusal.
        let again = try CommandLineTests.run(["run", "./my/expA/config.yaml", "-q"], in: directory)
        CommandLineTests.expectFailure(again, status: 73, message: "runs/config already holds a run (metrics.csv, "
            + "summary.json, checkpoints/); pass --resume to continue it or --force to start afresh, deleting it")
        let own = try CommandLineTests.run(["run", "my/expB/config.yaml", "-q", "--set", "output.dir=runs/expB"], in: directory)
        #expect(own.status == 0, "\(own.standardError)")
    }
}
