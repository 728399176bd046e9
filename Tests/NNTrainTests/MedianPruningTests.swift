import Foundation
import Testing
@testable import NNTrain

/// The median stopping rule (`MedianPruning`) against cases worked out by hand from Optuna's
/// PercentilePruner at 50 (optuna/pruners/_percentile.py), and `prune:` in a sweep file.
@Suite struct MedianPruningTests {
    /// Three finished trials' val_loss per epoch.
    static let completed: [[Int: Double]] = [
        [1: 1.0, 2: 0.8, 3: 0.6],
        [1: 0.9, 2: 0.7, 3: 0.5],
        [1: 1.2, 2: 0.9],
    ]
    static let rule = MedianPruning(startupTrials: 3, warmupEpochs: 0)

    @Test func worseThanTheMedianAtTheLastEpochIsPruned() throws {
        // Epoch 2: the completed values 0.8, 0.7, 0.9 have median 0.8; the trial's best so far is
        // min(1.1, 0.95) = 0.95 > 0.8.
        let decision = try #require(Self.rule.decide(values: [1: 1.1, 2: 0.95], completed: Self.completed, mode: .min))
        #expect(decision == MedianPruning.Decision(epoch: 2, value: 0.95, median: 0.8, trials: 3))
        #expect(decision.line(metric: .valLoss)
            == "pruned at epoch 2: val_loss 0.95 (best so far) worse than the median 0.8 of 3 finished trials at epoch 2")
        // Epoch 3: only two trials reached it: median (0.6 + 0.5) / 2 = 0.55; the best so far counts
        // every epoch: min(2.0, 0.5, 0.56) = 0.5 is not worse.
        #expect(Self.rule.decide(values: [1: 2.0, 2: 0.5, 3: 0.56], completed: Self.completed, mode: .min) == nil)
        let three = try #require(Self.rule.decide(values: [1: 2.0, 2: 0.6, 3: 0.56], completed: Self.completed, mode: .min))
        #expect(three.median == 0.55 && three.value == 0.56 && three.trials == 2)
    }

    @Test func aTieIsNotPruned() {
        #expect(Self.rule.decide(values: [1: 1.0, 2: 0.8], completed: Self.completed, mode: .min) == nil)
        #expect(Self.rule.decide(values: [1: 0.5, 2: 0.8], completed: Self.completed, mode: .max) == nil)
    }

    /// In max mode the best so far is the largest value, and smaller than the median is worse.
    @Test func maxMode() throws {
        let accuracies: [[Int: Double]] = [[1: 0.5, 2: 0.7], [1: 0.6, 2: 0.8], [1: 0.4, 2: 0.6], [1: 0.3, 2: 0.9]]
        // Epoch 2: median of 0.6, 0.7, 0.8, 0.9 is 0.75; best so far max(0.74, 0.2) = 0.74 < 0.75.
        let decision = try #require(Self.rule.decide(values: [1: 0.74, 2: 0.2], completed: accuracies, mode: .max))
        #expect(decision == MedianPruning.Decision(epoch: 2, value: 0.74, median: 0.75, trials: 4))
        #expect(Self.rule.decide(values: [1: 0.76, 2: 0.2], completed: accuracies, mode: .max) == nil)
        // The same values in min mode: the best is 0.2, far below the median.
        #expect(Self.rule.decide(values: [1: 0.74, 2: 0.2], completed: accuracies, mode: .min) == nil)
    }

    /// No decision before `startupTrials` trials completed (nor with none at all, even at 0).
    @Test func startupTrials() {
        let hopeless: [Int: Double] = [1: 9, 2: 9]
        #expect(MedianPruning(startupTrials: 4).decide(values: hopeless, completed: Self.completed, mode: .min) == nil)
        #expect(MedianPruning(startupTrials: 3).decide(values: hopeless, completed: Self.completed, mode: .min) != nil)
        #expect(MedianPruning(startupTrials: 0).decide(values: hopeless, completed: [], mode: .min) == nil)
        #expect(MedianPruning().startupTrials == 5 && MedianPruning().warmupEpochs == 0)
    }

    /// Warm-up: epochs 1…w are never pruned (Optuna's step < n_warmup_steps, step = epoch − 1).
    @Test func warmupEpochs() {
        let hopeless: [Int: Double] = [1: 9, 2: 9]
        #expect(MedianPruning(startupTrials: 3, warmupEpochs: 2).decide(values: hopeless, completed: Self.completed,
                                                                         mode: .min) == nil)
        #expect(MedianPruning(startupTrials: 3, warmupEpochs: 1).decide(values: hopeless, completed: Self.completed,
                                                                         mode: .min)?.epoch == 2)
        #expect(MedianPruning(startupTrials: 3, warmupEpochs: 1).decide(values: [1: 9], completed: Self.completed,
                                                                         mode: .min) == nil)
        #expect(Self.rule.decide(values: [1: 9], completed: Self.completed, mode: .min)?.median == 1.0)
    }

    /// No completed trial reached the epoch (or each has NaN there): no median, no decision; NaN
    /// values of completed trials are left out of the median (nanpercentile).
    @Test func missingStepsAndNaN() throws {
        #expect(Self.rule.decide(values: [4: 9], completed: Self.completed, mode: .min) == nil)
        let withNaN: [[Int: Double]] = [[1: .nan], [1: .nan], [1: 1.0, 2: .nan]]
        #expect(Self.rule.decide(values: [1: 9, 2: 9], completed: withNaN, mode: .min) == nil)
        let one = try #require(Self.rule.decide(values: [1: 9], completed: withNaN, mode: .min))
        #expect(one.median == 1.0 && one.trials == 1)
        // The trial's own NaN are skipped for its best; all NaN is pruned, as Optuna does.
        #expect(Self.rule.decide(values: [1: .nan, 2: 0.1], completed: Self.completed, mode: .min) == nil)
        let allNaN = try #require(Self.rule.decide(values: [1: .nan, 2: .nan], completed: Self.completed, mode: .min))
        #expect(allNaN.epoch == 2 && allNaN.value.isNaN)
        #expect(Self.rule.decide(values: [:], completed: Self.completed, mode: .min) == nil)
    }

    @Test func medianIsNumpysPercentile50() {
        #expect(MedianPruning.median([3, 1, 2]) == 2)
        #expect(MedianPruning.median([4, 1, 3, 2]) == 2.5)
        #expect(MedianPruning.median([7]) == 7)
        #expect(MedianPruning.median([]) == nil)
    }

    // MARK: The sweep file

    @Test func pruneKeysInTheSweepFile() throws {
        let grid = "base: c.txt\ngrid: {optimizer.lr: [0.1]}\n"
        let spec = SweepSpecTests.spec, error = SweepSpecTests.error
        #expect(try spec(grid).pruning == nil)
        #expect(try spec(grid + "prune: none\n").pruning == nil)
        #expect(try spec(grid + "prune: median\n").pruning == MedianPruning(startupTrials: 5, warmupEpochs: 0))
        #expect(try spec(grid + "prune: median\nprune_startup_trials: 2\nprune_warmup_epochs: 3\nmetric: val_acc\n")
            .pruning == MedianPruning(startupTrials: 2, warmupEpochs: 3))
        #expect(error(grid + "prune: mean\n") == "s.yaml:3: prune: 'mean' is not one of: none, median")
        #expect(error(grid + "metric: test_loss\nprune: median\n") == "s.yaml:4: prune: median needs the metric at "
            + "every epoch, which test_loss has not (it is the final model's); expected a train_* or val_* metric, or no prune")
        #expect(error(grid + "prune_warmup_epochs: 2\n")
            == "s.yaml:3: prune_warmup_epochs: applies only with prune: median; expected it removed")
        #expect(error(grid + "prune: median\nprune_startup_trials: -1\n")
            == "s.yaml:4: prune_startup_trials: -1 is out of range; expected an integer >= 0")
    }

    /// results.csv ranks the finished trials, then the pruned ones by their best so far, then the
    /// rest; a pruned trial with a better figure is never the best.
    @Test func prunedTrialsRankAfterTheFinishedAndAreNeverBest() throws {
        let spec = try SweepSpecTests.spec("base: c.txt\ngrid: {optimizer.lr: [1, 2, 3, 4, 5]}\nprune: median\n")
        let trials = spec.trials()
        func outcome(_ index: Int, _ status: SweepTrialOutcome.Status, _ metric: Double?, _ note: String)
            -> SweepTrialOutcome
        {
            SweepTrialOutcome(trial: trials[index], status: status, metric: metric, bestEpoch: metric == nil ? nil : 2,
                              seconds: nil, note: note)
        }
        let outcomes = [outcome(0, .pruned, 0.9, "pruned at epoch 2: x"), outcome(1, .finished, 0.5, "completed"),
                        outcome(2, .pruned, 0.1, "pruned at epoch 3: y"), outcome(3, .unfinished, nil, "not started"),
                        outcome(4, .finished, 0.4, "completed")]
        #expect(spec.best(outcomes)?.trial.number == 5)
        #expect(spec.resultsCSV(outcomes).split(separator: "\n").map { String($0) } == [
            "trial,optimizer.lr,val_loss,best_epoch,seconds,status,note",
            "trial-0005,5,0.4,2,,finished,completed", "trial-0002,2,0.5,2,,finished,completed",
            "trial-0003,3,0.1,2,,pruned,pruned at epoch 3: y", "trial-0001,1,0.9,2,,pruned,pruned at epoch 2: x",
            "trial-0004,4,,,,unfinished,not started",
        ])
        #expect(spec.best(Array(outcomes.prefix(1))) == nil)
    }
}
