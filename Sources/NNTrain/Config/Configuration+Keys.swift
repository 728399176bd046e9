extension Configuration {
    /// Every key of the config file, in the order `resolvedYAML()` writes them and error messages
    /// list them. Adding a key to the format is one entry here (plus its field in `Configuration`).
    static let keys: [ConfigKey] = [
        .integer("seed", \.seed, atLeast: 0,
                 help: "seeds initialisation, splits, shuffling, dropout and augmentation"),
        .section("data", [
            .choice("dataset", \.data.dataset, help: "the dataset to train on"),
            .path("path", \.data.path, help: "folder of the 4 Fashion-MNIST .gz files, or the bonus CSV")
                .whenUnset("data/fashion-mnist, or data/bonus.csv for bonus"),
            .number("validation_split", \.data.validationSplit, .atLeastZeroBelowOne,
                    help: "fraction held out from the training set for validation, drawn with the seed"),
            .number("test_split", \.data.testSplit, .aboveZeroBelowOne,
                    help: "fraction held out from a CSV as its test set (Fashion-MNIST has its own)"),
            .choice("normalize", \.data.normalize,
                    help: "none: raw values; scale: pixels / 255, CSV columns min-max; standardize: (x - mean) / std"),
            .section("augment", help: "training images only; validation and test are never augmented", [
                .boolean("hflip", \.data.augment.hflip, help: "flip left-right with p = 0.5 (RandomHorizontalFlip)"),
                .integer("shift", \.data.augment.shift, atLeast: 0,
                         help: "max pixels of random shift, zero padded (RandomCrop(28, padding=shift)); 0 is off"),
                .number("erasing", \.data.augment.erasing, .atLeastZeroAtMostOne,
                        help: "probability of random erasing (RandomErasing: scale 0.02-0.33, ratio 0.3-3.3)"),
                .number("mixup", \.data.augment.mixup, .nonNegative, help: "alpha of mixup's Beta(alpha, alpha); 0 is off"),
            ]),
        ]),
        .section("model", [
            .integerList("hidden", \.model.hidden, atLeast: 1, example: "[256, 128]",
                         help: "hidden layer widths; [] is a linear model"),
            .choice("activation", \.model.activation, help: "the hidden layers' activation (gelu is the exact erf form)"),
            .number("leaky_slope", \.model.leakySlope, .positive, help: "negative slope of leaky_relu (nn.LeakyReLU)")
                .onlyWhen("model.activation", is: ActivationKind.leakyRelu),
            .choice("init", \.model.initialization, help: "weight initialisation; default is nn.Linear's own"),
            .numberList("init_range", \.model.initRange, count: 2, .any, example: "[-0.05, 0.05]",
                        help: "[a, b] of nn.init.uniform_")
                .onlyWhen("model.init", is: InitializationKind.uniform),
            .number("init_std", \.model.initStd, .positive, help: "standard deviation of nn.init.normal_ (mean 0)")
                .onlyWhen("model.init", is: InitializationKind.normal),
            .choice("bias_init", \.model.biasInit, help: "default: nn.Linear's U(+-1/sqrt(fan_in)); zero"),
            .number("dropout", \.model.dropout, .atLeastZeroBelowOne,
                    help: "dropout probability after each hidden activation (inverted dropout)"),
            .boolean("batch_norm", \.model.batchNorm,
                     help: "BatchNorm1d between each hidden layer's product and its activation"),
        ]),
        .choice("loss", \.loss, help: "cross_entropy for fashion-mnist; mse, mae or huber for bonus"),
        .number("huber_delta", \.huberDelta, .positive, help: "delta of nn.HuberLoss")
            .onlyWhen("loss", is: LossKind.huber),
        .section("regularization", [
            .number("l1", \.regularization.l1, .nonNegative,
                    help: "lambda of an L1 penalty lambda*sum|w| (gradient only; not in the logged loss)"),
            .number("label_smoothing", \.regularization.labelSmoothing, .atLeastZeroBelowOne,
                    help: "label smoothing of nn.CrossEntropyLoss")
                .onlyWhen("loss", is: LossKind.crossEntropy),
        ]),
        .section("optimizer", [
            .choice("name", \.optimizer.name, help: "the torch.optim optimizer"),
            .number("lr", \.optimizer.lr, .positive, help: "the learning rate")
                .whenUnset("the optimizer's PyTorch default: sgd, adam, adamw 1e-3; rmsprop, adagrad 1e-2; nadam 2e-3"),
            .number("momentum", \.optimizer.momentum, .atLeastZeroBelowOne, help: "momentum factor")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd, .rmsprop),
            .number("dampening", \.optimizer.dampening, .atLeastZeroBelowOne, help: "dampening for momentum")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd),
            .boolean("nesterov", \.optimizer.nesterov, help: "Nesterov momentum (needs momentum > 0, dampening 0)")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd),
            .numberList("betas", \.optimizer.betas, count: 2, .atLeastZeroBelowOne, example: "[0.9, 0.999]",
                        help: "coefficients of the running averages of the gradient and its square")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam, .adamw, .nadam),
            .number("eps", \.optimizer.eps, .nonNegative, help: "term added to the denominator for stability")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam, .adamw, .rmsprop, .adagrad, .nadam)
                .whenUnset("the optimizer's PyTorch default: 1e-10 for adagrad, else 1e-8"),
            .number("weight_decay", \.optimizer.weightDecay, .nonNegative,
                    help: "L2 penalty added to the gradient; decoupled for adamw")
                .whenUnset("the optimizer's PyTorch default: 0.01 for adamw, else 0"),
            .boolean("decay_batch_norm", \.optimizer.decayBatchNorm, help: "also decay (and L1) batch-norm gamma and beta"),
            .boolean("amsgrad", \.optimizer.amsgrad, help: "the AMSGrad variant")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam, .adamw),
            .number("alpha", \.optimizer.alpha, .atLeastZeroBelowOne, help: "smoothing constant of the squared-gradient average")
                .onlyWhen("optimizer.name", is: OptimizerKind.rmsprop),
            .boolean("centered", \.optimizer.centered, help: "normalise by an estimate of the gradient's variance")
                .onlyWhen("optimizer.name", is: OptimizerKind.rmsprop),
            .number("lr_decay", \.optimizer.lrDecay, .nonNegative, help: "learning-rate decay")
                .onlyWhen("optimizer.name", is: OptimizerKind.adagrad),
            .number("initial_accumulator_value", \.optimizer.initialAccumulatorValue, .nonNegative,
                    help: "starting value of the sum of squared gradients")
                .onlyWhen("optimizer.name", is: OptimizerKind.adagrad),
            .number("momentum_decay", \.optimizer.momentumDecay, .nonNegative, help: "momentum decay (psi)")
                .onlyWhen("optimizer.name", is: OptimizerKind.nadam),
            .boolean("decoupled_weight_decay", \.optimizer.decoupledWeightDecay, help: "decay weights as AdamW does")
                .onlyWhen("optimizer.name", is: OptimizerKind.nadam),
        ]),
        .section("scheduler", help: "torch.optim.lr_scheduler's schedules, with PyTorch's names and defaults", [
            .choice("name", \.scheduler.name, help: "the learning-rate schedule; constant keeps optimizer.lr"),
            .optionalInteger("step_size", \.scheduler.stepSize, atLeast: 1, help: "epochs between decays (required)")
                .onlyWhen("scheduler.name", is: ScheduleKind.step).whenUnset("none (step requires it)"),
            .optionalNumber("gamma", \.scheduler.gamma, .positive,
                            help: "decay factor (required for exponential; cyclic: exp_range's base)")
                .onlyWhen("scheduler.name", is: ScheduleKind.step, .multistep, .exponential, .cyclic)
                .whenUnset("0.1 for step and multistep, 1 for cyclic (exponential requires it)"),
            .integerList("milestones", \.scheduler.milestones, atLeast: 1, example: "[10, 20]",
                         help: "increasing epochs at which lr is multiplied by gamma (required)")
                .onlyWhen("scheduler.name", is: ScheduleKind.multistep),
            .optionalInteger("t_max", \.scheduler.tMax, atLeast: 1, help: "epochs of the half cosine")
                .onlyWhen("scheduler.name", is: ScheduleKind.cosine).whenUnset("training.epochs minus the warm-up's epochs"),
            .number("eta_min", \.scheduler.etaMin, .nonNegative, help: "the lowest lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.cosine, .cosineRestarts),
            .optionalInteger("t_0", \.scheduler.t0, atLeast: 1, help: "epochs of the first cycle (required)")
                .onlyWhen("scheduler.name", is: ScheduleKind.cosineRestarts).whenUnset("none (cosine_restarts requires it)"),
            .integer("t_mult", \.scheduler.tMult, atLeast: 1, help: "factor by which each cycle is longer than the last")
                .onlyWhen("scheduler.name", is: ScheduleKind.cosineRestarts),
            .number("start_factor", \.scheduler.startFactor, .aboveZeroAtMostOne, help: "lr factor at the first epoch")
                .onlyWhen("scheduler.name", is: ScheduleKind.linear),
            .number("end_factor", \.scheduler.endFactor, .atLeastZeroAtMostOne, help: "lr factor after total_iters epochs")
                .onlyWhen("scheduler.name", is: ScheduleKind.linear),
            .integer("total_iters", \.scheduler.totalIters, atLeast: 1, help: "epochs from start_factor to end_factor")
                .onlyWhen("scheduler.name", is: ScheduleKind.linear),
            .optionalNumber("max_lr", \.scheduler.maxLR, .positive, help: "the cycle's peak lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle, .cyclic).whenUnset("optimizer.lr"),
            .optionalNumber("base_lr", \.scheduler.baseLR, .positive, help: "the cycle's lowest lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic).whenUnset("optimizer.lr / 10"),
            .number("pct_start", \.scheduler.pctStart, .aboveZeroBelowOne, help: "fraction of the steps spent raising lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle),
            .number("div_factor", \.scheduler.divFactor, .positive, help: "initial lr = max_lr / div_factor")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle),
            .number("final_div_factor", \.scheduler.finalDivFactor, .positive,
                    help: "final lr = initial lr / final_div_factor")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle),
            .choice("anneal_strategy", \.scheduler.annealStrategy, help: "the shape of each phase")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle),
            .boolean("three_phase", \.scheduler.threePhase, help: "a third phase that anneals to the final lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle),
            .boolean("cycle_momentum", \.scheduler.cycleMomentum,
                     help: "cycle momentum (beta1 for the Adam family) inversely to lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle, .cyclic),
            .optionalNumber("base_momentum", \.scheduler.baseMomentum, .atLeastZeroBelowOne, help: "the lowest momentum")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle, .cyclic)
                .whenUnset("0.85 for one_cycle, 0.8 for cyclic"),
            .optionalNumber("max_momentum", \.scheduler.maxMomentum, .atLeastZeroBelowOne, help: "the highest momentum")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle, .cyclic)
                .whenUnset("0.95 for one_cycle, 0.9 for cyclic"),
            .integer("step_size_up", \.scheduler.stepSizeUp, atLeast: 1, help: "steps of the rising half of a cycle")
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic),
            .optionalInteger("step_size_down", \.scheduler.stepSizeDown, atLeast: 1, help: "steps of the falling half")
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic).whenUnset("step_size_up"),
            .word("mode", \.scheduler.mode, allowed: "triangular, triangular2 or exp_range (cyclic); min or max (reduce_on_plateau)",
                  help: "cyclic: the cycle's policy; reduce_on_plateau: whether the monitor should fall or rise")
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic, .reduceOnPlateau)
                .whenUnset("triangular for cyclic; from the monitor for reduce_on_plateau"),
            .number("factor", \.scheduler.factor, .aboveZeroBelowOne, help: "lr is multiplied by it on a plateau")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau),
            .integer("patience", \.scheduler.patience, atLeast: 0, help: "epochs without improvement before reducing")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau),
            .number("threshold", \.scheduler.threshold, .nonNegative, help: "the least change that counts as an improvement")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau),
            .choice("threshold_mode", \.scheduler.thresholdMode, help: "threshold relative to the best, or absolute")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau),
            .integer("cooldown", \.scheduler.cooldown, atLeast: 0, help: "epochs to wait after a reduction")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau),
            .number("min_lr", \.scheduler.minLR, .nonNegative, help: "the lowest lr")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau),
            .optionalChoice("monitor", \.scheduler.monitor, help: "the figure watched for a plateau")
                .onlyWhen("scheduler.name", is: ScheduleKind.reduceOnPlateau)
                .whenUnset("val_loss, or train_loss without a validation split"),
            .integer("warmup_steps", \.scheduler.warmupSteps, atLeast: 0,
                     help: "linear warm-up in front of any schedule: lr * (s+1)/W for the first W steps"),
            .integer("warmup_epochs", \.scheduler.warmupEpochs, atLeast: 0,
                     help: "the same in epochs (one of the two)"),
        ]),
        .section("training", [
            .integer("epochs", \.training.epochs, atLeast: 1, help: "epochs to train"),
            .batchSize("batch_size", \.training.batchSize,
                       help: "rows per optimizer step (1 is stochastic GD; full is batch GD, one step per epoch)"),
            .choice("precision", \.training.precision, help: "fp16 and bf16 emulate torch.autocast"),
            .lossScaling("loss_scale", \.training.lossScale, help: "the loss scaling of torch's GradScaler")
                .onlyWhen("training.precision", is: Precision.fp16, .bf16)
                .whenUnset("dynamic for fp16, none for bf16"),
            .section("clip", help: "applied after back-propagation, before the optimizer step", [
                .optionalNumber("norm", \.training.clip.norm, .positive,
                                help: "clip_grad_norm_: scale g by min(1, norm/(||g|| + 1e-6))").whenUnset("off"),
                .optionalNumber("value", \.training.clip.value, .positive,
                                help: "clip_grad_value_: clamp each element to +-value").whenUnset("off"),
            ]),
            .optionalNumber("max_seconds", \.training.maxSeconds, .positive,
                            help: "this invocation's wall-time limit; then a checkpoint, resumable").whenUnset("no limit"),
        ]),
        .section("early_stopping", help: "Keras' EarlyStopping; on when patience is given", [
            .optionalChoice("monitor", \.earlyStopping.monitor, help: "the figure watched")
                .whenUnset("val_loss, or train_loss without a validation split"),
            .optionalChoice("mode", \.earlyStopping.mode, help: "whether the monitor should fall or rise")
                .whenUnset("from the monitor"),
            .optionalInteger("patience", \.earlyStopping.patience, atLeast: 1,
                             help: "epochs without improvement before stopping").whenUnset("off"),
            .number("min_delta", \.earlyStopping.minDelta, .nonNegative, help: "the least change that counts as an improvement"),
            .boolean("restore_best", \.earlyStopping.restoreBest,
                     help: "put the best epoch's weights back at the end, however training ended"),
        ]),
        .section("checkpoint", help: "written into <run directory>/checkpoints/", [
            .integer("every_n_epochs", \.checkpoint.everyNEpochs, atLeast: 1,
                     help: "write last.bin after every N-th epoch (and always at the end)"),
            .integer("keep_last", \.checkpoint.keepLast, atLeast: 0, help: "also keep the K newest as epoch-NNNN.bin (0: none)"),
            .boolean("save_best", \.checkpoint.saveBest,
                     help: "write best.bin whenever the monitored figure beats its best so far"),
            .optionalChoice("monitor", \.checkpoint.monitor, help: "with save_best: the figure watched")
                .whenUnset("val_loss, or train_loss without a validation split"),
            .optionalChoice("mode", \.checkpoint.mode, help: "with save_best: whether the monitor should fall or rise")
                .whenUnset("from the monitor"),
        ]),
        .section("logging", [
            .integer("every_n_steps", \.logging.everyNSteps, atLeast: 0, help: "> 0: also write every N-th step to steps.csv"),
            .boolean("precision_stats", \.logging.precisionStats,
                     help: "grad_underflow, grad_overflow columns in metrics.csv")
                .onlyWhen("training.precision", is: Precision.fp16, .bf16),
        ]),
        .section("output", [
            .optionalPath("dir", \.output.dir, help: "the run directory").whenUnset("runs/<config file name without extension>"),
            .boolean("plots", \.output.plots, help: "draw curves.svg into the run directory when training ends"),
        ]),
    ]

    /// Fills in the defaults that depend on other keys, then checks the rules that tie keys
    /// together. `given` holds every key path the file or a `--set` gave, with its value (for the
    /// place an error names); `file` is the config file, for an error no key can be blamed for.
    mutating func applyRulesBetweenKeys(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        if given["data.path"] == nil { data.path = data.dataset.defaultPath }
        if given["optimizer.lr"] == nil { optimizer.lr = optimizer.name.defaultLR }
        if given["optimizer.eps"] == nil { optimizer.eps = optimizer.name.defaultEps }
        if given["optimizer.weight_decay"] == nil { optimizer.weightDecay = optimizer.name.defaultWeightDecay }
        if given["training.loss_scale"] == nil { training.lossScale = training.precision.defaultLossScaling }
        try checkLossFitsDataset(given: given, file: file)
        try checkModelSize(given: given)
        try checkConditionalKeysApply(given: given)
        try checkOptimizer(given: given)
        try checkAugmentation(given: given)
        try resolveScheduler(given: given, file: file)
        try resolveEarlyStopping(given: given, file: file)
        try resolveCheckpointBest(given: given, file: file)
    }

    /// The most parameters a model may have: 2^28, 1 GiB of float32 (training keeps three to five
    /// copies: weights, gradients, optimizer state). A model beyond it is a typo or a hostile
    /// config, and allocating it would abort the process instead of giving an error.
    public static let maxParameters = 1 << 28

    /// Refuses `model.hidden` widths that make a model of more than `maxParameters` parameters with
    /// the dataset's inputs and outputs, counted with overflow checks (a width of 2^63 - 1 would
    /// overflow the product, which traps).
    private func checkModelSize(given: [String: ConfigValue]) throws(NNTrainError) {
        guard let value = given["model.hidden"] else { return }
        let widths = [data.dataset.inputWidth] + model.hidden + [data.dataset.outputWidth]
        var count = 0
        var overflow = false
        func add(_ a: Int, times b: Int) {
            let (product, productOverflow) = a.multipliedReportingOverflow(by: b)
            let (sum, sumOverflow) = count.addingReportingOverflow(product)
            (count, overflow) = (sum, overflow || productOverflow || sumOverflow)
        }
        for (inputs, outputs) in zip(widths, widths.dropFirst()) {
            add(inputs, times: outputs)  // weights
            add(1, times: outputs)  // biases
        }
        if model.batchNorm { for width in model.hidden { add(2, times: width) } }  // gamma and beta
        guard overflow || count > Self.maxParameters else { return }
        let counted = overflow ? "at least 2^63" : "\(count)"
        throw value.problem("makes a model of \(counted) parameters with \(data.dataset.rawValue)'s \(data.dataset.inputWidth) inputs "
            + "and \(data.dataset.outputWidth) outputs; expected at most \(Self.maxParameters) (1 GiB of float32)")
    }

    /// save_best watches val_loss by default (train_loss without a validation split); its monitor
    /// and mode need save_best.
    private mutating func resolveCheckpointBest(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        guard checkpoint.saveBest else {
            if let value = given["checkpoint.monitor"] ?? given["checkpoint.mode"] {
                throw value.problem("applies only with save_best; expected checkpoint.save_best: true as well")
            }
            return
        }
        (checkpoint.monitor, checkpoint.mode) = try resolveMonitor(checkpoint.monitor, mode: checkpoint.mode,
                                                                   key: "checkpoint.monitor", given: given, file: file)
    }

    /// Early stopping watches val_loss by default (train_loss without a validation split), in the
    /// direction its monitor improves; its other keys need `patience`, which turns it on.
    private mutating func resolveEarlyStopping(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        guard earlyStopping.patience != nil else {
            let e = earlyStopping
            let set: [(String, Bool)] = [("monitor", e.monitor != nil), ("mode", e.mode != nil),
                                         ("min_delta", e.minDelta != 0), ("restore_best", e.restoreBest)]
            if let key = set.first(where: \.1)?.0, let value = given["early_stopping.\(key)"] {
                throw value.problem("early stopping is off without patience; expected early_stopping.patience: N as well")
            }
            return
        }
        (earlyStopping.monitor, earlyStopping.mode) = try resolveMonitor(earlyStopping.monitor, mode: earlyStopping.mode,
                                                                         key: "early_stopping.monitor", given: given, file: file)
    }

    /// A monitor and its direction with their defaults filled in: val_loss (train_loss without a
    /// validation split), and the direction the monitor improves in; the monitor checked.
    private func resolveMonitor(_ monitor: MonitoredMetric?, mode: MetricMode?, key: String, given: [String: ConfigValue],
                                file: String) throws(NNTrainError) -> (MonitoredMetric, MetricMode) {
        let monitor = monitor ?? (data.validationSplit > 0 ? .valLoss : .trainLoss)
        try checkMonitor(monitor, key: key, given: given, file: file)
        return (monitor, mode ?? (monitor.higherIsBetter ? .max : .min))
    }

    /// A monitored figure must exist in every epoch: validation figures need a validation split,
    /// accuracies a classification dataset.
    func checkMonitor(_ monitor: MonitoredMetric, key: String, given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let source = given[key]?.source ?? ConfigSource.file(path: file, line: nil)
        if monitor.needsValidation, data.validationSplit == 0 {
            throw source.error("\(key): \(monitor.rawValue) needs a validation split; "
                + "expected data.validation_split > 0 or monitor: train_loss")
        }
        if monitor.higherIsBetter, data.dataset == .bonus {
            throw source.error("\(key): \(monitor.rawValue) needs a classification dataset; "
                + "expected val_loss or train_loss for \(data.dataset.rawValue)")
        }
    }

    /// PyTorch's SGD refuses Nesterov momentum without momentum or with dampening.
    private func checkOptimizer(given: [String: ConfigValue]) throws(NNTrainError) {
        if optimizer.nesterov, optimizer.momentum <= 0 || optimizer.dampening != 0, let value = given["optimizer.nesterov"] {
            throw value.problem("nesterov momentum requires momentum > 0 and dampening 0 (as torch.optim.SGD); "
                + "expected optimizer.momentum: 0.9 or nesterov: false")
        }
    }

    /// Augmentation changes images, so it needs an image dataset.
    private func checkAugmentation(given: [String: ConfigValue]) throws(NNTrainError) {
        guard data.dataset != .fashionMNIST, augmentation.isEnabled else { return }
        let value = ["hflip", "shift", "erasing", "mixup"].lazy.compactMap { given["data.augment.\($0)"] }.first
        throw (value ?? given["data.dataset"])?.problem("augmentation applies to image datasets, not "
            + "\(data.dataset.rawValue); expected data.augment to be off") ?? NNTrainError(.config, "data.augment: "
            + "augmentation applies to image datasets, not \(data.dataset.rawValue)")
    }

    /// Fills in reduce_on_plateau's monitored metric and mode and cyclic's mode, and refuses a
    /// schedule missing a key PyTorch requires, a mode that does not fit it, or momentum cycling for
    /// an optimizer without momentum. The defaults that need the batches of an epoch (t_max, max_lr,
    /// ...) are filled in by `resolvingScheduleDefaults` once the data is loaded.
    private mutating func resolveScheduler(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let place = given["scheduler.name"] ?? given["scheduler"]
        func missing(_ key: String, _ example: String) -> NNTrainError {
            let source = place?.source ?? ConfigSource.file(path: file, line: nil)
            return source.error("scheduler.\(key) is required for scheduler \(scheduler.name.rawValue); expected e.g. \(key): \(example)")
        }
        switch scheduler.name {
        case .step where scheduler.stepSize == nil: throw missing("step_size", "10")
        case .multistep where scheduler.milestones.isEmpty: throw missing("milestones", "[10, 20]")
        case .exponential where scheduler.gamma == nil: throw missing("gamma", "0.95")
        case .cosineRestarts where scheduler.t0 == nil: throw missing("t_0", "10")
        default: break
        }
        if scheduler.name == .multistep, zip(scheduler.milestones, scheduler.milestones.dropFirst()).contains(where: { $0 >= $1 }),
           let value = given["scheduler.milestones"] {
            throw value.problem("\(yamlFlowList(scheduler.milestones)) is not increasing; expected epochs in increasing order")
        }
        if scheduler.warmupSteps > 0, scheduler.warmupEpochs > 0, let value = given["scheduler.warmup_epochs"] {
            throw value.problem("given together with warmup_steps; expected one of the two")
        }
        let modes: [String] = switch scheduler.name {
        case .cyclic: ["triangular", "triangular2", "exp_range"]
        case .reduceOnPlateau: ["min", "max"]
        default: []
        }
        if let mode = scheduler.mode, !modes.contains(mode), let value = given["scheduler.mode"] {
            throw value.problem("\(quoted(mode)) is not one of: \(modes.joined(separator: ", "))")
        }
        if scheduler.name == .reduceOnPlateau {
            let monitor = scheduler.monitor ?? (data.validationSplit > 0 ? .valLoss : .trainLoss)
            try checkMonitor(monitor, key: "scheduler.monitor", given: given, file: file)
            scheduler.monitor = monitor
            scheduler.mode = scheduler.mode ?? (monitor.higherIsBetter ? "max" : "min")
        }
        if scheduler.name == .cyclic { scheduler.mode = scheduler.mode ?? "triangular" }
        if [.oneCycle, .cyclic].contains(scheduler.name), scheduler.cycleMomentum, optimizer.name == .adagrad,
           let value = given["optimizer.name"] ?? place {
            throw value.problem("adagrad has no momentum for scheduler \(scheduler.name.rawValue) to cycle; "
                + "expected scheduler.cycle_momentum: false or another optimizer")
        }
    }

    /// Cross-entropy needs class labels and MSE needs real-valued targets, so each dataset fits one
    /// loss. The error names the loss key if it was given, else the dataset key.
    private func checkLossFitsDataset(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let fittingLosses = data.dataset.fittingLosses
        guard !fittingLosses.contains(loss) else { return }
        let fittingLoss = fittingLosses.map(\.rawValue).joined(separator: " or ")
        let dataset = data.dataset.rawValue + (given["data.dataset"] == nil ? " (the default dataset)" : "")
        if let lossValue = given["loss"] {
            throw lossValue.problem("\(loss.rawValue) does not fit \(dataset), \(data.dataset.summary); "
                + "expected \(fittingLoss)")
        }
        let problem = "\(data.dataset.rawValue) is \(data.dataset.summary), but loss is \(loss.rawValue) (the default); "
            + "expected loss: \(fittingLoss)"
        // The default loss fits the default dataset, so a mismatch without a loss key means the dataset was given.
        throw given["data.dataset"]?.problem(problem) ?? ConfigSource.file(path: file, line: nil).error("data.dataset: \(problem)")
    }

    /// Refuses a key given where it does not apply (`momentum` with adam, `betas` with sgd), naming
    /// the keys that do apply.
    private func checkConditionalKeysApply(given: [String: ConfigValue]) throws(NNTrainError) {
        let entries = Self.keys.valueEntries
        for (path, key) in entries {
            guard let condition = key.condition, let value = given[path], !condition.holds(in: self) else { continue }
            let current = condition.currentChoice(in: self) ?? ""
            let defaultNote = given[condition.keyPath] == nil ? " (the default)" : ""
            let keysThatApply = entries.filter {
                $0.key.condition?.keyPath == condition.keyPath && $0.key.condition?.holds(in: self) == true
            }.map(\.key.name)
            let usesNote = keysThatApply.isEmpty ? "" : ", which uses \(keysThatApply.joined(separator: ", "))"
            throw value.problem("applies only to \(condition.choices.joined(separator: ", ")), "
                + "not \(current)\(defaultNote)\(usesNote)")
        }
    }
}

