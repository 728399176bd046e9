import Foundation

/// What `nntrain run` does, from a config file to a run directory holding
///
///     config.yaml     the resolved config (every key, defaults filled in, overrides applied)
///     metrics.csv     one row per epoch (see MetricsLog)
///     steps.csv       every N-th step, with logging.every_n_steps (see StepLog)
///     checkpoints/    last.bin, best.bin, epoch-NNNN.bin (see CheckpointPolicy and Checkpoint)
///     summary.json    final test figures, best epoch, how training ended, timings (see RunSummary)
///     curves.svg      the learning curves, with output.plots (see LearningCurves)
///
/// The run first claims its directory (see RunDirectory): its lock, and a refusal to start afresh
/// over a run it holds unless told to (`overwrite`).
///
/// A resumed run (`resume`) reads a checkpoint, refuses it if the config now differs in anything
/// that shapes the model or the data (see `Configuration.keysFixedOnResume`). When the run had
/// already ended and the config would not train it further (see `Configuration.endedRun`), it
/// returns saying so without touching a file (unless a kill left the run's last files unwritten:
/// `lastFilesMissing`). Otherwise it reports the allowed changes before training (`warn`), puts
/// the checkpoint's state into the trainer, rewrites metrics.csv from its history (dropping rows of
/// epochs the checkpoint did not reach, which are trained again) and goes on; its files end as
/// those of a run that never stopped, timings aside.
public enum TrainingRun {
    /// What a run is about to do, for the progress display.
    public struct Plan: Sendable {
        public var runDirectory: String
        public var dataset: String
        public var layerWidths: [Int]
        public var parameterCount: Int
        public var trainRows: Int, validationRows: Int, testRows: Int
        public var loadSeconds: Double
        public var blasKernel: String
        public var blasThreads: Int
        /// The checkpoint a resumed run started from, and where in training it was.
        public var resumedFrom: String?
        public var resumePosition: TrainingPosition?
    }

    /// Where a run starts.
    public enum Start: Equatable, Sendable {
        /// From the initialisation, into a directory that holds no run yet.
        case fresh
        /// From the initialisation, after deleting the run the directory holds (`--force`).
        case overwrite
        /// From the run directory's checkpoints/last.bin.
        case resumeLast
        /// From the checkpoint at this path.
        case resume(path: String)
    }

    /// How a run ended, for the command line.
    public struct Outcome: Sendable {
        /// The run's summary.json; nil when nothing ran (`alreadyEnded`).
        public var summary: RunSummary?
        /// Set when Ctrl-C, SIGTERM or `training.max_seconds` stopped training: where, and the
        /// checkpoint written there.
        public var interruption: Interruption?
        /// Keys changed since the checkpoint that a resume allowed (`warn` was told before training).
        public var changedKeys: [String]
        /// Set when the resumed run had already ended and this config would not train it further:
        /// one line saying so, why, and what would continue it. No file was touched.
        public var alreadyEnded: String?
    }

    public struct Interruption: Sendable {
        public var position: TrainingPosition
        public var batchesPerEpoch: Int
        public var checkpoint: String
        /// `training.max_seconds` when the time limit stopped training; nil when a signal did.
        public var timeLimit: Double?
    }

