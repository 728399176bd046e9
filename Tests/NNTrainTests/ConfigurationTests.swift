import Foundation
import Testing
@testable import NNTrain

/// Reading, validating and writing back the YAML config (`Configuration.parse`, `load`,
/// `resolvedYAML`), grouped in the nested suites below.
@Suite struct ConfigurationTests {}

/// The config file name every test's messages use.
private let file = "configs/x.txt"

/// The message of the config error that parsing `yaml` (with `overrides`) throws, or nil if it parses.
private func configError(_ yaml: String, overrides: [String] = []) -> String? {
    do {
        _ = try Configuration.parse(yaml: yaml, source: file, overrides: overrides)
        return nil
    } catch {
        #expect(error.kind == .config)
        #expect(error.exitStatus == 78)
        return error.message
    }
}

/// The README's first example config: a key of each section, with the default values written out.
private let fullExample = """
    seed: 42
    data:
      dataset: fashion-mnist
      path: data/fashion-mnist
      validation_split: 0.1
      test_split: 0.2
      normalize: scale
    model:
      hidden: [256, 128]
      activation: relu
    loss: cross_entropy
    optimizer:
      name: adam
      lr: 0.001
      betas: [0.9, 0.999]
      eps: 1e-8
      weight_decay: 0
    training:
      epochs: 15
      batch_size: 128
    output:
      dir: runs/fashion-mnist

    """

extension ConfigurationTests {
    /// Reading values and defaults.
    @Suite struct Parsing {
        @Test func fullExampleReadsEveryValue() throws {
            let configuration = try Configuration.parse(yaml: fullExample, source: file)
            #expect(configuration.seed == 42)
            #expect(configuration.data.dataset == .fashionMNIST)
            #expect(configuration.data.path == "data/fashion-mnist")
            #expect(configuration.data.validationSplit == 0.1)
            #expect(configuration.data.testSplit == 0.2)
            #expect(configuration.data.normalize == .scale)
            #expect(configuration.model.hidden == [256, 128])
            #expect(configuration.model.activation == .relu)
            #expect(configuration.loss == .crossEntropy)
            #expect(configuration.optimizer.name == .adam)
            #expect(configuration.optimizer.lr == 0.001)
            #expect(configuration.optimizer.betas == [0.9, 0.999])
            #expect(configuration.optimizer.eps == 1e-8)
            #expect(configuration.optimizer.weightDecay == 0)
            #expect(configuration.training.epochs == 15)
            #expect(configuration.training.batchSize == .rows(128))
            #expect(configuration.output.dir == "runs/fashion-mnist")
        }

        @Test func nonDefaultValuesAreRead() throws {
            let configuration = try Configuration.parse(yaml: """
                seed: 7
                data: {dataset: bonus, path: "my data.csv", validation_split: 0, test_split: 0.25, normalize: standardize}
                model:
                  hidden: []
                  activation: leaky_relu
                loss: mse
                optimizer:
                  name: sgd
                  lr: 1e-3
                  momentum: 0.9
                  weight_decay: 5e-4
                training: {epochs: 1, batch_size: 32}
                """, source: file)
            var expected = Configuration()
            expected.seed = 7
            expected.data.dataset = .bonus
            expected.data.path = "my data.csv"
            expected.data.validationSplit = 0
            expected.data.testSplit = 0.25
            expected.data.normalize = .standardize
            expected.data.standardizeTarget = false  // bonus's regression target, raw unless the key says otherwise
            expected.model.hidden = []
            expected.model.activation = .leakyRelu
            expected.loss = .mse
            expected.optimizer.name = .sgd
            expected.optimizer.lr = 0.001
            expected.optimizer.momentum = 0.9
            expected.optimizer.weightDecay = 0.0005
            expected.training.epochs = 1
            expected.training.batchSize = .rows(32)
            #expect(configuration == expected)
        }

        @Test func missingKeysAndEmptySectionsTakeTheDefaults() throws {
            let configuration = try Configuration.parse(yaml: "training:\n  epochs: 15\nmodel:\n", source: file)
            #expect(configuration == Configuration())
            #expect(configuration.data.path == "data/fashion-mnist")
            #expect(configuration.output.dir == nil)
        }

        @Test func bonusDatasetDefaultsToItsCSVPath() throws {
            let defaultPath = try Configuration.parse(yaml: "data:\n  dataset: bonus\nloss: mse\n", source: file)
            #expect(defaultPath.data.path == "data/bonus.csv")
            let givenPath = try Configuration.parse(yaml: "data:\n  dataset: bonus\n  path: other.csv\nloss: mse\n", source: file)
            #expect(givenPath.data.path == "other.csv")
        }

        @Test func everyConditionNamesAChoiceKeyWithThoseChoices() throws {
            let conditions = Configuration.keys.valueEntries.compactMap(\.key.condition)
            #expect(Set(conditions.map(\.keyPath)) == [
                "data.dataset", "model.activation", "model.init", "loss", "optimizer.name", "scheduler.name",
                "training.precision", "pruning.method", "pruning.schedule", "distillation.teacher", "ema.enabled",
                "swa.start_epoch", "data.folds", "logging.tensorboard", "model.residual", "model.init_from",
            ])
            for condition in conditions {
                for choice in condition.choices ?? [] {
                    // Setting the deciding key to each choice must make the condition hold (a
                    // regression loss needs the regression dataset; a few schedules a required key).
                    var overrides = ["\(condition.keyPath)=\(choice)"]
                    if condition.keyPath == "loss", choice != "cross_entropy" { overrides.append("data.dataset=bonus") }
                    if condition.keyPath == "data.dataset", choice == "csv" { overrides.append("data.target=y") }
                    let required = ["step": "step_size=2", "multistep": "milestones=[2]", "exponential": "gamma=0.9",
                                    "cosine_restarts": "t_0=2"]
                    if condition.keyPath == "scheduler.name", let key = required[choice] { overrides.append("scheduler.\(key)") }
                    if condition.keyPath == "data.dataset", choice == "idx" { overrides.append("data.path=set") }
                    if condition.keyPath == "pruning.schedule" { overrides.append("pruning.method=neurons") }
                    if condition.keyPath == "optimizer.name", choice == "lbfgs" { overrides.append("training.batch_size=full") }
                    let configuration = try Configuration.parse(yaml: "seed: 1\n", source: file, overrides: overrides)
                    #expect(condition.holds(in: configuration))
                }
            }
        }

        @Test func integersAreDecimalAndNumbersTakeExponents() throws {
            let configuration = try Configuration.parse(
                yaml: "seed: 015\noptimizer:\n  lr: 3E-4\n  weight_decay: 1\n", source: file)
            #expect(configuration.seed == 15)  // not YAML 1.1's octal 13
            #expect(configuration.optimizer.lr == 0.0003)
            #expect(configuration.optimizer.weightDecay == 1)
        }
    }
}

