/// The rules between keys: the defaults that depend on other keys, and the checks no single key can
/// make (a loss that fits the dataset, a model that fits in memory, keys that apply to the choices made).
extension Configuration {
    /// Fills in the defaults that depend on other keys, then checks the rules that tie keys
    /// together. `given` holds every key path the file or a `--set` gave, with its value (for the
    /// place an error names, kept in `keySources` for the checks made once the data is loaded);
    /// `file` is the config file, for an error no key can be blamed for.
    mutating func applyRulesBetweenKeys(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        keySources = KeySources(sources: given.mapValues(\.source))
        if given["data.path"] == nil {
            guard let path = data.dataset.defaultPath else {
                throw (given["data.dataset"]?.source ?? ConfigSource.file(path: file, line: nil)).error("data.path is "
                    + "required for data.dataset \(data.dataset.rawValue); expected e.g. data.path: data/my-set")
            }
            data.path = path
        }
        if data.dataset == .csv {
            applyTabularDefaults(given: given)
            try checkCSVKeys(given: given)
        }
        if data.testPath != nil, given["data.test_split"] == nil { data.testSplit = nil }
        if given["optimizer.lr"] == nil { optimizer.lr = optimizer.name.defaultLR }
        if given["optimizer.eps"] == nil { optimizer.eps = optimizer.name.defaultEps }
        if given["optimizer.weight_decay"] == nil { optimizer.weightDecay = optimizer.name.defaultWeightDecay }
        if given["optimizer.alpha"] == nil {
            optimizer.alpha = optimizer.name == .asgd
                ? OptimizerSection.asgdDefaults.alpha : OptimizerSection.rmspropDefaults.alpha
        }
        if given["training.loss_scale"] == nil { training.lossScale = training.precision.defaultLossScaling }
        if given["loss"] == nil, let task = knownTask { loss = task.fittingLosses[0] }
        if given["model.init"] == nil, model.activation == .selu { model.initialization = .lecunNormal }
        if let task = knownTask { try checkLossFits(task, file: file) }
        if let widths = data.dataset.knownWidths {
            try checkModelSize(inputWidth: widths.input, outputWidth: widths.output, file: file)
        }
        try checkFolds(given: given, file: file)
        try checkConditionalKeysApply(given: given)
        try checkNormAlias(given: given)
        if let task = knownTask { try resolveTargetStandardization(task, file: file) }
        try checkClassNames(given: given)
        try checkOptimizer(given: given)
        try checkLBFGS(file: file)
        try checkAugmentation(given: given)
        try resolveScheduler(given: given, file: file)
        try resolveEarlyStopping(given: given, file: file)
        try resolveCheckpointBest(given: given, file: file)
        try checkPruning(given: given, file: file)
        try checkResidual(given: given, file: file)
        try checkSWA(given: given, file: file)
        try checkInitLayers(given: given)
        try checkLayerTraining(given: given, file: file)
    }

    /// `training.freeze`, `freeze_epochs` and `optimizer.layer_lr` name this model's linear layers (0 to
    /// len(hidden), the last the head), leave at least one layer training, and unfreeze within the run; lbfgs
    /// steps all parameters as one vector, and ASGD's averaged model would hold zeros where layers never step
    /// (torch.optim.ASGD's `ax` starts at zero and moves only with steps), so both refuse frozen layers.
    private func checkLayerTraining(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let count = model.hidden.count + 1
        func refuse(_ key: String, _ message: String) -> NNTrainError {
            keySources.problem(key, message, placedAt: ["training.freeze", "training.freeze_epochs"], file: file)
        }
        let layers = "model.hidden \(model.hidden) makes \(count) linear layers (0 to \(count - 1), the last the head)"
        if let freeze = training.freeze {
            if let beyond = freeze.first(where: { $0 >= count }) {
                throw refuse("training.freeze", "names layer \(beyond), but \(layers); expected indices of them")
            }
            if freeze.count == count {
                throw refuse("training.freeze", "freezes every layer, so nothing would train; expected at most \(count - 1) "
                    + "of the \(count) layers (the head, \(count - 1), usually trains)")
            }
        }
        if let epochs = training.freezeEpochs {
            if epochs >= training.epochs {
                throw refuse("training.freeze_epochs", "is \(epochs) but training.epochs is \(training.epochs), so the "
                    + "frozen layers would never train; expected fewer epochs, or training.freeze alone to freeze them "
                    + "for the whole run")
            }
            if training.freeze == nil, count == 1 {
                throw refuse("training.freeze_epochs", "has nothing to freeze: model.hidden is empty, so the head is the "
                    + "only layer; expected hidden layers, or no freeze_epochs")
            }
        }
        if let scales = optimizer.layerLR, scales.count != count {
            throw refuse("optimizer.layer_lr", "has \(scales.count) multipliers, but \(layers); expected one per layer")
        }
        let freezes = training.freeze != nil || training.freezeEpochs != nil
        if optimizer.name == .lbfgs, freezes || optimizer.layerLR != nil {
            let key = freezes ? (training.freeze != nil ? "training.freeze" : "training.freeze_epochs") : "optimizer.layer_lr"
            throw refuse(key, "lbfgs steps every parameter along one direction with one step length, so it takes "
                + "neither frozen layers nor per-layer learning rates; expected another optimizer")
        }
        if optimizer.name == .asgd, freezes {
            throw refuse(training.freeze != nil ? "training.freeze" : "training.freeze_epochs", "asgd's averaged model "
                + "(its ax, which nntrain evaluates) starts at zero and moves only where the optimizer steps, so a frozen "
                + "layer would be zero in it; expected another optimizer")
        }
        if optimizer.name == .asgd, optimizer.layerLR != nil {
            throw refuse("optimizer.layer_lr", "asgd's step size eta is one value decayed from the lr of its first step, "
                + "not a per-layer one; expected another optimizer, or no layer_lr")
        }
    }

