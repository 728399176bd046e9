import Foundation
import Testing
@testable import NNTrain

/// `training.accumulate_steps`: K micro-batches of B rows per optimizer step, each loss divided by K.
@Suite struct GradientAccumulationTests {
    static func config(batch: Int, accumulate: Int) -> Configuration {
        var config = Configuration()
        config.model.hidden = [12]
        config.optimizer.name = .adam
        config.optimizer.lr = 0.01
        config.scheduler.name = .polynomial
        config.scheduler.warmupSteps = 2
        config.training.clip.norm = 1
        config.training.epochs = 3
        config.training.batchSize = .rows(batch)
        config.training.accumulateSteps = accumulate
        return config
    }

    /// Without dropout or batch norm, 3 micro-batches of 4 rows give the update of one batch of 12 rows
    /// (the mean over 12 rows is the mean of the three 4-row means), up to float summation order.
    @Test func threeMicroBatchesOfFourRowsAreOneBatchOfTwelve() throws {
        let data = ResumeTests.classificationData()  // 48 training rows: 4 groups of 12
        let accumulated = Trainer(configuration: Self.config(batch: 4, accumulate: 3), data: data)
        let whole = Trainer(configuration: Self.config(batch: 12, accumulate: 1), data: data)
        #expect(accumulated.batchesPerEpoch == 4 && whole.batchesPerEpoch == 4)
        let before = Array(accumulated.network.parameters.values.storage)
        #expect(before == Array(whole.network.parameters.values.storage))
        let accumulatedHistory = try accumulated.train(), wholeHistory = try whole.train()
        #expect(accumulated.stepCount == 12 && whole.stepCount == 12)  // optimizer steps, not micro-batches
        let a = accumulated.network.parameters.values.storage, b = whole.network.parameters.values.storage
        let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        let moved = zip(a, before).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-5, "largest weight difference \(difference)")
        #expect(moved > 1e-3)  // the weights did move: the comparison means something
        for (x, y) in zip(accumulatedHistory, wholeHistory) {
            #expect(x.learningRate == y.learningRate)
            #expect(abs(x.trainLoss - y.trainLoss) < 1e-5)
        }
    }

    /// The epoch's last group steps with the micro-batches it has, each still divided by K as Lightning
    /// does: 48 rows in micro-batches of 12 and K = 3 are a group of three and a group of one, whose
    /// gradient is a third of that micro-batch's mean gradient.
    @Test func theLastGroupStepsWithWhatItHasDividedByK() throws {
        var config = Self.config(batch: 12, accumulate: 3)
        config.optimizer.name = .sgd
        config.optimizer.momentum = 0
        config.scheduler.name = .constant
        config.scheduler.warmupSteps = 0
        config.training.clip.norm = nil
        config.training.epochs = 1
        let data = ResumeTests.classificationData()
        let accumulated = Trainer(configuration: config, data: data)
        #expect(accumulated.batchesPerEpoch == 2)
        try accumulated.train()
        #expect(accumulated.stepCount == 2)
        // Plain SGD on batches of 36 rows: its first step is the first group's (the mean over 36 rows is
        // the mean of three 12-row means); its second takes the last 12 rows' full mean gradient.
        var plain = config
        (plain.training.batchSize, plain.training.accumulateSteps) = (.rows(36), 1)
        let afterFirst = Trainer(configuration: plain, data: data)
        afterFirst.observers = [StopWhen { $0.stepCount == 1 }]
        try afterFirst.train()
        let full = Trainer(configuration: plain, data: data)
        try full.train()
        let w1 = afterFirst.network.parameters.values.storage
        let a = accumulated.network.parameters.values.storage, b = full.network.parameters.values.storage
        // Same first step, then the last group's step is a third of the full one: a − w1 = (b − w1) / 3.
        var largest: Float = 0, worst: Float = 0
        for i in 0..<w1.count {
            largest = max(largest, abs(b[i] - w1[i]))
            worst = max(worst, abs((a[i] - w1[i]) - (b[i] - w1[i]) / 3))
        }
        #expect(largest > 1e-4)
        #expect(worst < 1e-6 + 1e-4 * largest, "worst \(worst) of \(largest)")
    }
}