extension ConfigurationTests {
    /// Every problem is one exact line naming file, line and key.
    @Suite struct Errors {
        @Test func unknownTopLevelKeySuggestsTheNearestKey() {
            #expect(configError("seed: 1\ndata: {}\noptimiser:\n  lr: 0.1\n") ==
                "configs/x.txt:3: unknown key 'optimiser' at top level; expected one of: seed, data, model, loss, "
                + "huber_delta, loss_weights, regularization, optimizer, scheduler, training, early_stopping, "
                + "checkpoint, logging, "
                + "pruning, distillation, ema, swa, output "
                + "(did you mean 'optimizer'?)")
        }

        @Test func unknownKeyInSectionSuggestsTheNearestKey() {
            #expect(configError("data:\n  datset: bonus\n") ==
                "configs/x.txt:2: unknown key 'datset' in section 'data'; expected one of: dataset, path, target, task, "
                + "features, drop, categorical, missing_values, missing, validation_split, folds, fold, test_split, test_path, "
                + "standardize_target, normalize, class_names, files, sampler, augment (did you mean 'dataset'?)")
        }

        @Test func unknownKeyOfAnotherSectionSaysWhereItBelongs() {
            #expect(configError("seed: 1\nlr: 0.1\n") ==
                "configs/x.txt:2: unknown key 'lr' at top level; expected one of: seed, data, model, loss, "
                + "huber_delta, loss_weights, regularization, optimizer, scheduler, training, early_stopping, "
                + "checkpoint, logging, "
                + "pruning, distillation, ema, swa, output "
                + "('lr' belongs in section 'optimizer')")
            #expect(configError("model:\n  loss: mse\n") ==
                "configs/x.txt:2: unknown key 'loss' in section 'model'; expected one of: hidden, activation, leaky_slope, "
                + "elu_alpha, softplus_beta, softplus_threshold, prelu_init, init, init_range, init_std, bias_init, dropout, "
                + "norm, batch_norm, residual, residual_projection, init_from, init_layers, init_normalizer "
                + "('loss' belongs at top level)")
        }

        @Test func unknownKeyFarFromEveryKeyHasNoSuggestion() {
            #expect(configError("colour: red\n") ==
                "configs/x.txt:1: unknown key 'colour' at top level; expected one of: seed, data, model, loss, "
                + "huber_delta, loss_weights, regularization, optimizer, scheduler, training, early_stopping, "
                + "checkpoint, logging, "
                + "pruning, distillation, ema, swa, output")
        }

        @Test func textWhereAnIntegerBelongs() {
            let yaml = "seed: 1\n\n\n\n\n\n\ntraining:\n  epochs: ten\n"
            #expect(configError(yaml) == "configs/x.txt:9: training.epochs: 'ten' is not an integer; expected an integer >= 1")
        }

        @Test func fractionWhereAnIntegerBelongs() {
            #expect(configError("training:\n  epochs: 15.5\n") ==
                "configs/x.txt:2: training.epochs: '15.5' is not an integer; expected an integer >= 1")
        }

        @Test func integerTooLargeIsOutOfRange() {
            #expect(configError("seed: 99999999999999999999999\n") ==
                "configs/x.txt:1: seed: 99999999999999999999999 is out of range; expected an integer >= 0")
            #expect(configError("seed: -1\n") == "configs/x.txt:1: seed: -1 is out of range; expected an integer >= 0")
        }

        @Test func listWhereANumberBelongs() {
            #expect(configError("optimizer:\n  lr: [0.1, 0.2]\n") ==
                "configs/x.txt:2: optimizer.lr: expected a number > 0, not a list")
        }

        @Test func mappingWhereANumberBelongs() {
            #expect(configError("optimizer:\n  lr:\n    value: 0.1\n") ==
                "configs/x.txt:2: optimizer.lr: expected a number > 0, not a mapping")
        }

        @Test func emptyValue() {
            #expect(configError("training:\n  epochs:\n") == "configs/x.txt:2: training.epochs: has no value (null), but it "
                + "cannot be unset: it always holds a value, 15 by default; expected an integer >= 1")
        }

        @Test func singleValueWhereAListBelongs() {
            #expect(configError("seed: 1\ndata: {}\nloss: cross_entropy\nmodel:\n  hidden: 256\n") ==
                "configs/x.txt:5: model.hidden: expected a list of integers >= 1, like [256, 128]")
        }

        @Test func singleValueWhereASectionBelongs() {
            #expect(configError("training: 5\n") ==
                "configs/x.txt:1: training: expected a section "
                + "(a mapping with some of: epochs, batch_size, accumulate_steps, precision, loss_scale, clip, freeze, "
                + "freeze_epochs, max_seconds)")
            #expect(configError("training: [5]\n") ==
                "configs/x.txt:1: training: expected a section "
                + "(a mapping with some of: epochs, batch_size, accumulate_steps, precision, loss_scale, clip, freeze, "
                + "freeze_epochs, max_seconds), "
                + "not a list")
        }

        @Test func badListElementIsNamedWithItsLine() {
            #expect(configError("model:\n  hidden:\n    - 64\n    - 0\n") ==
                "configs/x.txt:4: model.hidden[1]: 0 is out of range; expected an integer >= 1")
        }

        @Test func negativeLearningRate() {
            let yaml = "seed: 1\ndata: {}\nmodel: {}\nloss: cross_entropy\noptimizer:\n  name: adam\n  lr: -0.1\n"
            #expect(configError(yaml) == "configs/x.txt:7: optimizer.lr: -0.1 is out of range; expected a number > 0")
        }

        @Test func betaOfOneIsOutOfRange() {
            #expect(configError("optimizer:\n  betas: [0.9, 1.0]\n") ==
                "configs/x.txt:2: optimizer.betas[1]: 1.0 is out of range; expected a number >= 0 and < 1")
        }

        @Test func betasNeedExactlyTwoNumbers() {
            #expect(configError("optimizer:\n  betas: [0.9]\n") ==
                "configs/x.txt:2: optimizer.betas: has 1 entries; "
                + "expected a list of exactly 2 numbers >= 0 and < 1, like [0.9, 0.999]")
        }

        @Test func zeroEpochsIsOutOfRange() {
            #expect(configError("training:\n  epochs: 0\n") ==
                "configs/x.txt:2: training.epochs: 0 is out of range; expected an integer >= 1")
        }

        @Test func validationSplitOfOneIsOutOfRange() {
            #expect(configError("data:\n  validation_split: 1\n") ==
                "configs/x.txt:2: data.validation_split: 1 is out of range; expected a number >= 0 and < 1")
        }

        @Test func notANumberAndInfinityAreRefused() {
            #expect(configError("optimizer:\n  lr: .nan\n") ==
                "configs/x.txt:2: optimizer.lr: '.nan' is not a finite number; expected a number > 0")
            #expect(configError("optimizer:\n  eps: .inf\n") ==
                "configs/x.txt:2: optimizer.eps: '.inf' is not a finite number; expected a number >= 0")
            #expect(configError("optimizer:\n  lr: fast\n") ==
                "configs/x.txt:2: optimizer.lr: 'fast' is not a number; expected a number > 0")
        }

        @Test func valueNotAmongTheChoices() {
            #expect(configError("seed: 1\nmodel:\n  hidden: [8]\n  activation: relu6\n") ==
                "configs/x.txt:4: model.activation: 'relu6' is not one of: relu, leaky_relu, gelu, silu, tanh, sigmoid, elu, "
                + "selu, mish, "
                + "softplus, hardswish, prelu")
        }

        @Test func emptyPathIsRefused() {
            #expect(configError("output:\n  dir: ''\n") == "configs/x.txt:2: output.dir: is empty; expected a path")
        }

        @Test func duplicateKeyNamesBothLines() {
            let yaml = "seed: 1\ndata: {}\nmodel: {}\nloss: mse\noptimizer:\n  lr: 0.1\n  eps: 0\n  lr: 0.2\n"
            #expect(configError(yaml) == "configs/x.txt:8: duplicate key 'lr' (first at line 6)")
        }

        @Test func earliestDuplicateInTheDocumentIsReported() {
            // Yams reports the inner mapping's duplicate (it ends first) and sorts names; nntrain goes by lines.
            #expect(configError("seed: 1\nseed: 2\noptimizer: {lr: 1, lr: 2}\n") ==
                "configs/x.txt:2: duplicate key 'seed' (first at line 1)")
            #expect(configError("loss: mse\nseed: 1\nseed: 2\nloss: mse\n") ==
                "configs/x.txt:3: duplicate key 'seed' (first at line 2)")
        }

        @Test func duplicateKeyTwiceOverNamesTheFirstTwoCopies() {
            #expect(configError("seed: 1\nseed: 2\nloss: mse\nseed: 3\n")
                == "configs/x.txt:2: duplicate key 'seed' (first at line 1)")
            #expect(configError("optimizer: {lr: 1,\n  lr: 2}\n") == "configs/x.txt:2: duplicate key 'lr' (first at line 1)")
        }

        @Test func tabIndentationIsNamed() {
            #expect(configError("training:\n\tepochs: 3\n") ==
                "configs/x.txt:2: invalid YAML: this line is indented with a tab; "
                + "expected spaces (YAML forbids tabs in indentation)")
            #expect(configError("training:\n  epochs: 3\n\tbatch_size: 4\n") ==
                "configs/x.txt:3: invalid YAML: this line is indented with a tab; "
                + "expected spaces (YAML forbids tabs in indentation)")
        }

        @Test func invalidYAMLIsOneLine() {
            #expect(configError("model:\n  hidden: [1, 2\n") ==
                "configs/x.txt:3: invalid YAML: while parsing a flow sequence at line 2: did not find expected ',' or ']'")
            #expect(configError("seed: 1: 2\n")
                == "configs/x.txt:1: invalid YAML: mapping values are not allowed in this context")
        }

        @Test func emptyConfigIsRefused() {
            let expected = "configs/x.txt: the config is empty; "
                + "expected a YAML mapping with sections like data:, model:, optimizer:, training:"
            #expect(configError("") == expected)
            #expect(configError("# nothing yet\n\n") == expected)
        }

        @Test func topLevelListIsRefused() {
            #expect(configError("\n- seed: 1\n- data: {}\n") ==
                "configs/x.txt:2: the config is a list; "
                + "expected a YAML mapping with sections like data:, model:, optimizer:, training:")
        }

        @Test func crossEntropyDoesNotFitTheRegressionDataset() throws {
            #expect(configError("data:\n  dataset: bonus\nloss: cross_entropy\n") ==
                "configs/x.txt:3: loss: cross_entropy does not fit bonus, a regression dataset; expected mse or mae or huber")
            // Without a loss key, the loss is the task's usual one.
            #expect(try Configuration.parse(yaml: "data:\n  dataset: bonus\n", source: "x").loss == .mse)
            #expect(try Configuration.parse(yaml: "seed: 1\n", source: "x").loss == .crossEntropy)
        }

        @Test func mseDoesNotFitTheClassificationDataset() {
            #expect(configError("loss: mse\n") ==
                "configs/x.txt:1: loss: mse does not fit fashion-mnist (the default dataset), a classification dataset; "
                + "expected cross_entropy")
        }

        @Test func momentumWithAdamIsRefused() {
            #expect(configError("optimizer:\n  lr: 0.1\n  momentum: 0.9\n") ==
                "configs/x.txt:3: optimizer.momentum: applies only to sgd, rmsprop, not adam (the default), "
                + "which uses betas, eps, weight_decay, amsgrad")
        }

        /// The activations' own parameters, each applying only to its activation, with torch's defaults.
        @Test func activationParametersApplyToTheirActivationOnly() throws {
            #expect(configError("model:\n  activation: relu\n  elu_alpha: 0.5\n") ==
                "configs/x.txt:3: model.elu_alpha: applies only to elu, not relu")
            #expect(configError("model:\n  activation: elu\n  softplus_beta: 2\n") ==
                "configs/x.txt:3: model.softplus_beta: applies only to softplus, not elu, which uses elu_alpha")
            #expect(configError("model:\n  activation: softplus\n  softplus_threshold: 0\n") ==
                "configs/x.txt:3: model.softplus_threshold: 0 is out of range; expected a number > 0")
            let softplus = try Configuration.parse(yaml: "model: {activation: softplus, softplus_beta: 2}", source: file)
            #expect(softplus.model.activationFunction == .softplus(beta: 2, threshold: 20))
            let elu = try Configuration.parse(yaml: "model: {activation: elu}", source: file)
            #expect(elu.model.activationFunction == .elu(alpha: 1))
            #expect(configError("model:\n  activation: elu\n  prelu_init: 0.1\n") ==
                "configs/x.txt:3: model.prelu_init: applies only to prelu, not elu, which uses elu_alpha")
            let prelu = try Configuration.parse(yaml: "model: {activation: prelu}", source: file)
            #expect(prelu.model.activationFunction == .prelu(initial: 0.25))  // nn.PReLU's init
            let negative = try Configuration.parse(yaml: "model: {activation: prelu, prelu_init: -0.5}", source: file)
            #expect(negative.model.activationFunction == .prelu(initial: -0.5))  // torch takes any init
        }

        @Test func betasWithSGDAreRefused() {
            #expect(configError("optimizer:\n  name: sgd\n  betas: [0.9, 0.99]\n") ==
                "configs/x.txt:3: optimizer.betas: applies only to adam, adamw, nadam, adamax, radam, not sgd, "
                + "which uses momentum, dampening, nesterov, weight_decay")
        }

        /// one_cycle cycles β1 of adamax and radam, as OneCycleLR cycles betas[0]; adadelta and rprop have
        /// neither momentum nor betas (asgd's refusal is among the rules between keys).
        @Test func oneCycleCyclesTheBetasOfAdamaxAndRAdamAndRefusesAdadeltaAndRprop() throws {
            for name in ["adamax", "radam"] {
                let yaml = "optimizer: {name: \(name)}\nscheduler: {name: one_cycle}\n"
                let config = try Configuration.parse(yaml: yaml, source: "x")
                #expect(config.optimizer.name.hasMomentum && config.scheduler.cycleMomentum)
            }
            for name in ["adadelta", "rprop"] {
                #expect(configError("optimizer:\n  name: \(name)\nscheduler: {name: one_cycle}\n") ==
                    "configs/x.txt:2: optimizer.name: \(name) has no momentum for scheduler one_cycle to cycle; "
                    + "expected scheduler.cycle_momentum: false or another optimizer")
            }
        }

        /// Rprop's etas as torch checks them, its step sizes in order, rmsprop's α below 1 (asgd's α,
        /// a power, may be larger), and no weight decay for rprop, which has none.
        @Test func rpropsEtasAndStepSizesAndRMSpropsAlphaAreChecked() throws {
            #expect(configError("optimizer:\n  name: rprop\n  etas: [1.2, 0.5]\n") ==
                "configs/x.txt:3: optimizer.etas: [1.2, 0.5] is not 0 < etaminus < 1 < etaplus (as torch.optim.Rprop); "
                + "expected e.g. [0.5, 1.2]")
            #expect(configError("optimizer:\n  name: rprop\n  step_sizes: [1, 0.1]\n") ==
                "configs/x.txt:3: optimizer.step_sizes: the least step size 1.0 is above the greatest 0.1; "
                + "expected [min, max], e.g. [1e-06, 50]")
            #expect(configError("optimizer:\n  name: rmsprop\n  alpha: 1.5\n") ==
                "configs/x.txt:3: optimizer.alpha: 1.5 is not a smoothing constant; expected a number >= 0 and < 1 for rmsprop")
            #expect(configError("optimizer:\n  name: rprop\n  weight_decay: 0.1\n")?.hasPrefix(
                "configs/x.txt:3: optimizer.weight_decay: applies only to sgd, adam, adamw, rmsprop, adagrad, nadam, adadelta, "
                + "adamax, radam, asgd, not rprop") == true)
            let asgd = try Configuration.parse(yaml: "optimizer:\n  name: asgd\n  alpha: 1.5\n", source: "x").optimizer
            #expect(asgd.alpha == 1.5 && asgd.lr == 1e-2)
            #expect(try Configuration.parse(yaml: "optimizer:\n  name: asgd\n", source: "x").optimizer.alpha == 0.75)
            #expect(try Configuration.parse(yaml: "optimizer:\n  name: adadelta\n", source: "x").optimizer.lr == 1)
        }

        /// lbfgs needs the full batch and one objective per step: other batch sizes, accumulation, loss
        /// scaling and L1 are refused at their key's line (or optimizer.name's when left at the default);
        /// weight_decay does not apply (torch's LBFGS has none); its keys and torch's defaults.
        @Test func lbfgsRefusesWhatBreaksItsLineSearch() throws {
            let lbfgs = "optimizer:\n  name: lbfgs\n"
            #expect(configError(lbfgs)?.hasPrefix("configs/x.txt:2: training.batch_size: lbfgs line-searches on the loss")
                == true)
            #expect(configError(lbfgs + "training:\n  batch_size: 32\n") ==
                "configs/x.txt:4: training.batch_size: lbfgs line-searches on the loss, which must be the same function "
                + "at every evaluation of a step, so it trains on the whole training split; expected training.batch_size: full")
            let full = lbfgs + "training:\n  batch_size: full\n"
            #expect(configError(full + "  accumulate_steps: 2\n")?.hasPrefix(
                "configs/x.txt:5: training.accumulate_steps: lbfgs evaluates the full batch several times") == true)
            #expect(configError(full + "  precision: fp16\n")?.hasPrefix(
                "configs/x.txt:2: training.loss_scale: torch's GradScaler does not support closure optimizers") == true)
            #expect(configError(full + "  precision: bf16\n  loss_scale: dynamic\n")?.hasPrefix(
                "configs/x.txt:6: training.loss_scale: torch's GradScaler") == true)
            #expect(configError("regularization:\n  l1: 0.001\n" + full)?.hasPrefix(
                "configs/x.txt:2: regularization.l1: lbfgs line-searches on the loss, which does not include the L1 term")
                == true)
            #expect(configError(full + "optimizer:\n  weight_decay: 0.1\n") != nil)
            #expect(configError("optimizer:\n  name: lbfgs\n  weight_decay: 0.1\ntraining:\n  batch_size: full\n")?
                .hasPrefix("configs/x.txt:3: optimizer.weight_decay: applies only to") == true)
            #expect(configError("optimizer:\n  name: adam\n  history_size: 5\n")?
                .hasPrefix("configs/x.txt:3: optimizer.history_size: applies only to lbfgs") == true)
            let bf16 = try Configuration.parse(yaml: full + "  precision: bf16\n  loss_scale: none\n", source: "x")
            #expect(bf16.training.precision == .bf16)
            let config = try Configuration.parse(yaml: "optimizer: {name: lbfgs, line_search_fn: strong_wolfe, max_iter: 8}\n"
                + "training: {batch_size: full}\n", source: "x").optimizer
            #expect(config.lr == 1 && config.maxIter == 8 && config.maxEval == nil && config.historySize == 100)
            #expect(config.toleranceGrad == 1e-7 && config.toleranceChange == 1e-9 && config.lineSearchFn == .strongWolfe)
            #expect((config.makeOptimizer(groups: [ParameterGroup(range: 0..<1, weightDecay: false)]) as? LBFGS)?.maxEval == 10)
        }

        @Test func distillationsTemperatureAndAlphaWithoutATeacherAreRefused() throws {
            #expect(configError("distillation:\n  temperature: 2\n") ==
                "configs/x.txt:2: distillation.temperature: applies only with distillation.teacher, which is not set")
            #expect(configError("seed: 1\n", overrides: ["distillation.alpha=0.5"]) ==
                "--set distillation.alpha=0.5: distillation.alpha: applies only with distillation.teacher, which is not set")
            let withTeacher = try Configuration.parse(
                yaml: "distillation:\n  teacher: t.bin\n  temperature: 2\n  alpha: 0.5\n", source: "x")
            #expect(withTeacher.distillation.temperature == 2 && withTeacher.distillation.alpha == 0.5)
            #expect(Configuration().resolvedYAML().contains(
                "distillation:\n  # temperature: 4.0 (applies only with distillation.teacher)\n"
                + "  # alpha: 0.9 (applies only with distillation.teacher)\n"))
        }

        @Test func errorsAreAlwaysOneLine() throws {
            let message = try #require(configError("optimizer:\n  lr: |\n    not\n    a number\n"))
            #expect(message == "configs/x.txt:2: optimizer.lr: 'not a number ' is not a number; expected a number > 0")
        }
    }
}

