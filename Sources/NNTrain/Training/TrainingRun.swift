import Foundation

/// What `nntrain run` does, from a config file to a run directory holding
///
///     config.yaml     the resolved config (every key, defaults filled in, overrides applied)
///     metrics.csv     one row per epoch (see MetricsLog)
///     steps.csv       every N-th step, with logging.every_n_steps (see StepLog)
///     tensorboard/    event files, with logging.tensorboard (see TensorBoardLog)
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
/// `lastFilesMissing`). Otherwise it reports the allowed changes before training (the observers'
/// `warning`), puts the checkpoint's state into the trainer, rewrites metrics.csv from its history
/// (dropping rows of epochs the checkpoint did not reach, which are trained again) and goes on; its
/// files end as those of a run that never stopped, timings aside.
///
/// `execute` reads top to bottom in its four phases (TrainingRun+Session.swift holds phases 2 to 4);
/// how the run ended is one `Ending`.
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
        /// What reading the data found (`TrainingData.notes`), shown before the rest.
        public var dataNotes: [String] = []
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

        /// The checkpoint this start resumes from, for a run in `runDirectory`; nil for a fresh start.
        func checkpointPath(runDirectory: String) -> String? {
            switch self {
            case .fresh, .overwrite: nil
            case .resumeLast: CheckpointPolicy.lastPath(runDirectory: runDirectory)
            case .resume(let path): path
            }
        }
    }

    /// How a run ended: what summary.json's `ended` says (`description`), what the command line
    /// prints and its exit status.
    public enum Ending: Sendable, CustomStringConvertible {
        /// Training reached its end, `training.epochs` or early stopping; last.bin holds it, and
        /// `restore_best` put the best epoch's model back for the test figures.
        case completed(TrainingEnd)
        /// Ctrl-C or SIGTERM (an observer's `shouldStop`), or `training.max_seconds` (`timeLimit`
        /// set), stopped training mid-way: last.bin was written there, then `restore_best`'s model
        /// put back for the test figures.
        case interrupted(Interruption)
        /// The loss, a gradient or (`atEpochEnd`) the weights after the epoch's last step stopped
        /// being finite at `epoch`, `step`: no checkpoint of them, and the epoch's metrics are not
        /// counted. `restoredEpoch` is set when `restore_best` had a best epoch to put back, which is
        /// then tested; without it there are no test figures. `execute` throws `error`, extended
        /// with the last good checkpoint, after writing summary.json.
        case diverged(NNTrainError, epoch: Int, step: Int, atEpochEnd: Bool, restoredEpoch: Int?)
        /// A resumed run had already ended and this config would not train it further: nothing was
        /// done, no file touched. The line says so, why, and what would continue it.
        case alreadyEnded(String)

        public var description: String {
            switch self {
            case .completed(let end): end.description
            case .interrupted(let interruption):
                (interruption.timeLimit == nil ? "interrupted" : "time limit")
                    + " at epoch \(interruption.position.epoch), step \(interruption.position.batch)"
            case .diverged(_, let epoch, let step, _, _): "diverged at epoch \(epoch), step \(step)"
            case .alreadyEnded(let line): line
            }
        }
    }

    /// What a run did, for the command line.
    public struct Outcome: Sendable {
        public var ending: Ending
        /// The run's summary.json; nil when nothing ran (`alreadyEnded`).
        public var summary: RunSummary?
        /// Keys changed since the checkpoint that a resume allowed (the observers were warned before
        /// training).
        public var changedKeys: [String]

        /// Where Ctrl-C, SIGTERM or `training.max_seconds` stopped training, and the checkpoint
        /// written there; nil when it was not stopped mid-way.
        public var interruption: Interruption? {
            guard case .interrupted(let interruption) = ending else { return nil }
            return interruption
        }
    }

    public struct Interruption: Sendable {
        public var position: TrainingPosition
        public var batchesPerEpoch: Int
        public var checkpoint: String
        /// `training.max_seconds` when the time limit stopped training; nil when a signal did.
        public var timeLimit: Double?
    }

    /// Trains the config at `configPath` with `overrides`, from `start`, in four phases, as llm.c's
    /// train_gpt2.c main reads: the config, the checkpoint to resume from and the run directory; the
    /// data and the trainer (its state restored from the checkpoint), config.yaml and the logs; the
    /// epochs; the last checkpoint, test figures, summary.json and curves.
    ///
    /// `observers` hear of the run's events after the run's own (steps.csv, then the epoch's
    /// checkpoints and metrics.csv row, see `TrainingObserver`): a resume's changes (`warning`),
    /// the plan, each checkpoint the run could be resumed from, with where training was (the one a
    /// resume starts from, then each last.bin, so a second Ctrl-C can name the one on disk), each
    /// epoch and step, and the end. When one of them says stop, or the clock when
    /// `training.max_seconds` is set (counted from this call), the run writes last.bin and
    /// summary.json and returns `.interrupted`. A diverged run throws `.diverged` after writing
    /// summary.json.
    public static func execute(configPath: String, overrides: [String], start: Start = .fresh,
                               observers: [any TrainingObserver] = []) throws(NNTrainError) -> Outcome
    {
        let wallStart = Date()
        // 1. The config, the checkpoint a resume starts from, and the run directory.
        var configuration = try Configuration.load(path: configPath, overrides: overrides)
        let directory = configuration.runDirectory(configPath: configPath)
        configuration.output.dir = directory
        var resumed: Resumed?
        if let resumePath = start.checkpointPath(runDirectory: directory) {
            let saved = try readCheckpoint(resumePath, runDirectory: directory, configPath: configPath,
                                           named: start == .resumeLast)
            resumed = Resumed(path: resumePath, checkpoint: saved,
                              changes: try checkChanges(from: saved, to: configuration, checkpointPath: resumePath))
            // Before the lock and any write: a run that stays ended leaves every file as it was.
            let state = saved.state
            if let ended = configuration.endedRun(ending: state.ending, position: state.position,
                                                  earlyStopping: state.earlyStopping),
               !lastFilesMissing(of: state, checkpoint: resumePath, in: directory) {
                return Outcome(ending: .alreadyEnded("\(resumePath): the run already ended (\(ended.reason)); nothing was "
                    + "done; to train on, \(ended.remedy)"), summary: nil, changedKeys: [])
            }
        }
        let runDirectory = try RunDirectory(claiming: directory)
        defer { withExtendedLifetime(runDirectory) {} }  // the lock is held until the run has written its last file
        switch start {
        case .fresh: try runDirectory.refuseOverwriting(configPath: configPath)
        case .overwrite: try runDirectory.clearRun()
        case .resumeLast, .resume: break
        }
        runDirectory.removeAbandonedTemporaryFiles()
        // 2. The data and the trainer, restored from the checkpoint; config.yaml, metrics.csv, steps.csv.
        let session = try Session(configPath: configPath, configuration: configuration, overrides: overrides,
                                  directory: directory, resumed: resumed, observers: observers, wallStart: wallStart)
        // 3. The epochs, until training ends, is stopped or diverges.
        let ending = try session.trainEpochs()
        // 4. The last checkpoint, the test figures, summary.json, curves.svg.
        return try session.finish(ending)
    }

    /// "after epoch 2" or "at epoch 3, step 7" (with `batchesPerEpoch`: "at epoch 3, step 7 of 15"),
    /// for a message.
    public static func describe(_ position: TrainingPosition, of batchesPerEpoch: Int? = nil) -> String {
        guard position.batch != 0 else { return "after epoch \(position.epoch - 1)" }
        return "at epoch \(position.epoch), step \(position.batch)" + (batchesPerEpoch.map { " of \($0)" } ?? "")
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
                + "since the checkpoint, on which its saved state depends (the model, the data, the optimizer's state); "
                + "expected the checkpoint's values "
                + "(see them with: nntrain inspect \(ShellQuoting.quote(checkpointPath)) --config) "
                + "or a new run directory (output.dir)")
        }
        return allowed
    }

    /// Writes `text` whole through a temporary file renamed into place (see OutputFile), so a
    /// reader never sees half a file.
    static func write(_ text: String, to path: String) throws(NNTrainError) {
        try OutputFile.write(Array(text.utf8), to: path)
    }
}