    /// Trains the config at `configPath` with `overrides`, from `start`. `shouldStop` is asked after
    /// every optimizer step (the command line's signal handler), and so is the clock when
    /// `training.max_seconds` is set (counted from this call); when either says stop, the run writes
    /// last.bin and summary.json and returns with `interruption` set. `warn` receives a resume's
    /// changes (`ResumeChanges`) before the first step. `checkpointWritten` hears of each
    /// checkpoint the run could be resumed from, with where training was: the one a resume starts
    /// from, then each last.bin (so a second Ctrl-C can name the one on disk).
    public static func execute(configPath: String, overrides: [String], start: Start = .fresh,
                               observer: (any TrainingObserver & RunObserver)?, shouldStop: () -> Bool = { false },
                               warn: (String) -> Void = { _ in },
                               checkpointWritten: (_ path: String, _ position: TrainingPosition) -> Void = { _, _ in })
        throws(NNTrainError) -> Outcome
    {
        let wallStart = Date()
        var configuration = try Configuration.load(path: configPath, overrides: overrides)
        let directory = configuration.runDirectory(configPath: configPath)
        configuration.output.dir = directory
        let resumePath: String? = switch start {
        case .fresh, .overwrite: nil
        case .resumeLast: CheckpointPolicy.lastPath(runDirectory: directory)
        case .resume(let path): path
        }
        var checkpoint: Checkpoint?
        var changes: ResumeChanges?
        if let resumePath {
            let saved = try readCheckpoint(resumePath, runDirectory: directory, configPath: configPath, named: start == .resumeLast)
            changes = try checkChanges(from: saved, to: configuration, checkpointPath: resumePath)
            // Before the lock and any write: a run that stays ended leaves every file as it was.
            let state = saved.state
            if let ended = configuration.endedRun(ending: state.ending, position: state.position,
                                                  earlyStopping: state.earlyStopping),
               !lastFilesMissing(of: state, checkpoint: resumePath, in: directory) {
                return Outcome(summary: nil, interruption: nil, changedKeys: [], alreadyEnded: "\(resumePath): the run "
                    + "already ended (\(ended.reason)); nothing was done; to train on, \(ended.remedy)")
            }
            checkpoint = saved
        }
        let runDirectory = try RunDirectory(claiming: directory)
        defer { withExtendedLifetime(runDirectory) {} }  // the lock is held until the run has written its last file
        switch start {
        case .fresh: try runDirectory.refuseOverwriting(configPath: configPath)
        case .overwrite: try runDirectory.clearRun()
        case .resumeLast, .resume: break
        }
        runDirectory.removeAbandonedTemporaryFiles()

        let data = try TrainingData.load(configuration.data, seed: configuration.seed)
        let trainer = Trainer(configuration: configuration, data: data)
        if let problem = trainer.schedule.validate() { throw NNTrainError.config(configPath, line: nil, problem) }
        // The trainer's configuration has the schedule's defaults of these batches filled in.
        try write(RunDirectory.configHeader(configPath: configPath) + trainer.configuration.resolvedYAML(),
                  to: directory + "/config.yaml")
        let dataFingerprint = data.train.contentCRC32()
        if let checkpoint, let resumePath {
            try checkpoint.restore(into: trainer, path: resumePath, dataFingerprint: dataFingerprint)
        }
        if let changes { warn(changes.description) }
        let policy = CheckpointPolicy(runDirectory: directory, section: configuration.checkpoint, best: checkpoint?.bestRecord,
                                      dataFingerprint: dataFingerprint)
        let widths = [trainer.network.inputWidth] + configuration.model.hidden + [trainer.network.outputWidth]
        observer?.runStarted(Plan(
            runDirectory: directory, dataset: configuration.data.dataset.rawValue, layerWidths: widths,
            parameterCount: trainer.network.parameters.count, trainRows: data.train.count,
            validationRows: data.validation.count, testRows: data.test.count, loadSeconds: data.loadSeconds,
            blasKernel: BLAS.kernelName, blasThreads: BLAS.threadCount, resumedFrom: resumePath,
            resumePosition: checkpoint == nil ? nil : trainer.position))

        let precision = configuration.training.precision
        let log = try MetricsLog(path: directory + "/metrics.csv", columns: MetricsLog.Columns(
            classification: data.isClassification, mixedPrecision: precision != .fp32,
            precisionStats: configuration.logging.precisionStats), rows: trainer.history)
        let stepLog = configuration.logging.everyNSteps > 0
            ? try StepLog(path: directory + "/steps.csv", every: configuration.logging.everyNSteps,
                          continuingThrough: checkpoint.map { _ in trainer.stepCount }) : nil
        // The checkpoint training would go back to if it diverged now, and where it was written; each
        // is passed to `checkpointWritten`.
        var lastGood: (path: String, position: TrainingPosition)? = nil {
            didSet { if let lastGood { checkpointWritten(lastGood.path, lastGood.position) } }
        }
        lastGood = checkpoint.map {
            (start == .resumeLast ? policy.lastPath : resumePath ?? policy.lastPath, $0.state.position)
        }
        // training.max_seconds, checked with the signals after every step.
        let deadline = configuration.training.maxSeconds.map { wallStart.addingTimeInterval($0) }
        var timeIsUp = false
        func stop() -> Bool {
            if shouldStop() { return true }
            guard let deadline, Date() >= deadline else { return false }
            timeIsUp = true
            return true
        }
        // A write that fails while training (a full disk, a file-size limit, a folder made read-only)
        // ends the run, leaving the files as they were (see OutputFile, AppendingFile): the message
        // adds the checkpoint to go back to.
        func stopped(_ error: NNTrainError) -> NNTrainError {
            guard error.kind == .cannotWrite else { return error }
            let next = "make room (or make the folder writable), then "
            return NNTrainError(.cannotWrite, error.message + "; training stopped" + (lastGood.map {
                "; the last good checkpoint is \(ShellQuoting.quote($0.path)) (\(describe($0.position))): \(next)resume with --resume"
            } ?? " before any checkpoint was written: \(next)start again with --force"))
        }
        var divergence: NNTrainError?
        var divergedAfterEpoch: Int?  // set when the weights were found non-finite at an epoch's end
        do {
            try trainer.train(observer: observer, stepLog: stepLog, shouldStop: stop) { (metrics) throws(NNTrainError) in
                try stepLog?.flush()
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
                // The checkpoint before the row, so that a row on disk always has a checkpoint (a resumed
                // run rewrites metrics.csv from its checkpoint's history, which restores a missing row).
                try policy.epochFinished(metrics, trainer: trainer)
                if metrics.epoch % configuration.checkpoint.everyNEpochs == 0 {
                    lastGood = (policy.lastPath, trainer.position)
                }
                try log.append(metrics)
            }
        } catch where error.kind == .diverged {
            divergence = error
        } catch {
            throw stopped(error)
        }
        do { try stepLog?.flush() } catch { throw stopped(error) }
        var interruption: Interruption?
        let ended: String
        // The epochs of the run that ended well (not one whose weights diverged at its end).
        let history = trainer.history.filter { $0.epoch != divergedAfterEpoch }
        if divergence != nil {
            // The weights hold NaN or infinities: no checkpoint of them; the last good one stays.
            ended = divergedAfterEpoch.map { "diverged at epoch \($0), step \(trainer.batchesPerEpoch)" }
                ?? "diverged at epoch \(trainer.position.epoch), step \(trainer.position.batch + 1)"
            trainer.restoreBest()
        } else if trainer.ending == nil {
            let path: String
            do { path = try policy.writeLast(trainer: trainer, reason: .interrupted) } catch { throw stopped(error) }
            lastGood = (path, trainer.position)
            let timeLimit = timeIsUp ? configuration.training.maxSeconds : nil
            interruption = Interruption(position: trainer.position, batchesPerEpoch: trainer.batchesPerEpoch, checkpoint: path,
                                        timeLimit: timeLimit)
            ended = (timeLimit == nil ? "interrupted" : "time limit")
                + " at epoch \(trainer.position.epoch), step \(trainer.position.batch)"
            trainer.restoreBest()  // for the test figures, however training ended
        } else {
            do { try policy.writeLast(trainer: trainer, reason: .final) } catch { throw stopped(error) }
            ended = trainer.ending?.description ?? "completed"
        }
        let best = history.min { bestLoss(of: $0) < bestLoss(of: $1) }
        let trainSeconds = history.reduce(0) { $0 + $1.epochSeconds }
        let lastCheckpoint = FileManager.default.fileExists(atPath: policy.lastPath) ? policy.lastPath : nil
        var test: EvaluationMetrics?
        if divergence == nil || trainer.restoredEpoch != nil {
            let start = DispatchTime.now().uptimeNanoseconds
            test = trainer.evaluate(data.test)
            test?.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let summary = RunSummary(
            nntrainVersion: NNTrainVersion.string, config: configPath, runDirectory: directory,
            dataset: configuration.data.dataset.rawValue, ended: ended, epochsCompleted: history.count,
            bestEpoch: best?.epoch, bestLoss: best.map(bestLoss(of:)), restoredBestEpoch: trainer.restoredEpoch,
            checkpoint: lastCheckpoint, bestCheckpoint: policy.best.map { _ in policy.bestPath },
            resumedFrom: resumePath,
            test: test,
            weights: divergence == nil ? RunSummary.WeightRecovery.table(network: trainer.network, data: trainer.data) : nil,
            mixedPrecision: precision == .fp32 ? nil : RunSummary.MixedPrecision(
                precision: precision.rawValue, lossScale: trainer.gradScaler.map { Double($0.scale) },
                skippedSteps: trainer.gradScaler?.skippedSteps ?? 0),
            parameters: trainer.network.parameters.count, layerWidths: widths, loadSeconds: data.loadSeconds,
            trainSeconds: trainSeconds, wallSeconds: Date().timeIntervalSince(wallStart),
            samplesPerSecond: Double(data.train.count * history.count) / max(trainSeconds, 1e-9),
            blasKernel: BLAS.kernelName, blasThreads: BLAS.threadCount)
        try OutputFile.write(Array(summary.json()), to: directory + "/summary.json")
        if configuration.output.plots, !history.isEmpty { try LearningCurves.write(runDirectory: directory) }
        if let divergence {
            throw NNTrainError(.diverged, divergence.message + (lastGood.map { "; the last good checkpoint is \(ShellQuoting.quote($0.path)) "
                + "(\(describe($0.position)))" } ?? "; no checkpoint was written before it"))
        }
        return Outcome(summary: summary, interruption: interruption, changedKeys: changes?.keys ?? [])
    }

    /// "after epoch 2" or "at epoch 3, step 7", for a message.
    public static func describe(_ position: TrainingPosition) -> String {
        position.batch == 0 ? "after epoch \(position.epoch - 1)" : "at epoch \(position.epoch), step \(position.batch)"
    }

    /// Whether the run directory's own last.bin (`checkpoint`) holds an ended run whose summary.json
    /// does not record that end: the process was killed between the final checkpoint and
    /// summary.json. Resuming it then trains nothing but writes the run's last files (summary.json,
    /// curves.svg).
    private static func lastFilesMissing(of state: TrainingState, checkpoint: String, in directory: String) -> Bool {
        guard RunDirectory.samePath(checkpoint, CheckpointPolicy.lastPath(runDirectory: directory)) else { return false }
        guard let data = FileManager.default.contents(atPath: directory + "/summary.json"),
              let summary = try? RunSummary.decode(data) else { return true }
        return summary.ended != state.ending?.description || summary.epochsCompleted != state.history.count
    }

    /// Reads the checkpoint to resume from; a missing last.bin says how runs get one.
    private static func readCheckpoint(_ path: String, runDirectory: String, configPath: String, named: Bool)
        throws(NNTrainError) -> Checkpoint
    {
        guard !named || FileManager.default.fileExists(atPath: path) else {
            throw NNTrainError(.missingFile, "\(path): no checkpoint to resume from (expected one written by an "
                + "earlier \(ShellQuoting.command(["nntrain", "run", configPath])) into \(ShellQuoting.quote(runDirectory)); "
                + "or give --resume PATH, "
                + "or start afresh with --force)")
        }
        return try Checkpoint.read(path: path)
    }

    /// Compares the checkpoint's configuration with the one the run resumes with: refuses changes
    /// to what shapes the model or the data, returns the others (nil when there are none).
    private static func checkChanges(from checkpoint: Checkpoint, to configuration: Configuration, checkpointPath: String)
        throws(NNTrainError) -> ResumeChanges?
    {
        let saved = try checkpoint.configuration(path: checkpointPath)
        let (refused, allowed) = configuration.resumeChanges(from: saved, state: checkpoint.state)
        guard refused.isEmpty else {
            throw NNTrainError(.config, "\(checkpointPath): cannot resume: the config changed \(refused.joined(separator: ", ")) "
                + "since the checkpoint, which alters the model or the data; expected the checkpoint's values "
                + "(see them with: nntrain inspect \(ShellQuoting.quote(checkpointPath)) --config) or a new run directory (output.dir)")
        }
        return allowed
    }

    /// The figure summary.json's best epoch is chosen by: validation loss, or training loss without
    /// a validation split.
    private static func bestLoss(of metrics: EpochMetrics) -> Double {
        metrics.validation?.loss ?? metrics.trainLoss
    }

    /// Writes `text` whole through a temporary file renamed into place (see OutputFile), so a
    /// reader never sees half a file.
    static func write(_ text: String, to path: String) throws(NNTrainError) {
        try OutputFile.write(Array(text.utf8), to: path)
    }
}

/// Receives the plan of a run before its first epoch.
public protocol RunObserver: AnyObject {
    func runStarted(_ plan: TrainingRun.Plan)
}