extension ConfigurationTests {
    /// `--set section.key=value` arguments, checked as if they were in the file.
    @Suite struct Overrides {
        @Test func overridesReplaceAndAddKeys() throws {
            let configuration = try Configuration.parse(
                yaml: "training:\n  epochs: 15\n",
                source: file,
                overrides: ["training.epochs=1", "optimizer.lr=3e-4", "model.hidden=[64,32]", "seed=7",
                            "data.dataset=bonus", "loss=mse"])
            #expect(configuration.training.epochs == 1)
            #expect(configuration.optimizer.lr == 0.0003)  // a section the file does not have
            #expect(configuration.model.hidden == [64, 32])
            #expect(configuration.seed == 7)
            #expect(configuration.data.dataset == .bonus)
            #expect(configuration.data.path == "data/bonus.csv")
        }

        @Test func overrideCannotHideASectionThatIsNotAMapping() {
            #expect(configError("training: 5\n", overrides: ["training.epochs=3"]) ==
                "configs/x.txt:1: training: expected a section "
                + "(a mapping with some of: epochs, batch_size, accumulate_steps, precision, loss_scale, clip, freeze, "
                + "freeze_epochs, max_seconds)")
        }

        @Test func laterOverrideWins() throws {
            let configuration = try Configuration.parse(
                yaml: "seed: 1\n", source: file, overrides: ["seed=2", "seed=3"])
            #expect(configuration.seed == 3)
        }

