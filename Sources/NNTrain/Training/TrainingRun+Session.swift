import Foundation

extension TrainingRun {
    /// The checkpoint a run resumes from: where it is, what it holds, and the config changes since
    /// it that the resume allows.
    struct Resumed {
        var path: String
        var checkpoint: Checkpoint
        var changes: ResumeChanges?
    }

    /// Phases 2 to 4 of `execute`, for a claimed run directory: what they share, from the built
    /// trainer to the run's last file.
    struct Session {
        let configPath: String
        let directory: String
        let wallStart: Date
        let resumed: Resumed?
        let data: TrainingData
        let trainer: Trainer
        let files: RunFiles
        let stepLog: StepLog?
        /// The TensorBoard event file of `logging.tensorboard`; nil without it.
        let tensorBoard: TensorBoardLog?
        let deadline: Deadline?
        /// The model's layer widths, input to output.
        let widths: [Int]

        /// Phase 2: loads the data, builds the trainer (the scheduler defaults that depend on the
        /// batches filled into its configuration), checks the schedule against the batches and
        /// writes config.yaml from it; restores the
        /// checkpoint, warns the observers of the resume's changes, tells them the plan (the data's notes
        /// first, the task chosen the first of them), then warns them of what the data's reading found; writes
        /// metrics.csv anew (a resumed run's from its checkpoint's history), steps.csv and, with
        /// `logging.tensorboard`, a new event file (its hparams the keys `overrides` set and those off
        /// their defaults); then tells the observers of the checkpoint resumed from. The trainer's
        /// observers are steps.csv, TensorBoard's, the epoch's files, `observers`, and last the time limit.
        init(configPath: String, configuration: Configuration, overrides: [String], directory: String, resumed: Resumed?,
             observers: [any TrainingObserver], wallStart: Date) throws(NNTrainError)
        {
            self.configPath = configPath
            self.directory = directory
            self.wallStart = wallStart
            self.resumed = resumed
            var configuration = configuration
            var data = try TrainingData.load(for: &configuration, file: configPath)
            // A new run reads model.init_from; a resumed one has the weights (and the normaliser) in its checkpoint.
            let initialWeights = resumed == nil ? try InitialWeights.load(for: configuration, data: data, file: configPath) : nil
            if let normalizer = initialWeights?.normalizer {
                data.normalizer = normalizer
            } else if let resumed, configuration.model.initNormalizer {
                data.normalizer = resumed.checkpoint.normalizer
            }
            if let initialWeights { data.notes.append(initialWeights.summary) }
            if let note = configuration.layerTrainingNote { data.notes.append(note) }
            self.data = data
            trainer = Trainer(configuration: configuration, data: data,
                              teacher: try Teacher.load(for: configuration, data: data, file: configPath),
                              initialWeights: initialWeights)
            try configuration.checkScheduleFitsTheData(stepsPerEpoch: trainer.batchesPerEpoch, file: configPath)
            try TrainingRun.write(RunDirectory.configHeader(configPath: configPath) + trainer.configuration.resolvedYAML(),
                                  to: directory + "/config.yaml")
            let dataFingerprint = data.train.contentCRC32()
            if let resumed { try resumed.checkpoint.restore(into: trainer, path: resumed.path, dataFingerprint: dataFingerprint) }
            if let changes = resumed?.changes {
                for observer in observers { observer.warning(changes.description) }
            }
            let policy = CheckpointPolicy(runDirectory: directory, section: configuration.checkpoint,
                                          best: resumed?.checkpoint.bestRecord, dataFingerprint: dataFingerprint)
            widths = [trainer.network.inputWidth] + configuration.model.hidden + [trainer.network.outputWidth]
            let plan = Plan(
                runDirectory: directory, dataset: configuration.data.dataset.rawValue, layerWidths: widths,
                parameterCount: trainer.network.parameters.count, trainRows: data.train.count,
                validationRows: data.validation.count, testRows: data.test.count, loadSeconds: data.loadSeconds,
                blasKernel: BLAS.kernelName, blasThreads: BLAS.threadCount, resumedFrom: resumed?.path,
                resumePosition: resumed == nil ? nil : trainer.position, dataNotes: data.notes)
            for observer in observers { observer.runStarted(plan) }
            // After the plan, whose first lines are the data's notes: the task chosen comes first.
            for warning in data.warnings {
                for observer in observers { observer.warning(warning) }
            }

            let columns = MetricsLog.Columns(
                classification: data.isClassification, mixedPrecision: configuration.training.precision != .fp32,
                precisionStats: configuration.logging.precisionStats, prunedLayers: trainer.pruner?.layers.map(\.index) ?? [],
                layers: configuration.logging.layerStats ? LayerStatistics.columns(of: configuration) : nil)
            let log = try MetricsLog(path: directory + "/metrics.csv", columns: columns, rows: trainer.history)
            stepLog = configuration.logging.everyNSteps > 0
                ? try StepLog(path: directory + "/steps.csv", every: configuration.logging.everyNSteps,
                              layers: configuration.logging.layerStats ? trainer.layerStatistics?.count ?? 0 : 0,
                              continuingThrough: resumed == nil ? nil : trainer.stepCount) : nil
            var boardColumns = columns  // TensorBoard has the per-layer scalars with or without layer_stats
            boardColumns.layers = LayerStatistics.columns(of: configuration)
            tensorBoard = configuration.logging.tensorboard
                ? try TensorBoardLog(runDirectory: directory, configuration: trainer.configuration, columns: boardColumns,
                                     hyperparameters: TensorBoardLog.hyperparameters(of: trainer.configuration,
                                                                                     overrides: overrides),
                                     resumedStep: resumed == nil ? nil : trainer.stepCount) : nil
            files = RunFiles(policy: policy, metricsLog: log)
            deadline = configuration.training.maxSeconds.map { Deadline(seconds: $0, from: wallStart) }
            var runObservers: [any TrainingObserver] = []
            if let stepLog { runObservers.append(stepLog) }
            // TensorBoard's file before the epoch's checkpoint, as steps.csv: a kill between the two then
            // leaves events past the checkpoint, which the resume's purge drops, never a gap.
            if let tensorBoard { runObservers.append(tensorBoard) }
            runObservers.append(files)
            runObservers += observers
            if let deadline { runObservers.append(deadline) }
            trainer.observers = runObservers
            if let resumed {
                files.recordLastGood(path: resumed.path, position: resumed.checkpoint.state.position, trainer: trainer)
            }
        }

