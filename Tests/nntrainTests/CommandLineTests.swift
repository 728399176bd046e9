import Foundation
import Testing

/// The nntrain executable as a shell script sees it: exit statuses, one-line errors, files written.
@Suite struct CommandLineTests {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The executable built beside this test bundle (`swift test` builds it first).
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["NNTRAIN_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = Bundle.main.bundleURL
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("nntrain")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "nntrain")
    }()

    static func run(_ arguments: [String], in directory: URL) throws -> Result {
        try collect(process(arguments, in: directory))
    }

    /// `nntrain arguments` in `directory`, not started yet: the caller sets its outputs.
    static func process(_ arguments: [String], in directory: URL) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        return process
    }

    /// `nntrain arguments` in `directory` reading `input` from standard input through a pipe (as
    /// `cat file | nntrain ...`: not seekable, size unknown). The bytes are written into the pipe
    /// before the process starts, so they must fit its buffer (64 KiB on Linux).
    static func run(_ arguments: [String], in directory: URL, standardInput input: [UInt8]) throws -> Result {
        try #require(input.count <= 1 << 16, "standard input of \(input.count) bytes would not fit the pipe's buffer")
        let pipe = Pipe()
        try pipe.fileHandleForWriting.write(contentsOf: Data(input))
        try pipe.fileHandleForWriting.close()
        let process = process(arguments, in: directory)
        process.standardInput = pipe
        return try collect(process)
    }

    /// Runs a configured `process` to its end and returns its status and both outputs.
    static func collect(_ process: Process) throws -> Result {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, to name: String, in directory: URL) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// A fresh folder holding `rows` generated bonus rows as b.csv (`nntrain data bonus`) and
    /// `config` as b.txt.
    static func bonusFolder(rows: Int, seed: Int, config: String) throws -> URL {
        let directory = try temporaryDirectory()
        let made = try run(["data", "bonus", "--rows", "\(rows)", "--seed", "\(seed)", "--out", "b.csv"], in: directory)
        #expect(made.status == 0, "\(made.standardError)")
        try write(config, to: "b.txt", in: directory)
        return directory
    }

    /// Asserts a failure: the exit status, and exactly one line on standard error, equal to `message`.
    static func expectFailure(_ result: Result, status: Int32, message: String) {
        #expect(result.status == status)
        #expect(result.standardError == "error: \(message)\n")
    }

    @Test func versionNamesTheBLASKernelAndThreads() throws {
        let result = try Self.run(["--version"], in: Self.temporaryDirectory())
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("nntrain "))
        #expect(result.standardOutput.contains("OpenBLAS kernel "))
        #expect(result.standardOutput.contains(" threads)"))
    }

    @Test func aMissingConfigFileExits66() throws {
        let result = try Self.run(["run", "nowhere.txt"], in: Self.temporaryDirectory())
        Self.expectFailure(result, status: 66, message: "nowhere.txt: no such file or folder (expected a YAML config file)")
    }

    @Test func anUnknownFlagIsAUsageErrorOnOneLine() throws {
        let result = try Self.run(["run", "x.txt", "--epochs", "3"], in: Self.temporaryDirectory())
        #expect(result.status == 64)
        #expect(result.standardError.hasPrefix("error: Unknown option '--epochs'"))
        #expect(result.standardError.filter { $0 == "\n" }.count == 1)
    }

    @Test func aMissingDatasetExits66AndSaysHowToFetchIt() throws {
        let directory = try Self.temporaryDirectory()
        try Self.write("data:\n  dataset: fashion-mnist\n  path: absent\n", to: "c.txt", in: directory)
        let result = try Self.run(["run", "c.txt"], in: directory)
        #expect(result.status == 66)
        #expect(result.standardError.hasPrefix("error: absent"))
        #expect(result.standardError.contains("fetch-fashion-mnist.sh"))
        #expect(result.standardError.filter { $0 == "\n" }.count == 1)
    }

    @Test func configErrorsExit78() throws {
        let directory = try Self.temporaryDirectory()
        try Self.write("optimizer:\n  name: adam\n  lr: -0.1\n", to: "bad.txt", in: directory)
        let result = try Self.run(["run", "bad.txt"], in: directory)
        Self.expectFailure(result, status: 78, message: "bad.txt:3: optimizer.lr: -0.1 is out of range; expected a number > 0")
        let override = try Self.run(["run", "bad.txt", "--set", "optimizer.lr=x"], in: directory)
        #expect(override.status == 78)
        #expect(override.standardError.hasPrefix("error: --set optimizer.lr=x: "))
    }

    /// training.max_seconds: past it, the run stops after the current step with a checkpoint, says
    /// so on one line with the command that continues, and exits 0.
    @Test func aTimeLimitEndsTheRunWithACheckpointAndStatus0() throws {
        let directory = try Self.bonusFolder(rows: 500, seed: 4, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: [8]}
            loss: mse
            training: {epochs: 3, batch_size: 10}
            """)
        let result = try Self.run(["run", "b.txt", "-q", "--set", "training.max_seconds=1e-9"], in: directory)
        #expect(result.status == 0)
        #expect(result.standardError == "time limit of 1e-09 s (training.max_seconds) reached at epoch 1, step 1 of 36; "
            + "checkpoint runs/b/checkpoints/last.bin; "
            + "continue with: nntrain run b.txt --set training.max_seconds=1e-9 --resume\n")
        let summary = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("runs/b/summary.json")))
        #expect((summary as? [String: Any])?["ended"] as? String == "time limit at epoch 1, step 1")
        let resumed = try Self.run(["run", "b.txt", "-q", "--resume"], in: directory)
        #expect(resumed.status == 0 && resumed.standardError.isEmpty, "\(resumed.standardError)")
    }

    /// The whole path on the bonus data: generate, train, and find the run directory's three files.
    @Test func bonusDataTrainsEndToEnd() throws {
        let directory = try Self.temporaryDirectory()
        let made = try Self.run(["data", "bonus", "--rows", "2000", "--seed", "1", "--out", "data/b.csv"], in: directory)
        #expect(made.status == 0, "\(made.standardError)")
        try Self.write("""
            data: {dataset: bonus, path: data/b.csv, normalize: standardize}
            model: {hidden: []}
            loss: mse
            optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
            training: {epochs: 3, batch_size: 32}
            """, to: "b.txt", in: directory)
        let result = try Self.run(["run", "b.txt"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty)
        let run = directory.appendingPathComponent("runs/b")
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = metrics.split(separator: "\n")
        #expect(lines.first
            == "epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second")
        #expect(lines.count == 4)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
        let object = try #require(summary as? [String: Any])
        #expect(object["epochs_completed"] as? Int == 3)
        #expect((object["weights"] as? [Any])?.count == 6)  // five features and the bias
        #expect(object["mixed_precision"] == nil)
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("config.yaml").path))
        // In a pipe, one plain line per epoch (no progress bar escapes).
        #expect(result.standardOutput.contains("\nep 3/3  loss "))
        #expect(!result.standardOutput.contains("\u{1B}"))
        let quiet = try Self.run(["run", "b.txt", "--quiet", "--force"], in: directory)  // over the run above
        #expect(quiet.status == 0 && quiet.standardOutput.isEmpty)
        // Batch gradient descent with every step logged: 3 epochs of one step each.
        let full = try Self.run(["run", "b.txt", "--quiet", "--set", "training.batch_size=full",
                                 "--set", "logging.every_n_steps=1", "--set", "output.dir=full"], in: directory)
        #expect(full.status == 0, "\(full.standardError)")
        let steps = try String(contentsOf: directory.appendingPathComponent("full/steps.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(steps.first == "step,epoch,lr,loss,grad_norm,seconds")
        #expect(steps.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") }
            == ["1,1,0.05", "2,2,0.05", "3,3,0.05"])
        // Mixed precision: metrics.csv gains the loss-scaling columns, summary.json the totals.
        let half = try Self.run(["run", "b.txt", "--quiet", "--set", "training.precision=fp16",
                                 "--set", "logging.precision_stats=true", "--set", "output.dir=half"], in: directory)
        #expect(half.status == 0, "\(half.standardError)")
        let halfMetrics = try String(contentsOf: directory.appendingPathComponent("half/metrics.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(halfMetrics.first == "epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,"
            + "samples_per_second,loss_scale,skipped_steps,grad_underflow,grad_overflow")
        #expect(halfMetrics.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 14 })
        let halfSummary = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("half/summary.json")))
        let mixed = try #require((halfSummary as? [String: Any])?["mixed_precision"] as? [String: Any])
        #expect(mixed["precision"] as? String == "fp16")
        #expect(mixed["loss_scale"] is Double && mixed["skipped_steps"] is Int)
    }
}