    /// `model.init_layers` names linear layers of this model: indices below len(hidden) + 1.
    private func checkInitLayers(given: [String: ConfigValue]) throws(NNTrainError) {
        guard let layers = model.initLayers, let value = given["model.init_layers"] else { return }
        let count = model.hidden.count + 1
        guard let beyond = layers.first(where: { $0 >= count }) else { return }
        throw value.problem("names layer \(beyond), but model.hidden \(model.hidden) makes \(count) linear layers "
            + "(0 to \(count - 1), the last the head); expected indices of them")
    }

    /// SWA needs its lr (SWALR's swa_lr has no default) and a start within training; its average is
    /// the final model, so an EMA kept beside it cannot be (`ema.evaluate`).
    private func checkSWA(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        guard let start = swa.startEpoch else { return }
        func source(_ key: String) -> ConfigSource { given["swa." + key]?.source ?? .file(path: file, line: nil) }
        if swa.lr == nil {
            throw source("start_epoch").error("swa.start_epoch is given but swa.lr is not; expected swa.lr, the lr "
                + "SWALR anneals to (swa_lr, e.g. 0.05)")
        }
        if ema.enabled, ema.evaluate {
            throw (given["ema.evaluate"]?.source ?? .file(path: file, line: nil)).error("ema.evaluate is true with "
                + "swa.start_epoch: the SWA average is the final model; expected ema.evaluate false (the EMA is still "
                + "kept) or no swa section")
        }
        if start > training.epochs {
            throw source("start_epoch").error("swa.start_epoch is \(start) but training.epochs is \(training.epochs); "
                + "expected at most \(training.epochs)")
        }
    }

    /// Pruning's epochs lie within training (start_epoch <= end_epoch <= training.epochs), the ramp
    /// rises (initial_sparsity <= sparsity). (Gradual's keys given to once are refused as keys of
    /// another choice, see `checkConditionalKeysApply`.)
    private func checkPruning(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        guard pruning.method != nil else { return }
        func source(_ key: String) -> ConfigSource { given["pruning." + key]?.source ?? .file(path: file, line: nil) }
        if pruning.startEpoch > training.epochs {
            throw source("start_epoch").error("pruning.start_epoch is \(pruning.startEpoch) but training.epochs is "
                + "\(training.epochs); expected at most \(training.epochs)")
        }
        if let end = pruning.endEpoch, end < pruning.startEpoch || end > training.epochs {
            throw source("end_epoch").error("pruning.end_epoch is \(end); expected from start_epoch (\(pruning.startEpoch)) "
                + "to training.epochs (\(training.epochs))")
        }
        if pruning.initialSparsity > pruning.sparsity {
            throw source("initial_sparsity").error("pruning.initial_sparsity \(pruning.initialSparsity) exceeds "
                + "pruning.sparsity \(pruning.sparsity); expected at most \(pruning.sparsity)")
        }
        if pruning.method == .neurons, model.hidden.isEmpty {
            throw source("method").error("pruning.method neurons prunes hidden units but model.hidden is []; "
                + "expected hidden layers or method: magnitude")
        }
        if pruning.method == .magnitude, model.hidden.isEmpty, !pruning.includeOutput {
            throw source("method").error("pruning.method magnitude prunes the hidden layers' weights but model.hidden "
                + "is [] and include_output is false; expected hidden layers or include_output: true")
        }
        if pruning.method == .neurons, model.norm == .layer {
            throw source("method").error("pruning.method neurons removes hidden units, but with model.norm layer a "
                + "removed unit still counts in its row's mean and variance, so the smaller model would compute "
                + "another function; expected method: magnitude, or norm: batch or none")
        }
        if pruning.method == .neurons,
           let width = model.hidden.first(where: { PruningMasks.prunedCount(sparsity: pruning.sparsity, size: $0) >= $0 })
        {
            throw source("sparsity").error("pruning.sparsity \(pruning.sparsity) prunes every unit of a hidden layer of "
                + "\(width) (round(\(pruning.sparsity) · \(width)) = \(width)); expected a sparsity that keeps at least "
                + "one unit of each hidden layer")
        }
    }