        /// Phase 3: trains the epochs until training ends, an observer or the time limit stops it
        /// (then last.bin is written there), or it diverges; returns how, with `restore_best`'s best
        /// model put back into the trainer however it ended.
        func trainEpochs() throws(NNTrainError) -> Ending {
            var divergence: NNTrainError?
            do {
                try trainer.train()
            } catch where error.kind == .diverged {
                divergence = error
            } catch {
                throw stopped(error)
            }
            do { try stepLog?.flush() } catch { throw stopped(error) }
            if let divergence {
                // The weights hold NaN or infinities: no checkpoint of them; the last good one stays.
                let (epoch, step, atEpochEnd) = files.divergedAfterEpoch.map { ($0, trainer.batchesPerEpoch, true) }
                    ?? (trainer.position.epoch, trainer.position.batch + 1, false)
                trainer.restoreBest()
                return .diverged(divergence, epoch: epoch, step: step, atEpochEnd: atEpochEnd,
                                 restoredEpoch: trainer.restoredEpoch)
            }
            if let end = trainer.ending { return .completed(end) }
            let path: String
            do { path = try files.policy.writeLast(trainer: trainer, reason: .interrupted) } catch { throw stopped(error) }
            files.recordLastGood(path: path, position: trainer.position, trainer: trainer)
            let interruption = Interruption(position: trainer.position, batchesPerEpoch: trainer.batchesPerEpoch,
                                            checkpoint: path, timeLimit: deadline?.reached == true ? deadline?.seconds : nil)
            trainer.restoreBest()  // for the test figures, however training ended
            return .interrupted(interruption)
        }

