import Foundation
import Testing

/// curves.svg as `nntrain run` and `nntrain plot` draw it: the log loss axis on request, and the marks
/// a finished run's summary.json gives.
@Suite struct PictureCommandTests {
    static func svg(_ path: String, in directory: URL) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
    }

    /// The summary.json of a run, as a dictionary.
    static func summary(_ run: String, in directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(run + "/summary.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func plotLogYDrawsTheLossOnALogAxis() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("runs/demo"),
                                                withIntermediateDirectories: true)
        try CommandLineTests.write(PlotCommandTests.metrics, to: "runs/demo/metrics.csv", in: directory)
        let linear = try CommandLineTests.run(["plot", "runs/demo"], in: directory)
        #expect(linear.status == 0, "\(linear.standardError)")
        #expect(try Self.svg("runs/demo/curves.svg", in: directory).contains(">loss</text>"))
        let logarithmic = try CommandLineTests.run(["plot", "runs/demo", "--log-y", "--out", "log.svg"], in: directory)
        #expect(logarithmic.status == 0 && logarithmic.standardOutput == "log.svg\n", "\(logarithmic.standardError)")
        let svg = try Self.svg("log.svg", in: directory)
        #expect(svg.contains(">loss (log scale)</text>") && !svg.contains(">loss</text>"))
        #expect(svg.contains(">0.1</text>") && svg.contains(">1</text>"))
    }

    /// A run that stops early (min_delta too large for any epoch after the first to count) marks its
    /// best epoch and the stop, as its summary.json says; one without validation shows its test loss.
    @Test func aRunsCurvesMarkTheBestEpochTheEarlyStopAndTheTestLoss() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 600, seed: 5, config: """
            data: {dataset: bonus, path: b.csv, normalize: standardize, validation_split: 0.2}
            model: {hidden: [8]}
            loss: mse
            optimizer: {name: adam, lr: 0.01}
            training: {epochs: 6, batch_size: 32}
            early_stopping: {patience: 2, min_delta: 1000000}
            """)
        let stopped = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(stopped.status == 0, "\(stopped.standardError)")
        let summary = try Self.summary("runs/b", in: directory)
        #expect(summary["ended"] as? String == "early stop at epoch 3")
        let best = try #require(summary["best_epoch"] as? Int), bestLoss = try #require(summary["best_loss"] as? Double)
        let svg = try Self.svg("runs/b/curves.svg", in: directory)
        #expect(svg.contains("<title>best epoch \(best) (val \(String(format: "%.4g", bestLoss)))</title>"))
        #expect(svg.contains("<title>early stop after epoch 3</title>"))
        #expect(!svg.contains("<title>test</title>"))

        let unvalidated = try CommandLineTests.run(["run", "b.txt", "-q", "--set", "data.validation_split=0",
                                                    "--set", "training.epochs=2", "--set", "output.dir=plain"], in: directory)
        #expect(unvalidated.status == 0, "\(unvalidated.standardError)")
        let plain = try Self.svg("plain/curves.svg", in: directory)
        #expect(plain.contains("<title>test</title>") && plain.contains(">test</text>"))
        #expect(!plain.contains("early stop"))
    }
}