        @Test func overrideFixesWhatTheFileGotWrong() throws {
            let configuration = try Configuration.parse(
                yaml: "data:\n  dataset: bonus\n", source: file, overrides: ["loss=mse"])
            #expect(configuration.loss == .mse)
        }

        @Test func invalidOverrideValueNamesTheOverride() {
            #expect(configError("seed: 1\n", overrides: ["optimizer.lr=-1"]) ==
                "--set optimizer.lr=-1: optimizer.lr: -1 is out of range; expected a number > 0")
            #expect(configError("seed: 1\n", overrides: ["model.hidden=[64, x]"]) ==
                "--set model.hidden=[64, x]: model.hidden[1]: 'x' is not an integer; expected an integer >= 1")
            #expect(configError("seed: 1\n", overrides: ["training.epochs="]) ==
                "--set training.epochs=: training.epochs: has no value (null), but it cannot be unset: it always holds a "
                + "value, 15 by default; expected an integer >= 1")
        }

        @Test func overrideBreakingARuleBetweenKeysNamesTheOverride() {
            #expect(configError("seed: 1\n", overrides: ["optimizer.momentum=0.9"]) ==
                "--set optimizer.momentum=0.9: optimizer.momentum: applies only to sgd, rmsprop, not adam (the default), "
                + "which uses betas, eps, weight_decay, amsgrad")
        }

        @Test func unknownKeyInOverride() {
            #expect(configError("seed: 1\n", overrides: ["optimiser.lr=1"]) ==
                "--set optimiser.lr=1: unknown key 'optimiser' at top level; expected one of: seed, data, model, loss, "
                + "huber_delta, loss_weights, regularization, optimizer, scheduler, training, early_stopping, "
                + "checkpoint, logging, "
                + "pruning, distillation, ema, swa, output "
                + "(did you mean 'optimizer'?)")
            #expect(configError("seed: 1\n", overrides: ["training.epoch=1"]) ==
                "--set training.epoch=1: unknown key 'epoch' in section 'training'; "
                + "expected one of: epochs, batch_size, accumulate_steps, precision, loss_scale, clip, freeze, "
                + "freeze_epochs, max_seconds "
                + "(did you mean 'epochs'?)")
        }

        @Test func overrideMustNameAKeyThatHoldsAValue() {
            #expect(configError("seed: 1\n", overrides: ["training=1"]) ==
                "--set training=1: 'training' is a section; expected training.KEY=value with KEY one of: "
                + "epochs, batch_size, accumulate_steps, precision, loss_scale, clip, freeze, "
                + "freeze_epochs, max_seconds")
            #expect(configError("seed: 1\n", overrides: ["seed.value=1"]) ==
                "--set seed.value=1: 'seed' holds a value, not keys; expected seed=value")
        }

        @Test func malformedOverrides() {
            #expect(configError("seed: 1\n", overrides: ["training.epochs"]) ==
                "--set training.epochs: missing '='; expected section.key=value, like training.epochs=1")
            #expect(configError("seed: 1\n", overrides: ["=3"]) ==
                "--set =3: the key before '=' is empty; expected section.key=value, like training.epochs=1")
            #expect(configError("seed: 1\n", overrides: ["model.hidden=[64,"]) ==
                "--set model.hidden=[64,: invalid YAML: while parsing a flow node: did not find expected node content")
        }
    }
}