        /// Phase 4: writes the final last.bin of a completed run, evaluates the test split (unless
        /// the run diverged with no best model to put back), writes summary.json and curves.svg and
        /// tells the observers. Throws a diverged run's error, naming the last good checkpoint.
        func finish(_ ending: Ending) throws(NNTrainError) -> Outcome {
            let configuration = trainer.configuration
            var divergence: NNTrainError?, testable = true, history = trainer.history
            switch ending {
            case .completed:
                do { try files.policy.writeLast(trainer: trainer, reason: .final) } catch { throw stopped(error) }
            case .diverged(let error, let epoch, _, let atEpochEnd, let restoredEpoch):
                // The epochs of the run that ended well (not one whose weights diverged at its end).
                if atEpochEnd { history.removeAll { $0.epoch == epoch } }
                (divergence, testable) = (error, restoredEpoch != nil)
            case .interrupted, .alreadyEnded:
                break
            }
            let best = history.min { Self.bestLoss(of: $0) < Self.bestLoss(of: $1) }
            let trainSeconds = history.reduce(0) { $0 + $1.epochSeconds }
            let policy = files.policy
            let lastCheckpoint = FileManager.default.fileExists(atPath: policy.lastPath) ? policy.lastPath : nil
            var test: EvaluationMetrics?, weights: [RunSummary.WeightRecovery]?
            if testable {
                let start = DispatchTime.now().uptimeNanoseconds
                try trainer.withFinalModel { () throws(NNTrainError) in
                    test = trainer.evaluate(data.test)
                    if divergence == nil {
                        weights = RunSummary.WeightRecovery.table(network: trainer.network, data: trainer.data)
                    }
                }
                test?.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } else if divergence == nil {
                weights = RunSummary.WeightRecovery.table(network: trainer.network, data: trainer.data)
            }
            let finalWeights = switch trainer.finalModel {
            case .model: trainer.restoredEpoch == nil ? "running" : "restored_best"
            case .ema: "ema"
            case .swa: "swa"
            case .ax: "ax"
            }
            let testedWeights = testable ? finalWeights : nil
            let precision = configuration.training.precision
            let summary = RunSummary(
                nntrainVersion: NNTrainVersion.string, config: configPath, runDirectory: directory,
                dataset: configuration.data.dataset.rawValue, ended: ending.description, epochsCompleted: history.count,
                bestEpoch: best?.epoch, bestLoss: best.map(Self.bestLoss(of:)), restoredBestEpoch: trainer.restoredEpoch,
                checkpoint: lastCheckpoint, bestCheckpoint: policy.best.map { _ in policy.bestPath },
                resumedFrom: resumed?.path,
                test: test, testedWeights: testedWeights, weights: weights,
                mixedPrecision: precision == .fp32 ? nil : RunSummary.MixedPrecision(
                    precision: precision.rawValue, lossScale: trainer.gradScaler.map { Double($0.scale) },
                    skippedSteps: trainer.gradScaler?.skippedSteps ?? 0),
                pruning: trainer.pruner?.figures,
                parameters: trainer.network.parameters.count, layerWidths: widths, loadSeconds: data.loadSeconds,
                trainSeconds: trainSeconds, wallSeconds: Date().timeIntervalSince(wallStart),
                samplesPerSecond: Double(data.train.count * history.count) / max(trainSeconds, 1e-9),
                blasKernel: BLAS.kernelName, blasThreads: BLAS.threadCount)
            try OutputFile.write(Array(summary.json()), to: directory + "/summary.json")
            if configuration.output.plots, !history.isEmpty { try LearningCurves.write(runDirectory: directory) }
            do { try tensorBoard?.finish(summary: summary, ending: ending, step: trainer.stepCount) } catch {
                throw stopped(error)
            }
            for observer in trainer.observers { observer.runEnded(summary, ending: ending) }
            if let divergence {
                throw NNTrainError(.diverged, divergence.message
                    + (files.lastGoodCheckpoint.map { "; " + $0 } ?? "; no checkpoint was written before it"))
            }
            return Outcome(ending: ending, summary: summary, changedKeys: resumed?.changes?.keys ?? [])
        }

