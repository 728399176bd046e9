import Foundation
import NNTrain
import Testing

/// `nntrain sweep --slurm`: the unfinished trials submitted as one job array through `sbatch` (here a
/// stand-in script on PATH that records what it was given), --dry-run, and the refusals. A real
/// Slurm runs the same sweep in CI (data-scripts/slurm-check.sh).
@Suite struct SweepSlurmTests {
    /// `nntrain arguments` in `directory` with `directory/bin` first on PATH.
    static func run(_ arguments: [String], in directory: URL, path: String? = nil) throws -> CommandLineTests.Result {
        let process = CommandLineTests.process(arguments, in: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = path ?? directory.appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "/usr/bin")
        process.environment = environment
        return try CommandLineTests.collect(process)
    }

    /// Writes bin/sbatch: records its arguments and the script it was given, then runs `body`.
    static func standInSbatch(in directory: URL, _ body: String) throws {
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try CommandLineTests.write("#!/bin/sh\necho \"$@\" > sbatch-arguments.txt\ncp \"$2\" submitted.sbatch\n" + body + "\n",
                                   to: "bin/sbatch", in: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("sbatch").path)
    }

    @Test func theUnfinishedTrialsAreSubmittedAsOneArray() throws {
        let directory = try SweepCommandTests.sweepFolder()
        #expect(try CommandLineTests.run(["sweep", "s.yaml", "--trial", "3"], in: directory).status == 0)
        try Self.standInSbatch(in: directory, "echo '4242;cluster'")
        let result = try Self.run(["sweep", "s.yaml", "--slurm", "--jobs", "2", "--cpus-per-task", "2", "--partition", "batch"],
                                  in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try SweepCommandTests.lines(directory.appendingPathComponent("sbatch-arguments.txt"))
            == ["--parsable sw/slurm/sweep.sbatch"])
        let script = try String(contentsOf: directory.appendingPathComponent("submitted.sbatch"), encoding: .utf8)
        #expect(script == (try String(contentsOf: directory.appendingPathComponent("sw/slurm/sweep.sbatch"), encoding: .utf8)))
        let lines = script.split(separator: "\n").map(String.init)
        // Trial 3 is finished: the array holds 1, 2 and 4, at most 2 at once.
        #expect(lines.contains("#SBATCH --array=1-2,4%2"))
        #expect(lines.contains("#SBATCH --cpus-per-task=2") && lines.contains("#SBATCH --partition=batch"))
        #expect(lines.contains("#SBATCH --chdir=" + directory.resolvingSymlinksInPath().path)
            || lines.contains("#SBATCH --chdir=" + directory.path))
        #expect(lines.last?.hasSuffix(" sweep s.yaml --trial \"$SLURM_ARRAY_TASK_ID\"") == true)
        #expect(result.standardError.contains("submitted Slurm job 4242: 3 array tasks (1-2,4%2)"))
        #expect(result.standardError.contains("nntrain sweep s.yaml --status"))
        // Submitting runs nothing here.
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sw/trial-0001").path))
    }

    @Test func aDryRunPrintsTheScriptAndWritesNothing() throws {
        let directory = try SweepCommandTests.sweepFolder()
        try Self.standInSbatch(in: directory, "echo 1")
        let result = try Self.run(["sweep", "s.yaml", "--slurm", "--dry-run", "--time", "30"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("#!/bin/bash\n"))
        #expect(result.standardOutput.contains("#SBATCH --array=1-4\n#SBATCH --cpus-per-task=1\n"))
        #expect(result.standardOutput.contains("#SBATCH --time=30\n"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sbatch-arguments.txt").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sw/slurm").path))
    }

    @Test func sbatchMissingOrRefusingIsExit69WithItsReason() throws {
        let directory = try SweepCommandTests.sweepFolder()
        let missing = try Self.run(["sweep", "s.yaml", "--slurm"], in: directory, path: "/nonexistent")
        #expect(missing.status == 69)
        #expect(missing.standardError.hasPrefix("error: sbatch is not on PATH; "))
        try Self.standInSbatch(in: directory, "echo 'sbatch: error: invalid partition specified: gpu' >&2\nexit 1")
        let refused = try Self.run(["sweep", "s.yaml", "--slurm", "--partition", "gpu"], in: directory)
        #expect(refused.status == 69)
        #expect(refused.standardError
            == "error: sbatch refused sw/slurm/sweep.sbatch: sbatch: error: invalid partition specified: gpu\n")
    }

    /// `nntrain cv --slurm`: the unfinished folds, each task the same cross-validation with `--fold k`;
    /// the report command it prints collects the ensemble.
    @Test func crossValidationSubmitsItsUnfinishedFolds() throws {
        let directory = try CrossValidationCommandTests.folder()
        let cv = ["cv", "c.yaml", "--folds", "3", "--set", "model.hidden=[3]"]
        #expect(try CommandLineTests.run(cv + ["--fold", "2"], in: directory).status == 0)
        try Self.standInSbatch(in: directory, "echo 77")
        let result = try Self.run(cv + ["--slurm", "--ensemble"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = try SweepCommandTests.lines(directory.appendingPathComponent("cvrun/slurm/cv.sbatch"))
        #expect(lines.contains("#SBATCH --array=1,3") && lines.contains("#SBATCH --job-name=nntrain-cv-c"))
        #expect(lines.last?.hasSuffix(" cv c.yaml --folds 3 --set 'model.hidden=[3]' --fold \"$SLURM_ARRAY_TASK_ID\"") == true)
        #expect(result.standardError.contains("submitted Slurm job 77: 2 array tasks (1,3)"))
        #expect(result.standardError.contains("when it is done: nntrain cv c.yaml --folds 3 --set 'model.hidden=[3]' "
            + "--report --ensemble"))
        // What the tasks run, then the report.
        for fold in ["1", "3"] { #expect(try CommandLineTests.run(cv + ["--fold", fold], in: directory).status == 0) }
        let report = try CommandLineTests.run(cv + ["--report", "--ensemble"], in: directory)
        #expect(report.status == 0, "\(report.standardError)")
        #expect(!report.standardError.contains("started"))
        let json = try CrossValidationCommandTests.json(directory.appendingPathComponent("cvrun/cv.json"))
        #expect(json["ensemble"] != nil, "\(json)")
        #expect(try Self.run(cv + ["--slurm"], in: directory).standardError.contains("nothing to submit"))
    }

    @Test(arguments: [
        (["--partition", "batch"], "--partition is a Slurm option; add --slurm"),
        (["--slurm", "--trial", "2"], "--trial and --slurm exclude each other; give one"),
        (["--slurm", "--cpus-per-task", "0"], "--cpus-per-task 0: expected at least 1"),
        (["--slurm", "--time", "1 day"], "--time '1 day': expected one word, e.g. 2:00:00"),
    ])
    func slurmOptionsAreCheckedBeforeAnythingRuns(arguments: [String], message: String) throws {
        let directory = try SweepCommandTests.sweepFolder()
        let result = try CommandLineTests.run(["sweep", "s.yaml"] + arguments, in: directory)
        #expect(result.status == 64)
        #expect(result.standardError.hasPrefix("error: " + message), "\(result.standardError)")
    }
}
