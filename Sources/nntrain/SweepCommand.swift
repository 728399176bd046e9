import ArgumentParser
import Foundation
import NNTrain

/// `nntrain sweep SWEEP.yaml`: every trial of a sweep file (see `SweepSpec`) as a normal run in its own
/// folder, `SWEEP_DIR/trial-0001/`, …, each an `nntrain run` process of its own; then results.csv,
/// sweep.svg (`SweepChart`) and best.yaml. The trial folders are the sweep's only state: started
/// again, a sweep runs what is not finished, resuming interrupted trials from their checkpoints; a
/// trial another process is running (its folder's lock) is left to it. With `prune: median`, the
/// runner stops hopeless trials (`TrialPruner`).
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every trial of a sweep file (grid and random search over config keys); write results.csv and best.yaml.",
        discussion: "Each trial is 'nntrain run BASE --set KEY=VALUE ... --set output.dir=SWEEP_DIR/trial-NNNN' in a "
            + "process of its own. Started again, a sweep runs only what is not finished and resumes interrupted trials; "
            + "a failed trial is recorded with its one-line error (its folder's error.txt, results.csv) and does not "
            + "stop the others. With 'prune: median' in the sweep file, a trial worse than the finished trials' median "
            + "at the same epoch is stopped (pruned.txt in its folder) and never resumed. --list-trials prints one "
            + "'nntrain run' command per trial for any other runner; --slurm submits the unfinished trials as one Slurm "
            + "job array, each task 'nntrain sweep SWEEP.yaml --trial N'.")

    @Argument(help: "The sweep file, e.g. sweeps/lr.yaml.", completion: .configFile)
    var sweep: String

    @Option(help: ArgumentHelp("Trials run at once (default 1); each computes on cores/jobs threads (NNTRAIN_THREADS). "
        + "With --slurm: at most this many array tasks at once (default: as many as the cluster gives)."))
    var jobs: Int?

    @Option(help: ArgumentHelp("Run only trial N (1-based), for a job array or another runner.", valueName: "N"))
    var trial: Int?

    @Flag(help: "Print one 'nntrain run' command per trial and run nothing.")
    var listTrials = false

    @Flag(help: "Print each trial's status and metric from its folder; run and write nothing.")
    var status = false

    @Flag(help: "Write results.csv and best.yaml from the trial folders as they are; run nothing.")
    var report = false

    @OptionGroup(title: "Slurm")
    var slurm: SlurmOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs \(jobs): expected at least 1 trial at once") }
        if let trial, trial < 1 { throw ValidationError("--trial \(trial): expected a trial number from 1") }
        let modes = [("--list-trials", listTrials), ("--status", status), ("--report", report), ("--trial", trial != nil),
                     ("--slurm", slurm.slurm)].filter(\.1).map(\.0)
        if modes.count > 1 { throw ValidationError("\(modes.joined(separator: " and ")) exclude each other; give one") }
    }

    func run() throws {
        let spec = try SweepSpec.load(path: sweep)
        let directory = spec.directory
        let basePath = try Self.basePath(of: spec, directory: directory)
        try spec.checkTrials(basePath: basePath)
        let trials = spec.trials()
        if listTrials {
            for trial in trials {
                print(ShellQuoting.command(["nntrain", "run", basePath] + Self.arguments(trial, directory: directory)
                    .flatMap { ["--set", $0] } + ["--quiet"]))
            }
            return
        }
        if status {
            for outcome in Self.outcomes(spec, trials, directory: directory) {
                let metric = outcome.metric.map { " \(spec.metric.rawValue) \(ConsoleFormat.significant($0))" } ?? ""
                print("\(outcome.trial.folderName)  \(outcome.status.rawValue)\(metric)  "
                    + "(\(outcome.trial.arguments.joined(separator: " ")))  \(outcome.note)")
            }
            return
        }
        if report {
            try writeReport(spec, trials, directory: directory, interrupted: false)
            return
        }
        if slurm.slurm {
            try submit(spec, trials, directory: directory)
            return
        }
        var chosen = trials
        if let number = trial {
            guard let one = trials.first(where: { $0.number == number }) else {
                throw NNTrainError(.usage,
                                   "--trial \(number): \(sweep) has \(trials.count) trials; expected 1 to \(trials.count)")
            }
            chosen = [one]
        }
        let pending = Self.outcomes(spec, chosen, directory: directory)
            .filter { [.failed, .unfinished].contains($0.status) }.map(\.trial)
        let jobs = jobs ?? 1
        Terminal.printLine("sweep \(sweep): \(trials.count) trials in \(directory), \(pending.count) to run, \(jobs) at once")
        let threads = max(1, BLAS.threadCount / jobs)
        let pruner = spec.pruning.map { TrialPruner(rule: $0, spec: spec, trials: trials, directory: directory) }
        let interruption = try TrialRunner(jobs: jobs, threads: threads, pruner: pruner)
            .run(pending, basePath: basePath, directory: directory)
        try writeReport(spec, trials, directory: directory, interrupted: interruption != nil, judging: chosen)
    }

    /// --slurm: the unfinished (and failed) trials as one job array, each task `nntrain sweep SWEEP.yaml
    /// --trial N` (which resumes or restarts its trial as a local sweep would); --jobs caps the tasks
    /// running at once.
    private func submit(_ spec: SweepSpec, _ trials: [SweepTrial], directory: String) throws {
        let pending = Self.outcomes(spec, trials, directory: directory)
            .filter { [.failed, .unfinished].contains($0.status) }.map(\.trial.number)
        guard !pending.isEmpty else {
            Terminal.printLine("sweep \(sweep): every trial in \(directory) is done; nothing to submit")
            return
        }
        let name = ((sweep as NSString).lastPathComponent as NSString).deletingPathExtension
        let job = SlurmArrayJob(
            name: "nntrain-sweep-" + name, taskIDs: pending, command: [SlurmOptions.executablePath, "sweep", sweep, "--trial"],
            workingDirectory: SlurmOptions.workingDirectory, logDirectory: SlurmOptions.absolute(directory + "/slurm"),
            cpusPerTask: slurm.cpusPerTask, maxConcurrent: jobs, partition: slurm.partition, timeLimit: slurm.time)
        try slurm.submit(job, scriptPath: directory + "/slurm/sweep.sbatch", status: ["nntrain", "sweep", sweep, "--status"],
                         report: ["nntrain", "sweep", sweep, "--report"])
    }

    /// Each trial's outcome from its folder.
    static func outcomes(_ spec: SweepSpec, _ trials: [SweepTrial], directory: String) -> [SweepTrialOutcome] {
        trials.map {
            SweepTrialOutcome(trial: $0, directory: directory + "/" + $0.folderName, metric: spec.metric, mode: spec.mode)
        }
    }

    /// Writes results.csv and best.yaml from the folders and says so; exits 130 after an interruption,
    /// 78 when one of the trials `judging` (default: all; `--trial N`: its own) failed or changed.
    private func writeReport(_ spec: SweepSpec, _ trials: [SweepTrial], directory: String, interrupted: Bool,
                             judging: [SweepTrial]? = nil) throws
    {
        let outcomes = Self.outcomes(spec, trials, directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try OutputFile.write(Array(spec.resultsCSV(outcomes).utf8), to: directory + "/results.csv")
        try SweepChart.write(spec: spec, outcomes: outcomes, directory: directory)
        let counts = Dictionary(grouping: outcomes, by: \.status).mapValues(\.count)
        let pruned = spec.pruning != nil || (counts[.pruned] ?? 0) > 0 ? ", \(counts[.pruned] ?? 0) pruned" : ""
        var line = "done: \(counts[.finished] ?? 0) finished\(pruned), \(counts[.failed] ?? 0) failed, "
            + "\(counts[.unfinished] ?? 0) unfinished" + ((counts[.changed] ?? 0) > 0 ? ", \(counts[.changed] ?? 0) changed" : "")
            + "; \(directory)/results.csv"
        if let best = spec.best(outcomes), let metric = best.metric {
            let config = directory + "/" + best.trial.folderName + "/config.yaml"
            if let text = FileManager.default.contents(atPath: config) {
                try OutputFile.write(Array(text), to: directory + "/best.yaml")
            }
            line += "; best \(best.trial.folderName) \(spec.metric.rawValue) \(ConsoleFormat.significant(metric)) "
                + "(\(best.trial.arguments.joined(separator: " "))), config \(directory)/best.yaml"
        }
        Terminal.printLine(line)
        if interrupted {
            Terminal.printLine("interrupted: the unfinished trials resume when the sweep is started again: "
                + ShellQuoting.command(["nntrain", "sweep", sweep]))
            throw ExitCode(NNTrainError.Kind.interrupted.rawValue)
        }
        let judged = Set((judging ?? trials).map(\.number))
        if outcomes.contains(where: { judged.contains($0.trial.number) && [.failed, .changed].contains($0.status) }) {
            throw ExitCode(NNTrainError.Kind.config.rawValue)
        }
    }

    /// The config file the trials run: the base's path, or for an inline base SWEEP_DIR/base.yaml,
    /// written from the sweep file's mapping (also for --list-trials, whose commands read it).
    static func basePath(of spec: SweepSpec, directory: String) throws -> String {
        switch spec.base {
        case .path(let path): return path
        case .inline(let text):
            let path = directory + "/base.yaml"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try OutputFile.write(Array(text.utf8), to: path)
            return path
        }
    }

    /// A trial's `--set` values: its overrides, then its folder as output.dir.
    static func arguments(_ trial: SweepTrial, directory: String) -> [String] {
        trial.arguments + ["output.dir=\(directory)/\(trial.folderName)"]
    }
}