    /// `model.batch_norm` is the older name of `model.norm`: given beside it, the two must agree (true with
    /// batch; false with none or layer), else the alias's line is refused with the value it would need.
    private func checkNormAlias(given: [String: ConfigValue]) throws(NNTrainError) {
        guard let alias = given["model.batch_norm"], let aliasValue = try? alias.boolean(), let norm = given["model.norm"],
              let normKind = try? norm.choice() as NormKind else { return }
        let batch = normKind == .batch
        guard aliasValue != batch else { return }
        throw alias.problem("is \(aliasValue), the older name of model.norm: \(aliasValue ? "batch" : "none"), but model.norm "
            + "is \(normKind.rawValue); expected batch_norm: \(batch) or model.norm alone")
    }

    /// `model.residual` needs a hidden layer after the first (the first, input → hidden, has no shortcut,
    /// so with fewer the flag would change nothing); with `residual_projection: none` consecutive hidden
    /// widths must agree (x + f(x) needs one width); neuron pruning removes hidden units, which the identity
    /// shortcuts of the same width cannot lose, so it is refused (magnitude pruning is not).
    private func checkResidual(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        guard model.residual else { return }
        func source(_ key: String, _ fallback: String = "model.residual") -> ConfigSource {
            (given[key] ?? given[fallback])?.source ?? .file(path: file, line: nil)
        }
        guard model.hidden.count >= 2 else {
            throw source("model.residual").error("model.residual adds a skip connection to each hidden layer after "
                + "the first, but model.hidden is \(yamlFlowList(model.hidden)); expected at least two hidden layers")
        }
        if model.residualProjection == .none,
           let i = model.hidden.indices.dropFirst().first(where: { model.hidden[$0] != model.hidden[$0 - 1] }) {
            throw source("model.hidden", "model.residual_projection").error("model.hidden: hidden layer \(i) goes from "
                + "width \(model.hidden[i - 1]) to \(model.hidden[i]), which x + f(x) cannot add with "
                + "model.residual_projection none; expected equal hidden widths or residual_projection: linear")
        }
        if pruning.method == .neurons {
            throw source("pruning.method").error("pruning.method neurons removes hidden units, but model.residual adds "
                + "each block's input to its output unit by unit, so a removed unit would still carry its input; "
                + "expected method: magnitude or model.residual: false")
        }
    }

    /// The most parameters a model may have: 2^28, 1 GiB of float32 (training keeps three to five
    /// copies: weights, gradients, optimizer state). A model beyond it is a typo or a hostile
    /// config, and allocating it would abort the process instead of giving an error.
    public static let maxParameters = 1 << 28

    /// The task the config fixes before the data is read: the dataset kind's, or a csv's `data.task`
    /// unless auto; nil when the data decide it.
    var knownTask: PredictionTask? { data.dataset.task ?? data.task.task }