extension ConfigurationTests {
    /// The resolved YAML and the run directory.
    @Suite struct Output {
        @Test func resolvedYAMLOfTheDefaultsListsEveryKey() {
            #expect(Configuration().resolvedYAML() == """
                seed: 42
                data:
                  dataset: fashion-mnist
                  path: "data/fashion-mnist"
                  # task: auto (applies only to csv)
                  # drop: [] (applies only to csv)
                  # categorical: [] (applies only to csv)
                  # missing_values: ["", "NA", "NaN", "nan", "null", "?"] (applies only to csv)
                  # missing: refuse (applies only to csv)
                  validation_split: 0.1
                  test_split: 0.2
                  normalize: scale
                  files: {}
                  sampler: shuffle
                  augment:
                    hflip: false
                    shift: 0
                    erasing: 0.0
                    mixup: 0.0
                    rotation: 0.0
                    cutmix: 0.0
                    brightness: 0.0
                    contrast: 0.0
                    noise: 0.0
                model:
                  hidden: [256, 128]
                  activation: relu
                  # leaky_slope: 0.01 (applies only to leaky_relu)
                  # elu_alpha: 1.0 (applies only to elu)
                  # softplus_beta: 1.0 (applies only to softplus)
                  # softplus_threshold: 20.0 (applies only to softplus)
                  # prelu_init: 0.25 (applies only to prelu)
                  init: default
                  # init_range: [0.0, 1.0] (applies only to uniform)
                  # init_std: 1.0 (applies only to normal)
                  bias_init: default
                  dropout: 0.0
                  norm: none
                  residual: false
                  # residual_projection: linear (applies only with model.residual: true)
                  # init_layers: all (applies only with model.init_from)
                  # init_normalizer: false (applies only with model.init_from)
                loss: cross_entropy
                # huber_delta: 1.0 (applies only to huber)
                regularization:
                  l1: 0.0
                  label_smoothing: 0.0
                optimizer:
                  name: adam
                  lr: 0.001
                  # momentum: 0.0 (applies only to sgd, rmsprop)
                  # dampening: 0.0 (applies only to sgd)
                  # nesterov: false (applies only to sgd)
                  betas: [0.9, 0.999]
                  eps: 1e-08
                  weight_decay: 0.0
                  decay_batch_norm: false
                  amsgrad: false
                  # alpha: 0.99 (applies only to rmsprop, asgd)
                  # centered: false (applies only to rmsprop)
                  # lr_decay: 0.0 (applies only to adagrad)
                  # initial_accumulator_value: 0.0 (applies only to adagrad)
                  # momentum_decay: 0.004 (applies only to nadam)
                  # decoupled_weight_decay: false (applies only to nadam, radam)
                  # rho: 0.9 (applies only to adadelta)
                  # etas: [0.5, 1.2] (applies only to rprop)
                  # step_sizes: [1e-06, 50.0] (applies only to rprop)
                  # lambd: 0.0001 (applies only to asgd)
                  # t0: 1000000.0 (applies only to asgd)
                  # max_iter: 20 (applies only to lbfgs)
                  # tolerance_grad: 1e-07 (applies only to lbfgs)
                  # tolerance_change: 1e-09 (applies only to lbfgs)
                  # history_size: 100 (applies only to lbfgs)
                  # line_search_fn: none (applies only to lbfgs)
                scheduler:
                  name: constant
                  # milestones: [] (applies only to multistep)
                  # eta_min: 0.0 (applies only to cosine, cosine_restarts)
                  # t_mult: 1 (applies only to cosine_restarts)
                  # start_factor: 0.3333333333333333 (applies only to linear)
                  # end_factor: 1.0 (applies only to linear)
                  total_iters: 5
                  # power: 1.0 (applies only to polynomial)
                  # pct_start: 0.3 (applies only to one_cycle)
                  # div_factor: 25.0 (applies only to one_cycle)
                  # final_div_factor: 10000.0 (applies only to one_cycle)
                  # anneal_strategy: cos (applies only to one_cycle)
                  # three_phase: false (applies only to one_cycle)
                  # cycle_momentum: true (applies only to one_cycle, cyclic)
                  # step_size_up: 2000 (applies only to cyclic)
                  # patience: 10 (applies only to reduce_on_plateau)
                  # threshold: 0.0001 (applies only to reduce_on_plateau)
                  # threshold_mode: rel (applies only to reduce_on_plateau)
                  # cooldown: 0 (applies only to reduce_on_plateau)
                  # min_lr: 0.0 (applies only to reduce_on_plateau)
                  warmup_steps: 0
                  warmup_epochs: 0
                training:
                  epochs: 15
                  batch_size: 128
                  accumulate_steps: 1
                  precision: fp32
                  # loss_scale: none (applies only to fp16, bf16)
                  clip: {}
                early_stopping:
                  min_delta: 0.0
                  restore_best: false
                checkpoint:
                  every_n_epochs: 1
                  keep_last: 0
                  save_best: false
                logging:
                  every_n_steps: 0
                  # precision_stats: false (applies only to fp16, bf16)
                  tensorboard: false
                  # histograms: false (applies only with logging.tensorboard: true)
                  layer_stats: false
                pruning:
                  # scope: layer (applies only to magnitude)
                  # sparsity: 0.5 (applies only to magnitude, neurons)
                  # schedule: gradual (applies only to magnitude, neurons)
                  # start_epoch: 1 (applies only to magnitude, neurons)
                  # every_n_steps: 100 (applies only to magnitude, neurons)
                  # initial_sparsity: 0.0 (applies only to magnitude, neurons)
                  # include_output: false (applies only to magnitude)
                distillation:
                  # temperature: 4.0 (applies only with distillation.teacher)
                  # alpha: 0.9 (applies only with distillation.teacher)
                ema:
                  enabled: false
                  # decay: 0.999 (applies only with ema.enabled: true)
                  # every_n_steps: 1 (applies only with ema.enabled: true)
                  # evaluate: false (applies only with ema.enabled: true)
                swa:
                  # anneal_epochs: 10 (applies only with swa.start_epoch)
                  # anneal_strategy: cos (applies only with swa.start_epoch)
                  # evaluate: false (applies only with swa.start_epoch)
                output:
                  plots: true

                """)
        }

        @Test(arguments: [
            // adam, with every other key away from its default and text that needs quoting
            """
            seed: 18446744073709551615
            data: {dataset: bonus, path: "odd: name # \\"x\\"\\ttab", validation_split: 0.3, test_split: 0.1, normalize: none}
            model: {hidden: [], activation: gelu}
            loss: mse
            optimizer: {lr: 0.1234567890123, betas: [0.5, 0.75], eps: 1e-12, weight_decay: 0.01}
            training: {epochs: 3, batch_size: 7}
            output: {dir: "null"}
            """,
            // sgd, whose resolved YAML comments out adam's betas and eps
            """
            model: {hidden: [3, 2, 1], activation: sigmoid}
            optimizer: {name: sgd, lr: 0.3, momentum: 0.99}
            output: {dir: runs/x}
            """,
            // mixed precision with a fixed loss scale and its statistics
            """
            training: {precision: fp16, loss_scale: 1024, epochs: 2}
            logging: {precision_stats: true}
            """,
        ])
        func resolvedYAMLReadsBackEqual(yaml: String) throws {
            let original = try Configuration.parse(yaml: yaml, source: file)
            #expect(original != Configuration())
            let readBack = try Configuration.parse(yaml: original.resolvedYAML(), source: "resolved.yaml")
            #expect(readBack == original)
        }

        @Test func resolvedYAMLQuotesPathsThatNeedIt() throws {
            var configuration = Configuration()
            configuration.data.path = "odd: name # \"x\"\ttab\n"
            configuration.output.dir = "null"
            let yaml = configuration.resolvedYAML()
            #expect(yaml.contains("  path: \"odd: name # \\\"x\\\"\\u0009tab\\u000A\"\n"))
            #expect(yaml.hasSuffix("output:\n  dir: \"null\"\n  plots: true\n"))
            #expect(try Configuration.parse(yaml: yaml, source: "resolved.yaml") == configuration)
        }

        @Test func runDirectoryIsOutputDirOrNamedAfterTheConfigFile() {
            var configuration = Configuration()
            #expect(configuration.runDirectory(configPath: "configs/fashion.yaml") == "runs/fashion")
            #expect(configuration.runDirectory(configPath: "small.v2.yml") == "runs/small.v2")
            #expect(configuration.runDirectory(configPath: "configs/.hidden") == "runs/.hidden")
            configuration.output.dir = "elsewhere/run1"
            #expect(configuration.runDirectory(configPath: "configs/fashion.yaml") == "elsewhere/run1")
        }
    }
}

extension ConfigurationTests {
    /// Reading the config from disk.
    @Suite struct Files {
        /// A fresh empty folder for one test.
        private func temporaryFolder() throws -> URL {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-config-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return folder
        }

        @Test func loadReadsTheFileAndAppliesOverrides() throws {
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("small.yaml").path
            try Data("training:\n  epochs: 4\n".utf8).write(to: URL(fileURLWithPath: path))
            let configuration = try Configuration.load(path: path, overrides: ["training.batch_size=16"])
            #expect(configuration.training.epochs == 4)
            #expect(configuration.training.batchSize == .rows(16))
        }

        @Test func missingFile() {
            #expect(throws: NNTrainError.missingFile("no/such.yaml", expected: "a YAML config file")) {
                try Configuration.load(path: "no/such.yaml")
            }
        }

        @Test func fileThatIsNotUTF8() throws {
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("latin1.yaml").path
            // "loss: mse\nseed: é\n" in Latin-1: the é is byte 16, on line 2.
            try Data(Array("loss: mse\nseed: ".utf8) + [0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
            #expect(
                throws: NNTrainError.config(path, line: 2, "byte 16 (0xe9) is not UTF-8; expected a YAML config file in UTF-8")
            ) {
                try Configuration.load(path: path)
            }
        }

        @Test func folderInsteadOfAFile() throws {
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            #expect(throws: NNTrainError.config(folder.path, line: nil, "is a folder; expected a YAML config file")) {
                try Configuration.load(path: folder.path)
            }
        }
    }
}

extension ConfigurationTests {
    /// `training.precision`, `training.loss_scale` and `logging.precision_stats`.
    @Suite struct MixedPrecisionKeys {
        @Test func lossScalingDefaultsToDynamicForFP16AndNoneOtherwise() throws {
            #expect(try Configuration.parse(yaml: "training: {precision: fp16}\n", source: file).training.lossScale == .dynamic)
            #expect(try Configuration.parse(yaml: "training: {precision: bf16}\n", source: file).training.lossScale == .none)
            #expect(try Configuration.parse(yaml: "seed: 1\n", source: file).training.lossScale == .none)
        }

        @Test func lossScaleReadsDynamicNoneOrANumber() throws {
            func scaling(_ value: String) throws -> LossScaling {
                try Configuration.parse(yaml: "training: {precision: fp16, loss_scale: \(value)}\n", source: file)
                    .training.lossScale
            }
            #expect(try scaling("dynamic") == .dynamic)
            #expect(try scaling("none") == .none)
            #expect(try scaling("1024") == .fixed(1024))
            #expect(try scaling("0.5") == .fixed(0.5))
            #expect(try Configuration.parse(yaml: "training: {precision: bf16, loss_scale: dynamic}\n", source: file)
                .training.lossScale == .dynamic)
        }

        @Test func badLossScalesAreRefused() {
            #expect(configError("training:\n  precision: fp16\n  loss_scale: auto\n") ==
                "configs/x.txt:3: training.loss_scale: 'auto' is not dynamic, none or a number; "
                + "expected dynamic, none or a number from 1e-30 to 1e30")
            #expect(configError("training:\n  precision: fp16\n  loss_scale: 0\n") ==
                "configs/x.txt:3: training.loss_scale: 0 is out of range; expected dynamic, none or a number from 1e-30 to 1e30")
            #expect(configError("training:\n  precision: fp16\n  loss_scale: 1e31\n") ==
                "configs/x.txt:3: training.loss_scale: 1e31 is out of range; "
                + "expected dynamic, none or a number from 1e-30 to 1e30")
            #expect(configError("training:\n  precision: fp8\n") ==
                "configs/x.txt:2: training.precision: 'fp8' is not one of: fp32, fp16, bf16")
        }

        @Test func lossScaleAndPrecisionStatsAreRefusedInFP32() {
            #expect(configError("training:\n  loss_scale: dynamic\n") ==
                "configs/x.txt:2: training.loss_scale: applies only to fp16, bf16, not fp32 (the default)")
            #expect(configError("training: {precision: fp32}\nlogging:\n  precision_stats: true\n") ==
                "configs/x.txt:3: logging.precision_stats: applies only to fp16, bf16, not fp32")
            #expect(configError("seed: 1\n", overrides: ["training.loss_scale=none"]) ==
                "--set training.loss_scale=none: training.loss_scale: applies only to fp16, bf16, not fp32 (the default)")
        }

        @Test func theResolvedYAMLOfFP16WritesItsDefaultScaling() throws {
            let yaml = try Configuration.parse(yaml: "training: {precision: fp16}\n", source: file).resolvedYAML()
            #expect(yaml.contains("  precision: fp16\n  loss_scale: dynamic\n"))
            #expect(yaml.contains("  precision_stats: false\n"))
        }
    }
}

extension ConfigurationTests {
    /// The `early_stopping` section.
    @Suite struct EarlyStoppingKeys {
        @Test func patienceTurnsItOnWithMonitorAndModeFromTheData() throws {
            let off = try Configuration.parse(yaml: "seed: 1\n", source: "configs/x.txt")
            #expect(off.earlyStopping.patience == nil && off.earlyStopping.monitor == nil)
            let on = try Configuration.parse(yaml: "early_stopping: {patience: 3, restore_best: true}\n", source: "configs/x.txt")
            #expect(on.earlyStopping.monitor == .valLoss && on.earlyStopping.mode == .min)
            let accuracy = try Configuration.parse(yaml: "early_stopping: {patience: 3, monitor: val_acc}\n",
                                                   source: "configs/x.txt")
            #expect(accuracy.earlyStopping.mode == .max)
            let noValidation = try Configuration.parse(
                yaml: "data: {validation_split: 0}\nearly_stopping: {patience: 2}\n", source: "configs/x.txt")
            #expect(noValidation.earlyStopping.monitor == .trainLoss)
        }

        @Test func refusesAMonitorTheRunCannotComputeAndKeysWithoutPatience() {
            #expect(configError("data: {validation_split: 0}\nearly_stopping:\n  patience: 2\n  monitor: val_loss\n") ==
                "configs/x.txt:4: early_stopping.monitor: val_loss needs a validation split; "
                + "expected data.validation_split > 0 or monitor: train_loss")
            #expect(configError("data: {dataset: bonus}\nloss: mse\nearly_stopping: {patience: 2, monitor: val_acc}\n") ==
                "configs/x.txt:3: early_stopping.monitor: val_acc needs a classification dataset; "
                + "expected val_loss or train_loss for bonus")
            #expect(configError("early_stopping:\n  restore_best: true\n") ==
                "configs/x.txt:2: early_stopping.restore_best: early stopping is off without patience; "
                + "expected early_stopping.patience: N as well")
        }
    }
}

extension ConfigurationTests {
    @Suite struct CheckpointKeys {
        @Test func saveBestWatchesValidationLossByDefaultInItsDirection() throws {
            let defaults = try Configuration.parse(yaml: "seed: 1\n", source: "configs/x.txt")
            #expect(defaults.checkpoint == Configuration.CheckpointSection())
            let best = try Configuration.parse(yaml: "checkpoint: {save_best: true, every_n_epochs: 5, keep_last: 3}\n",
                                               source: "configs/x.txt")
            #expect(best.checkpoint.monitor == .valLoss && best.checkpoint.mode == .min)
            #expect(best.checkpoint.everyNEpochs == 5 && best.checkpoint.keepLast == 3)
            let accuracy = try Configuration.parse(yaml: "checkpoint: {save_best: true, monitor: val_acc}\n",
                                                   source: "configs/x.txt")
            #expect(accuracy.checkpoint.mode == .max)
            let noValidation = try Configuration.parse(yaml: "data: {validation_split: 0}\ncheckpoint: {save_best: true}\n",
                                                       source: "configs/x.txt")
            #expect(noValidation.checkpoint.monitor == .trainLoss)
        }

        @Test func refusesMonitorWithoutSaveBestAndOutOfRangeCounts() {
            #expect(configError("checkpoint:\n  monitor: val_acc\n") ==
                "configs/x.txt:2: checkpoint.monitor: applies only with save_best; expected checkpoint.save_best: true as well")
            #expect(configError("checkpoint: {every_n_epochs: 0}\n") ==
                "configs/x.txt:1: checkpoint.every_n_epochs: 0 is out of range; expected an integer >= 1")
            #expect(configError("data: {validation_split: 0}\ncheckpoint: {save_best: true, monitor: val_loss}\n") ==
                "configs/x.txt:2: checkpoint.monitor: val_loss needs a validation split; "
                + "expected data.validation_split > 0 or monitor: train_loss")
        }

        /// What a resume refuses: anything that shapes the model, the data or the optimizer's state.
        @Test func resumeRefusesModelDataAndOptimizerStateChangesAndAllowsTheRest() throws {
            let saved = try Configuration.parse(yaml: "seed: 1\n", source: "configs/x.txt")
            let changed = try Configuration.parse(yaml: """
                seed: 1
                model: {hidden: [64]}
                data: {validation_split: 0.2}
                optimizer: {lr: 0.01, amsgrad: true}
                training: {epochs: 30, batch_size: 64}
                logging: {every_n_steps: 10}
                output: {dir: elsewhere}
                """, source: "configs/x.txt")
            let keys = changed.changedKeys(from: saved)
            #expect(keys == ["data.validation_split", "model.hidden", "optimizer.lr", "optimizer.amsgrad", "training.epochs",
                             "training.batch_size", "logging.every_n_steps"])
            let (refused, allowed) = Configuration.classifyForResume(keys)
            #expect(refused == ["data.validation_split", "model.hidden", "optimizer.amsgrad", "training.batch_size"])
            #expect(allowed == ["optimizer.lr", "training.epochs", "logging.every_n_steps"])
        }
    }
}

extension ConfigurationTests {
    /// The rules that tie scheduler, optimizer and augmentation keys together.
    @Suite struct RulesBetweenKeys {
        @Test(arguments: [
            ("scheduler: {name: step}\n",
             "configs/x.txt:1: scheduler.step_size is required for scheduler step; expected e.g. step_size: 10"),
            ("scheduler: {name: multistep}\n",
             "configs/x.txt:1: scheduler.milestones is required for scheduler multistep; expected e.g. milestones: [10, 20]"),
            ("scheduler: {name: exponential}\n",
             "configs/x.txt:1: scheduler.gamma is required for scheduler exponential; expected e.g. gamma: 0.95"),
            ("scheduler: {name: cosine_restarts}\n",
             "configs/x.txt:1: scheduler.t_0 is required for scheduler cosine_restarts; expected e.g. t_0: 10"),
            ("scheduler:\n  name: multistep\n  milestones: [20, 10]\n",
             "configs/x.txt:3: scheduler.milestones: [20, 10] is not increasing; expected epochs in increasing order"),
            ("scheduler:\n  warmup_steps: 5\n  warmup_epochs: 1\n",
             "configs/x.txt:3: scheduler.warmup_epochs: given together with warmup_steps; expected one of the two"),
            ("scheduler:\n  name: cyclic\n  mode: triangle\n",
             "configs/x.txt:3: scheduler.mode: 'triangle' is not one of: triangular, triangular2, exp_range"),
            ("scheduler:\n  name: reduce_on_plateau\n  mode: [min]\n",
             "configs/x.txt:3: scheduler.mode: expected a single word, not a list"),
            ("optimizer:\n  name: adagrad\nscheduler: {name: one_cycle}\n",
             "configs/x.txt:2: optimizer.name: adagrad has no momentum for scheduler one_cycle to cycle; "
                + "expected scheduler.cycle_momentum: false or another optimizer"),
            ("optimizer:\n  name: asgd\nscheduler: {name: cyclic}\n",
             "configs/x.txt:2: optimizer.name: asgd has no momentum for scheduler cyclic to cycle; "
                + "expected scheduler.cycle_momentum: false or another optimizer"),
            ("optimizer:\n  name: sgd\n  nesterov: true\n",
             "configs/x.txt:3: optimizer.nesterov: nesterov momentum requires momentum > 0 and dampening 0 "
                + "(as torch.optim.SGD); expected optimizer.momentum: 0.9 or nesterov: false"),
            ("data:\n  dataset: bonus\n  augment: {hflip: true}\nloss: mse\n",
             "configs/x.txt:3: data.augment.hflip: augmentation applies to image datasets, not bonus; "
                + "expected data.augment to be off"),
            ("data:\n  dataset: bonus\n  augment:\n    rotation: 10\nloss: mse\n",
             "configs/x.txt:4: data.augment.rotation: augmentation applies to image datasets, not bonus; "
                + "expected data.augment to be off"),
            ("data:\n  augment:\n    cutmix: 1\n    crop_scale: [0.9, 0.8]\n",
             "configs/x.txt:4: data.augment.crop_scale: [0.9, 0.8] is not a range; expected [a, b] with a <= b "
                + "(RandomResizedCrop's scale, like [0.8, 1.0])"),
            ("data:\n  augment:\n    crop_scale: [0, 1]\n",
             "configs/x.txt:3: data.augment.crop_scale[0]: 0 is out of range; expected a number > 0 and <= 1"),
            ("data:\n  augment:\n    noise: -0.1\n",
             "configs/x.txt:3: data.augment.noise: -0.1 is out of range; expected a number >= 0"),
        ])
        func refusesKeysThatDoNotFitTogether(yaml: String, message: String) {
            #expect(configError(yaml) == message)
        }

        @Test func oneCycleAndCyclicWithAdagradAreFineWithoutMomentumCycling() throws {
            let configuration = try Configuration.parse(
                yaml: "optimizer: {name: adagrad}\nscheduler: {name: one_cycle, cycle_momentum: false}\n",
                source: "configs/x.txt")
            #expect(configuration.scheduler.name == .oneCycle && configuration.optimizer.lr == 0.01)
        }
    }
}

extension ConfigurationTests {
    /// `scheduler.mode` is typed by the schedule it belongs to, whichever of the two keys comes first.
    @Suite struct ScheduleModes {
        @Test func modeIsReadForTheScheduleChosenEvenBeforeItsName() throws {
            let plateau = try Configuration.parse(
                yaml: "scheduler:\n  mode: max\n  name: reduce_on_plateau\n  monitor: val_acc\n", source: file)
            #expect(plateau.scheduler.mode == .plateau(.max))
            let cyclic = try Configuration.parse(yaml: "scheduler: {name: cyclic}\n", source: file,
                                                 overrides: ["scheduler.mode=exp_range"])
            #expect(cyclic.scheduler.mode == .cyclic(.expRange))
            #expect(try Configuration.parse(yaml: cyclic.resolvedYAML(), source: file) == cyclic)
        }

        @Test func unsetModeTakesTheScheduleDefault() throws {
            #expect(try Configuration.parse(yaml: "scheduler: {name: cyclic}\n", source: file).scheduler.mode
                == .cyclic(.triangular))
            #expect(try Configuration.parse(yaml: "scheduler: {name: reduce_on_plateau, monitor: val_acc}\n", source: file)
                .scheduler.mode == .plateau(.max))
        }

        @Test func aModeOfTheOtherScheduleIsRefused() {
            #expect(configError("scheduler:\n  mode: min\n  name: cyclic\n")
                == "configs/x.txt:2: scheduler.mode: 'min' is not one of: triangular, triangular2, exp_range")
        }
    }
}
