import Foundation
import NNTrain
import ReaderFuzzing
import Testing

/// What `nntrain run` and `nntrain lr-find` print for a person, and what a second Ctrl-C says.
@Suite struct ConsoleOutputCommandTests {
    /// A folder holding a tiny Fashion-MNIST look-alike (fm/: 200 training and 50 test images of
    /// pseudo-random pixels and labels) and `config` as c.txt.
    static func fashionFolder(config: String) throws -> URL {
        let directory = try CommandLineTests.temporaryDirectory()
        var state: UInt32 = 12345
        func bytes(_ count: Int, below limit: UInt32) -> [UInt8] {
            (0..<count).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return UInt8((state >> 16) % limit)
            }
        }
        let folder = directory.appendingPathComponent("fm")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (prefix, count) in [("train", 200), ("t10k", 50)] {
            let images = ReaderFuzzing.idxFile([count, 28, 28], data: bytes(count * 784, below: 256))
            let labels = ReaderFuzzing.idxFile([count], data: bytes(count, below: 10))
            try Data(ReaderFuzzing.gzip(images, level: 6))
                .write(to: folder.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"))
            try Data(ReaderFuzzing.gzip(labels, level: 6))
                .write(to: folder.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"))
        }
        try CommandLineTests.write(config, to: "c.txt", in: directory)
        return directory
    }

    /// Python's '%.4g' % value.
    static func fourDigits(_ value: Double) -> String { String(format: "%.4g", value) }

    /// Every option on: classification with a validation split, fp16 with GradScaler and
    /// precision_stats. Each epoch line is the figures of its metrics.csv row, four significant
    /// digits, the loss scale as a power of two and the skipped steps, within 100 columns; the
    /// underflow and overflow fractions follow on a line of their own.
    @Test func epochLinesShowEveryFigureIn100Columns() throws {
        let directory = try Self.fashionFolder(config: """
            data: {dataset: fashion-mnist, path: fm}
            model: {hidden: [16]}
            optimizer: {name: adam, lr: 0.000123456}
            training: {epochs: 2, batch_size: 20}
            """)
        let result = try CommandLineTests.run(["run", "c.txt", "--set", "data.validation_split=0.2",
                                               "--set", "training.precision=fp16", "--set", "logging.precision_stats=true"],
                                              in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let metrics = try String(contentsOf: directory.appendingPathComponent("runs/c/metrics.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(metrics.first.map(String.init) == "epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,"
            + "epoch_seconds,samples_per_second,loss_scale,skipped_steps,grad_underflow,grad_overflow")
        var expected: [String] = []
        for row in metrics.dropFirst() {
            let cell = row.split(separator: ",").map { Double($0) ?? .nan }
            let scale = cell[10], exponent = Int(log2(scale))
            #expect(scale == pow(2, Double(exponent)))
            expected.append("ep \(Int(cell[0]))/2  loss \(Self.fourDigits(cell[2])) "
                + "acc \(String(format: "%.2f%%", cell[3] * 100))"
                + "  val \(Self.fourDigits(cell[4])) \(String(format: "%.2f%%", cell[5] * 100))  lr \(Self.fourDigits(cell[1]))"
                + "  scale 2^\(exponent) skip \(Int(cell[11]))  \(String(format: "%.3g", cell[8]))s")
            expected.append("  gradients rounded: \(Self.fourDigits(cell[12])) underflowed to 0, "
                + "\(Self.fourDigits(cell[13])) overflowed to inf")
        }
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        let epochLines = lines.filter { $0.hasPrefix("ep ") || $0.hasPrefix("  gradients") }
        #expect(epochLines == expected)
        #expect(epochLines.first?.contains("  lr 0.0001235  ") == true)
        for line in epochLines { #expect(line.count <= 100, "\(line.count) columns: \(line)") }
        #expect(lines.last?.hasPrefix("done: test_loss ") == true && lines.last?.contains(" samples/s; ") == true)
    }

    /// lr-find prints each suggestion, and the recommendation, to four significant digits.
    @Test func lrFindPrintsRatesToFourSignificantDigits() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 1500, seed: 4, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize}
            model: {hidden: []}
            loss: mse
            optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
            training: {batch_size: 32}
            """)
        let arguments = ["lr-find", "b.txt", "--steps", "30", "--start", "1e-5", "--end", "1"]
        let json = try CommandLineTests.run(arguments + ["--json", "--out", "j"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let suggestions = try #require(object["suggestions"] as? [[String: Any]])
        let rates = suggestions.compactMap { suggestion -> (String, Double)? in
            guard let method = suggestion["method"] as? String, let rate = suggestion["learning_rate"] as? Double else {
                return nil
            }
            return (method, rate)
        }
        #expect(rates.count == suggestions.count && !rates.isEmpty)
        let text = try CommandLineTests.run(arguments, in: directory)
        #expect(text.status == 0, "\(text.standardError)")
        let lines = text.standardOutput.split(separator: "\n")
        for (method, rate) in rates {
            let line = "  " + method.padding(toLength: 8, withPad: " ", startingAt: 0) + Self.fourDigits(rate)
                + (method == "valley" ? "  (recommended)" : "")
            #expect(lines.contains { $0 == line }, "\(line) in \(text.standardOutput)")
        }
        if let valley = rates.first(where: { $0.0 == "valley" }) {
            #expect(lines.contains { $0.hasPrefix("recommendation: optimizer.lr: \(Self.fourDigits(valley.1))  ") })
        }
    }
}

/// A second Ctrl-C (or SIGTERM) stops at once and says which checkpoint is on disk.
@Suite(.serialized) struct SecondInterruptTests {
    /// Starts `nntrain arguments` in `directory`, waits until `ready` holds (polled every 10 ms), sends
    /// `first`, waits until the process said it is stopping, then sends `second`; returns the exit
    /// status and standard error.
    static func interruptTwice(_ arguments: [String], in directory: URL, first: Int32, second: Int32,
                               waitForNotice: Bool, ready: () -> Bool) throws -> (status: Int32, standardError: String) {
        let process = CommandLineTests.process(arguments, in: directory)
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline, !ready() { usleep(10_000) }
        kill(process.processIdentifier, first)
        var standardError = Data()
        if waitForNotice {
            // A second SIGINT sent while the first is still pending would merge with it.
            while !String(decoding: standardError, as: UTF8.self).contains("stopping after this step") {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                standardError += chunk
            }
        }
        kill(process.processIdentifier, second)
        standardError += errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: standardError, as: UTF8.self))
    }

    /// Two real SIGINTs after the first epoch: the last line names last.bin and where training was
    /// when it was written, as the checkpoint on disk says (epoch 1's, or the interrupted one if it
    /// was renamed into place before the second signal came).
    @Test func aSecondCtrlCNamesTheCheckpointOnDisk() throws {
        let directory = try InterruptionTests.fixture()
        let metrics = directory.appendingPathComponent("twice/metrics.csv").path
        let stopped = try Self.interruptTwice(["run", "b.txt", "--set", "output.dir=twice"], in: directory,
                                              first: SIGINT, second: SIGINT, waitForNotice: true) {
            ((try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 2
        }
        #expect(stopped.status == 130, "\(stopped.standardError)")
        let position = try Checkpoint.read(path: directory.appendingPathComponent("twice/checkpoints/last.bin").path)
            .state.position
        let place = position.batch == 0
            ? "after epoch \(position.epoch - 1)" : "at epoch \(position.epoch), step \(position.batch)"
        // One literal: split with `+`, the expected text became a String and this comparison with a Substring? failed
        // although both texts were equal.
        #expect(stopped.standardError.split(separator: "\n").last == """
            nntrain: interrupted again: stopped at once; the last checkpoint on disk is \
            twice/checkpoints/last.bin (\(place))
            """)
    }

    /// SIGTERM and SIGINT together before the first epoch ends (two different signals never merge):
    /// no checkpoint yet, and none on disk.
    @Test func aSecondSignalBeforeAnyCheckpointSaysThereIsNone() throws {
        let directory = try InterruptionTests.fixture()
        let log = directory.appendingPathComponent("early/.lock").path
        let stopped = try Self.interruptTwice(["run", "b.txt", "--set", "output.dir=early", "--set", "training.batch_size=1"],
                                              in: directory, first: SIGTERM, second: SIGINT, waitForNotice: false) {
            FileManager.default.fileExists(atPath: log)
        }
        #expect(stopped.status == 130, "\(stopped.standardError)")
        #expect(stopped.standardError.split(separator: "\n").last
            == "nntrain: interrupted again: stopped at once; no checkpoint was written yet")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("early/checkpoints/last.bin").path))
    }
}
