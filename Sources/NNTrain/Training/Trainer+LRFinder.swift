import CFloatingPoint

extension Trainer {
    /// The learning-rate range test (`nntrain lr-find`) from this trainer's initialisation, as
    /// fastai's `Learner.lr_find` runs it: one optimizer step per successive training batch (the
    /// order shuffled with the seed, reshuffled after a full pass), step i at `schedule`'s rate
    /// (`LRFinderSchedule`), with everything else as the config says (optimizer, batch size,
    /// precision and loss scaling, clipping, regularisation, augmentation); the configured
    /// schedule and warm-up take no part. Each batch's mean loss is recorded by an `LRFinder`,
    /// which stops the test once the smoothed loss passes 4 × its minimum; a loss that becomes
    /// infinite or NaN is recorded as +∞, which stops it too. The trainer's model and optimizer are
    /// left as the test leaves them: use a fresh trainer for training. The steps of the test are not
    /// training steps: the trainer's `observers` hear of none of them (the result holds each one).
    public func findLearningRate(schedule: LRFinderSchedule) throws(NNTrainError) -> LRFinderResult {
        let floatingPointMode = nntrain_flush_subnormals()
        defer { nntrain_restore_floating_point_mode(floatingPointMode) }
        var finder = LRFinder(schedule: schedule)
        let batchRows = trainLoader.capacity * accumulateSteps
        var batch = batchesPerEpoch
        while let learningRate = finder.nextLearningRate {
            if batch == batchesPerEpoch {
                shuffleRandom.shuffle(&order)
                batch = 0
            }
            let range = (batch * batchRows)..<min((batch + 1) * batchRows, data.train.count)
            var sums = LossSums(), loss = Double.infinity  // the loss of a step that diverged
            do {
                _ = try order.withUnsafeBufferPointer { (rows) throws(NNTrainError) in
                    try step(rows: rows, range: range, values: ScheduledValues(learningRate: learningRate), sums: &sums,
                             epoch: 1, batch: batch + 1)
                }
                loss = sums.loss / Double(sums.rows)
            } catch where error.kind == .diverged {}
            finder.record(loss: loss)
            batch += 1
        }
        return finder.result()
    }
}

/// `nntrain lr-find CONFIG`: the range test on a config's model, data and loss (with
/// `distillation:`, the teacher's term too; without `pruning:`, whose masks come later), written as
/// `lr_find.csv` (lr, loss, smoothed_loss) and `lr_find.svg` (smoothed loss against log lr, the
/// suggestions marked) into `folder` (default: the config's run directory, whose metrics and
/// checkpoints it leaves alone).
public enum LRRangeTest {
    public struct Outcome: Sendable {
        public var result: LRFinderResult
        public var csvPath: String
        public var svgPath: String
        /// What reading the data found (`TrainingData.notes`, `.warnings`).
        public var dataNotes: [String]
        public var dataWarnings: [String]
    }

    public static func execute(configPath: String, overrides: [String], schedule: LRFinderSchedule, folder: String? = nil)
        throws(NNTrainError) -> Outcome
    {
        var configuration = try Configuration.load(path: configPath, overrides: overrides)
        if configuration.optimizer.name == .rprop {
            // torch's Rprop reads the lr once, as its first step size: every rate after the first is ignored.
            throw configuration.keySources.problem("optimizer.name", "rprop reads the lr only as its first step size, so "
                + "a range test of it measures nothing; expected another optimizer for lr-find", file: configPath)
        }
        if configuration.optimizer.name == .lbfgs {
            // Each lbfgs step runs up to max_iter iterations on the full batch, a line search choosing the lengths.
            throw configuration.keySources.problem("optimizer.name", "lbfgs takes one full-batch step per epoch of up "
                + "to max_iter iterations, so a range test of one step per batch measures nothing; expected another "
                + "optimizer for lr-find", file: configPath)
        }
        var data = try TrainingData.load(for: &configuration, file: configPath)
        // The test starts where the run would: from model.init_from's weights (and normaliser) when given.
        let initialWeights = try InitialWeights.load(for: configuration, data: data, file: configPath)
        if let normalizer = initialWeights?.normalizer { data.normalizer = normalizer }
        if let initialWeights { data.notes.append(initialWeights.summary) }
        // The test steps on the loss the run trains on, a teacher's term included; pruning takes no
        // part: its masks come at start_epoch and later, and would change the model mid-test.
        let teacher = try Teacher.load(for: configuration, data: data, file: configPath)
        configuration.pruning.method = nil
        let result = try Trainer(configuration: configuration, data: data, teacher: teacher, initialWeights: initialWeights)
            .findLearningRate(schedule: schedule)
        let directory = folder ?? configuration.runDirectory(configPath: configPath)
        let csvPath = directory + "/lr_find.csv", svgPath = directory + "/lr_find.svg"
        try OutputFile.write(Array(result.csv().utf8), to: csvPath)
        try OutputFile.write(Array(result.svg().utf8), to: svgPath)
        return Outcome(result: result, csvPath: csvPath, svgPath: svgPath, dataNotes: data.notes, dataWarnings: data.warnings)
    }
}
