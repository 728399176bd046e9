import Foundation
import Testing
@testable import NNTrain

/// The `scheduler:` section's checks, all in the config layer: every value PyTorch's lr_scheduler
/// constructors refuse (or that would divide by zero) is refused with the file, the line and the key,
/// while parsing (the key table's bounds, `Configuration+Rules.swift`) or, for one_cycle's checks that
/// need the batches of an epoch, by `checkScheduleFitsTheData` once the data is loaded.
@Suite struct ScheduleConfigTests {
    /// The config file name every test's messages use.
    static let file = "configs/x.txt"

    /// The message of the config error that reading `yaml` with `overrides` and then checking its
    /// schedule against epochs of `stepsPerEpoch` batches throws, or nil if both pass.
    static func scheduleError(_ yaml: String, overrides: [String] = [], stepsPerEpoch: Int = 10) -> String? {
        do {
            let configuration = try Configuration.parse(yaml: yaml, source: file, overrides: overrides)
            try configuration.checkScheduleFitsTheData(stepsPerEpoch: stepsPerEpoch, file: file)
            return nil
        } catch {
            #expect(error.kind == .config)
            return error.message
        }
    }

    @Test(arguments: [
        "scheduler: {name: step, step_size: 1}\n",
        "scheduler: {name: multistep, milestones: [1, 5]}\n",
        "scheduler: {name: exponential, gamma: 0.9}\n",
        "scheduler: {name: cosine, t_max: 1}\n",
        "scheduler: {name: cosine_restarts, t_0: 1, t_mult: 2}\n",
        "scheduler: {name: linear}\n",
        "scheduler: {name: constant, factor: 0.5, total_iters: 3}\n",
        "scheduler: {name: constant, factor: 1}\n",
        "scheduler: {name: polynomial, total_iters: 10, power: 2}\n",
        "scheduler: {name: polynomial, warmup_epochs: 2}\n",
        "scheduler: {name: one_cycle, max_lr: 0.1}\ntraining: {epochs: 1}\n",
        "scheduler: {name: cyclic, base_lr: 0.001, max_lr: 0.1, step_size_down: 1}\n",
        "scheduler: {warmup_epochs: 0}\n",
        "scheduler: {name: reduce_on_plateau, threshold: 2, threshold_mode: abs}\n",
    ])
    func validSchedulesPass(yaml: String) {
        #expect(Self.scheduleError(yaml, stepsPerEpoch: 1) == nil)
    }