    /// The defaults of a csv run, for small tabular data rather than Fashion-MNIST's 60,000 images,
    /// after scikit-learn's MLPClassifier and MLPRegressor (one hidden layer of 100, adam at 1e-3,
    /// up to 200 epochs, stopping once the loss has not improved for 10 epochs): model.hidden [100],
    /// training.epochs 200, early stopping on val_loss with patience 10 that restores the best
    /// epoch's weights (when there is a validation split; scikit-learn's early_stopping=True keeps
    /// the best validation weights too), and per-column standardisation (as a StandardScaler in front
    /// of scikit-learn's MLP; min-max scaling lets one outlier squash a column). The batch is 64 rows
    /// rather than scikit-learn's min(200, n): a few hundred rows then still give 4 or more steps an
    /// epoch, and a million rows an epoch of small steps that early stopping ends when the validation
    /// loss stalls. last.bin is written every 25 epochs rather than every epoch: a small table's
    /// epoch takes a fraction of a millisecond and a durable checkpoint (written, synced, renamed)
    /// about 20 ms, so writing one per epoch made a 200-epoch run of iris 1.4 s instead of 0.15 s;
    /// the best epoch is kept in memory for restore_best, and the end is always written. Each applies
    /// only when its key is not given.
    private mutating func applyTabularDefaults(given: [String: ConfigValue]) {
        if given["model.hidden"] == nil { model.hidden = [100] }
        if given["training.epochs"] == nil { training.epochs = 200 }
        if given["training.batch_size"] == nil { training.batchSize = .rows(64) }
        if given["checkpoint.every_n_epochs"] == nil { checkpoint.everyNEpochs = 25 }
        if given["data.normalize"] == nil { data.normalize = .standardize }
        if given["early_stopping.patience"] == nil, data.hasValidation {
            earlyStopping.patience = 10
            if given["early_stopping.restore_best"] == nil { earlyStopping.restoreBest = true }
        }
    }

    /// k-fold cross-validation: fold `data.fold` of `data.folds` is the validation split, so it needs
    /// `data.fold`, within 1...folds, and replaces `validation_split`, which is not given with it.
    private func checkFolds(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        guard let folds = data.folds else { return }
        if let value = given["data.validation_split"] {
            throw value.problem("given together with data.folds, whose fold data.fold is the validation split; "
                + "expected one of the two (nntrain cv unsets it itself)")
        }
        guard let fold = data.fold else {
            throw (given["data.folds"]?.source ?? .file(path: file, line: nil)).error("data.folds is \(folds) but "
                + "data.fold is not given; expected data.fold: the fold, 1 to \(folds), that is the validation split")
        }
        if fold > folds, let value = given["data.fold"] {
            throw value.problem("\(fold) is out of range; expected a fold from 1 to data.folds (\(folds))")
        }
    }

    /// A csv dataset needs its target column, which may not also be a feature, categorical or dropped;
    /// a separate test file replaces test_split, so the two are not given together; class names need a
    /// task with classes.
    private func checkCSVKeys(given: [String: ConfigValue]) throws(NNTrainError) {
        guard let target = data.target else {
            throw (given["data.dataset"] ?? given["data"])?.problem("csv needs the column to predict; expected "
                + "data.target: NAME as well") ?? NNTrainError(.config, "data.target: csv needs the column to predict")
        }
        for key in ["features", "categorical", "drop"] {
            let names = key == "features" ? data.features ?? [] : key == "drop" ? data.drop : data.categorical
            if names.contains(target), let value = given["data.\(key)"] {
                throw value.problem("lists the target column \(quoted(target)); expected feature columns only")
            }
        }
        if data.testPath != nil, let value = given["data.test_split"] {
            throw value.problem("given together with data.test_path, which is the test set; expected one of the two")
        }
        if data.task == .regression, let value = given["data.class_names"] {
            throw value.problem("names classes, but data.task is regression, whose target has none; expected no "
                + "data.class_names, or data.task: classification or auto")
        }
    }

    /// `data.standardize_target` for a target of `task`: written out for a regression target (true or
    /// false as `standardizesTarget` decides, so the resolved YAML says what was done), and refused when
    /// given for classes, which are never standardised.
    private mutating func resolveTargetStandardization(_ task: PredictionTask, file: String) throws(NNTrainError) {
        guard task == .classification else {
            data.standardizeTarget = data.standardizesTarget(task: task)
            return
        }
        if data.standardizeTarget != nil {
            throw keySources.problem("data.standardize_target", "applies to a regression target only, but \(data.path)'s "
                + "target is classified; expected no data.standardize_target (or data.task: regression)", file: file)
        }
    }

