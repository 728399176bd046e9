import Foundation
import NNTrain
import Testing

/// Ctrl-C and SIGTERM sent to a real `nntrain run` process, and `--resume` after them.
@Suite(.serialized) struct InterruptionTests {
    /// A folder with 4,000 bonus rows and a config of five epochs of 360 small steps each (a few
    /// tenths of a second per epoch in a debug build).
    static func fixture() throws -> URL {
        try CommandLineTests.bonusFolder(rows: 4000, seed: 3, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize}
            model: {hidden: [64, 64], dropout: 0.1}
            loss: mse
            optimizer: {name: adam, lr: 0.001}
            training: {epochs: 5, batch_size: 8}
            """)
    }

    /// Starts `nntrain arguments` in `directory`, waits until the run directory's metrics.csv has
    /// a first epoch's row, sends `signals` (a moment apart) and returns the exit status and stderr.
    static func interrupt(_ arguments: [String], in directory: URL, runDirectory: String,
                          signals: [Int32]) throws -> (status: Int32, standardError: String) {
        let errors = Pipe()
        let process = try startAndWaitForFirstEpoch(arguments, in: directory, runDirectory: runDirectory, standardError: errors)
        for signal in signals {
            kill(process.processIdentifier, signal)
            usleep(2_000)
        }
        let standardError = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, standardError)
    }

    static func model(_ path: URL) throws -> [[UInt8]] {
        try CheckpointFile.read(path: path.path).tensors.filter { $0.name.hasPrefix("layers.") }.map(\.tensor.bytes)
    }

    @Test func ctrlCWritesACheckpointExits130AndTheResumedRunEndsAsAnUninterruptedOne() throws {
        let directory = try Self.fixture()
        let straight = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "output.dir=straight"], in: directory)
        #expect(straight.status == 0, "\(straight.standardError)")

        let stopped = try Self.interrupt(["run", "b.txt", "--set", "output.dir=stopped"], in: directory,
                                         runDirectory: "stopped", signals: [SIGINT])
        #expect(stopped.status == 130)
        let lines = stopped.standardError.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("nntrain: stopping after this step to write a checkpoint") })
        #expect(lines.last?.hasPrefix("interrupted at epoch 2, step ") == true
                || lines.last?.hasPrefix("interrupted after epoch") == true, "\(stopped.standardError)")
        #expect(lines.last?.hasSuffix("; checkpoint stopped/checkpoints/last.bin; resume with: "
            + "nntrain run b.txt --set output.dir=stopped --resume") == true, "\(stopped.standardError)")
        let summary = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("stopped/summary.json")))
        #expect(((summary as? [String: Any])?["ended"] as? String)?.hasPrefix("interrupted") == true)

        let resumed = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "output.dir=stopped", "--resume"], in: directory)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(try Self.model(directory.appendingPathComponent("stopped/checkpoints/last.bin"))
            == Self.model(directory.appendingPathComponent("straight/checkpoints/last.bin")))
    }

    /// SIGTERM then a second signal: the process stops at once, and the last checkpoint on disk
    /// (epoch 1's, or the one being written if its rename came first) reads back whole.
    @Test func aSecondSignalStopsAtOnceAndLeavesTheLastCheckpointReadable() throws {
        let directory = try Self.fixture()
        let stopped = try Self.interrupt(["run", "b.txt", "--set", "output.dir=twice"], in: directory,
                                         runDirectory: "twice", signals: [SIGTERM, SIGINT])
        #expect(stopped.status == 130)
        let checkpoint = try Checkpoint.read(path: directory.appendingPathComponent("twice/checkpoints/last.bin").path)
        #expect(checkpoint.state.history.count >= 1)
    }

    /// Starts `nntrain arguments` in `directory` and returns once the run directory's metrics.csv
    /// has a first epoch's row (so epoch 1's checkpoint is on disk), the process still running.
    /// Standard output is discarded; standard error goes to `standardError` (a Pipe or FileHandle).
    static func startAndWaitForFirstEpoch(_ arguments: [String], in directory: URL, runDirectory: String,
                                          standardError: Any = FileHandle.nullDevice) throws -> Process {
        let process = CommandLineTests.process(arguments, in: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = standardError
        try process.run()
        let metrics = directory.appendingPathComponent(runDirectory + "/metrics.csv").path
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline {
            if ((try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 2 { break }
            usleep(10_000)
        }
        return process
    }

    /// One process per run directory: a second run (even with --force) is refused naming the
    /// first's PID while it trains; once it is killed (SIGKILL: no chance to clean up), its lock
    /// file is stale and a resume goes ahead. A fresh run over the run is refused without --force;
    /// --force deletes the run's files, and only those.
    @Test func aRunDirectoryIsLockedWhileARunWritesItAndNeverOverwrittenUnasked() throws {
        let directory = try Self.fixture()
        let limit = ["--set", "training.max_seconds=1e-9"]  // one step, then a checkpoint and exit 0
        let first = try Self.startAndWaitForFirstEpoch(["run", "b.txt", "--set", "checkpoint.keep_last=5"], in: directory,
                                                       runDirectory: "runs/b")
        #expect(first.isRunning)
        let second = try CommandLineTests.run(["run", "b.txt", "--force"] + limit, in: directory)
        CommandLineTests.expectFailure(second, status: 75, message: "runs/b is in use by process \(first.processIdentifier) "
            + "(it holds runs/b/.lock); expected one nntrain run per run directory: "
            + "wait for it to end, or set another output.dir")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        let resumed = try CommandLineTests.run(["run", "b.txt", "-q", "--resume"] + limit, in: directory)
        #expect(resumed.status == 0, "\(resumed.standardError)")

        let fresh = try CommandLineTests.run(["run", "b.txt"] + limit, in: directory)
        CommandLineTests.expectFailure(fresh, status: 73, message: "runs/b already holds a run (metrics.csv, summary.json, "
            + "checkpoints/); pass --resume to continue it or --force to start afresh, deleting it")
        let both = try CommandLineTests.run(["run", "b.txt", "--resume", "--force"], in: directory)
        #expect(both.status == 64 && both.standardError.hasPrefix("error: --force and --resume exclude each other"))

        let run = directory.appendingPathComponent("runs/b")
        let checkpoints = run.appendingPathComponent("checkpoints")
        #expect(FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("epoch-0001.bin").path))
        try CommandLineTests.write("mine", to: "runs/b/notes.txt", in: directory)
        try CommandLineTests.write("mine", to: "runs/b/checkpoints/notes.txt", in: directory)
        let forced = try CommandLineTests.run(["run", "b.txt", "-q", "--force"] + limit, in: directory)
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted() == ["last.bin", "notes.txt"])
        #expect(try String(contentsOf: run.appendingPathComponent("notes.txt"), encoding: .utf8) == "mine")
        #expect(try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").count == 1)
        #expect(try Checkpoint.read(path: checkpoints.appendingPathComponent("last.bin").path).state.stepCount == 1)
    }

    @Test func resumeTakesAPathToAnyCheckpoint() throws {
        let directory = try Self.fixture()
        let first = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "output.dir=a", "--set", "training.epochs=1"],
                                             in: directory)
        #expect(first.status == 0, "\(first.standardError)")
        let resumed = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "output.dir=b", "--set", "training.epochs=2",
                                                "--resume", "a/checkpoints/last.bin"], in: directory)
        #expect(resumed.status == 0)
        #expect(resumed.standardError == "warning: resumed with changed training.epochs (1 -> 2) "
            + "(allowed: they do not alter the model or the data)\n")
        let metrics = try String(contentsOf: directory.appendingPathComponent("b/metrics.csv"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 3)
        let missing = try CommandLineTests.run(["run", "b.txt", "--resume", "nowhere.bin"], in: directory)
        #expect(missing.status == 66)
        #expect(missing.standardError == "error: nowhere.bin: no such file or folder (expected an nntrain checkpoint (.bin))\n")
    }
}
