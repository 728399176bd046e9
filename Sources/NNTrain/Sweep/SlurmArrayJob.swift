import Foundation

/// A Slurm job array that runs a sweep's trials (or a cross-validation's folds), one array task each:
/// the sbatch script `nntrain sweep --slurm` submits. Each task runs `command` with its task id
/// (`$SLURM_ARRAY_TASK_ID`, the trial or fold number) appended, in the folder sbatch was called from
/// (`--chdir`), so the relative paths of the sweep file and config mean what they mean here; the
/// trial folders are the only state, so any filesystem the nodes share works.
///
///     #!/bin/bash
///     #SBATCH --job-name=nntrain-lr
///     #SBATCH --array=1-3,5%4                     # the pending trials; %N at most N at once (--jobs)
///     #SBATCH --cpus-per-task=1
///     #SBATCH --output=/abs/runs/lr/slurm/%A_%a.out
///     #SBATCH --chdir=/abs
///     #SBATCH --partition=P --time=T              (when given)
///     export NNTRAIN_THREADS="${SLURM_CPUS_PER_TASK:-1}"
///     exec /abs/nntrain sweep sweeps/lr.yaml --trial "$SLURM_ARRAY_TASK_ID"
///
/// sbatch reads the `#SBATCH` lines (https://slurm.schedmd.com/sbatch.html); `%A` and `%a` in
/// `--output` are the array's job id and the task id.
public struct SlurmArrayJob: Equatable, Sendable {
    public var name: String
    /// The array's task ids, each a trial or fold number (1-based).
    public var taskIDs: [Int]
    /// The command of every task, before its task id: its words, quoted for the shell in the script.
    public var command: [String]
    /// The folder sbatch's `--chdir` sets for every task (absolute).
    public var workingDirectory: String
    /// The folder of the tasks' standard output and error files (`%A_%a.out`).
    public var logDirectory: String
    public var cpusPerTask: Int
    /// At most this many tasks at once (the `%N` of `--array`); nil for as many as the cluster allows.
    public var maxConcurrent: Int?
    public var partition: String?
    /// sbatch's `--time`, e.g. `30`, `2:00:00` or `1-00:00:00`, passed as given: Slurm checks it.
    public var timeLimit: String?

    public init(name: String, taskIDs: [Int], command: [String], workingDirectory: String, logDirectory: String,
                cpusPerTask: Int = 1, maxConcurrent: Int? = nil, partition: String? = nil, timeLimit: String? = nil) {
        self.name = name
        self.taskIDs = taskIDs
        self.command = command
        self.workingDirectory = workingDirectory
        self.logDirectory = logDirectory
        self.cpusPerTask = cpusPerTask
        self.maxConcurrent = maxConcurrent
        self.partition = partition
        self.timeLimit = timeLimit
    }

    /// `--array`'s value: the ids as ascending ranges (`1-3,5,7-9`), then `%N` for `maxConcurrent`.
    public var arraySpecification: String {
        var ranges: [String] = []
        var ids = Array(Set(taskIDs)).sorted()[...]
        while let first = ids.popFirst() {
            var last = first
            while ids.first == last + 1 { last = ids.removeFirst() }
            ranges.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return ranges.joined(separator: ",") + (maxConcurrent.map { "%\($0)" } ?? "")
    }

    /// The sbatch script. Every `#SBATCH` value is a single shell word (sbatch splits the line at
    /// spaces, quotes aside), so values are quoted as the shell would.
    public var script: String {
        var options = [
            "--job-name=" + name, "--array=" + arraySpecification, "--cpus-per-task=\(cpusPerTask)",
            "--output=" + logDirectory + "/%A_%a.out", "--chdir=" + workingDirectory,
        ]
        if let partition { options.append("--partition=" + partition) }
        if let timeLimit { options.append("--time=" + timeLimit) }
        return "#!/bin/bash\n"
            + "# Written by nntrain: one array task per "
            + "trial or fold; each task's output goes to \(logDirectory)/<job>_<task>.out.\n"
            + options.map { "#SBATCH " + ShellQuoting.quote($0) + "\n" }.joined()
            + "export NNTRAIN_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"
            + "exec " + ShellQuoting.command(command) + " \"$SLURM_ARRAY_TASK_ID\"\n"
    }
}