    /// constant's and polynomial's keys reach the schedule; constant without a factor is the plain rate and
    /// reduce_on_plateau's factor keeps its own default, 0.1.
    @Test func constantAndPolynomialKeysBuildTheirSchedules() throws {
        func schedule(_ yaml: String) throws -> LearningRateSchedule {
            try Configuration.parse(yaml: yaml, source: Self.file).makeSchedule(stepsPerEpoch: 3).schedule
        }
        #expect(try schedule("scheduler: {name: constant, factor: 0.5, total_iters: 3}\n")
            == .constant(factor: 0.5, totalIters: 3))
        #expect(try schedule("seed: 1\n") == .constant(factor: 1, totalIters: 5))
        #expect(try schedule("scheduler: {name: polynomial, total_iters: 8, power: 2}\n")
            == .polynomial(totalIters: 8, power: 2))
        #expect(try schedule("scheduler: {name: polynomial}\n") == .polynomial(totalIters: 5, power: 1))
        let plateau = try Configuration.parse(yaml: "scheduler: {name: reduce_on_plateau}\n", source: Self.file).makePlateau()
        #expect(plateau?.factor == 0.1)
    }

    /// The cases the engine's `validate()` checked, each now refused by the config for the same bad value.
    @Test(arguments: [
        // step
        ("scheduler: {name: step, step_size: 0}\n",
         "configs/x.txt:1: scheduler.step_size: 0 is out of range; expected an integer >= 1"),
        ("scheduler: {name: step, step_size: 3, gamma: 0}\n",
         "configs/x.txt:1: scheduler.gamma: 0 is out of range; expected a number > 0"),
        // multistep
        ("scheduler:\n  name: multistep\n  milestones: []\n",
         "configs/x.txt:2: scheduler.milestones is required for scheduler multistep; expected e.g. milestones: [10, 20]"),
        ("scheduler:\n  name: multistep\n  milestones: [0, 3]\n",
         "configs/x.txt:3: scheduler.milestones[0]: 0 is out of range; expected an integer >= 1"),
        ("scheduler:\n  name: multistep\n  milestones: [5, 5]\n",
         "configs/x.txt:3: scheduler.milestones: [5, 5] is not increasing; expected epochs in increasing order"),
        // exponential
        ("scheduler: {name: exponential, gamma: .nan}\n",
         "configs/x.txt:1: scheduler.gamma: '.nan' is not a finite number; expected a number > 0"),
        // cosine, also behind a warm-up
        ("scheduler: {name: cosine, t_max: 0}\n",
         "configs/x.txt:1: scheduler.t_max: 0 is out of range; expected an integer >= 1"),
        ("scheduler: {name: cosine, t_max: 5, eta_min: -1}\n",
         "configs/x.txt:1: scheduler.eta_min: -1 is out of range; expected a number >= 0"),
        ("scheduler:\n  name: cosine\n  warmup_epochs: 1\n  t_max: 0\n",
         "configs/x.txt:4: scheduler.t_max: 0 is out of range; expected an integer >= 1"),
        // cosine_restarts
        ("scheduler: {name: cosine_restarts, t_0: 0}\n",
         "configs/x.txt:1: scheduler.t_0: 0 is out of range; expected an integer >= 1"),
        ("scheduler: {name: cosine_restarts, t_0: 1, t_mult: 0}\n",
         "configs/x.txt:1: scheduler.t_mult: 0 is out of range; expected an integer >= 1"),
        // linear
        ("scheduler: {name: linear, start_factor: 0}\n",
         "configs/x.txt:1: scheduler.start_factor: 0 is out of range; expected a number > 0 and <= 1"),
        ("scheduler: {name: linear, end_factor: 1.5}\n",
         "configs/x.txt:1: scheduler.end_factor: 1.5 is out of range; expected a number >= 0 and <= 1"),
        ("scheduler: {name: linear, total_iters: 0}\n",
         "configs/x.txt:1: scheduler.total_iters: 0 is out of range; expected an integer >= 1"),
        // one_cycle
        ("scheduler: {name: one_cycle, max_lr: 0}\n",
         "configs/x.txt:1: scheduler.max_lr: 0 is out of range; expected a number > 0"),
        ("scheduler: {name: one_cycle, pct_start: 1}\n",
         "configs/x.txt:1: scheduler.pct_start: 1 is out of range; expected a number > 0 and < 1"),
        ("scheduler: {name: one_cycle, div_factor: 0}\n",
         "configs/x.txt:1: scheduler.div_factor: 0 is out of range; expected a number > 0"),
        ("scheduler: {name: one_cycle, final_div_factor: -2}\n",
         "configs/x.txt:1: scheduler.final_div_factor: -2 is out of range; expected a number > 0"),
        ("scheduler: {name: one_cycle, max_momentum: 1}\n",
         "configs/x.txt:1: scheduler.max_momentum: 1 is out of range; expected a number >= 0 and < 1"),
        // cyclic (base_lr 0 and step_size_down 0, which the engine takes, are refused too: PyTorch's
        // keys are given as the config's, > 0 and >= 1)
        ("scheduler: {name: cyclic, base_lr: -1, max_lr: 0.1}\n",
         "configs/x.txt:1: scheduler.base_lr: -1 is out of range; expected a number > 0"),
        ("scheduler: {name: cyclic, base_lr: 0.01, max_lr: 0}\n",
         "configs/x.txt:1: scheduler.max_lr: 0 is out of range; expected a number > 0"),
        ("scheduler: {name: cyclic, step_size_up: 0}\n",
         "configs/x.txt:1: scheduler.step_size_up: 0 is out of range; expected an integer >= 1"),
        ("scheduler: {name: cyclic, step_size_down: -1}\n",
         "configs/x.txt:1: scheduler.step_size_down: -1 is out of range; expected an integer >= 1"),
        ("scheduler: {name: cyclic, mode: exp_range, gamma: 0}\n",
         "configs/x.txt:1: scheduler.gamma: 0 is out of range; expected a number > 0"),
        ("scheduler: {name: cyclic, base_momentum: -0.1}\n",
         "configs/x.txt:1: scheduler.base_momentum: -0.1 is out of range; expected a number >= 0 and < 1"),
        // warm-up
        ("scheduler: {warmup_steps: -1}\n",
         "configs/x.txt:1: scheduler.warmup_steps: -1 is out of range; expected an integer >= 0"),
        ("scheduler: {warmup_epochs: -2}\n",
         "configs/x.txt:1: scheduler.warmup_epochs: -2 is out of range; expected an integer >= 0"),
        // constant, polynomial
        ("scheduler: {name: constant, factor: 0}\n",
         "configs/x.txt:1: scheduler.factor: 0 is out of range; expected a number > 0 and <= 1"),
        ("scheduler: {name: constant, factor: 1.5}\n",
         "configs/x.txt:1: scheduler.factor: 1.5 is out of range; expected a number > 0 and <= 1"),
        ("scheduler: {name: constant, total_iters: 0}\n",
         "configs/x.txt:1: scheduler.total_iters: 0 is out of range; expected an integer >= 1"),
        ("scheduler: {name: polynomial, power: 0}\n",
         "configs/x.txt:1: scheduler.power: 0 is out of range; expected a number > 0"),
        ("scheduler:\n  name: polynomial\n  factor: 0.5\n",
         "configs/x.txt:3: scheduler.factor: applies only to constant, reduce_on_plateau, not polynomial, "
         + "which uses total_iters, power"),
        ("scheduler:\n  name: step\n  step_size: 2\n  power: 2\n",
         "configs/x.txt:4: scheduler.power: applies only to polynomial, not step, which uses step_size, gamma"),
        // reduce_on_plateau
        ("scheduler: {name: reduce_on_plateau, factor: 1}\n",
         "configs/x.txt:1: scheduler.factor: 1 is out of range; expected a number > 0 and < 1"),
        ("scheduler: {name: reduce_on_plateau, patience: -1}\n",
         "configs/x.txt:1: scheduler.patience: -1 is out of range; expected an integer >= 0"),
        ("scheduler: {name: reduce_on_plateau, threshold: -1, threshold_mode: abs}\n",
         "configs/x.txt:1: scheduler.threshold: -1 is out of range; expected a number >= 0"),
        ("scheduler: {name: reduce_on_plateau, cooldown: -1}\n",
         "configs/x.txt:1: scheduler.cooldown: -1 is out of range; expected an integer >= 0"),
        ("scheduler: {name: reduce_on_plateau, min_lr: -1}\n",
         "configs/x.txt:1: scheduler.min_lr: -1 is out of range; expected a number >= 0"),
    ])
    func badValuesAreRefusedWithTheirLine(yaml: String, message: String) {
        #expect(Self.scheduleError(yaml) == message)
    }

    /// ReduceLROnPlateau's `eps` (the smallest cut made) is not a config key: every run takes PyTorch's 1e-8.
    @Test func thePlateauEpsIsNoKey() {
        let message = Self.scheduleError("scheduler: {name: reduce_on_plateau, eps: -1}\n")
        #expect(message?.hasPrefix("configs/x.txt:1: unknown key 'eps' in section 'scheduler'; expected one of: ") == true)
    }

    @Test func aRelativeThresholdBelowOneAndAnAbsoluteOneOfAnySizePass() {
        #expect(Self.scheduleError("scheduler: {name: reduce_on_plateau, threshold: 0.99}\n") == nil)
        #expect(Self.scheduleError("scheduler: {name: reduce_on_plateau, threshold: 1, threshold_mode: abs}\n") == nil)
        // A relative threshold of 1 or more is taken, as by torch.optim.lr_scheduler.ReduceLROnPlateau.
        #expect(Self.scheduleError("scheduler: {name: reduce_on_plateau, threshold: 1}\n") == nil)
    }

    // MARK: The checks that need the data

    @Test func aWarmUpFillingAllOfTrainingLeavesOneCycleNoSteps() {
        #expect(Self.scheduleError("training: {epochs: 3}\nscheduler:\n  name: one_cycle\n  warmup_epochs: 3\n") ==
            "configs/x.txt:4: scheduler.warmup_epochs: the warm-up's 30 steps fill all 30 steps of training "
                + "(3 epochs × 10 batches), leaving one_cycle none; expected a warm-up shorter than training")
        #expect(Self.scheduleError("training: {epochs: 3}\nscheduler:\n  name: one_cycle\n  warmup_steps: 31\n") ==
            "configs/x.txt:4: scheduler.warmup_steps: the warm-up's 31 steps fill all 30 steps of training "
                + "(3 epochs × 10 batches), leaving one_cycle none; expected a warm-up shorter than training")
        #expect(Self.scheduleError("training: {epochs: 3}\nscheduler: {name: one_cycle, warmup_steps: 29}\n") == nil)
    }

    @Test func aRisingPhaseOfNoLengthIsRefused() {
        // 2 epochs of 5 batches: pct_start 0.1 × 10 steps = 1.
        #expect(Self.scheduleError("training: {epochs: 2}\nscheduler:\n  name: one_cycle\n  pct_start: 0.1\n", stepsPerEpoch: 5)
            == "configs/x.txt:4: scheduler.pct_start: 0.1 × 10 steps is exactly 1, a rising phase of no length "
                + "(PyTorch divides by zero); expected a pct_start with pct_start × total steps ≠ 1")
        #expect(Self.scheduleError("training: {epochs: 2}\nscheduler: {name: one_cycle, pct_start: 0.1}\n", stepsPerEpoch: 6)
            == nil)
    }

    @Test func anOverrideIsNamedAsTheArgument() {
        let yaml = "training: {epochs: 1}\nscheduler: {name: one_cycle}\n"
        #expect(Self.scheduleError(yaml, overrides: ["scheduler.warmup_steps=10"])
            == "--set scheduler.warmup_steps=10: scheduler.warmup_steps: the warm-up's 10 steps fill all 10 steps of training "
                + "(1 epochs × 10 batches), leaving one_cycle none; expected a warm-up shorter than training")
    }

    /// A configuration made in code, whose keys were given nowhere, is refused naming the file alone.
    @Test func aKeyGivenNowhereIsPlacedAtTheFile() throws {
        var configuration = Configuration()
        configuration.scheduler.name = .oneCycle
        configuration.scheduler.warmupEpochs = configuration.training.epochs
        let error = try #require(throws: NNTrainError.self) {
            try configuration.checkScheduleFitsTheData(stepsPerEpoch: 2, file: Self.file)
        }
        #expect(error.message == "configs/x.txt: scheduler.warmup_epochs: the warm-up's 30 steps fill all 30 steps of training "
            + "(15 epochs × 2 batches), leaving one_cycle none; expected a warm-up shorter than training")
    }

    /// A run checks its schedule once the data is loaded, before writing config.yaml.
    @Test func aRunRefusesTheScheduleWithTheConfigsLineBeforeWritingAFile() throws {
        let folder = try TemporaryFolder()
        _ = try BonusData.write(rows: 200, seed: 3, to: folder.file("bonus.csv"))
        // One batch an epoch: one_cycle spans 4 steps, and 0.25 × 4 = 1.
        let config = try folder.write("""
            data: {dataset: bonus, path: \(folder.file("bonus.csv"))}
            loss: mse
            training: {epochs: 4, batch_size: full}
            scheduler:
              name: one_cycle
              pct_start: 0.25
            """, to: "config.txt")
        let run = folder.file("run")
        do {
            _ = try TrainingRun.execute(configPath: config, overrides: ["output.dir=\(run)"])
            Issue.record("the run started")
        } catch {
            #expect(error.kind == .config)
            #expect(error.message == "\(config):6: scheduler.pct_start: 0.25 × 4 steps is exactly 1, "
                + "a rising phase of no length (PyTorch divides by zero); "
                + "expected a pct_start with pct_start × total steps ≠ 1")
        }
        #expect(!FileManager.default.fileExists(atPath: run + "/config.yaml"))
    }
}
