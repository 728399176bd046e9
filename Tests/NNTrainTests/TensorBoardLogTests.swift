import Foundation
import Testing

@testable import NNTrain

/// `logging.tensorboard`: what a run writes into RUN_DIR/tensorboard/, read back with the tests' own
/// TFRecord reader and TensorBoard's restart rule (`TensorBoardEvents`), against the run's CSV files.
@Suite struct TensorBoardLogTests {
    static let tensorBoardOn = ["logging.tensorboard=true", "logging.histograms=true"]

    /// metrics.csv as rows of column → text.
    static func metricsRows(_ path: String) throws -> [[String: String]] {
        let lines = try RunDirectoryTests.lines(path)
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }

    /// The step of each epoch's scalars, from the `epoch` scalar.
    static func epochSteps(_ scalars: [String: [(step: Int, value: Float)]]) -> [Int: Int] {
        Dictionary((scalars["epoch"] ?? []).map { (Int($0.value), $0.step) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every metrics.csv value equals its scalar at the epoch's step (as a float32, simple_value's
    /// precision), every epoch appears once, and the tags are the documented ones.
    static func expectScalarsMatch(metrics: String, folder: String) throws {
        let (events, _) = try TensorBoardEvents.readRun(folder)
        let scalars = TensorBoardEvents.scalars(events)
        let rows = try metricsRows(metrics)
        let steps = epochSteps(scalars)
        #expect(steps.count == rows.count && scalars["epoch"]?.count == rows.count)
        for row in rows {
            let epoch = try #require(row["epoch"].flatMap { Int($0) })
            let step = try #require(steps[epoch])
            for (column, text) in row where column != "epoch" && !text.isEmpty {
                let tag = TensorBoardLog.tag(forColumn: column)
                let found = scalars[tag]?.filter { $0.step == step } ?? []
                #expect(found.count == 1, "\(tag) at step \(step)")
                #expect(found.first?.value == Float(try #require(Double(text))), "\(tag) at step \(step)")
            }
        }
        for (tag, series) in scalars {
            #expect(Set(series.map(\.step)).count == series.count, "\(tag) has a step twice")
        }
    }

    @Test func everyCSVFigureHistogramAndHyperparameterReachesTheEventFile() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let run = folder.file("run")
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)"] + Self.tensorBoardOn)
        let summary = try #require(outcome.summary)
        let files = try FileManager.default.contentsOfDirectory(atPath: run + "/tensorboard")
        #expect(files.count == 1 && files[0].hasPrefix("events.out.tfevents."))
        try Self.expectScalarsMatch(metrics: run + "/metrics.csv", folder: run + "/tensorboard")

        let (events, purged) = try TensorBoardEvents.readRun(run + "/tensorboard")
        #expect(purged == 0)
        #expect(events.first?.fileVersion == "brain.Event:2")
        let scalars = TensorBoardEvents.scalars(events)
        // The regression's tags, by name (the mapping itself is what is under test here).
        for tag in ["lr", "loss/train", "loss/val", "mae/val", "r2/val", "grad_norm/mean", "grad_norm/max",
                    "time/epoch_seconds", "step/loss", "step/lr", "step/grad_norm", "loss/test", "mae/test", "r2/test",
                    // The per-layer statistics, without layer_stats (which would add them to the CSV files).
                    "grad_norm/layer0", "grad_norm/layer1", "weight_norm/layer0", "dead_units/layer0",
                    "step/grad_norm/layer0", "step/grad_norm/layer1"] {
            #expect(scalars[tag] != nil, "no \(tag)")
        }
        #expect(scalars["dead_units/layer1"] == nil)  // the output layer has no ReLU
        // Epochs end at whole multiples of the batches per epoch (no step is skipped in fp32).
        let steps = Self.epochSteps(scalars)
        let perEpoch = try #require(steps[1])
        #expect((1...5).map { steps[$0] } == (1...5).map { $0 * perEpoch })
        // The test figures at the last step, equal to summary.json's.
        let test = try #require(summary.test)
        #expect(scalars["loss/test"]?.map(\.step) == [5 * perEpoch])
        #expect(scalars["loss/test"]?.first?.value == Float(test.loss))

        // steps.csv's rows (every 4th step) are the per-step scalars.
        let stepRows = try RunDirectoryTests.lines(run + "/steps.csv").dropFirst().map { $0.split(separator: ",") }
        #expect(scalars["step/loss"]?.map(\.step) == stepRows.map { Int($0[0]) })
        #expect(scalars["step/loss"]?.map(\.value) == stepRows.map { Float(Double($0[3]) ?? .nan) })
        #expect(scalars["step/grad_norm"]?.map(\.value) == stepRows.map { Float(Double($0[4]) ?? .nan) })

        // Histograms: each tensor's weights and gradients each epoch, the weights' counts adding up to
        // the parameter count (5·16 + 16 + 16 + 1 = 113).
        var weightCounts: [Int: Double] = [:], histogramCount = 0
        for event in events {
            for value in event.summary.value {
                guard case .histo(let histogram)? = value.value else { continue }
                histogramCount += 1
                #expect(histogram.bucket.reduce(0, +) == histogram.num)
                #expect(histogram.bucketLimit.count == histogram.bucket.count)
                if value.tag.hasPrefix("weights/") { weightCounts[Int(event.step), default: 0] += histogram.num }
            }
        }
        #expect(histogramCount == 5 * 2 * 4)
        #expect(Set(weightCounts.values) == [113] && weightCounts.count == 5)

        // HParams: the experiment, the session's start with the configured keys, its end: success.
        let plugin = events.flatMap(\.summary.value).filter { $0.metadata.pluginData.pluginName == "hparams" }
        #expect(plugin.map(\.tag) == ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"])
        let contents = try plugin.map { try Tensorboard_HParamsPluginData(serializedBytes: $0.metadata.pluginData.content) }
        let start = contents[1].sessionStartInfo.hparams
        #expect(start["optimizer.lr"]?.numberValue == 0.01)
        #expect(start["model.hidden"]?.stringValue == "[16]")
        #expect(start["scheduler.name"]?.stringValue == "cosine")
        #expect(start["output.dir"] == nil && start["logging.tensorboard"] == nil && start["training.clip.norm"] == nil)
        #expect(contents[0].experiment.hparamInfos.map(\.name).sorted() == start.keys.sorted())
        #expect(contents[0].experiment.metricInfos.map(\.name.tag) == ["loss/train", "loss/val", "mae/val", "r2/val",
                                                                         "loss/test", "mae/test", "r2/test"])
        #expect(contents[2].sessionEndInfo.status == .success)
    }

    /// A run resumed from an earlier checkpoint (as after a crash that lost the epochs after it), with a
    /// changed learning rate: TensorBoard shows each step once, with the resumed session's values.
    @Test func aResumeFromAnEarlierCheckpointPurgesTheStaleSteps() throws {
        let (folder, config) = try RunDirectoryTests.fixture(extra: "checkpoint: {keep_last: 5}")
        let run = folder.file("run")
        // With layer_stats, metrics.csv's per-layer columns are compared with their scalars too.
        let overrides = ["output.dir=\(run)", "logging.layer_stats=true"] + Self.tensorBoardOn
        _ = try TrainingRun.execute(configPath: config, overrides: overrides)
        #expect(try RunDirectoryTests.lines(run + "/metrics.csv")[0].contains(",grad_norm_layer0,"))
        let before = try RunDirectoryTests.lines(run + "/metrics.csv")
        let outcome = try TrainingRun.execute(configPath: config, overrides: overrides + ["optimizer.lr=0.02"],
                                              start: .resume(path: run + "/checkpoints/epoch-0002.bin"))
        #expect(outcome.changedKeys == ["optimizer.lr"])
        #expect(try RunDirectoryTests.lines(run + "/metrics.csv").suffix(3) != before.suffix(3))

        let (events, purged) = try TensorBoardEvents.readRun(run + "/tensorboard")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run + "/tensorboard").count == 2)
        #expect(purged > 0)
        try Self.expectScalarsMatch(metrics: run + "/metrics.csv", folder: run + "/tensorboard")
        // The first session's epochs 1 and 2 stay; its epochs 3 to 5 are gone.
        let epochs = TensorBoardEvents.scalars(events)["epoch"]?.map(\.value)
        #expect(epochs == [1, 2, 3, 4, 5])
    }

    /// A run interrupted mid-epoch and resumed: its scalars are those of metrics.csv, each once, and the
    /// test figures appear once, at the end (the interrupted session writes none).
    @Test func anInterruptedRunShowsEachStepAndItsTestFiguresOnce() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let run = folder.file("run")
        let overrides = ["output.dir=\(run)"] + Self.tensorBoardOn
        var steps = 0
        let first = try TrainingRun.execute(configPath: config, overrides: overrides,
                                            observers: [StopWhen { _ in steps += 1; return steps == 20 }])
        #expect(first.interruption != nil)
        _ = try TrainingRun.execute(configPath: config, overrides: overrides, start: .resumeLast)
        try Self.expectScalarsMatch(metrics: run + "/metrics.csv", folder: run + "/tensorboard")
        let scalars = TensorBoardEvents.scalars(try TensorBoardEvents.readRun(run + "/tensorboard").events)
        #expect(scalars["loss/test"]?.count == 1)
        #expect(scalars["loss/test"]?.first?.step == Self.epochSteps(scalars)[5])
    }

    @Test func forceDeletesThePreviousRunsEventFiles() throws {
        let (folder, config) = try RunDirectoryTests.fixture()
        let run = folder.file("run")
        let overrides = ["output.dir=\(run)", "logging.tensorboard=true", "training.epochs=1"]
        _ = try TrainingRun.execute(configPath: config, overrides: overrides)
        let first = try FileManager.default.contentsOfDirectory(atPath: run + "/tensorboard")
        _ = try TrainingRun.execute(configPath: config, overrides: overrides, start: .overwrite)
        let second = try FileManager.default.contentsOfDirectory(atPath: run + "/tensorboard")
        #expect(first.count == 1 && second.count == 1)
        // Without tensorboard, --force leaves no tensorboard folder behind.
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "training.epochs=1"], start: .overwrite)
        #expect(!FileManager.default.fileExists(atPath: run + "/tensorboard"))
    }

    @Test func tagsGroupTheColumnsByWhatTheyMeasure() {
        let expected = [
            "train_loss": "loss/train", "val_acc": "accuracy/val", "lr": "lr", "grad_norm_mean": "grad_norm/mean",
            "samples_per_second": "time/samples_per_second", "loss_scale": "precision/loss_scale",
            "sparsity": "sparsity/all", "sparsity_2": "sparsity/layer2", "grad_norm_layer0": "grad_norm/layer0",
            "weight_norm_layer12": "weight_norm/layer12", "dead_units_layer1": "dead_units/layer1",
        ]
        for (column, tag) in expected { #expect(TensorBoardLog.tag(forColumn: column) == tag) }
    }

    /// The hparams: the keys off their defaults and those given with --set (even at a default value),
    /// never where the run writes; values typed as TensorBoard's HPARAMS tab sorts them.
    @Test func hyperparametersAreTheKeysOffTheirDefaultsAndTheOverriddenOnes() throws {
        #expect(TensorBoardLog.hyperparameters(of: Configuration(), overrides: []).isEmpty)
        var configuration = Configuration()
        configuration.optimizer.lr = 0.05
        configuration.logging.tensorboard = true
        configuration.output.dir = "runs/x"
        let found = TensorBoardLog.hyperparameters(of: configuration, overrides: ["training.epochs=10", "output.dir=y"])
        #expect(found.map(\.key) == ["optimizer.lr", "training.epochs"])
        #expect(found.map(\.text) == ["0.05", "\(Configuration().training.epochs)"])

        #expect(TensorBoardLog.hyperparameterValue("true").1 == .bool)
        #expect(TensorBoardLog.hyperparameterValue("true").0.boolValue == true)
        #expect(TensorBoardLog.hyperparameterValue("0.001").0.numberValue == 0.001)
        #expect(TensorBoardLog.hyperparameterValue("[256, 128]").0.stringValue == "[256, 128]")
        #expect(TensorBoardLog.hyperparameterValue("\"a b\"").0.stringValue == "a b")
        #expect(TensorBoardLog.hyperparameterValue("adam").1 == .string)
    }
}
