import Foundation
import Testing

/// A full disk, simulated without root or a real full disk: the binary runs under a file-size
/// limit (`ulimit -f`, RLIMIT_FSIZE, which binds root too) with SIGXFSZ ignored, so a write past the
/// limit fails with EFBIG as one past a full disk fails with ENOSPC.
@Suite struct WriteFailureTests {
    /// Runs `nntrain arguments` in `directory` with files limited to `blocks` × 512 bytes (POSIX
    /// sh's unit for `ulimit -f`).
    static func run(_ arguments: [String], fileSizeLimit blocks: Int, in directory: URL) throws -> CommandLineTests.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f \(blocks) && trap '' XFSZ && exec \"$0\" \"$@\"",
                             CommandLineTests.executable.path] + arguments
        process.currentDirectoryURL = directory
        return try CommandLineTests.collect(process)
    }

    static func contents(_ directory: URL, _ names: [String]) -> [String: Data] {
        Dictionary(uniqueKeysWithValues: names.compactMap { name in
            FileManager.default.contents(atPath: directory.appendingPathComponent(name).path).map { (name, $0) }
        })
    }

    /// A resumed run whose next checkpoint (72 KB) does not fit under a 32 KB limit: exit 73, one
    /// line naming the file and the checkpoint to go back to, and the checkpoint, metrics.csv and
    /// summary.json of the first session byte for byte as they were, with no temporary file left.
    @Test func aCheckpointThatCannotBeWrittenLeavesThePreviousFilesAsTheyWere() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 4000, seed: 3, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize}
            model: {hidden: [64, 64]}
            loss: mse
            training: {epochs: 2, batch_size: 100}
            """)
        let first = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(first.status == 0, "\(first.standardError)")
        let names = ["metrics.csv", "summary.json", "checkpoints/last.bin"]
        let before = Self.contents(directory.appendingPathComponent("runs/b"), names)
        #expect(before.count == 3 && (before["checkpoints/last.bin"]?.count ?? 0) > 64 * 512)

        let full = try Self.run(["run", "b.txt", "-q", "--resume", "--set", "training.epochs=4"], fileSizeLimit: 64,
                                in: directory)
        // The resume's warning comes before training, the error when the first write fails.
        #expect(full.status == 73)
        #expect(full.standardError == "warning: resumed with changed training.epochs (2 -> 4) (allowed: they do not alter the "
            + "model or the data)\nerror: runs/b/checkpoints/last.bin: cannot write: File too large; "
            + "training stopped; the last good checkpoint is runs/b/checkpoints/last.bin (after epoch 2): make room (or make "
            + "the folder writable), then resume with --resume\n")
        #expect(Self.contents(directory.appendingPathComponent("runs/b"), names) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("runs/b/checkpoints").path)
            == ["last.bin"])
    }

    /// metrics.csv outgrows a 6 KB limit at about its 40th row, before any checkpoint (config.yaml, which
    /// lists every key, must fit under it; 4 KB no longer holds it): the row
    /// that did not fit is cut off whole, so the file ends in complete rows (a resume rewrites it
    /// from a checkpoint's history in any case).
    @Test func aMetricsRowThatCannotBeAppendedLeavesNoHalfRow() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 600, seed: 9, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: []}
            loss: mse
            training: {epochs: 60, batch_size: full}
            checkpoint: {every_n_epochs: 1000}
            """)
        let full = try Self.run(["run", "b.txt", "-q"], fileSizeLimit: 12, in: directory)
        CommandLineTests.expectFailure(full, status: 73, message: "runs/b/metrics.csv: cannot write: File too large; training "
            + "stopped before any checkpoint was written: make room (or make the folder writable), then start again with --force")
        let metrics = try String(contentsOf: directory.appendingPathComponent("runs/b/metrics.csv"), encoding: .utf8)
        #expect(metrics.hasSuffix("\n"))
        let rows = metrics.split(separator: "\n").dropFirst()
        #expect(rows.count > 10 && rows.count < 60)
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 10 })
        #expect(rows.map { $0.split(separator: ",")[0] } == (1...rows.count).map { "\($0)"[...] })
    }
}
