import Foundation
import Testing
@testable import NNTrain

/// `nntrain run`'s files across an interruption and a resume, and the checkpoint policy, on a
/// small generated bonus dataset.
@Suite struct RunDirectoryTests {
    /// A folder with 600 bonus rows and a config training a 5-16-1 MLP for 5 epochs of 15 steps.
    static func fixture(extra: String = "") throws -> (folder: TemporaryFolder, config: String) {
        let folder = try TemporaryFolder()
        _ = try BonusData.write(rows: 600, seed: 9, to: folder.file("bonus.csv"))
        let config = try folder.write("""
            data: {dataset: bonus, path: \(folder.file("bonus.csv")), normalize: standardize}
            model: {hidden: [16], dropout: 0.1}
            loss: mse
            optimizer: {name: adam, lr: 0.01}
            scheduler: {name: cosine}
            training: {epochs: 5, batch_size: 29}
            logging: {every_n_steps: 4}
            \(extra)
            """, to: "config.txt")
        return (folder, config)
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// metrics.csv without its two timing columns (epoch_seconds, samples_per_second).
    static func metricsWithoutTimings(_ path: String) throws -> [String] {
        try lines(path).map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(8).joined(separator: ",") }
    }

    /// steps.csv without its seconds column.
    static func stepsWithoutTimings(_ path: String) throws -> [String] {
        try lines(path).map { $0.split(separator: ",").dropLast().joined(separator: ",") }
    }

    static func model(_ path: String) throws -> [[UInt8]] {
        let file = try CheckpointFile.read(path: path)
        return file.tensors.filter { $0.name.hasPrefix("layers.") }.map(\.tensor.bytes)
    }

