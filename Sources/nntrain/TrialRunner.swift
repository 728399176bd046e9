import Foundation
import NNTrain

/// Runs trials as `nntrain run` processes, `jobs` at once, each with NNTRAIN_THREADS=`threads`. A
/// trial whose folder holds a checkpoint resumes from it (--resume); a folder with other leftovers
/// of a failed start begins afresh (--force); a new one plainly. A failure's last line of standard
/// error goes to the folder's error.txt (removed when a later attempt succeeds); a folder another
/// process is running (exit 75, its lock) is left alone, and so is a trial interrupted by a signal
/// (exit 130), which resumes from its checkpoint when the sweep is started again. With `pruner`
/// (`prune: median`), each running trial is checked at every poll and a hopeless one is sent SIGINT
/// (see `TrialPruner`): it checkpoints, exits 130 and stays pruned.
struct TrialRunner {
    let jobs: Int
    let threads: Int
    var pruner: TrialPruner? = nil

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
        // A process inherits its parent thread's signal mask: a runner that blocked them (a test
        // harness, some job runners) would leave the signals pending until every trial ended.
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGINT, SIGTERM] { sigaddset(&signals, number) }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        var forwarded = false
        var signalled: Date?
        while !queue.isEmpty || !running.isEmpty {
            if sweepSignal != 0, signalled == nil {
                queue.removeAll()
                signalled = Date()
            }
            // Passed on after a moment, and only to the trials that did not get it themselves: a second
            // signal stops a run at once, without its checkpoint, and Slurm's time limit or scancel
            // signals every process of a task, the trial's too. A run that got one says so on its
            // standard error (InterruptSignals' notice); a pruned one already got its SIGINT.
            if let signalled, !forwarded, Date().timeIntervalSince(signalled) >= Self.forwardingDelay {
                for (trial, process) in running where !(pruner?.pruned.contains(trial.folderName) ?? false) {
                    let log = directory + "/" + trial.folderName + "/" + Self.standardErrorFile
                    let text = FileManager.default.contents(atPath: log).map { String(decoding: $0, as: UTF8.self) } ?? ""
                    if !text.contains(Self.stoppingNotice) { kill(process.processIdentifier, sweepSignal) }
                }
                forwarded = true
            }
            if let pruner, signalled == nil {  // after Ctrl-C the trials are stopping anyway, and resume next time
                for (trial, process) in running where process.isRunning {
                    guard let decision = try pruner.check(trial) else { continue }
                    kill(process.processIdentifier, SIGINT)
                    Terminal.printLine("\(trial.folderName): \(decision.line(metric: pruner.metric))")
                }
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

    /// How long a signal waits before it is passed on to the trials that did not get it themselves.
    static let forwardingDelay: TimeInterval = 0.5

    /// What a run writes to standard error when a first SIGINT or SIGTERM reaches it (InterruptSignals).
    static let stoppingNotice = "nntrain: stopping after this step to write a checkpoint"

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
        pruner?.started(trial)
        try process.run()
        Terminal.printLine("\(trial.folderName): started (\(trial.arguments.joined(separator: " ")))")
        return (trial, process)
    }

    private func record(_ trial: SweepTrial, status: Int32, standardError: String, directory: String) throws {
        let folder = directory + "/" + trial.folderName
        let errorPath = folder + "/" + SweepTrialOutcome.errorFile
        let lastLine = standardError.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
        if pruner?.pruned.contains(trial.folderName) == true {
            if status == 0 {
                pruner?.finishedAnyway(trial)
            } else if status == Int32(NNTrainError.Kind.interrupted.rawValue) {
                return  // its line was printed when it was pruned
            }
        }
        switch status {
        case 0:
            try? FileManager.default.removeItem(atPath: errorPath)
            Terminal.printLine("\(trial.folderName): finished")
        case Int32(NNTrainError.Kind.locked.rawValue):
            pruner?.finishedAnyway(trial)
            Terminal.printLine("\(trial.folderName): left to the process running it (\(lastLine))")
        case Int32(NNTrainError.Kind.interrupted.rawValue):  // a signal to the trial alone: it resumes next time
            Terminal.printLine("\(trial.folderName): interrupted; it resumes when started again")
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
