/// Early stopping as Keras' EarlyStopping and Lightning's callback do it: after each epoch the
/// monitored figure is compared with the best so far; it improves when
///
///     mode min:  value < best − min_delta          mode max:  value > best + min_delta
///
/// (the first epoch always improves). After `patience` epochs in a row without improvement,
/// training stops. With `restore_best`, the trainer puts back the weights (and batch-norm running
/// statistics) of the best epoch when training ends, however it ends.
public struct EarlyStopping: Equatable, Sendable, Codable {
    public let monitor: MonitoredMetric
    public let higherIsBetter: Bool
    public let patience: Int
    public let minDelta: Double
    /// The best value so far and its epoch.
    public private(set) var best: Double?
    public private(set) var bestEpoch = 0
    /// Epochs since the last improvement (Keras' `wait`).
    public private(set) var wait = 0

    public init(monitor: MonitoredMetric, higherIsBetter: Bool, patience: Int, minDelta: Double) {
        self.monitor = monitor
        self.higherIsBetter = higherIsBetter
        self.patience = patience
        self.minDelta = minDelta
    }

    /// Takes the epoch's value; returns whether it improved on the best and whether to stop now.
    public mutating func update(epoch: Int, value: Double) -> (improved: Bool, stop: Bool) {
        let improved = best.map { higherIsBetter ? value > $0 + minDelta : value < $0 - minDelta } ?? true
        if improved {
            best = value
            bestEpoch = epoch
            wait = 0
        } else {
            wait += 1
        }
        return (improved, wait >= patience && !improved)
    }

    /// This early stopping (its patience and min_delta) with the best value, its epoch and the wait
    /// of `saved`, when both watch the same figure the same way; otherwise this one, fresh.
    func continuing(_ saved: EarlyStopping) -> EarlyStopping {
        guard saved.monitor == monitor, saved.higherIsBetter == higherIsBetter else { return self }
        var continued = self
        (continued.best, continued.bestEpoch, continued.wait) = (saved.best, saved.bestEpoch, saved.wait)
        return continued
    }
}
