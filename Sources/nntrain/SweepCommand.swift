import ArgumentParser
import Foundation
import NNTrain

/// `nntrain sweep SWEEP.yaml`: every trial of a sweep file (see `SweepSpec`) as a normal run in its own
/// folder, `SWEEP_DIR/trial-0001/`, …, each an `nntrain run` process of its own; then results.csv and
/// best.yaml. The trial folders are the sweep's only state: started again, a sweep runs what is not
/// finished, resuming interrupted trials from their checkpoints; a trial another process is running
/// (its folder's lock) is left to it.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every trial of a sweep file (grid and random search over config keys); write results.csv and best.yaml.",
        discussion: "Each trial is 'nntrain run BASE --set KEY=VALUE ... --set output.dir=SWEEP_DIR/trial-NNNN' in a "
            + "process of its own. Started again, a sweep runs only what is not finished and resumes interrupted trials; "
            + "a failed trial is recorded with its one-line error (its folder's error.txt, results.csv) and does not "
            + "stop the others. --list-trials prints one 'nntrain run' command per trial for any other runner.")

    @Argument(help: "The sweep file, e.g. sweeps/lr.yaml.", completion: .configFile)
    var sweep: String

    @Option(help: "Trials run at once; each computes on cores/jobs threads (NNTRAIN_THREADS).")
    var jobs = 1

    @Option(help: ArgumentHelp("Run only trial N (1-based), for a job array or another runner.", valueName: "N"))
    var trial: Int?

    @Flag(help: "Print one 'nntrain run' command per trial and run nothing.")
    var listTrials = false

    @Flag(help: "Print each trial's status and metric from its folder; run and write nothing.")
    var status = false

    @Flag(help: "Write results.csv and best.yaml from the trial folders as they are; run nothing.")
    var report = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs \(jobs): expected at least 1 trial at once") }
        if let trial, trial < 1 { throw ValidationError("--trial \(trial): expected a trial number from 1") }
        let modes = [("--list-trials", listTrials), ("--status", status), ("--report", report), ("--trial", trial != nil)]
            .filter(\.1).map(\.0)
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
        Terminal.printLine("sweep \(sweep): \(trials.count) trials in \(directory), \(pending.count) to run, \(jobs) at once")
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / jobs)
        let interruption = try TrialRunner(jobs: jobs, threads: threads).run(pending, basePath: basePath, directory: directory)
        try writeReport(spec, trials, directory: directory, interrupted: interruption != nil)
    }

    /// Each trial's outcome from its folder.
    static func outcomes(_ spec: SweepSpec, _ trials: [SweepTrial], directory: String) -> [SweepTrialOutcome] {
        trials.map {
            SweepTrialOutcome(trial: $0, directory: directory + "/" + $0.folderName, metric: spec.metric, mode: spec.mode)
        }
    }

    /// Writes results.csv and best.yaml from the folders and says so; exits 130 after an interruption,
    /// 78 when a trial failed or changed.
    private func writeReport(_ spec: SweepSpec, _ trials: [SweepTrial], directory: String, interrupted: Bool) throws {
        let outcomes = Self.outcomes(spec, trials, directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try OutputFile.write(Array(spec.resultsCSV(outcomes).utf8), to: directory + "/results.csv")
        let counts = Dictionary(grouping: outcomes, by: \.status).mapValues(\.count)
        var line = "done: \(counts[.finished] ?? 0) finished, \(counts[.failed] ?? 0) failed, "
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
        if (counts[.failed] ?? 0) + (counts[.changed] ?? 0) > 0 { throw ExitCode(NNTrainError.Kind.config.rawValue) }
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

/// Runs trials as `nntrain run` processes, `jobs` at once, each with NNTRAIN_THREADS=`threads`. A
/// trial whose folder holds a checkpoint resumes from it (--resume); a folder with other leftovers
/// of a failed start begins afresh (--force); a new one plainly. A failure's last line of standard
/// error goes to the folder's error.txt (removed when a later attempt succeeds); a folder another
/// process is running (exit 75, its lock) is left alone, and so is a trial interrupted by a signal
/// (exit 130), which resumes from its checkpoint when the sweep is started again.
struct TrialRunner {
    let jobs: Int
    let threads: Int

    /// Runs `trials`; returns the signal that interrupted it, nil when every trial ran. On Ctrl-C or
    /// SIGTERM no trial starts any more and the signal is passed on to the running ones (each is its
    /// own process group, which a terminal's Ctrl-C does not reach), which checkpoint and exit; they
    /// resume when the sweep is started again.
    func run(_ trials: [SweepTrial], basePath: String, directory: String) throws -> Int32? {
        var queue = trials[...]
        var running: [(trial: SweepTrial, process: Process)] = []
        // A handler, not SIG_IGN: handlers are reset in the children at exec, an ignored SIGINT would
        // stay ignored (and a run keeps an inherited SIG_IGN, as background jobs expect).
        sweepSignal = 0
        for number in [SIGINT, SIGTERM] { signal(number) { sweepSignal = $0 } }
        defer { for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) } }
        var forwarded = false
        while !queue.isEmpty || !running.isEmpty {
            if sweepSignal != 0, !forwarded {
                queue.removeAll()
                for (_, process) in running { kill(process.processIdentifier, sweepSignal) }
                forwarded = true
            }
            while running.count < jobs, let trial = queue.popFirst() {
                running.append(try start(trial, basePath: basePath, directory: directory))
            }
            guard let finished = running.firstIndex(where: { !$0.process.isRunning }) else {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            let (trial, process) = running.remove(at: finished)
            let log = directory + "/" + trial.folderName + "/" + Self.standardErrorFile
            let text = FileManager.default.contents(atPath: log).map { String(decoding: $0, as: UTF8.self) } ?? ""
            try record(trial, status: process.terminationStatus, standardError: text, directory: directory)
        }
        return sweepSignal == 0 ? nil : sweepSignal
    }

    /// The file in a trial's folder that holds its process's standard error (a file, not a pipe, so
    /// that a trial writing much can never block on a pipe nobody reads while it runs).
    static let standardErrorFile = "stderr.log"

    private func start(_ trial: SweepTrial, basePath: String, directory: String) throws
        -> (trial: SweepTrial, process: Process)
    {
        let folder = directory + "/" + trial.folderName
        var arguments = ["run", basePath] + SweepCommand.arguments(trial, directory: directory).flatMap { ["--set", $0] }
        arguments.append("--quiet")
        if FileManager.default.fileExists(atPath: folder + "/checkpoints/last.bin") {
            arguments.append("--resume")
        } else if FileManager.default.fileExists(atPath: folder + "/config.yaml") {
            arguments.append("--force")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["NNTRAIN_THREADS"] = "\(threads)"
        process.environment = environment
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try OutputFile.write(Array(SweepTrialOutcome.record(of: trial).utf8), to: folder + "/" + SweepTrialOutcome.trialFile)
        try? FileManager.default.removeItem(atPath: folder + "/" + SweepTrialOutcome.errorFile)
        let log = folder + "/" + Self.standardErrorFile
        guard FileManager.default.createFile(atPath: log, contents: nil), let errors = FileHandle(forWritingAtPath: log) else {
            throw NNTrainError(.cannotWrite, "\(log): cannot create it (a trial's standard error)")
        }
        defer { try? errors.close() }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Terminal.printLine("\(trial.folderName): started (\(trial.arguments.joined(separator: " ")))")
        return (trial, process)
    }

    private func record(_ trial: SweepTrial, status: Int32, standardError: String, directory: String) throws {
        let folder = directory + "/" + trial.folderName
        let errorPath = folder + "/" + SweepTrialOutcome.errorFile
        let lastLine = standardError.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
        switch status {
        case 0:
            try? FileManager.default.removeItem(atPath: errorPath)
            Terminal.printLine("\(trial.folderName): finished")
        case Int32(NNTrainError.Kind.locked.rawValue):
            Terminal.printLine("\(trial.folderName): left to the process running it (\(lastLine))")
        case Int32(NNTrainError.Kind.interrupted.rawValue):  // a signal to the trial alone: it resumes next time
            Terminal.printLine("\(trial.folderName): interrupted; it resumes when the sweep is started again")
        default:
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try OutputFile.write(Array((lastLine + "\n").utf8), to: errorPath)
            Terminal.printLine("\(trial.folderName): failed, exit status \(status): \(lastLine)")
        }
    }
}

/// The signal (SIGINT, SIGTERM) a sweep received, 0 for none: written by its handler, read by the
/// trial loop. A `sig_atomic_t`, which a handler may write.
nonisolated(unsafe) var sweepSignal: sig_atomic_t = 0
