extension Trainer {
    /// The error a step throws when training diverges: where (epoch, step), what became non-finite,
    /// and the likely cause with the keys to change: the learning rate of that step (quoted: a
    /// schedule may have raised it above optimizer.lr; a layer_lr multiplier above 1 raises it further) and,
    /// when no gradient clipping is configured, `training.clip.norm`. TrainingRun adds the last good checkpoint.
    func divergence(epoch: Int, step: Int, what: String, learningRate: Double) -> NNTrainError {
        let clip = configuration.training.clip
        let unclipped = clip.norm == nil && clip.value == nil
        let scheduled = learningRate == configuration.optimizer.lr ? ""
            : " (optimizer.lr \(configuration.optimizer.lr) under the \(configuration.scheduler.name.rawValue) schedule)"
        // With layer_lr, the largest multiplier's layer steps at the highest rate.
        let largest = configuration.optimizer.layerLR?.max().flatMap { $0 > 1 ? $0 : nil }
        let multiplied = largest.map { " (× \(ConsoleFormat.significant($0)) by optimizer.layer_lr)" } ?? ""
        let cause = "the learning rate \(ConsoleFormat.significant(learningRate))\(scheduled)\(multiplied) is likely too high"
            + (unclipped ? " and no gradient clipping is configured" : "")
        let remedy = "try a smaller optimizer.lr" + (clip.norm == nil ? " or training.clip.norm: 1.0" : "")
        return NNTrainError(.diverged, "training diverged at epoch \(epoch), step \(step): \(what); \(cause): \(remedy)")
    }

    /// Whether every parameter and batch-norm running statistic is finite. Checked at each epoch's
    /// end, before its checkpoint: a step's loss is checked as it is computed, but the weights the
    /// epoch's last step wrote are only used (and so checked) by the next epoch's first step.
    public var modelIsFinite: Bool {
        let parameters = network.parameters
        for value in parameters.values.storage.prefix(parameters.count) where !value.isFinite { return false }
        return network.layers.compactMap { $0 as? BatchNorm }.allSatisfy {
            $0.runningMean.allSatisfy(\.isFinite) && $0.runningVariance.allSatisfy(\.isFinite)
        }
    }
}
