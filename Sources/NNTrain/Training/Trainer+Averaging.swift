/// The trainer's weight averages (`ema`, `swa`; see `WeightAverage`): when they are updated, which
/// weights validation and the test evaluate, and update_bn.
extension Trainer {
    /// The average validation evaluates, once it has an update: SWA's with `swa.evaluate`, else the
    /// EMA with `ema.evaluate`, else ASGD's averaged iterates ā (`iterateAverage`, as torch users
    /// evaluate ASGD); nil: the network's own weights. restore_best's best model is the model validated,
    /// so with one of them the best epoch's average.
    var validatedAverage: WeightAverage? {
        if let swa, configuration.swa.evaluate, swa.count > 0 { return swa }
        if let ema, configuration.ema.evaluate, ema.count > 0 { return ema }
        return iterateAverage
    }

    /// ASGD's ā after its first step, mirrored from the optimizer's `ax` when read (zero where pruning's
    /// masks prune, as the weights are); nil for the other optimizers. Until step t0 ā is a copy of the
    /// weights θ, so the figures equal θ's.
    var iterateAverage: WeightAverage? {
        guard let iterates, let asgd = optimizer as? ASGD, asgd.stepCount > 0 else { return nil }
        iterates.mirror(asgd.averagedParameters, steps: asgd.stepCount, network: network)
        if let pruner { iterates.applyMasks(of: pruner) }
        return iterates
    }

    /// Which weights are the run's final model as it stands (`FinalModel`): restore_best's restored
    /// epoch wins (it is the model validated at that epoch: with `ema.evaluate` or `swa.evaluate`
    /// already an average); then, once training has ended, the SWA average; then the validated
    /// average; else the network's own weights.
    public var finalModel: FinalModel {
        if restoredEpoch != nil { return .model }
        if ending != nil, let swa, swa.count > 0 { return .swa }
        if let average = validatedAverage { return average === swa ? .swa : average === ema ? .ema : .ax }
        return .model
    }

    /// Runs `body` with the final model's weights in the network (see `finalModel`), then puts
    /// the running weights back: the test figures and summary.json's weights are the final model's.
    public func withFinalModel<R>(_ body: () throws(NNTrainError) -> R) throws(NNTrainError) -> R {
        let average = switch finalModel {
        case .model: nil as WeightAverage?
        case .ema: ema
        case .swa: swa
        case .ax: iterateAverage
        }
        guard let average else { return try body() }
        return try average.swappedIn(network, body)
    }

    /// At the end of epoch `epoch`, from `swa.start_epoch` on: averages the weights into `swa` (zero
    /// where pruning's masks prune, as torch's average of a pruned module's `weight_orig` times its
    /// `weight_mask` is; the EMA likewise after each update), then
    /// steps SWALR, whose first step anneals from the lr of the epoch's last step (`lastStep`) and
    /// freezes its momentum.
    func averageEpoch(_ epoch: Int, lastStep values: ScheduledValues) {
        guard let swa, let start = configuration.swa.startEpoch, let swaLR = configuration.swa.lr, epoch >= start else {
            return
        }
        swa.update(from: network)
        if let pruner { swa.applyMasks(of: pruner) }
        let lr = SWALR.learningRate(step: swa.count, from: swaSchedule?.learningRate ?? values.learningRate, swaLR: swaLR,
                                    annealEpochs: configuration.swa.annealEpochs, strategy: configuration.swa.annealStrategy)
        swaSchedule = SWALR(learningRate: lr, momentum: swaSchedule.map(\.momentum) ?? values.momentum)
    }

    /// The validation figures of the validated model (`validatedAverage`, SWA's after update_bn).
    func evaluateValidation() throws(NNTrainError) -> EvaluationMetrics {
        guard let average = validatedAverage else { return evaluate(data.validation) }
        if average === swa { try updateBatchNorm(of: average) }
        return try average.swappedIn(network) { evaluate(data.validation) }
    }

    /// When training has ended: recomputes the SWA average's batch-norm statistics (update_bn).
    func finishAveraging() throws(NNTrainError) {
        if let swa, swa.count > 0 { try updateBatchNorm(of: swa) }
    }

    /// torch.optim.swa_utils.update_bn on `average`: each batch norm's running statistics reset to
    /// mean 0, variance 1, then one pass in training mode over the training split (its rows in
    /// order, in batches of `training.batch_size`, normalised, not augmented) with `momentum=None`,
    /// so they end as the cumulative average of the batches' statistics: after batch k,
    /// running ← (1 − 1/k)·running + (1/k)·batch statistic (the variance unbiased, B/(B − 1)), i.e.
    /// the mean over batches. Dropout is active as under model.train(); its random streams are put
    /// back after the pass, so training's draws do not depend on it. Without batch norms, nothing.
    func updateBatchNorm(of average: WeightAverage) throws(NNTrainError) {
        let norms = network.layers.compactMap { $0 as? BatchNorm }
        guard !norms.isEmpty else { return }
        let dropouts = dropoutLayers, randoms = dropouts.map(\.random)
        defer { for (layer, random) in zip(dropouts, randoms) { layer.random = random } }
        let natural = (0..<Int32(data.train.count)).map { $0 }
        let batchRows = trainLoader.capacity, rowCount = data.train.count
        // A frozen norm (`training.freeze`) runs in eval mode: its statistics, constant while it was frozen, stay.
        let recomputed = norms.filter { !$0.frozen }
        try average.swappedIn(network) { () throws(NNTrainError) in
            for norm in recomputed {
                norm.runningMean = [Float](repeating: 0, count: norm.inputWidth)
                norm.runningVariance = [Float](repeating: 1, count: norm.inputWidth)
                norm.cumulativeBatches = 0
            }
            defer { for norm in recomputed { norm.cumulativeBatches = nil } }
            natural.withUnsafeBufferPointer { order in
                for batch in 0..<batchesPerEpoch {
                    let range = (batch * batchRows)..<min((batch + 1) * batchRows, rowCount)
                    trainLoader.withBatch(order: order, range: range) { x, _ in _ = network.forward(x, training: true) }
                }
            }
            average.runningStatistics = norms.flatMap { [$0.runningMean, $0.runningVariance] }
        }
    }
}
