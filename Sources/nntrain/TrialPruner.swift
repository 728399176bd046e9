import Foundation
import NNTrain

/// `prune: median` while a sweep runs: `TrialRunner`'s loop asks it about each running trial at
/// every poll. It reads a trial's metrics.csv again only when the file changed (size or modification
/// time, i.e. an epoch ended), and decides by `MedianPruning` against the finished trials of the
/// whole sweep, read from their folders, so trials finished by other processes (another `nntrain
/// sweep`, `--trial N` in a job array) count as well as this one's. A trial to prune gets its
/// `pruned.txt` (the decision's one line) here; the runner then sends it SIGINT, on which it writes
/// its checkpoint and exits 130. A finished folder's values are read once and kept (a finished
/// trial does not change).
final class TrialPruner {
    let rule: MedianPruning
    let metric: SweepSpec.Metric
    let mode: SweepSpec.Mode
    /// Every trial of the sweep, whose finished folders give the medians.
    let trials: [SweepTrial]
    let directory: String

    private struct Stamp: Equatable {
        var size: UInt64
        var modified: Date
    }

    private var seen: [String: Stamp] = [:]
    private var finishedValues: [String: [Int: Double]] = [:]
    /// The folders pruned by this runner.
    private(set) var pruned: Set<String> = []

    init(rule: MedianPruning, spec: SweepSpec, trials: [SweepTrial], directory: String) {
        self.rule = rule
        metric = spec.metric
        mode = spec.mode
        self.trials = trials
        self.directory = directory
    }

    /// Called as `trial` starts: a metrics.csv left in its folder by an earlier attempt (a failed
    /// one's, before `--force` replaces it) is not read until the new run changes it.
    func started(_ trial: SweepTrial) {
        seen[trial.folderName] = stamp(directory + "/" + trial.folderName + "/metrics.csv")
    }

    private func stamp(_ path: String) -> Stamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return Stamp(size: (attributes[.size] as? NSNumber)?.uint64Value ?? 0,
                     modified: attributes[.modificationDate] as? Date ?? .distantPast)
    }

    /// The decision for the running `trial` when its metrics.csv changed since the last call and
    /// the rule prunes it now (its pruned.txt is then written); nil otherwise.
    func check(_ trial: SweepTrial) throws -> MedianPruning.Decision? {
        guard !pruned.contains(trial.folderName) else { return nil }
        let folder = directory + "/" + trial.folderName
        let path = folder + "/metrics.csv"
        guard let stamp = stamp(path), seen[trial.folderName] != stamp else { return nil }
        seen[trial.folderName] = stamp
        let values = Self.table(SweepTrialOutcome.epochValues(of: metric, metricsCSV: path))
        guard let decision = rule.decide(values: values, completed: completedValues(), mode: mode) else { return nil }
        try OutputFile.write(Array((decision.line(metric: metric) + "\n").utf8), to: folder + "/" + MedianPruning.prunedFile)
        pruned.insert(trial.folderName)
        return decision
    }

    /// A trial pruned here whose process then exited 0 finished training before the signal reached
    /// it: it is finished, not pruned, so its pruned.txt goes. So it does when the process exited 75:
    /// another process was running the trial, and the metrics judged were that one's.
    func finishedAnyway(_ trial: SweepTrial) {
        guard pruned.remove(trial.folderName) != nil else { return }
        try? FileManager.default.removeItem(atPath: directory + "/" + trial.folderName + "/" + MedianPruning.prunedFile)
    }

    /// The per-epoch values of every finished trial of the sweep, from the folders that exist.
    private func completedValues() -> [[Int: Double]] {
        let folders = Set((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        for trial in trials where finishedValues[trial.folderName] == nil && folders.contains(trial.folderName) {
            let folder = directory + "/" + trial.folderName
            let outcome = SweepTrialOutcome(trial: trial, directory: folder, metric: metric, mode: mode)
            guard outcome.status == .finished else { continue }
            finishedValues[trial.folderName] = Self.table(SweepTrialOutcome.epochValues(of: metric,
                                                                                        metricsCSV: folder + "/metrics.csv"))
        }
        return Array(finishedValues.values)
    }

    /// Epoch → value (a repeated epoch keeps its last row).
    private static func table(_ rows: [(epoch: Int, value: Double)]) -> [Int: Double] {
        Dictionary(rows.map { ($0.epoch, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
