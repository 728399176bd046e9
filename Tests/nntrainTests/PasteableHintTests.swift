import Foundation
import Testing

/// The commands and paths nntrain prints for a person to paste (resume, lr-find's recommendation,
/// the missing-checkpoint advice) read back in a POSIX shell as the words that were meant, even
/// with a space in the config's name and a YAML list in a --set value.
@Suite struct PasteableHintTests {
    /// A bonus folder whose config is called `my cfg.txt` (so its run directory is `runs/my cfg`).
    static func folderWithSpacedConfig() throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: 500, seed: 4, config: "")
        try CommandLineTests.write("""
            data: {dataset: bonus, path: b.csv}
            model: {hidden: [8]}
            loss: mse
            training: {epochs: 3, batch_size: 10}
            """, to: "my cfg.txt", in: directory)
        return directory
    }

    /// Runs `command` with `/bin/sh -c` in `directory`, with the nntrain under test first on PATH.
    static func shell(_ command: String, in directory: URL) throws -> CommandLineTests.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = CommandLineTests.executable.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        return try CommandLineTests.collect(process)
    }

    /// The words `/bin/sh` makes of `command`, one per line.
    static func wordsAsShellReadsThem(_ command: String) throws -> [String] {
        let result = try shell("for word in \(command); do printf '%s\\n' \"$word\"; done", in: URL(fileURLWithPath: "/"))
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func theTimeLimitsResumeCommandPastesIntoAShellAndResumes() throws {
        let directory = try Self.folderWithSpacedConfig()
        let arguments = ["run", "my cfg.txt", "-q", "--set", "model.hidden=[4, 3]", "--set", "training.max_seconds=1e-9"]
        let result = try CommandLineTests.run(arguments, in: directory)
        #expect(result.status == 0)
        let command = "nntrain run 'my cfg.txt' --set 'model.hidden=[4, 3]' --set training.max_seconds=1e-9 --resume"
        #expect(result.standardError == "time limit of 1e-09 s (training.max_seconds) reached at epoch 1, step 1 of 36; "
            + "checkpoint 'runs/my cfg/checkpoints/last.bin'; continue with: \(command)\n")
        let printed = try #require(result.standardError.components(separatedBy: "continue with: ").last?.dropLast())
        #expect(try Self.wordsAsShellReadsThem(String(printed))
            == ["nntrain", "run", "my cfg.txt", "--set", "model.hidden=[4, 3]", "--set", "training.max_seconds=1e-9", "--resume"])
        #expect(try Self.wordsAsShellReadsThem("'runs/my cfg/checkpoints/last.bin'") == ["runs/my cfg/checkpoints/last.bin"])

        // Pasted as it is, it continues the run: one more step under the same time limit.
        let resumed = try Self.shell(String(printed), in: directory)
        #expect(resumed.status == 0)
        #expect(resumed.standardError == "time limit of 1e-09 s (training.max_seconds) reached at epoch 1, step 2 of 36; "
            + "checkpoint 'runs/my cfg/checkpoints/last.bin'; continue with: \(command)\n")
    }

    @Test func theCtrlCResumeCommandPastesIntoAShellAndFinishesTheRun() throws {
        let directory = try InterruptionTests.fixture()
        try FileManager.default.moveItem(at: directory.appendingPathComponent("b.txt"),
                                         to: directory.appendingPathComponent("my cfg.txt"))
        let stopped = try InterruptionTests.interrupt(["run", "my cfg.txt", "--set", "output.dir=my runs"], in: directory,
                                                      runDirectory: "my runs", signals: [SIGINT])
        #expect(stopped.status == 130)
        let command = "nntrain run 'my cfg.txt' --set 'output.dir=my runs' --resume"
        let last = try #require(stopped.standardError.split(separator: "\n").last)
        #expect(last.hasSuffix("; checkpoint 'my runs/checkpoints/last.bin'; resume with: \(command)"), "\(last)")
        let resumed = try Self.shell(command + " -q", in: directory)
        #expect(resumed.status == 0 && resumed.standardError.isEmpty, "\(resumed.standardError)")
        let summary = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("my runs/summary.json")))
        #expect((summary as? [String: Any])?["ended"] as? String == "completed")
    }

    @Test func theMissingCheckpointAdviceQuotesTheConfigAndRunDirectory() throws {
        let directory = try Self.folderWithSpacedConfig()
        let result = try CommandLineTests.run(["run", "my cfg.txt", "--resume"], in: directory)
        CommandLineTests.expectFailure(result, status: 66, message: "runs/my cfg/checkpoints/last.bin: no checkpoint to resume "
            + "from (expected one written by an earlier nntrain run 'my cfg.txt' into 'runs/my cfg'; or give --resume PATH, "
            + "or start afresh with --force)")
    }

    @Test func lrFindsRecommendationQuotesTheConfig() throws {
        let directory = try Self.folderWithSpacedConfig()
        let result = try CommandLineTests.run(["lr-find", "my cfg.txt", "--steps", "40", "--start", "1e-5", "--end", "1"],
                                              in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("recommendation: ") })
        let lr = try #require(line.split(separator: " ").dropFirst(2).first)
        #expect(line == "recommendation: optimizer.lr: \(lr)  (e.g. nntrain run 'my cfg.txt' --set optimizer.lr=\(lr))")
    }
}