    /// Fills in and checks what needs the data read: the loss unless given (the task's usual one: cross_entropy,
    /// or mse for regression), whether a regression target is standardised, that the loss and the monitored
    /// figures fit the `task` (and no class names are given for a regression target), and that the model fits
    /// in memory with `inputWidth` inputs and `outputWidth` outputs. Errors name the key's place in the config
    /// (`keySources`), or `file`.
    public mutating func resolveDataDefaults(task: PredictionTask, inputWidth: Int, outputWidth: Int,
                                             file: String) throws(NNTrainError) {
        let given = keySources.sources
        if given["loss"] == nil { loss = task.fittingLosses[0] }
        try checkLossFits(task, file: file)
        try checkLossWeightsFit(task, classes: outputWidth, file: file)
        try resolveTargetStandardization(task, file: file)
        if task == .regression, given["data.class_names"] != nil {  // data.task: regression is refused before reading
            throw keySources.problem("data.class_names", "names classes, but the target of \(data.path) is regression "
                + "(real-valued); expected no data.class_names, or data.task: classification", file: file)
        }
        if task == .regression {
            for (key, monitor) in [("early_stopping.monitor", earlyStopping.monitor), ("checkpoint.monitor", checkpoint.monitor),
                                   ("scheduler.monitor", scheduler.monitor)] {
                if let monitor, monitor.higherIsBetter {
                    throw keySources.problem(key, "\(monitor.rawValue) needs a classification dataset; expected val_loss or "
                        + "train_loss for \(data.path), whose target is real-valued", placedAt: ["data.target", "data.dataset"],
                        file: file)
                }
            }
        }
        try checkModelSize(inputWidth: inputWidth, outputWidth: outputWidth, file: file)
    }

    /// Refuses `model.hidden` widths that make a model of more than `maxParameters` parameters with
    /// `inputWidth` inputs and `outputWidth` outputs, counted with overflow checks (a width of 2^63 - 1
    /// would overflow the product, which traps).
    private func checkModelSize(inputWidth: Int, outputWidth: Int, file: String) throws(NNTrainError) {
        let widths = [inputWidth] + model.hidden + [outputWidth]
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
        if model.norm != .none { for width in model.hidden { add(2, times: width) } }  // gamma and beta
        if model.residual {  // the projections P [out, in] where a hidden width changes
            for (inputs, outputs) in zip(model.hidden, model.hidden.dropFirst()) where inputs != outputs {
                add(inputs, times: outputs)
            }
        }
        guard overflow || count > Self.maxParameters else { return }
        let counted = overflow ? "at least 2^63" : "\(count)"
        let data = self.data.dataset.knownWidths == nil ? self.data.path : self.data.dataset.rawValue
        throw keySources.problem("model.hidden", "makes a model of \(counted) parameters with \(data)'s "
            + "\(inputWidth) inputs and \(outputWidth) outputs; expected at most \(Self.maxParameters) (1 GiB of float32)",
            file: file)
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
        let monitor = monitor ?? (data.hasValidation ? .valLoss : .trainLoss)
        try checkMonitor(monitor, key: key, given: given, file: file)
        return (monitor, mode ?? (monitor.higherIsBetter ? .max : .min))
    }

    /// A monitored figure must exist in every epoch: validation figures need a validation split,
    /// accuracies a classification dataset.
    func checkMonitor(_ monitor: MonitoredMetric, key: String, given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let source = given[key]?.source ?? ConfigSource.file(path: file, line: nil)
        if monitor.needsValidation, !data.hasValidation {
            throw source.error("\(key): \(monitor.rawValue) needs a validation split; "
                + "expected data.validation_split > 0 or monitor: train_loss")
        }
        if monitor.higherIsBetter, knownTask == .regression {
            throw source.error("\(key): \(monitor.rawValue) needs a classification dataset; "
                + "expected val_loss or train_loss for \(data.dataset.rawValue)")
        }
    }

    /// An IDX set's class names: a preset's must be as many as its classes (they rename them); any
    /// set's at most `IDXImageSet.maxClasses`.
    private func checkClassNames(given: [String: ConfigValue]) throws(NNTrainError) {
        guard let names = data.classNames, let set = data.dataset.imageSet, let value = given["data.class_names"] else { return }
        if let classes = set.classNames?.count, names.count != classes {
            throw value.problem("\(names.count) names for the \(classes) classes of \(data.dataset.rawValue); "
                + "expected \(classes) names, or none for its own")
        }
        if names.count > IDXImageSet.maxClasses {
            throw value.problem("\(names.count) names; expected at most \(IDXImageSet.maxClasses) classes")
        }
    }

