import Foundation

/// The median stopping rule (`prune: median` in a sweep file): a running trial stops when its best
/// value so far is worse than the median of the completed trials' values at the same epoch.
///
/// The rule of Google Vizier (Golovin et al., "Google Vizier: A Service for Black-Box Optimization",
/// KDD 2017, §3.2.1 "Automated Early Stopping") as Optuna's `MedianPruner(n_startup_trials=5,
/// n_warmup_steps=0, interval_steps=1)` implements it (optuna/pruners/_median.py, a
/// `PercentilePruner` at the 50th percentile; the arithmetic in optuna/pruners/_percentile.py). With
/// the trial's values v₁…v_e of the sweep's metric at epochs 1…e (e the last epoch it has written,
/// Optuna's `trial.last_step`), and the completed trials' values at epoch e:
///
/// - no decision while fewer than `startupTrials` trials have completed (Optuna: `n_trials <
///   n_startup_trials`; also with none completed), nor at a warm-up epoch, e ≤ `warmupEpochs`
///   (Optuna's `step < n_warmup_steps` with its steps counted from 0, as its documentation assumes:
///   step = epoch − 1);
/// - best = min over v₁…v_e ignoring NaN (`np.nanmin`; `nanmax` in max mode); when every value is
///   NaN the trial is pruned, as Optuna does;
/// - median = `np.nanpercentile(values, 50)` of the completed trials' values at epoch e (linear
///   interpolation: the middle value, or the mean of the two middle ones); no decision when no
///   completed trial has a (non-NaN) value at epoch e;
/// - pruned when best is strictly worse: best > median in min mode, best < median in max mode; a
///   tie is not pruned.
///
/// Completed trials are those that finished training (`SweepTrialOutcome.Status.finished`): pruned,
/// failed and running ones do not count, as Optuna counts only `TrialState.COMPLETE`.
public struct MedianPruning: Equatable, Sendable {
    /// Optuna's `n_startup_trials`: completed trials needed before any trial is pruned.
    public var startupTrials: Int
    /// Optuna's `n_warmup_steps`: the first epochs at which no trial is pruned.
    public var warmupEpochs: Int

    public init(startupTrials: Int = 5, warmupEpochs: Int = 0) {
        self.startupTrials = startupTrials
        self.warmupEpochs = warmupEpochs
    }

    /// Why a trial is pruned: at `epoch` its best `value` so far is worse than the `median` of the
    /// values of `trials` completed trials at that epoch (`median` NaN when the trial had only NaN).
    public struct Decision: Equatable, Sendable {
        public var epoch: Int
        public var value: Double
        public var median: Double
        public var trials: Int
    }

    /// The decision for a trial with `values` (epoch → the metric), given the completed trials'
    /// values (one epoch → metric table each), in `mode`: nil to let it run on.
    public func decide(values: [Int: Double], completed: [[Int: Double]], mode: SweepSpec.Mode) -> Decision? {
        guard !completed.isEmpty, completed.count >= startupTrials, let epoch = values.keys.max(),
              epoch > warmupEpochs
        else {
            return nil
        }
        let finite = values.values.filter { !$0.isNaN }
        guard let best = mode == .min ? finite.min() : finite.max() else {
            return Decision(epoch: epoch, value: .nan, median: .nan, trials: 0)
        }
        let others = completed.compactMap { $0[epoch] }.filter { !$0.isNaN }
        guard let median = Self.median(others) else { return nil }
        let worse = mode == .min ? best > median : best < median
        return worse ? Decision(epoch: epoch, value: best, median: median, trials: others.count) : nil
    }

    /// numpy's `percentile(values, 50)` with linear interpolation: the middle of the sorted values, or
    /// the mean of the two middle ones; nil for none.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : sorted[middle - 1] + (sorted[middle] - sorted[middle - 1]) / 2
    }

    /// The file a pruned trial's folder holds: one line, `Decision.line`.
    public static let prunedFile = "pruned.txt"
}

extension MedianPruning.Decision {
    /// pruned.txt's line: `pruned at epoch 4: val_loss 0.93 (best so far) worse than the median 0.41 of
    /// 3 finished trials at epoch 4`.
    public func line(metric: SweepSpec.Metric) -> String {
        guard !value.isNaN else { return "pruned at epoch \(epoch): every \(metric.rawValue) so far is nan" }
        return "pruned at epoch \(epoch): \(metric.rawValue) \(ConsoleFormat.significant(value)) (best so far) worse than "
            + "the median \(ConsoleFormat.significant(median)) of \(trials) finished trial\(trials == 1 ? "" : "s") "
            + "at epoch \(epoch)"
    }
}
