import ArgumentParser
import Foundation
import NNTrain

/// `nntrain cv CONFIG --folds K`: k-fold cross-validation (`CrossValidation`). Fold k is a normal run
/// of CONFIG with `data.folds=K data.fold=k` in `RUN_DIR/fold-k` (RUN_DIR: the config's output.dir
/// after the --set values), run by the `TrialRunner` as a sweep's trial is, so a restart runs only
/// what is not finished and resumes interrupted folds from their checkpoints; then cv.csv and
/// cv.json (`CrossValidationReport`), with --ensemble the fold models as one ensemble on the test set.
struct CrossValidationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "k-fold cross-validation: K runs of a config, fold k of the training rows held out as run k's validation "
            + "split; write cv.csv and cv.json (mean and standard deviation over the folds).",
        discussion: "Each fold is 'nntrain run CONFIG --set data.folds=K --set data.fold=k --set output.dir=RUN_DIR/fold-k' "
            + "in a process of its own (stratified folds for classification, drawn with the seed). Started again, cv runs "
            + "only the folds not finished and resumes interrupted ones. --ensemble also evaluates the K fold models as "
            + "one ensemble on the test set. --fold k runs fold k alone (a job array's task); --status prints each "
            + "fold's state; --report writes cv.csv and cv.json from the folders; --slurm submits the unfinished folds "
            + "as one Slurm job array, each task 'nntrain cv CONFIG --folds K ... --fold k'.")

    @Argument(help: "The config file, e.g. configs/fashion-mnist.txt.", completion: .configFile)
    var config: String

    @Option(help: ArgumentHelp("The number of folds K, at least 2.", valueName: "K"))
    var folds: Int

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key for every fold (repeatable), as nntrain run's.",
                                                          valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Folds run at once (default 1); each computes on cores/jobs threads (NNTRAIN_THREADS). "
        + "With --slurm: at most this many array tasks at once."))
    var jobs: Int?

    @Flag(help: "Also evaluate the K fold models (their final checkpoints) as one ensemble on the test set.")
    var ensemble = false

    @Option(help: ArgumentHelp("Run only fold k (1 to K), for a job array or another runner.", valueName: "k"))
    var fold: Int?

    @Flag(help: "Print each fold's state and figures from its folder; run and write nothing.")
    var status = false

    @Flag(help: "Write cv.csv and cv.json (with --ensemble, the ensemble's figures) from the fold folders; run nothing.")
    var report = false

    @OptionGroup(title: "Slurm")
    var slurm: SlurmOptions

    func validate() throws {
        guard (2...CrossValidation.maxFolds).contains(folds) else {
            throw ValidationError("--folds \(folds): expected 2 to \(CrossValidation.maxFolds) folds")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs \(jobs): expected at least 1 fold at once") }
        if let fold, !(1...folds).contains(fold) {
            throw ValidationError("--fold \(fold): expected a fold from 1 to --folds (\(folds))")
        }
        if status, fold != nil || ensemble {
            throw ValidationError("--status runs nothing; expected it without --fold and --ensemble")
        }
        let modes = [("--fold", fold != nil), ("--status", status), ("--report", report), ("--slurm", slurm.slurm)]
            .filter(\.1).map(\.0)
        if modes.count > 1 { throw ValidationError("\(modes.joined(separator: " and ")) exclude each other; give one") }
    }

    func run() throws {
        let crossValidation = try CrossValidation(folds: folds, arguments: overrides)
        let directory = try Configuration.load(path: config, overrides: overrides).runDirectory(configPath: config)
        let first = try crossValidation.checkFolds(configPath: config)
        let trials = crossValidation.trials
        if status {
            for result in Self.results(trials, directory: directory) {
                var figures = ""
                if result.status == .finished {
                    let shown: [(String, Double?)] = [("best_epoch", result.bestEpoch.map(Double.init)),
                                                      ("val_loss", result.validation.loss),
                                                      ("val_acc", result.validation.accuracy),
                                                      ("test_loss", result.test.loss), ("test_acc", result.test.accuracy)]
                    figures = shown.compactMap { name, value in value.map { " \(name) \(ConsoleFormat.significant($0))" } }
                        .joined()
                }
                print("\(result.trial.folderName)  \(result.status.rawValue)\(figures)  \(result.note)")
            }
            return
        }
        if report {
            try writeReport(trials, directory: directory, seed: first.seed, interrupted: false)
            return
        }
        let chosen = fold.map { [trials[$0 - 1]] } ?? trials
        let pending = Self.results(chosen, directory: directory).filter { [.failed, .unfinished].contains($0.status) }
            .map(\.trial)
        if slurm.slurm {
            try submit(pending, directory: directory)
            return
        }
        let jobs = jobs ?? 1
        Terminal.printLine("cv \(config): \(folds) folds in \(directory), \(pending.count) to run, \(jobs) at once")
        let threads = max(1, BLAS.threadCount / jobs)
        let interruption = try TrialRunner(jobs: jobs, threads: threads).run(pending, basePath: config, directory: directory)
        try writeReport(trials, directory: directory, seed: first.seed, interrupted: interruption != nil, judging: chosen)
    }

    /// The command that repeats this cross-validation (config, K, the --set values), for tasks and messages.
    private var command: [String] { ["cv", config, "--folds", "\(folds)"] + overrides.flatMap { ["--set", $0] } }

    /// --slurm: the unfinished (and failed) folds as one job array, each task this command with
    /// `--fold k`; --jobs caps the tasks running at once.
    private func submit(_ pending: [SweepTrial], directory: String) throws {
        guard !pending.isEmpty else {
            Terminal.printLine("cv \(config): every fold in \(directory) is done; nothing to submit")
            return
        }
        let name = ((config as NSString).lastPathComponent as NSString).deletingPathExtension
        let job = SlurmArrayJob(
            name: "nntrain-cv-" + name, taskIDs: pending.map(\.number),
            command: [SlurmOptions.executablePath] + command + ["--fold"],
            workingDirectory: SlurmOptions.workingDirectory, logDirectory: SlurmOptions.absolute(directory + "/slurm"),
            cpusPerTask: slurm.cpusPerTask, maxConcurrent: jobs, partition: slurm.partition, timeLimit: slurm.time)
        try slurm.submit(job, scriptPath: directory + "/slurm/cv.sbatch", status: ["nntrain"] + command + ["--status"],
                         report: ["nntrain"] + command + ["--report"] + (ensemble ? ["--ensemble"] : []))
    }

    /// Each fold's outcome from its folder.
    static func results(_ trials: [SweepTrial], directory: String) -> [FoldResult] {
        trials.map { FoldResult(trial: $0, directory: directory + "/" + $0.folderName) }
    }

    /// Writes cv.csv and cv.json from the folders (with --ensemble and every fold finished, the
    /// ensemble's figures) and prints the summary; exits 130 after an interruption, 78 when one of the
    /// folds `judging` (default: all; `--fold k`: its own) failed or changed, and with the ensemble's
    /// error (its status) when its members were refused.
    private func writeReport(_ trials: [SweepTrial], directory: String, seed: UInt64, interrupted: Bool,
                             judging: [SweepTrial]? = nil) throws
    {
        let results = Self.results(trials, directory: directory)
        var ensembleResult: CrossValidationReport.EnsembleResult?
        var ensembleNote: String?
        // An ensemble the members' checks refuse (a CSV's fitted encodings differ between folds) is
        // reported after cv.csv and cv.json are written: the folds' figures stand without it.
        var ensembleError: NNTrainError?
        if ensemble {
            if results.allSatisfy({ $0.status == .finished }) {
                do {
                    ensembleResult = try CrossValidationReport.EnsembleResult.evaluate(
                        checkpoints: trials.map { CheckpointPolicy.lastPath(runDirectory: directory + "/" + $0.folderName) })
                } catch {
                    ensembleError = error
                    ensembleNote = "no ensemble (the error below)"
                }
            } else {
                ensembleNote = "no ensemble: it needs every fold finished"
            }
        }
        var report = CrossValidationReport(results: results, k: folds, seed: seed, ensemble: ensembleResult)
        report.ensembleError = ensembleError?.message
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try OutputFile.write(Array(report.csv().utf8), to: directory + "/cv.csv")
        try OutputFile.write(Array(try report.json()) + Array("\n".utf8), to: directory + "/cv.json")
        let counts = Dictionary(grouping: results, by: \.status).mapValues(\.count)
        let states = [SweepTrialOutcome.Status.failed, .unfinished, .changed].compactMap { state in
            counts[state].map { ", \($0) \(state.rawValue)" }
        }.joined()
        Terminal.printLine(report.summaryLine + states + (ensembleNote.map { "; \($0)" } ?? "")
            + "; \(directory)/cv.csv, \(directory)/cv.json")
        if interrupted {
            Terminal.printLine("interrupted: the unfinished folds resume when cv is started again: "
                + ShellQuoting.command(["nntrain"] + command))
            throw ExitCode(NNTrainError.Kind.interrupted.rawValue)
        }
        let judged = Set((judging ?? trials).map(\.number))
        if results.contains(where: { judged.contains($0.trial.number) && [.failed, .changed].contains($0.status) }) {
            throw ExitCode(NNTrainError.Kind.config.rawValue)
        }
        if let ensembleError { throw ensembleError }
    }
}
