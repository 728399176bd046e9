import Foundation
import ReaderFuzzing
import Testing

/// `eval --top-k`: one rule in the help, the validation and the output: 1 ≤ k ≤ classes, top-1 is
/// the accuracy; outside the range, exit 64 naming it.
@Suite struct EvalTopKCommandTests {
    /// A folder with a Fashion-MNIST look-alike in `fm` (40 training and 20 test images of random
    /// pixels, labels cycling through the 10 classes) and a one-epoch run of it in runs/c.
    static func trainedClassifier() throws -> URL {
        let directory = try CommandLineTests.temporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        func images(_ count: Int) -> [UInt8] {
            let header: [UInt8] = [0, 0, 8, 3] + bigEndian(count) + bigEndian(28) + bigEndian(28)
            let pixels: [UInt8] = (0..<count * 784).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return header + pixels
        }
        func labels(_ count: Int) -> [UInt8] {
            let header: [UInt8] = [0, 0, 8, 1] + bigEndian(count)
            return header + (0..<count).map { (row: Int) -> UInt8 in UInt8(row % 10) }
        }
        let fm = directory.appendingPathComponent("fm")
        try FileManager.default.createDirectory(at: fm, withIntermediateDirectories: true)
        let files: [(name: String, bytes: [UInt8])] = [
            ("train-images-idx3-ubyte.gz", images(40)), ("train-labels-idx1-ubyte.gz", labels(40)),
            ("t10k-images-idx3-ubyte.gz", images(20)), ("t10k-labels-idx1-ubyte.gz", labels(20)),
        ]
        for (name, bytes) in files {
            try Data(ReaderFuzzing.gzip(bytes)).write(to: fm.appendingPathComponent(name))
        }
        try CommandLineTests.write("""
            data: {dataset: fashion-mnist, path: fm, validation_split: 0}
            model: {hidden: [4]}
            training: {epochs: 1, batch_size: 10}
            """, to: "c.txt", in: directory)
        let run = try CommandLineTests.run(["run", "c.txt", "-q"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        return directory
    }

    static func bigEndian(_ value: Int) -> [UInt8] {
        (0..<4).map { (byte: Int) -> UInt8 in UInt8(truncatingIfNeeded: value >> (24 - 8 * byte)) }
    }

    /// The figure of the table row called `name` (its last-but-one column).
    static func figure(_ name: String, in table: String) -> String? {
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count > 2, fields.dropLast(2).joined(separator: " ") == name { return fields[fields.count - 2] }
        }
        return nil
    }

    @Test func kFrom1ToTheNumberOfClassesIsReportedAndTop1IsTheAccuracy() throws {
        let directory = try Self.trainedClassifier()
        let top1 = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--top-k", "1"], in: directory)
        #expect(top1.status == 0, "\(top1.standardError)")
        let accuracy = try #require(Self.figure("accuracy", in: top1.standardOutput))
        #expect(Self.figure("top-1 accuracy", in: top1.standardOutput) == accuracy)
        // Every class is among the top 10 of 10.
        let top10 = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--top-k", "10"], in: directory)
        #expect(Self.figure("top-10 accuracy", in: top10.standardOutput) == "1.0000")

        let json = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--top-k", "1", "--json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let report = try #require(object["classification"] as? [String: Any])
        let topK = try #require(report["top_k"] as? [[String: Any]])
        let top1Figure = try #require(topK.first)
        #expect(topK.count == 1 && top1Figure["k"] as? Int == 1)
        #expect(top1Figure["accuracy"] as? Double == report["accuracy"] as? Double)
        // balanced_accuracy_score: the text's line under the table, and the JSON's figure, agree.
        let balanced = try #require(report["balanced_accuracy"] as? Double)
        #expect(balanced >= 0 && balanced <= 1)
        #expect(top1.standardOutput.contains("\nbalanced accuracy \(String(format: "%.4f", balanced))\n"))
    }

    @Test func kOutsideTheRangeExits64NamingIt() throws {
        let directory = try Self.trainedClassifier()
        for arguments in [["--top-k", "11"], ["--top-k", "11", "--json"]] {
            let result = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin"] + arguments, in: directory)
            CommandLineTests.expectFailure(result, status: 64, message: "--top-k 11: expected an integer from 1 to 10, "
                + "the number of classes of runs/c/checkpoints/last.bin (see 'nntrain eval --help')")
            #expect(result.standardOutput.isEmpty)
        }
        let zero = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--top-k", "0"], in: directory)
        CommandLineTests.expectFailure(zero, status: 64, message: "--top-k 0: expected an integer from 1 to the number of "
            + "classes (see 'nntrain eval --help')")
        let help = try CommandLineTests.run(["eval", "--help"], in: directory)
        #expect(help.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains(
            "Also report top-k accuracy, 1 ≤ k ≤ the number of classes; top-1 is the accuracy (classification; default: 3, "
                + "or the number of classes if fewer)."))
    }

    @Test func aRegressionModelRefusesAnExplicitTopK() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 200, seed: 4, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: []}
            loss: mse
            training: {epochs: 1, batch_size: 10}
            """)
        #expect(try CommandLineTests.run(["run", "b.txt", "-q"], in: directory).status == 0)
        #expect(try CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin"], in: directory).status == 0)
        let result = try CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin", "--top-k", "2"], in: directory)
        CommandLineTests.expectFailure(result, status: 64, message: "--top-k 2: top-k accuracy ranks the classes of a "
            + "classifier; runs/b/checkpoints/last.bin is a regression model (see 'nntrain eval --help')")
    }
}
