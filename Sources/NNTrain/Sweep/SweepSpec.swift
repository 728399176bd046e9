import Foundation
import Yams

/// A sweep file (`nntrain sweep SWEEP.yaml`): a base config and the config keys to vary, each trial a
/// normal run of the base config with its overrides (`--set key=value`), in `SWEEP_DIR/trial-0001/`, ….
///
///     base: configs/fashion-mnist.txt        # a config file (relative to the working folder), or a mapping: the config inline
///     output: runs/lr-sweep                  # the sweep folder; default runs/<sweep file name without extension>
///     metric: val_loss                       # val_loss, val_acc, train_loss, train_acc, test_loss, test_acc
///     mode: min                              # default: min for losses, max for accuracies
///     grid:                                  # every combination (itertools.product: the first key varies slowest)
///       optimizer.lr: [0.001, 0.003]
///       model.hidden: [[256, 128], [512, 256]]
///     random:                                # `trials` draws from `seed`, each key in file order
///       trials: 4
///       seed: 0
///       params:
///         optimizer.weight_decay: {log_uniform: [1.0e-5, 1.0e-2]}   # exp(U(log a, log b))
///         model.dropout: {uniform: [0.0, 0.5]}                      # U(a, b)
///         training.batch_size: {int_uniform: [32, 256]}             # an integer in [a, b], both included
///         model.activation: {choice: [relu, gelu]}                   # one of the values, equally likely
///     prune: median                          # the median stopping rule (MedianPruning); default none
///     prune_startup_trials: 5                # finished trials before any is pruned (Optuna's n_startup_trials)
///     prune_warmup_epochs: 0                 # the first epochs never pruned (Optuna's n_warmup_steps)
///
/// With both, every grid point is tried with each of the same `trials` random draws (grid points ×
/// draws, the draws varying fastest), so grid points are compared on equal terms. Draws use the
/// project's seeded generator: a sweep file always expands to the same trials.
public struct SweepSpec: Equatable, Sendable {
    /// The config every trial starts from.
    public enum Base: Equatable, Sendable {
        /// A config file.
        case path(String)
        /// A config written in the sweep file itself, as YAML text.
        case inline(String)
    }

    /// One key varied over a list of values (`grid`); values as YAML text, each a `--set` value.
    public struct GridKey: Equatable, Sendable {
        public var key: String
        public var values: [String]
        /// The line of the key in the sweep file.
        public var line: Int?
    }

    /// How a random search draws one key's value (Optuna's and Ray Tune's names).
    public enum Distribution: Equatable, Sendable {
        /// One of the values (YAML texts), each with probability 1/n.
        case choice([String])
        /// U(low, high).
        case uniform(Double, Double)
        /// exp(U(log low, log high)), 0 < low < high.
        case logUniform(Double, Double)
        /// An integer in [low, high], each with probability 1/(high − low + 1).
        case intUniform(Int, Int)
    }

    public struct RandomKey: Equatable, Sendable {
        public var key: String
        public var distribution: Distribution
        public var line: Int?
    }

    /// A random search: `trials` draws of every key of `keys` from a generator seeded with `seed`.
    public struct RandomSearch: Equatable, Sendable {
        public var trials: Int
        public var seed: UInt64
        public var keys: [RandomKey]
    }

    /// What decides the best trial: a figure of summary.json or of the last epoch's metrics.
    public enum Metric: String, CaseIterable, Sendable {
        case valLoss = "val_loss", valAcc = "val_acc", trainLoss = "train_loss", trainAcc = "train_acc"
        case testLoss = "test_loss", testAcc = "test_acc"

        /// Accuracies are better higher, losses lower.
        public var defaultMode: Mode { rawValue.hasSuffix("acc") ? .max : .min }
    }

    public enum Mode: String, CaseIterable, Sendable { case min, max }

    public var base: Base
    public var output: String?
    public var metric: Metric
    public var mode: Mode
    public var grid: [GridKey]
    public var random: RandomSearch?
    /// The sweep file's path, for messages.
    public var source: String
    /// `prune: median`: the median stopping rule for the running trials; nil for `prune: none`.
    public var pruning: MedianPruning? = nil
}

/// One trial of a sweep: its 1-based number and its overrides, in the sweep file's key order, run in
/// the folder `folderName` of the sweep's folder.
public struct SweepTrial: Equatable, Sendable {
    public var number: Int
    public var overrides: [(key: String, value: String)]
    /// `trial-0007` for a sweep's trial 7.
    public var folderName: String

    public init(number: Int, overrides: [(key: String, value: String)], folderName: String? = nil) {
        self.number = number
        self.overrides = overrides
        self.folderName = folderName ?? "trial-" + String(repeating: "0", count: max(0, 4 - "\(number)".count)) + "\(number)"
    }

    /// The overrides as `--set` arguments: `optimizer.lr=0.001`.
    public var arguments: [String] { overrides.map { "\($0.key)=\($0.value)" } }

    public static func == (a: SweepTrial, b: SweepTrial) -> Bool {
        a.number == b.number && a.arguments == b.arguments && a.folderName == b.folderName
    }
}

extension SweepSpec {
    /// Every trial, numbered from 1: the grid's points (the first key varying slowest) × the random
    /// draws (varying fastest); one empty trial when the file varies nothing.
    public func trials() -> [SweepTrial] {
        var points: [[(key: String, value: String)]] = [[]]
        for key in grid {
            points = points.flatMap { point in key.values.map { point + [(key.key, $0)] } }
        }
        var draws: [[(key: String, value: String)]] = [[]]
        if let random {
            var generator = RandomGenerator(seed: random.seed)
            draws = (0..<random.trials).map { _ in random.keys.map { ($0.key, Self.draw($0.distribution, &generator)) } }
        }
        var trials: [SweepTrial] = []
        for point in points {
            for draw in draws { trials.append(SweepTrial(number: trials.count + 1, overrides: point + draw)) }
        }
        return trials
    }

    /// One value of `distribution` as YAML text: a number in Swift's shortest exact form, an integer,
    /// or one of a choice's texts.
    static func draw(_ distribution: Distribution, _ generator: inout RandomGenerator) -> String {
        switch distribution {
        case .choice(let values):
            return values[min(Int(generator.nextUnitDouble() * Double(values.count)), values.count - 1)]
        case .uniform(let low, let high):
            return "\(low + (high - low) * generator.nextUnitDouble())"
        case .logUniform(let low, let high):
            return "\(exp(log(low) + (log(high) - log(low)) * generator.nextUnitDouble()))"
        case .intUniform(let low, let high):
            let span = high - low + 1
            return "\(low + min(Int(generator.nextUnitDouble() * Double(span)), span - 1))"
        }
    }
}