    @Test func aRunInterruptedTwiceAndResumedWritesTheFilesOfOneThatNeverStopped() throws {
        let (folder, config) = try Self.fixture()
        let straight = folder.file("straight"), resumed = folder.file("resumed")
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(straight)"])

        var steps = 0
        for (start, stopAt) in [(TrainingRun.Start.fresh, 20), (.resumeLast, 44)] {
            let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(resumed)"], start: start,
                                                  observers: [StopWhen { _ in steps += 1; return steps == stopAt }])
            let interruption = try #require(outcome.interruption)
            #expect(interruption.checkpoint == resumed + "/checkpoints/last.bin")
            #expect(outcome.summary?.ended.hasPrefix("interrupted at epoch ") == true)
        }
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(resumed)"], start: .resumeLast)
        #expect(outcome.interruption == nil && outcome.changedKeys.isEmpty)
        #expect(outcome.summary?.resumedFrom == resumed + "/checkpoints/last.bin")
        #expect(try Self.metricsWithoutTimings(resumed + "/metrics.csv") == Self.metricsWithoutTimings(straight + "/metrics.csv"))
        #expect(try Self.lines(resumed + "/metrics.csv").count == 6)  // header and five epochs, none twice
        #expect(try Self.stepsWithoutTimings(resumed + "/steps.csv") == Self.stepsWithoutTimings(straight + "/steps.csv"))
        #expect(try Self.model(resumed + "/checkpoints/last.bin") == Self.model(straight + "/checkpoints/last.bin"))
        let summary = try RunSummary.decode(Data(contentsOf: URL(fileURLWithPath: straight + "/summary.json")))
        #expect(outcome.summary?.test?.untimed == summary.test?.untimed && outcome.summary?.ended == "completed")
    }

    /// summary.json's test block says how long the test evaluation took (what `make bench` reports);
    /// validation figures, in metrics.csv and in checkpoints, carry no timing. No bound on the value:
    /// a benchmark measures speed, not the test suite.
    @Test func theTestBlockOfSummaryJSONHoldsTheSecondsOfTheEvaluation() throws {
        let (folder, config) = try Self.fixture()
        let run = folder.file("run")
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "training.epochs=1"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/summary.json")))
        let test = try #require((json as? [String: Any])?["test"] as? [String: Any])
        let seconds = try #require(test["seconds"] as? Double)
        #expect(seconds > 0 && seconds.isFinite)
        let checkpoint = try Checkpoint.read(path: run + "/checkpoints/last.bin")
        let validation = try #require(checkpoint.state.history.first?.validation)
        #expect(validation.seconds == nil)
    }

    /// A time limit too small for more than one step stops each invocation after its first step with
    /// a checkpoint (whatever the machine's speed); resumed four times, then without a limit, the
    /// run ends with the files of one that never stopped. The limit may change on resume unwarned.
    @Test func aTimeLimitStopsAfterTheCurrentStepAndTheRunResumesBitForBit() throws {
        let (folder, config) = try Self.fixture()
        let straight = folder.file("straight"), limited = folder.file("limited")
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(straight)"])
        for step in 1...4 {
            let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(limited)",
                "training.max_seconds=1e-\(9 + step)"], start: step == 1 ? .fresh : .resumeLast)
            let interruption = try #require(outcome.interruption)
            #expect(interruption.timeLimit == Double("1e-\(9 + step)"))
            #expect(interruption.position == TrainingPosition(epoch: 1, batch: step))
            #expect(outcome.summary?.ended == "time limit at epoch 1, step \(step)")
            #expect(outcome.changedKeys.isEmpty)
            #expect(try Checkpoint.read(path: limited + "/checkpoints/last.bin").state.stepCount == step)
        }
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(limited)"], start: .resumeLast)
        #expect(outcome.interruption == nil && outcome.summary?.ended == "completed" && outcome.changedKeys.isEmpty)
        #expect(try Self.metricsWithoutTimings(limited + "/metrics.csv") == Self.metricsWithoutTimings(straight + "/metrics.csv"))
        #expect(try Self.stepsWithoutTimings(limited + "/steps.csv") == Self.stepsWithoutTimings(straight + "/steps.csv"))
        #expect(try Self.model(limited + "/checkpoints/last.bin") == Self.model(straight + "/checkpoints/last.bin"))
    }

    /// As after a process killed at epoch 5 whose last checkpoint is epoch 2's: the resumed run
    /// trains epochs 3 to 5 again, and metrics.csv holds each epoch once, with the same figures.
    @Test func rowsPastTheCheckpointAreReplacedNotDuplicated() throws {
        let (folder, config) = try Self.fixture(extra: "checkpoint: {every_n_epochs: 2, keep_last: 3}")
        let run = folder.file("run")
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)"])
        let straight = try Self.metricsWithoutTimings(run + "/metrics.csv")
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)"],
                                              start: .resume(path: run + "/checkpoints/epoch-0002.bin"))
        #expect(outcome.summary?.epochsCompleted == 5)
        #expect(try Self.metricsWithoutTimings(run + "/metrics.csv") == straight)
        #expect(try Self.lines(run + "/metrics.csv").dropFirst().map { $0.split(separator: ",")[0] } == ["1", "2", "3", "4", "5"])
    }

    @Test func keepLastKeepsTheNewestEpochFilesAndSaveBestTheBestEpoch() throws {
        let (folder, config) = try Self.fixture(extra: "checkpoint: {keep_last: 2, save_best: true, monitor: val_loss}")
        let run = folder.file("run")
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)"])
        let files = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").sorted()
        #expect(files == ["best.bin", "epoch-0004.bin", "epoch-0005.bin", "last.bin"])
        let losses = try Self.lines(run + "/metrics.csv").dropFirst().map { Double($0.split(separator: ",")[3]) ?? .nan }
        let bestEpoch = try #require(losses.indices.min { losses[$0] < losses[$1] }) + 1
        let best = try Checkpoint.read(path: run + "/checkpoints/best.bin")
        #expect(best.bestRecord == Checkpoint.BestRecord(value: losses[bestEpoch - 1], epoch: bestEpoch))
        #expect(best.state.history.count == bestEpoch)
        #expect(outcome.summary?.bestCheckpoint == run + "/checkpoints/best.bin")
        let final = try Checkpoint.read(path: run + "/checkpoints/last.bin")
        #expect(final.reason == .final && final.state.ending == .completed)
    }

    @Test func aChangedModelIsRefusedAndMoreEpochsAllowedWithTheirNames() throws {
        let (folder, config) = try Self.fixture()
        let run = folder.file("run")
        _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "training.epochs=2"])
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "model.hidden=[8]"],
                                        start: .resumeLast)
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .config && error?.message == "\(run)/checkpoints/last.bin: cannot resume: the config "
                + "changed model.hidden since the checkpoint, on which its saved state depends (the model, the data, "
                + "the optimizer's state); expected "
                + "the checkpoint's values (see them with: nntrain inspect \(run)/checkpoints/last.bin --config) or a new run "
                + "directory (output.dir)"
        }
        let outcome = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "training.epochs=3"],
                                              start: .resumeLast)
        // cosine's t_max follows training.epochs when the config leaves it out.
        #expect(outcome.changedKeys == ["training.epochs", "scheduler.t_max"])
        #expect(outcome.summary?.epochsCompleted == 3)
    }

    @Test func aDivergedRunSaysSoInItsSummaryAndKeepsItsFiles() throws {
        let (folder, config) = try Self.fixture()
        let run = folder.file("run")
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)", "optimizer.lr=1e30"])
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .diverged && error?.message.hasPrefix("training diverged at epoch 1, step ") == true
                && error?.message.hasSuffix("; no checkpoint was written before it") == true
        }
        let summary = try RunSummary.decode(Data(contentsOf: URL(fileURLWithPath: run + "/summary.json")))
        #expect(summary.ended.hasPrefix("diverged at epoch 1, step "))
        #expect(summary.test == nil && summary.checkpoint == nil && summary.epochsCompleted == 0)
        #expect(try Self.lines(run + "/metrics.csv") == [MetricsLog.header(.init(classification: false))])
    }

    /// Copies of metrics.csv and every checkpoint file, taken after each epoch's files are written.
    final class FileSnapshots: TrainingObserver {
        let run: String
        var afterEpoch: [Int: [String: Data]] = [:]
        init(run: String) { self.run = run }
        func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) { afterEpoch[metrics.epoch] = files() }
        func files() -> [String: Data] {
            let names = ["metrics.csv"] + ((try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")) ?? [])
                .map { "checkpoints/" + $0 }
            return Dictionary(uniqueKeysWithValues: names.compactMap { name in
                FileManager.default.contents(atPath: run + "/" + name).map { (name, $0) }
            })
        }
    }

    /// SGD whose lr triples every epoch (0.01, 0.03, 0.09) diverges in epoch 3: the message names
    /// the place, the lr of the step, the missing clipping and the checkpoint of epoch 2, and
    /// metrics.csv and the checkpoints are byte for byte as epoch 2 left them.
    @Test func aRunDivergingInItsThirdEpochNamesTheCauseAndKeepsTheFilesOfTheSecond() throws {
        let (folder, config) = try Self.fixture(extra: "checkpoint: {keep_last: 2}")
        let run = folder.file("run")
        let snapshots = FileSnapshots(run: run)
        var message = ""
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: [
                "output.dir=\(run)", "optimizer.name=sgd", "scheduler.name=exponential", "scheduler.gamma=3"],
                observers: [snapshots])
        } throws: { error in
            message = (error as? NNTrainError)?.message ?? ""
            return (error as? NNTrainError)?.kind == .diverged
        }
        #expect(message.hasPrefix("training diverged at epoch 3, step "), "\(message)")
        #expect(message.contains(" became inf"), "\(message)")
        #expect(message.hasSuffix("; the learning rate 0.09 (optimizer.lr 0.01 under the exponential schedule) is likely "
            + "too high and no gradient clipping is configured: try a smaller optimizer.lr or training.clip.norm: 1.0; "
            + "the last good checkpoint is \(run)/checkpoints/last.bin (after epoch 2)"), "\(message)")
        let before = try #require(snapshots.afterEpoch[2])
        #expect(snapshots.afterEpoch[3] == nil)
        #expect(before.keys.sorted() == [
            "checkpoints/epoch-0001.bin", "checkpoints/epoch-0002.bin", "checkpoints/last.bin", "metrics.csv",
        ])
        #expect(snapshots.files() == before)
        let summary = try RunSummary.decode(Data(contentsOf: URL(fileURLWithPath: run + "/summary.json")))
        #expect(summary.ended.hasPrefix("diverged at epoch 3, step ") && summary.epochsCompleted == 2)
        #expect(summary.checkpoint == run + "/checkpoints/last.bin")
    }

    /// One step per epoch at lr 1e30 with clipping: the step's loss is finite but the weights it
    /// writes give an infinite validation loss, caught before the epoch's checkpoint and row.
    @Test func weightsThatOverflowAtAnEpochsEndAreCaughtBeforeItsCheckpoint() throws {
        let (folder, config) = try Self.fixture()
        let run = folder.file("run")
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: [
                "output.dir=\(run)", "optimizer.name=sgd", "optimizer.lr=1e30", "training.batch_size=full",
                "training.clip.value=1"])
        } throws: { error in
            (error as? NNTrainError)?.message == "training diverged at epoch 1, step 1: the validation loss became inf; "
                + "the learning rate 1e+30 is likely too high: try a smaller optimizer.lr or training.clip.norm: 1.0; "
                + "no checkpoint was written before it"
        }
        #expect(!FileManager.default.fileExists(atPath: run + "/checkpoints"))
        #expect(try Self.lines(run + "/metrics.csv") == [MetricsLog.header(.init(classification: false))])
    }

    /// Other data of the same size and normalisation (a bonus file of another seed, no
    /// normalisation) pass the row-count and statistics checks; the CRC-32 of the training rows
    /// in the checkpoint refuses them.
    @Test func resumingOnOtherDataOfTheSameSizeIsRefusedByTheDataChecksum() throws {
        let (folder, config) = try Self.fixture()
        let run = folder.file("run")
        let overrides = ["output.dir=\(run)", "data.normalize=none", "training.epochs=2"]
        _ = try TrainingRun.execute(configPath: config, overrides: overrides + ["training.max_seconds=1e-9"])
        let saved = try #require(try Checkpoint.read(path: run + "/checkpoints/last.bin").dataFingerprint)
        #expect(saved.count == 8)
        _ = try TrainingRun.execute(configPath: config, overrides: overrides, start: .resumeLast)
        #expect(try Checkpoint.read(path: run + "/checkpoints/last.bin").dataFingerprint == saved)

        _ = try BonusData.write(rows: 600, seed: 10, to: folder.file("bonus.csv"))
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: overrides + ["training.epochs=3"], start: .resumeLast)
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .config && error?.message.hasPrefix("\(run)/checkpoints/last.bin: the training data differ "
                + "from the checkpoint's (the CRC-32 of the training rows was \(saved), it is ") == true
                && error?.message.hasSuffix(" now from \(folder.file("bonus.csv"))); expected the data file the checkpoint "
                + "was trained on") == true
        }
    }

    @Test func resumingWithoutACheckpointSaysWhereItLooked() throws {
        let (folder, config) = try Self.fixture()
        #expect {
            _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(folder.file("none"))"],
                                        start: .resumeLast)
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .missingFile && error?.message.hasPrefix(
                "\(folder.file("none"))/checkpoints/last.bin: no checkpoint to resume from "
                    + "(expected one written by an earlier") == true
        }
    }
}

extension EvaluationMetrics {
    /// The figures without the time they took, which differs from run to run.
    var untimed: EvaluationMetrics {
        var copy = self
        copy.seconds = nil
        return copy
    }
}