        /// A write that fails while training (a full disk, a file-size limit, a folder made
        /// read-only) ends the run, leaving the files as they were (see OutputFile, AppendingFile):
        /// the message adds the checkpoint to go back to.
        private func stopped(_ error: NNTrainError) -> NNTrainError {
            guard error.kind == .cannotWrite else { return error }
            let next = "make room (or make the folder writable), then "
            return NNTrainError(.cannotWrite, error.message + "; training stopped" + (files.lastGoodCheckpoint.map {
                "; \($0): \(next)resume with --resume"
            } ?? " before any checkpoint was written: \(next)start again with --force"))
        }

        /// The figure summary.json's best epoch is chosen by: validation loss, or training loss
        /// without a validation split.
        private static func bestLoss(of metrics: EpochMetrics) -> Double {
            metrics.validation?.loss ?? metrics.trainLoss
        }
    }

    /// A run's files at each epoch's end, the observer after steps.csv: unless the epoch's weights
    /// diverged, the checkpoints of the `checkpoint:` section (see CheckpointPolicy), then the
    /// epoch's metrics.csv row — the checkpoint before the row, so that a row on disk always has a
    /// checkpoint (a resumed run rewrites metrics.csv from its checkpoint's history, which restores
    /// a missing row).
    final class RunFiles: TrainingObserver {
        let policy: CheckpointPolicy
        let metricsLog: MetricsLog
        /// The checkpoint training would go back to if it diverged now, and where training was when
        /// it was written.
        private(set) var lastGood: (path: String, position: TrainingPosition)?
        /// "the last good checkpoint is runs/x/checkpoints/last.bin (after epoch 2)", for a message;
        /// nil before any was written.
        var lastGoodCheckpoint: String? {
            lastGood.map { "the last good checkpoint is \(ShellQuoting.quote($0.path)) (\(TrainingRun.describe($0.position)))" }
        }
        /// The epoch whose weights were found infinite or NaN at its end, if training diverged so.
        private(set) var divergedAfterEpoch: Int?

        init(policy: CheckpointPolicy, metricsLog: MetricsLog) {
            self.policy = policy
            self.metricsLog = metricsLog
        }

        func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {
            // The epoch's last step may have written NaN, or values whose outputs overflow, into
            // the weights (its own loss was finite): then no checkpoint and no row of them.
            let validationLoss = metrics.validation?.loss ?? 0
            if !trainer.modelIsFinite || !validationLoss.isFinite {
                divergedAfterEpoch = metrics.epoch
                let what = trainer.modelIsFinite ? "the validation loss became \(validationLoss)"
                    : "the weights became infinite or NaN"
                throw trainer.divergence(epoch: metrics.epoch, step: trainer.batchesPerEpoch, what: what,
                                         learningRate: metrics.learningRate)
            }
            if try policy.epochFinished(metrics, trainer: trainer) {
                recordLastGood(path: policy.lastPath, position: trainer.position, trainer: trainer)
            }
            try metricsLog.append(metrics)
        }

        /// Makes the checkpoint at `path`, written at `position`, the last good one, and tells the
        /// trainer's observers it is on disk.
        func recordLastGood(path: String, position: TrainingPosition, trainer: Trainer) {
            lastGood = (path, position)
            for observer in trainer.observers { observer.checkpointWritten(path: path, position: position) }
        }
    }

    /// `training.max_seconds`, counted from the start of `execute`: stops training once it has
    /// passed (asked with the other observers' `shouldStop`, after them).
    final class Deadline: TrainingObserver {
        let seconds: Double
        private let time: Date
        /// Whether it stopped training.
        private(set) var reached = false

        init(seconds: Double, from start: Date) {
            self.seconds = seconds
            time = start.addingTimeInterval(seconds)
        }

        func shouldStop(_ trainer: Trainer) -> Bool {
            guard Date() >= time else { return false }
            reached = true
            return true
        }
    }
}