    /// PyTorch's SGD refuses Nesterov momentum without momentum or with dampening; Rprop refuses etas
    /// outside 0 < η− < 1 < η+ (and nntrain step sizes with Δmin > Δmax, which would clamp every step
    /// size to Δmax); rmsprop's α, which asgd shares as a power, must be below 1.
    private func checkOptimizer(given: [String: ConfigValue]) throws(NNTrainError) {
        if optimizer.name == .rmsprop, optimizer.alpha >= 1, let value = given["optimizer.alpha"] {
            throw value.problem("\(optimizer.alpha) is not a smoothing constant; expected a number >= 0 and < 1 for rmsprop")
        }
        if optimizer.name == .rprop, let value = given["optimizer.etas"], !(optimizer.etas[0] < 1 && optimizer.etas[1] > 1) {
            throw value.problem("[\(optimizer.etas[0]), \(optimizer.etas[1])] is not 0 < etaminus < 1 < etaplus "
                + "(as torch.optim.Rprop); expected e.g. [0.5, 1.2]")
        }
        if optimizer.name == .rprop, let value = given["optimizer.step_sizes"], optimizer.stepSizes[0] > optimizer.stepSizes[1] {
            throw value.problem("the least step size \(optimizer.stepSizes[0]) is above the greatest \(optimizer.stepSizes[1]); "
                + "expected [min, max], e.g. [1e-06, 50]")
        }
        if optimizer.nesterov, optimizer.momentum <= 0 || optimizer.dampening != 0, let value = given["optimizer.nesterov"] {
            throw value.problem("nesterov momentum requires momentum > 0 and dampening 0 (as torch.optim.SGD); "
                + "expected optimizer.momentum: 0.9 or nesterov: false")
        }
    }

    /// lbfgs re-evaluates the objective through a closure and line-searches on it, so it needs the same
    /// objective at every evaluation: the whole training split as one batch (`training.batch_size: full`),
    /// no gradient accumulation, no loss scaling (torch's GradScaler refuses closure optimizers: a skipped
    /// evaluation would break the line search), and no L1 term (its gradient without its loss would
    /// mislead the line search; torch's LBFGS has no weight decay either, so `weight_decay` does not apply).
    /// Each refusal names the key's line, or optimizer.name's when the key was left at its default.
    private func checkLBFGS(file: String) throws(NNTrainError) {
        guard optimizer.name == .lbfgs else { return }
        func refuse(_ key: String, _ message: String) -> NNTrainError {
            keySources.problem(key, message, placedAt: ["optimizer.name"], file: file)
        }
        if training.batchSize != .full {
            throw refuse("training.batch_size", "lbfgs line-searches on the loss, which must be the same function at "
                + "every evaluation of a step, so it trains on the whole training split; "
                + "expected training.batch_size: full")
        }
        if training.accumulateSteps > 1 {
            throw refuse("training.accumulate_steps", "lbfgs evaluates the full batch several times per step; "
                + "expected 1 (no accumulation) with optimizer.name: lbfgs")
        }
        if training.precision != .fp32, training.lossScale != LossScaling.none {
            throw refuse("training.loss_scale", "torch's GradScaler does not support closure optimizers such as lbfgs "
                + "(a skipped evaluation would break its line search); expected training.loss_scale: none, "
                + "or precision bf16 without it")
        }
        if regularization.l1 > 0 {
            throw refuse("regularization.l1", "lbfgs line-searches on the loss, which does not include the L1 term "
                + "whose gradient it would add; expected 0 with optimizer.name: lbfgs")
        }
    }

    /// Augmentation changes images, so it needs an image dataset; crop_scale is a range [a, b].
    private func checkAugmentation(given: [String: ConfigValue]) throws(NNTrainError) {
        if let scale = data.augment.cropScale, scale.count == 2, scale[0] > scale[1] {
            let message = "[\(scale[0]), \(scale[1])] is not a range; expected [a, b] with a <= b "
                + "(RandomResizedCrop's scale, like [0.8, 1.0])"
            throw given["data.augment.crop_scale"]?.problem(message)
                ?? NNTrainError(.config, "data.augment.crop_scale: " + message)
        }
        guard !data.dataset.isImages, augmentation.isEnabled else { return }
        let keys = ["hflip", "shift", "erasing", "mixup", "rotation", "crop_scale", "cutmix", "brightness", "contrast", "noise"]
        let value = keys.lazy.compactMap { given["data.augment.\($0)"] }.first
        throw (value ?? given["data.dataset"])?.problem("augmentation applies to image datasets, not "
            + "\(data.dataset.rawValue); expected data.augment to be off") ?? NNTrainError(.config, "data.augment: "
            + "augmentation applies to image datasets, not \(data.dataset.rawValue)")
    }

