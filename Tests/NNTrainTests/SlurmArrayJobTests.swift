import Foundation
import NNTrain
import Testing

/// The sbatch script of `nntrain sweep --slurm`: its `--array` ranges and throttle, its options, and
/// the command each task runs.
@Suite struct SlurmArrayJobTests {
    static func job(_ ids: [Int], maxConcurrent: Int? = nil) -> SlurmArrayJob {
        SlurmArrayJob(name: "nntrain-sweep-lr", taskIDs: ids, command: ["/opt/nn train/nntrain", "sweep", "s.yaml", "--trial"],
                      workingDirectory: "/home/me/work", logDirectory: "/home/me/work/my runs/slurm", cpusPerTask: 2,
                      maxConcurrent: maxConcurrent, partition: "short", timeLimit: "2:00:00")
    }

    @Test(arguments: [
        ([1, 2, 3, 4], nil, "1-4"), ([5, 1, 2, 3, 9, 10, 7], nil, "1-3,5,7,9-10"), ([3], 2, "3%2"),
        ([2, 2, 3], 8, "2-3%8"), ([1, 3, 5], nil, "1,3,5"),
    ] as [([Int], Int?, String)])
    func arrayRangesAreTheSortedIDsCompressed(ids: [Int], maxConcurrent: Int?, expected: String) {
        #expect(Self.job(ids, maxConcurrent: maxConcurrent).arraySpecification == expected)
    }

    @Test func theScriptSetsEveryOptionAndRunsOneTrialPerTask() {
        let lines = Self.job([1, 2, 4], maxConcurrent: 3).script.split(separator: "\n").map(String.init)
        #expect(lines.first == "#!/bin/bash")
        let options = lines.filter { $0.hasPrefix("#SBATCH ") }
        #expect(options == [
            "#SBATCH --job-name=nntrain-sweep-lr", "#SBATCH --array=1-2,4%3", "#SBATCH --cpus-per-task=2",
            "#SBATCH '--output=/home/me/work/my runs/slurm/%A_%a.out'", "#SBATCH --chdir=/home/me/work",
            "#SBATCH --partition=short", "#SBATCH --time=2:00:00",
        ])
        // The threads follow the CPUs Slurm gives the task; the binary's path is quoted for the shell.
        #expect(lines.suffix(2) == [
            "export NNTRAIN_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "exec '/opt/nn train/nntrain' sweep s.yaml --trial \"$SLURM_ARRAY_TASK_ID\"",
        ])
    }

    @Test func partitionAndTimeAreLeftToTheClusterWhenNotGiven() {
        var job = Self.job([1])
        job.partition = nil
        job.timeLimit = nil
        job.maxConcurrent = nil
        #expect(!job.script.contains("--partition") && !job.script.contains("--time"))
        #expect(job.script.contains("#SBATCH --array=1\n"))
    }
}
