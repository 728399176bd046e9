import Foundation
import NNTrain
import Testing

/// Sweep files (`SweepSpec`): reading, the trials they expand to, and the refusals with their lines.
@Suite struct SweepSpecTests {
    static func spec(_ yaml: String) throws -> SweepSpec { try SweepSpec.parse(yaml: yaml, source: "s.yaml") }

    static func error(_ yaml: String) -> String? {
        do {
            _ = try SweepSpec.parse(yaml: yaml, source: "s.yaml")
            return nil
        } catch {
            #expect(error.kind == .config)
            return error.message
        }
    }

    /// A 2 × 2 grid with 3 random draws: 12 trials, the first grid key slowest, the draws fastest and
    /// the same three draws at every grid point; the draws follow the generator as written out here.
    @Test func gridTimesRandomExpandsInOrder() throws {
        let spec = try Self.spec("""
            base: configs/fashion-mnist.txt
            grid:
              optimizer.lr: [0.001, 0.003]
              model.hidden: [[256, 128], [64]]
            random:
              trials: 3
              seed: 7
              params:
                model.dropout: {uniform: [0.1, 0.5]}
                optimizer.weight_decay: {log_uniform: [1.0e-5, 1.0e-2]}
                training.batch_size: {int_uniform: [32, 35]}
                model.activation: {choice: [relu, gelu, "tanh"]}
            """)
        #expect(spec.base == .path("configs/fashion-mnist.txt") && spec.metric == .valLoss && spec.mode == .min)
        let trials = spec.trials()
        #expect(trials.count == 12 && trials.map(\.number) == Array(1...12))
        #expect(trials.map { $0.arguments.prefix(2) } == [
            ["optimizer.lr=0.001", "model.hidden=[256, 128]"], ["optimizer.lr=0.001", "model.hidden=[256, 128]"],
            ["optimizer.lr=0.001", "model.hidden=[256, 128]"], ["optimizer.lr=0.001", "model.hidden=[64]"],
            ["optimizer.lr=0.001", "model.hidden=[64]"], ["optimizer.lr=0.001", "model.hidden=[64]"],
            ["optimizer.lr=0.003", "model.hidden=[256, 128]"], ["optimizer.lr=0.003", "model.hidden=[256, 128]"],
            ["optimizer.lr=0.003", "model.hidden=[256, 128]"], ["optimizer.lr=0.003", "model.hidden=[64]"],
            ["optimizer.lr=0.003", "model.hidden=[64]"], ["optimizer.lr=0.003", "model.hidden=[64]"],
        ].map { $0[...] })
        // The draws, written out: each key in file order from one generator seeded with 7.
        var generator = RandomGenerator(seed: 7)
        var expected: [[String]] = []
        for _ in 0..<3 {
            let dropout = 0.1 + 0.4 * generator.nextUnitDouble()
            let decay = exp(log(1.0e-5) + (log(1.0e-2) - log(1.0e-5)) * generator.nextUnitDouble())
            let batch = 32 + Int(generator.nextUnitDouble() * 4)
            let activation = ["relu", "gelu", "\"tanh\""][Int(generator.nextUnitDouble() * 3)]
            expected.append(["model.dropout=\(dropout)", "optimizer.weight_decay=\(decay)", "training.batch_size=\(batch)",
                             "model.activation=\(activation)"])
        }
        for (index, trial) in trials.enumerated() {
            #expect(Array(trial.arguments.dropFirst(2)) == expected[index % 3], "trial \(trial.number)")
        }
        #expect(trials[6].folderName == "trial-0007")
        // Every drawn value lies in its range.
        for trial in trials {
            let values = Dictionary(uniqueKeysWithValues: trial.overrides.map { ($0.key, $0.value) })
            let dropout = try #require(Double(values["model.dropout"] ?? ""))
            let decay = try #require(Double(values["optimizer.weight_decay"] ?? ""))
            let batch = try #require(Int(values["training.batch_size"] ?? ""))
            #expect(dropout >= 0.1 && dropout < 0.5 && decay >= 1e-5 && decay < 1e-2 && (32...35).contains(batch))
        }
    }

    /// A sweep file always expands to the same trials; another seed to others.
    @Test func theSeedDecidesTheDraws() throws {
        let text = "base: c.txt\nrandom: {trials: 4, seed: SEED, params: {optimizer.lr: {log_uniform: [1.0e-4, 1.0]}}}\n"
        let a = try Self.spec(text.replacingOccurrences(of: "SEED", with: "1")).trials()
        #expect(a == (try Self.spec(text.replacingOccurrences(of: "SEED", with: "1")).trials()))
        #expect(a != (try Self.spec(text.replacingOccurrences(of: "SEED", with: "2")).trials()))
        #expect(Set(a.map(\.arguments)).count == 4)
    }

    @Test func defaultsAndAnInlineBase() throws {
        let spec = try Self.spec("""
            base:
              model: {hidden: [8]}
              training: {epochs: 2}
            metric: test_acc
            output: runs/s
            """)
        #expect(spec.metric == .testAcc && spec.mode == .max && spec.output == "runs/s")
        #expect(spec.trials() == [SweepTrial(number: 1, overrides: [])])
        guard case .inline(let text) = spec.base else {
            Issue.record("the base is not inline")
            return
        }
        let configuration = try Configuration.parse(yaml: text, source: "base")
        #expect(configuration.model.hidden == [8] && configuration.training.epochs == 2)
        #expect(try Self.spec("base: c.txt\nmetric: val_acc\nmode: min\n").mode == .min)
    }

    @Test func refusalsNameTheLine() {
        #expect(Self.error("") == "s.yaml: the sweep file is empty; " + SweepSpecTestsExpected.document)
        #expect(Self.error("grid: {optimizer.lr: [1]}\n") == "s.yaml: no base; " + SweepSpecTestsExpected.document)
        #expect(Self.error("base: c.txt\ngird: {}\n")
            == "s.yaml:2: unknown key 'gird' at top level; expected one of: base, output, metric, mode, grid, random, prune, "
                + "prune_startup_trials, prune_warmup_epochs")
        #expect(Self.error("base: c.txt\ngrid:\n  optimizer.lrr: [1]\n")
            == "s.yaml:3: grid: 'optimizer.lrr' is not a config key; expected a key as --set names it, like optimizer.lr "
                + "(nntrain config --defaults lists them)")
        #expect(Self.error("base: c.txt\ngrid:\n  optimizer.lr: 0.1\n")
            == "s.yaml:3: grid.optimizer.lr: expected a list of the values to try, like [0.001, 0.003]")
        #expect(Self.error("base: c.txt\ngrid:\n  optimizer.lr: []\n")
            == "s.yaml:3: grid.optimizer.lr: has no values; expected at least one value to try")
        #expect(Self.error("base: c.txt\nrandom:\n  trials: 2\n  params:\n    optimizer.lr: {normal: [0, 1]}\n")
            == "s.yaml:5: random.params.optimizer.lr: unknown distribution 'normal'; expected one of {choice: [...]}, "
                + "{uniform: [a, b]}, {log_uniform: [a, b]}, {int_uniform: [a, b]}")
        #expect(Self.error("base: c.txt\nrandom:\n  trials: 2\n  params:\n    optimizer.lr: {log_uniform: [0, 1]}\n")
            == "s.yaml:5: random.params.optimizer.lr.log_uniform[0]: 0 is out of range; expected a number > 0")
        #expect(Self.error("base: c.txt\nrandom:\n  trials: 2\n  params:\n    optimizer.lr: {uniform: [2, 1]}\n")
            == "s.yaml:5: random.params.optimizer.lr.uniform: low 2.0 is not below high 1.0; expected low < high")
        #expect(Self.error("base: c.txt\nrandom: {params: {optimizer.lr: {uniform: [0, 1]}}}\n")
            == "s.yaml:2: random: expected trials and params, e.g. {trials: 8, seed: 0, params: "
                + "{optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}}}")
        #expect(Self.error("base: c.txt\nrandom: {trials: 0, params: {optimizer.lr: {uniform: [0, 1]}}}\n")
            == "s.yaml:2: random.trials: 0 is out of range; expected an integer >= 1")
        let both = "base: c.txt\ngrid: {optimizer.lr: [1]}\nrandom: {trials: 1, params: {optimizer.lr: {uniform: [0, 1]}}}\n"
        #expect(Self.error(both)
            == "s.yaml: optimizer.lr is in both grid and random; expected each key swept one way")
        #expect(Self.error("base: c.txt\nmetric: accuracy\n")?.hasPrefix("s.yaml:2: metric: ") == true)
        // Bounds that would overflow or exhaust memory.
        #expect(Self.error("base: c.txt\nrandom: {trials: 2, params: {seed: {int_uniform: [0, 9223372036854775807]}}}\n")
            == "s.yaml:2: random.params.seed.int_uniform[1]: 9223372036854775807 is out of range; expected at most 2^53")
        #expect(Self.error("base: c.txt\nrandom: {trials: 100001, params: {seed: {int_uniform: [0, 9]}}}\n")
            == "s.yaml:2: random.trials: 100001 is out of range; expected at most 100000 trials")
        #expect(Self.error("base: c.txt\ngrid: {seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\nrandom: {trials: 10001, "
            + "params: {optimizer.lr: {uniform: [0, 1]}}}\n")
            == "s.yaml: the grid and random draws make more than 100000 trials; expected fewer")
    }

    /// Values keep their YAML meaning through `--set`: quoted text stays quoted, lists are written in flow style.
    @Test func valuesReadBackThroughSet() throws {
        let spec = try Self.spec("base: c.txt\ngrid:\n  output.dir: [\"null\", runs/a]\n  model.hidden: [[], [4, 2]]\n")
        #expect(spec.trials().map(\.arguments) == [
            ["output.dir=\"null\"", "model.hidden=[]"], ["output.dir=\"null\"", "model.hidden=[4, 2]"],
            ["output.dir=runs/a", "model.hidden=[]"], ["output.dir=runs/a", "model.hidden=[4, 2]"],
        ])
        let configuration = try Configuration.parse(yaml: "seed: 1\n", source: "c", overrides: spec.trials()[1].arguments)
        #expect(configuration.output.dir == "null" && configuration.model.hidden == [4, 2])
    }
}

private enum SweepSpecTestsExpected {
    static let document = "expected a mapping with base and grid or random, e.g. base: configs/fashion-mnist.txt, "
        + "grid: {optimizer.lr: [0.001, 0.003]}"
}
