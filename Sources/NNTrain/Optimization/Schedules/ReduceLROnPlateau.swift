/// torch.optim.lr_scheduler.ReduceLROnPlateau: cuts the rate when a monitored metric stops
/// improving. The one schedule with state, stepped once per epoch, after validation, with the metric
/// (`scheduler.step(val_loss)`); the rate it holds is used for every step of the next epoch.
///
/// Each `step(metric:)` follows PyTorch's rules exactly:
///
///     better = metric < best·(1 − threshold)   (min, rel)     metric < best − threshold   (min, abs)
///              metric > best·(1 + threshold)   (max, rel)     metric > best + threshold   (max, abs)
///     if better: best ← metric, badEpochs ← 0    else: badEpochs ← badEpochs + 1
///     if cooldownCounter > 0: cooldownCounter ← cooldownCounter − 1, badEpochs ← 0
///     if badEpochs > patience:
///         new = max(lr · factor, minLR);  if lr − new > eps: lr ← new
///         cooldownCounter ← cooldown, badEpochs ← 0
///
/// `best` starts at +∞ (min) or −∞ (max), so the first metric is always better. A NaN metric is
/// never better. PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 relative,
/// cooldown 0, min_lr 0, eps 1e-8. The state (`best`, `badEpochs`, `cooldownCounter`,
/// `learningRate`) is public, so a checkpoint can store it and resume exactly.
public struct ReduceLROnPlateau: Equatable, Sendable, Codable {
    /// PyTorch's `mode`: whether the metric should go down (a loss) or up (an accuracy).
    public typealias Mode = MetricMode

    /// PyTorch's `threshold_mode`: a threshold relative to `best`, or absolute.
    public enum ThresholdMode: String, Equatable, Sendable, CaseIterable, Codable {
        case relative = "rel"
        case absolute = "abs"
    }

    public var mode: Mode
    /// new lr = lr · factor.
    public var factor: Double
    /// Bad epochs tolerated before the rate is cut: the cut comes after patience + 1 of them.
    public var patience: Int
    /// How much better than `best` a metric must be to count as an improvement.
    public var threshold: Double
    public var thresholdMode: ThresholdMode
    /// Epochs after a cut during which bad epochs are not counted.
    public var cooldown: Int
    /// The rate is never cut below this.
    public var minLR: Double
    /// A cut smaller than this is skipped.
    public var eps: Double

    // MARK: State

    /// The learning rate for the coming epoch's steps.
    public var learningRate: Double
    /// The best metric so far (by the threshold rule, not necessarily the best value seen).
    public var best: Double
    /// Epochs since the last improvement (PyTorch's `num_bad_epochs`).
    public var badEpochs: Int
    /// Cooldown epochs left (PyTorch's `cooldown_counter`).
    public var cooldownCounter: Int

    /// A fresh scheduler for an optimizer configured with `learningRate`, with PyTorch's defaults.
    public init(learningRate: Double, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, thresholdMode: ThresholdMode = .relative, cooldown: Int = 0,
                minLR: Double = 0, eps: Double = 1e-8) {
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minLR = minLR
        self.eps = eps
        self.learningRate = learningRate
        best = mode == .min ? .infinity : -.infinity
        badEpochs = 0
        cooldownCounter = 0
    }

    /// Records the epoch's metric and cuts the rate if it has plateaued. Returns whether it was cut.
    @discardableResult
    public mutating func step(metric: Double) -> Bool {
        if isBetter(metric) {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            badEpochs = 0
        }
        guard badEpochs > patience else { return false }
        cooldownCounter = cooldown
        badEpochs = 0
        let reduced = max(learningRate * factor, minLR)
        guard learningRate - reduced > eps else { return false }
        learningRate = reduced
        return true
    }

    /// PyTorch's `_is_better(metric, best)`.
    private func isBetter(_ metric: Double) -> Bool {
        switch (mode, thresholdMode) {
        case (.min, .relative): metric < best * (1 - threshold)
        case (.min, .absolute): metric < best - threshold
        case (.max, .relative): metric > best * (threshold + 1)
        case (.max, .absolute): metric > best + threshold
        }
    }
}

/// Whether a monitored figure improves downwards (losses) or upwards (accuracies): the `mode` of
/// ReduceLROnPlateau, early stopping and save_best.
public enum MetricMode: String, Equatable, Sendable, CaseIterable, Codable {
    case min
    case max
}