extension DatasetKind {
    /// Where the dataset is unless `data.path` says otherwise.
    var defaultPath: String {
        switch self {
        case .fashionMNIST: "data/fashion-mnist"
        case .bonus: "data/bonus.csv"
        }
    }

    /// The model's input and output widths on this dataset (Fashion-MNIST's 28×28 pixels and 10
    /// classes; the bonus CSV's feature columns and one value).
    var inputWidth: Int {
        switch self {
        case .fashionMNIST: FashionMNIST.imageRows * FashionMNIST.imageColumns
        case .bonus: BonusData.featureNames.count
        }
    }

    var outputWidth: Int {
        switch self {
        case .fashionMNIST: FashionMNIST.classNames.count
        case .bonus: 1
        }
    }

    /// The losses this dataset's targets call for, the usual one first.
    var fittingLosses: [LossKind] {
        switch self {
        case .fashionMNIST: [.crossEntropy]
        case .bonus: [.mse, .mae, .huber]
        }
    }

    /// What kind of dataset it is, for messages: "a regression dataset".
    var summary: String {
        switch self {
        case .fashionMNIST: "a 10-class dataset"
        case .bonus: "a regression dataset"
        }
    }
}

extension Precision {
    /// torch's usual pairing: GradScaler for fp16, none for bf16 (which has fp32's range).
    var defaultLossScaling: LossScaling { self == .fp16 ? .dynamic : .none }
}

extension MonitoredMetric {
    /// Whether the metric is computed on the validation split.
    var needsValidation: Bool { self == .valLoss || self == .valAcc }
    /// Accuracies improve upwards, losses downwards.
    var higherIsBetter: Bool { self == .valAcc || self == .trainAcc }
}