    /// Fills in reduce_on_plateau's monitored metric and mode and cyclic's mode, and refuses a
    /// schedule missing a key PyTorch requires, a mode that does not fit it, or momentum cycling for an
    /// optimizer without momentum (a relative plateau threshold of 1 or more is taken, as PyTorch
    /// takes it, though no figure can then improve on the best). The defaults that need the
    /// batches of an epoch (t_max, max_lr, ...) are filled in by `resolvingScheduleDefaults` once the
    /// data is loaded, and the checks that need them are `checkScheduleFitsTheData`'s.
    private mutating func resolveScheduler(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let place = given["scheduler.name"] ?? given["scheduler"]
        func missing(_ key: String, _ example: String) -> NNTrainError {
            let source = place?.source ?? ConfigSource.file(path: file, line: nil)
            return source.error("scheduler.\(key) is required for scheduler \(scheduler.name.rawValue); "
                + "expected e.g. \(key): \(example)")
        }
        switch scheduler.name {
        case .step where scheduler.stepSize == nil: throw missing("step_size", "10")
        case .multistep where scheduler.milestones.isEmpty: throw missing("milestones", "[10, 20]")
        case .exponential where scheduler.gamma == nil: throw missing("gamma", "0.95")
        case .cosineRestarts where scheduler.t0 == nil: throw missing("t_0", "10")
        default: break
        }
        if scheduler.name == .multistep,
           zip(scheduler.milestones, scheduler.milestones.dropFirst()).contains(where: { $0 >= $1 }),
           let value = given["scheduler.milestones"] {
            throw value.problem("\(yamlFlowList(scheduler.milestones)) is not increasing; expected epochs in increasing order")
        }
        if scheduler.warmupSteps > 0, scheduler.warmupEpochs > 0, let value = given["scheduler.warmup_epochs"] {
            throw value.problem("given together with warmup_steps; expected one of the two")
        }
        if let value = given["scheduler.mode"] {
            let word = try value.scalarText(expecting: "a single word")
            let modes = ScheduleMode.modes(of: scheduler.name)
            guard let mode = modes.first(where: { $0.word == word }) else {
                throw value.problem("\(quoted(word)) is not one of: \(modes.map(\.word).joined(separator: ", "))")
            }
            scheduler.mode = mode
        }
        if scheduler.name == .reduceOnPlateau, let factor = scheduler.factor, factor >= 1, let value = given["scheduler.factor"] {
            // ReduceLROnPlateau refuses factor >= 1; the key's own bound (<= 1) is ConstantLR's.
            let text = (try? value.scalarText(expecting: "a number")) ?? "\(factor)"
            throw value.problem("\(shown(text)) is out of range; expected a number > 0 and < 1")
        }
        if scheduler.name == .reduceOnPlateau {
            let givenMode: MetricMode? = if case .plateau(let mode)? = scheduler.mode { mode } else { nil }
            let (monitor, mode) = try resolveMonitor(scheduler.monitor, mode: givenMode, key: "scheduler.monitor",
                                                     given: given, file: file)
            scheduler.monitor = monitor
            scheduler.mode = .plateau(mode)
        }
        if scheduler.name == .cyclic { scheduler.mode = scheduler.mode ?? .cyclic(SchedulerSection.cyclicDefaults.mode) }
        if [.oneCycle, .cyclic].contains(scheduler.name), scheduler.cycleMomentum, !optimizer.name.hasMomentum,
           let value = given["optimizer.name"] ?? place {
            throw value.problem("\(optimizer.name.rawValue) has no momentum for scheduler \(scheduler.name.rawValue) to cycle; "
                + "expected scheduler.cycle_momentum: false or another optimizer")
        }
    }

