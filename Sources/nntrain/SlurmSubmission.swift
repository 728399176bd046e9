import ArgumentParser
import Foundation
import NNTrain

/// The options that send a sweep's trials (or a cross-validation's folds) to Slurm instead of running
/// them here: `--slurm [--partition P] [--time T] [--cpus-per-task C] [--dry-run]`.
struct SlurmOptions: ParsableArguments {
    @Flag(help: "Submit the unfinished trials to Slurm as one sbatch job array (one task each) instead of running them here.")
    var slurm = false

    @Option(help: ArgumentHelp("With --slurm: the partition (sbatch --partition).", valueName: "partition"))
    var partition: String?

    @Option(help: ArgumentHelp("With --slurm: each task's time limit as sbatch takes it (30, 2:00:00, 1-00:00:00).",
                               valueName: "time"))
    var time: String?

    @Option(help: "With --slurm: CPUs per task; each task computes on that many threads.")
    var cpusPerTask = 1

    @Flag(help: "With --slurm: print the sbatch script and submit nothing.")
    var dryRun = false

    func validate() throws {
        if !slurm {
            let given = [("--partition", partition != nil), ("--time", time != nil), ("--cpus-per-task", cpusPerTask != 1),
                         ("--dry-run", dryRun)].filter(\.1).map(\.0)
            if let first = given.first { throw ValidationError("\(first) is a Slurm option; add --slurm") }
        }
        guard cpusPerTask >= 1 else { throw ValidationError("--cpus-per-task \(cpusPerTask): expected at least 1") }
        for (flag, value) in [("--partition", partition), ("--time", time)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace }) {
                throw ValidationError("\(flag) '\(value)': expected one word, e.g. \(flag == "--time" ? "2:00:00" : "batch")")
            }
        }
    }

    /// Writes `job`'s script to `scriptPath` and submits it with `sbatch --parsable`, printing the
    /// job id and the commands that follow it (`status`) and collect its results (`report`); with
    /// --dry-run prints the script and writes nothing. Throws `unavailable` when sbatch is missing or
    /// refuses the job (its last line of error).
    func submit(_ job: SlurmArrayJob, scriptPath: String, status: [String], report: [String]) throws {
        if dryRun {
            print(job.script, terminator: "")
            return
        }
        let folder = (scriptPath as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: job.logDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try OutputFile.write(Array(job.script.utf8), to: scriptPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch", "--parsable", scriptPath]
        // Standard error into a file, not a second pipe: sbatch writing much there while its
        // standard output is read could block on a full pipe.
        let errorsPath = folder + "/sbatch-errors.txt"
        guard FileManager.default.createFile(atPath: errorsPath, contents: nil),
              let errors = FileHandle(forWritingAtPath: errorsPath)
        else { throw NNTrainError(.cannotWrite, "\(errorsPath): cannot create it (sbatch's standard error)") }
        defer { try? FileManager.default.removeItem(atPath: errorsPath) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try? errors.close()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let complaint = FileManager.default.contents(atPath: errorsPath) ?? Data()
        let lastLine = String(decoding: complaint, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init)
        guard process.terminationStatus == 0 else {
            let reason = process.terminationStatus == 127
                ? "sbatch is not on PATH; run this on a Slurm login node, or pass --dry-run to see the script"
                : "sbatch refused \(scriptPath): \(lastLine ?? "exit status \(process.terminationStatus)")"
            throw NNTrainError(.unavailable, reason)
        }
        // --parsable prints "<job id>" or "<job id>;<cluster>".
        let jobID = String(decoding: printed, as: UTF8.self).split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?"
        Terminal.printLine("submitted Slurm job \(jobID): \(job.taskIDs.count) array tasks (\(job.arraySpecification)), "
            + "script \(scriptPath), output \(job.logDirectory)/\(jobID)_<task>.out")
        Terminal.printLine("follow it with: " + ShellQuoting.command(status)
            + "; when it is done: " + ShellQuoting.command(report))
    }

    /// The running nntrain binary's absolute path, for the tasks to run (the nodes see it where the
    /// filesystem is shared).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The folder this process runs in, which every task starts in.
    static var workingDirectory: String { FileManager.default.currentDirectoryPath }

    /// `path` made absolute against the working folder.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : workingDirectory + "/" + path
    }
}
