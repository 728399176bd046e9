/// Receives the events of a training run, in order, for progress displays and logs. The trainer
/// calls it on its own thread; an observer must be quick (the batch event comes every step).
public protocol TrainingObserver: AnyObject {
    func epochStarted(epoch: Int, epochs: Int, batches: Int)
    /// After each optimizer step: the mean training loss of the epoch so far.
    func batchFinished(epoch: Int, batch: Int, batches: Int, meanLoss: Double)
    func epochFinished(_ metrics: EpochMetrics, epochs: Int)
}
