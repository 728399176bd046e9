import Foundation
import ReaderFuzzing
import Testing
@testable import NNTrain

/// `nntrain config --defaults` and `--markdown`, and `--set key=null` through the executable.
@Suite struct ConfigCommandTests {
    /// A Fashion-MNIST folder `fm` in `directory` with 50 training and 20 test images of
    /// pseudo-random pixels, labels cycling through the 10 classes.
    static func writeTinyFashionMNIST(in directory: URL) throws {
        func idx(_ dimensions: [Int], _ data: [UInt8]) -> [UInt8] {
            func bigEndian(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
            return [0, 0, 8, UInt8(dimensions.count)] + dimensions.flatMap(bigEndian) + data
        }
        var state: UInt32 = 7
        func pixels(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return UInt8(truncatingIfNeeded: state >> 24)
            }
        }
        let folder = directory.appendingPathComponent("fm")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (prefix, count) in [("train", 50), ("t10k", 20)] {
            let files = [("\(prefix)-images-idx3-ubyte.gz", idx([count, 28, 28], pixels(count * 784))),
                         ("\(prefix)-labels-idx1-ubyte.gz", idx([count], (0..<count).map { UInt8($0 % 10) }))]
            for (name, bytes) in files {
                let gzip = ReaderFuzzing.gzip(bytes, level: 6)
                try #require(!gzip.isEmpty)
                try Data(gzip).write(to: folder.appendingPathComponent(name))
            }
        }
    }

    /// The printed defaults are a config `nntrain run` takes as it is, listing every key of the key
    /// table in table order, each with its meaning.
    @Test func theDefaultsAreACompleteConfigThatRuns() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let printed = try CommandLineTests.run(["config", "--defaults"], in: directory)
        #expect(printed.status == 0 && printed.standardError.isEmpty, "\(printed.standardError)")
        try CommandLineTests.write(printed.standardOutput, to: "defaults.yaml", in: directory)
        try Self.writeTinyFashionMNIST(in: directory)
        let run = try CommandLineTests.run(["run", "defaults.yaml", "-q", "--set", "data.path=fm", "--set", "training.epochs=1"],
                                           in: directory)
        #expect(run.status == 0 && run.standardError.isEmpty, "\(run.standardError)")
        // The run's resolved config is the defaults' (apart from the two overrides and the run directory),
        // under the line naming the config it was resolved from.
        let written = try String(contentsOf: directory.appendingPathComponent("runs/defaults/config.yaml"), encoding: .utf8)
        var expected = try Configuration.parse(yaml: "{}", source: "x")
        expected.data.path = "fm"
        expected.training.epochs = 1
        expected.output.dir = "runs/defaults"
        #expect(written == "# resolved from defaults.yaml\n" + expected.resolvedYAML())

        // Every key, in order, at its depth: active (`  lr: 0.001`) or a comment (`  # momentum: 0.0`).
        let lines = printed.standardOutput.split(separator: "\n").map(String.init)
        var next = lines.startIndex
        for (path, key) in Configuration.keys.valueEntries {
            let depth = path.split(separator: ".").count - 1
            let indentation = String(repeating: "  ", count: depth)
            guard let index = lines[next...].firstIndex(where: {
                $0.hasPrefix("\(indentation)\(key.name):") || $0.hasPrefix("\(indentation)# \(key.name):")
            }) else {
                Issue.record("\(path) is missing or out of order")
                continue
            }
            #expect(lines[index].contains(key.help) && lines[index].contains(key.allowed), "\(lines[index])")
            next = index + 1
        }
        #expect(lines.contains("  lr: 0.001                       # unset: the optimizer's PyTorch default: sgd, adam, adamw, "
            + "radam 1e-3; rmsprop, adagrad, rprop, asgd 1e-2; nadam, adamax 2e-3; adadelta, lbfgs 1; the learning rate; "
            + "a number > 0"))
        #expect(lines.contains("  # momentum: 0.0                 # only for sgd, rmsprop; momentum factor; "
            + "a number >= 0 and < 1"))
        #expect(lines.contains("    # norm:                       # unset: off; clip_grad_norm_: scale g by min(1, norm/(||g|| "
            + "+ 1e-6)); a number > 0"))
    }

    /// `config --markdown` prints the reference docs/config.md is written from.
    @Test func markdownPrintsTheReference() throws {
        let printed = try CommandLineTests.run(["config", "--markdown"], in: CommandLineTests.temporaryDirectory())
        #expect(printed.status == 0 && printed.standardError.isEmpty, "\(printed.standardError)")
        #expect(printed.standardOutput == Configuration.referenceMarkdown())
    }

    @Test func configWithoutDefaultsIsAUsageError() throws {
        let result = try CommandLineTests.run(["config"], in: CommandLineTests.temporaryDirectory())
        #expect(result.status == 64)
        #expect(result.standardError.hasPrefix("error: config needs --defaults (nntrain config --defaults prints every key)"))
        #expect(result.standardError.filter { $0 == "\n" }.count == 1)
    }

    /// `--set training.clip.norm=null` over a config that clips trains exactly as a config without
    /// clipping, and its config.yaml lists no norm.
    @Test func aNullOverrideUnsetsClippingForOneRun() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 300, seed: 5, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: [4]}
            loss: mse
            training: {epochs: 2, batch_size: 30, clip: {norm: 0.01}}
            """)
        try CommandLineTests.write("""
            data: {dataset: bonus, path: b.csv}
            model: {hidden: [4]}
            loss: mse
            training: {epochs: 2, batch_size: 30}
            """, to: "unclipped.txt", in: directory)
        func train(_ config: String, _ overrides: [String], into dir: String) throws -> (metrics: [String], config: String) {
            let result = try CommandLineTests.run(["run", config, "-q", "--set", "output.dir=\(dir)"]
                + overrides.flatMap { ["--set", $0] }, in: directory)
            #expect(result.status == 0 && result.standardError.isEmpty, "\(result.standardError)")
            let run = directory.appendingPathComponent(dir)
            let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            // epoch, lr, train_loss, val_loss, ...: the figures, without the timing columns at the end.
            let figures = metrics.split(separator: "\n").map { $0.split(separator: ",").dropLast(2).joined(separator: ",") }
            return (figures, try String(contentsOf: run.appendingPathComponent("config.yaml"), encoding: .utf8))
        }
        let clipped = try train("b.txt", [], into: "clipped")
        let unset = try train("b.txt", ["training.clip.norm=null"], into: "unset")
        let never = try train("unclipped.txt", [], into: "never")
        #expect(clipped.config.contains("  clip:\n    norm: 0.01\n"))
        #expect(unset.config.contains("  clip: {}\n"))
        #expect(unset.metrics == never.metrics)
        #expect(unset.metrics != clipped.metrics)
        let refused = try CommandLineTests.run(["run", "b.txt", "--set", "training.batch_size=null"], in: directory)
        CommandLineTests.expectFailure(refused, status: 78, message: "--set training.batch_size=null: training.batch_size: "
            + "has no value (null), but it cannot be unset: it always holds a value, 128 by default; "
            + "expected an integer >= 1, or full")
    }
}