    /// The scheduler checks that need the number of batches in an epoch (`stepsPerEpoch`), made once
    /// the data is loaded and before anything is written: one_cycle must have steps left after the
    /// warm-up (PyTorch's OneCycleLR refuses total_steps < 1), and pct_start × those steps must not be
    /// exactly 1, a rising phase of no length across which PyTorch divides by zero. Every other
    /// scheduler check needs no data and is made while parsing. An error names the line of the key
    /// (`keySources`), or `file` for a configuration not read from one.
    func checkScheduleFitsTheData(stepsPerEpoch: Int, file: String) throws(NNTrainError) {
        let schedule = makeSchedule(stepsPerEpoch: stepsPerEpoch)
        guard case .oneCycle(let cycle) = schedule.schedule else { return }
        if cycle.totalSteps < 1 {
            // Training has at least one step (an epoch of at least one row), so only a warm-up fills it all.
            let key = scheduler.warmupEpochs > 0 ? "scheduler.warmup_epochs" : "scheduler.warmup_steps"
            throw keySources.problem(key, "the warm-up's \(schedule.steps(stepsPerEpoch: stepsPerEpoch)) steps fill all "
                + "\(training.epochs * stepsPerEpoch) steps of training (\(training.epochs) epochs × \(stepsPerEpoch) batches), "
                + "leaving one_cycle none; expected a warm-up shorter than training", file: file)
        }
        if cycle.pctStart * Double(cycle.totalSteps) == 1 {
            throw keySources.problem("scheduler.pct_start", "\(cycle.pctStart) × \(cycle.totalSteps) steps is exactly 1, "
                + "a rising phase of no length (PyTorch divides by zero); "
                + "expected a pct_start with pct_start × total steps ≠ 1", placedAt: ["scheduler.name"], file: file)
        }
    }

    /// Cross-entropy needs class labels and MSE needs real-valued targets, so each task fits its own
    /// losses. The error names the loss key if it was given, else the key that chose the task.
    private func checkLossFits(_ task: PredictionTask, file: String) throws(NNTrainError) {
        let fittingLosses = task.fittingLosses
        guard !fittingLosses.contains(loss) else { return }
        let fittingLoss = fittingLosses.map(\.rawValue).joined(separator: " or ")
        let dataset = data.dataset.task == nil ? data.path
            : data.dataset.rawValue + (keySources.sources["data.dataset"] == nil ? " (the default dataset)" : "")
        throw keySources.problem("loss", "\(loss.rawValue) does not fit \(dataset), a \(task.rawValue) dataset; "
            + "expected \(fittingLoss)", placedAt: ["data.task", "data.dataset"], file: file)
    }

    /// `loss_weights` and `data.sampler: balanced` weigh classes: refused for a regression target; a list of
    /// weights must have one per class.
    private func checkLossWeightsFit(_ task: PredictionTask, classes: Int, file: String) throws(NNTrainError) {
        if task == .regression, data.sampler == .balanced {
            throw keySources.problem("data.sampler", "balanced draws rows by class, but the target of \(data.path) is "
                + "regression (real-valued); expected data.sampler: shuffle", file: file)
        }
        guard let lossWeights else { return }
        if task == .regression {
            throw keySources.problem("loss_weights", "weighs classes, but the target of \(data.path) is regression "
                + "(real-valued); expected no loss_weights", file: file)
        }
        if case .given(let weights) = lossWeights, weights.count != classes {
            throw keySources.problem("loss_weights", "has \(weights.count) weights but the data has \(classes) classes; "
                + "expected one weight per class", file: file)
        }
    }

    /// Refuses a key given where it does not apply (`momentum` with adam, `betas` with sgd), naming
    /// the keys that do apply.
    private func checkConditionalKeysApply(given: [String: ConfigValue]) throws(NNTrainError) {
        let entries = Self.keys.valueEntries
        for (path, key) in entries {
            guard let value = given[path], let condition = key.condition?.failingLink(in: self) else { continue }
            let current = condition.currentChoice(in: self) ?? ""
            let defaultNote = given[condition.keyPath] == nil ? " (the default)" : ""
            let keysThatApply = entries.filter {
                $0.key.condition?.keyPath == condition.keyPath && $0.key.condition?.holds(in: self) == true
            }.map(\.key.name)
            let usesNote = keysThatApply.isEmpty ? "" : ", which uses \(keysThatApply.joined(separator: ", "))"
            if condition.requiresUnset {
                throw value.problem("applies only without \(condition.keyPath), which is \(current); expected one of the two")
            }
            guard condition.currentChoice(in: self) != nil else {
                let choices = condition.choices.map { "to \($0.joined(separator: ", ")) of " } ?? "with "
                throw value.problem("applies only \(choices)\(condition.keyPath), which is not set")
            }
            throw value.problem("applies only \(condition.scope()), not \(current)\(defaultNote)\(usesNote)")
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
