import Foundation

extension Configuration {
    /// Every key of the config file, in the order `resolvedYAML()` writes them and error messages
    /// list them: the one declaration of each key (its values, meaning, when it applies and what
    /// leaving it out means), from which come parsing, config.yaml, `nntrain config --defaults`, `--set`
    /// completion and docs/config.md. Adding a key to the format is one entry here, its field (with its
    /// default) in `Configuration`, and `make docs`.
    static let keys: [ConfigKey] = [
        .integer("seed", \.seed, atLeast: 0,
                 help: "seeds initialisation, splits, shuffling, dropout and augmentation"),
        .section("data", [
            .choice("dataset", \.data.dataset, help: "the dataset to train on"),
            .path("path", \.data.path, help: "folder of the 4 IDX files (fashion-mnist, mnist, idx), or the training CSV")
                .whenUnset("data/fashion-mnist, data/mnist, data/bonus.csv for bonus, data/train.csv for csv; required for idx"),
            .optionalText("target", \.data.target, help: "the column to predict")
                .onlyWhen("data.dataset", is: DatasetKind.csv).whenUnset("none (csv requires it)"),
            .choice("task", \.data.task, help: "auto: a target of text, or of integers with at most 50 distinct values, "
                + "is classified; any other numbers are regressed")
                .onlyWhen("data.dataset", is: DatasetKind.csv),
            .optionalTextList("features", \.data.features, example: "[age, city]", help: "the feature columns")
                .onlyWhen("data.dataset", is: DatasetKind.csv).whenUnset("every column but the target and data.drop"),
            .textList("drop", \.data.drop, example: "[id]", help: "columns left out of the features (an id)")
                .onlyWhen("data.dataset", is: DatasetKind.csv),
            .textList("categorical", \.data.categorical, example: "[zip_code]",
                      help: "numeric columns to one-hot encode too (text columns always are)")
                .onlyWhen("data.dataset", is: DatasetKind.csv),
            .textList("missing_values", \.data.missingValues, example: "[\"\", NA]",
                      help: "field texts that mean a missing value (pandas' na_values)")
                .onlyWhen("data.dataset", is: DatasetKind.csv),
            .choice("missing", \.data.missing, help: "a missing feature value: refuse (naming it), drop_rows, or impute "
                + "(the training split's mean, or its most frequent category)")
                .onlyWhen("data.dataset", is: DatasetKind.csv),
            .number("validation_split", \.data.validationSplit, .atLeastZeroBelowOne,
                    help: "fraction held out from the training set for validation, drawn with the seed "
                        + "(stratified for a classified CSV)")
                .onlyWhenUnset("data.folds").whenUnset("0.1 (nntrain cv unsets it: the fold replaces it)"),
            .optionalInteger("folds", \.data.folds, atLeast: 2,
                             help: "k-fold cross-validation: the training rows dealt into K folds (drawn with the seed, "
                                + "stratified for classification), fold data.fold the validation split (nntrain cv)")
                .whenUnset("off: validation_split holds out the validation rows"),
            .optionalInteger("fold", \.data.fold, atLeast: 1, help: "the fold, 1 to data.folds, that is the validation split")
                .onlyWhenSet("data.folds").whenUnset("none (required with data.folds)"),
            .optionalNumber("test_split", \.data.testSplit, .aboveZeroBelowOne,
                            help: "fraction held out from a CSV as its test set (IDX sets have their own)")
                .whenUnset("0.2, unless data.test_path gives the test set"),
            .optionalPath("test_path", \.data.testPath, help: "a test CSV with the training CSV's columns")
                .onlyWhen("data.dataset", is: DatasetKind.csv).whenUnset("none: test_split of data.path is held out"),
            .optionalBoolean("standardize_target", \.data.standardizeTarget,
                             help: "regression: train on (y - mean) / std of the training split's targets, the model "
                                + "ending in y = std * z + mean, so every figure is in the target's units")
                .onlyWhen("data.dataset", is: DatasetKind.csv, .bonus)
                .whenUnset("true for a csv regression target, false for bonus; refused for classification"),
            .choice("normalize", \.data.normalize,
                    help: "none: raw values; scale: pixels / 255, CSV columns min-max; standardize: (x - mean) / std "
                        + "(csv: standardize by default; one-hot columns stay 0/1)"),
            .optionalTextList("class_names", \.data.classNames, example: "[cat, dog]",
                              help: "the classes' names in label order (a CSV's target values, an IDX set's labels 0...K-1)")
                .whenUnset("the dataset's own names; a CSV's sorted target values; \"0\"...\"K-1\" for idx"),
            .section("files", help: "an IDX set's four files, relative to data.path", [
                .optionalPath("train_images", \.data.files.trainImages, help: "the training images (rank-3 IDX of bytes)")
                    .onlyWhen("data.dataset", is: DatasetKind.idx).whenUnset("train-images-idx3-ubyte[.gz]"),
                .optionalPath("train_labels", \.data.files.trainLabels, help: "the training labels (rank-1 IDX of integers)")
                    .onlyWhen("data.dataset", is: DatasetKind.idx).whenUnset("train-labels-idx1-ubyte[.gz]"),
                .optionalPath("test_images", \.data.files.testImages, help: "the test images")
                    .onlyWhen("data.dataset", is: DatasetKind.idx).whenUnset("t10k-images-idx3-ubyte[.gz]"),
                .optionalPath("test_labels", \.data.files.testLabels, help: "the test labels")
                    .onlyWhen("data.dataset", is: DatasetKind.idx).whenUnset("t10k-labels-idx1-ubyte[.gz]"),
            ]),
            .choice("sampler", \.data.sampler, help: "an epoch's training rows: shuffle (each once), or balanced "
                + "(WeightedRandomSampler: as many rows drawn with replacement, each with probability ∝ 1 / its class's count)"),
            .section("augment", help: "training images only; validation and test are never augmented", [
                .boolean("hflip", \.data.augment.hflip, help: "flip left-right with p = 0.5 (RandomHorizontalFlip)"),
                .integer("shift", \.data.augment.shift, atLeast: 0,
                         help: "max pixels of random shift, zero padded (RandomCrop(size, padding=shift)); 0 is off"),
                .number("erasing", \.data.augment.erasing, .atLeastZeroAtMostOne,
                        help: "probability of random erasing (RandomErasing: scale 0.02-0.33, ratio 0.3-3.3)"),
                .number("mixup", \.data.augment.mixup, .nonNegative, help: "alpha of mixup's Beta(alpha, alpha); 0 is off"),
                .number("rotation", \.data.augment.rotation, .nonNegative,
                        help: "max degrees of random rotation, bilinear, black fill (RandomRotation(rotation)); 0 is off"),
                .optionalNumberList("crop_scale", \.data.augment.cropScale, count: 2, .aboveZeroAtMostOne,
                                    example: "[0.8, 1.0]", help: "RandomResizedCrop to the same size: scale [a, b] of the "
                                        + "area, ratio 3/4-4/3, bilinear")
                    .whenUnset("off"),
                .number("cutmix", \.data.augment.cutmix, .nonNegative,
                        help: "alpha of CutMix's Beta(alpha, alpha), labels mixed by the box's area; 0 is off; "
                            + "with mixup, each batch takes one of the two (p = 0.5, timm's switch_prob)"),
                .number("brightness", \.data.augment.brightness, .nonNegative,
                        help: "ColorJitter brightness: x * U(max(0, 1-b), 1+b), clamped; 0 is off"),
                .number("contrast", \.data.augment.contrast, .nonNegative,
                        help: "ColorJitter contrast: blend with the image's mean by U(max(0, 1-c), 1+c), clamped; 0 is off"),
                .number("noise", \.data.augment.noise, .nonNegative,
                        help: "std of additive Gaussian noise on the [0, 1] pixel scale (GaussianNoise's sigma), "
                            + "clamped; 0 is off"),
            ]),
        ]),
        .section("model", [
            .integerList("hidden", \.model.hidden, atLeast: 1, example: "[256, 128]",
                         help: "hidden layer widths; [] is a linear model (csv: [100] by default)"),
            .choice("activation", \.model.activation, help: "the hidden layers' activation (gelu is the exact erf form)"),
            .number("leaky_slope", \.model.leakySlope, .positive, help: "negative slope of leaky_relu (nn.LeakyReLU)")
                .onlyWhen("model.activation", is: ActivationKind.leakyRelu),
            .number("elu_alpha", \.model.eluAlpha, .positive, help: "alpha of elu (nn.ELU)")
                .onlyWhen("model.activation", is: ActivationKind.elu),
            .number("softplus_beta", \.model.softplusBeta, .positive, help: "beta of softplus (nn.Softplus)")
                .onlyWhen("model.activation", is: ActivationKind.softplus),
            .number("softplus_threshold", \.model.softplusThreshold, .positive,
                    help: "softplus is linear where beta*x exceeds it (nn.Softplus)")
                .onlyWhen("model.activation", is: ActivationKind.softplus),
            .number("prelu_init", \.model.preluInit, .any,
                    help: "initial slope of prelu, learned per hidden unit, no weight decay (nn.PReLU init)")
                .onlyWhen("model.activation", is: ActivationKind.prelu),
            .choice("init", \.model.initialization,
                    help: "weight initialisation; default is nn.Linear's own (lecun_normal for selu)"),
            .numberList("init_range", \.model.initRange, count: 2, .any, example: "[-0.05, 0.05]",
                        help: "[a, b] of nn.init.uniform_")
                .onlyWhen("model.init", is: InitializationKind.uniform),
            .number("init_std", \.model.initStd, .positive, help: "standard deviation of nn.init.normal_ (mean 0)")
                .onlyWhen("model.init", is: InitializationKind.normal),
            .choice("bias_init", \.model.biasInit, help: "default: nn.Linear's U(+-1/sqrt(fan_in)); zero"),
            .number("dropout", \.model.dropout, .atLeastZeroBelowOne,
                    help: "dropout probability after each hidden activation (inverted dropout)"),
            .choice("norm", \.model.norm, help: "between each hidden layer's product and its activation: "
                + "batch (BatchNorm1d) or layer (LayerNorm, eps 1e-5, elementwise affine)"),
            .alias("batch_norm", \.model.batchNorm, of: "model.norm",
                   help: "older name of model.norm: true is norm: batch, false norm: none"),
            .boolean("residual", \.model.residual,
                     help: "skip connections: each hidden layer after the first outputs h + dropout(act(W h + b))"),
            .choice("residual_projection", \.model.residualProjection,
                    help: "where a hidden width changes: linear adds P h (P [out, in], no bias); none refuses it")
                .onlyWhen("model.residual", is: true),
            .optionalPath("init_from", \.model.initFrom,
                          help: "start from trained weights: an nntrain checkpoint or a safetensors state_dict "
                              + "(docs/fine-tuning.md)").whenUnset("none: the initialiser's weights"),
            .layerSelection("init_layers", \.model.initLayers,
                            help: "the linear layers copied from init_from (with their norms); the others initialised")
                .onlyWhenSet("model.init_from").whenUnset("all"),
            .boolean("init_normalizer", \.model.initNormalizer,
                     help: "normalise inputs with init_from's statistics instead of the new data's")
                .onlyWhenSet("model.init_from"),
        ]),
        .choice("loss", \.loss, help: "cross_entropy for classification (the default); mse (the default), mae or huber "
            + "for regression"),
        .number("huber_delta", \.huberDelta, .positive, help: "delta of nn.HuberLoss")
            .onlyWhen("loss", is: LossKind.huber),
        .lossWeights("loss_weights", \.lossWeights, help: "cross_entropy's class weights (nn.CrossEntropyLoss's weight): "
            + "balanced, n / (classes · count) on the training split, or one per class; validation and test stay unweighted")
            .onlyWhen("loss", is: LossKind.crossEntropy).whenUnset("every class weighs 1"),
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
                .whenUnset(optimizerDefaults(\.defaultLR)),
            .number("momentum", \.optimizer.momentum, .atLeastZeroBelowOne, help: "momentum factor")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd, .rmsprop),
            .number("dampening", \.optimizer.dampening, .atLeastZeroBelowOne, help: "dampening for momentum")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd),
            .boolean("nesterov", \.optimizer.nesterov, help: "Nesterov momentum (needs momentum > 0, dampening 0)")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd),
            .numberList("betas", \.optimizer.betas, count: 2, .atLeastZeroBelowOne, example: "[0.9, 0.999]",
                        help: "coefficients of the running averages of the gradient and its square")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam, .adamw, .nadam, .adamax, .radam),
            .number("eps", \.optimizer.eps, .nonNegative, help: "term added to the denominator for stability")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam, .adamw, .rmsprop, .adagrad, .nadam, .adadelta, .adamax,
                          .radam)
                .whenUnset(optimizerDefaults(\.defaultEps)),
            .number("weight_decay", \.optimizer.weightDecay, .nonNegative,
                    help: "L2 penalty added to the gradient; decoupled for adamw")
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd, .adam, .adamw, .rmsprop, .adagrad, .nadam, .adadelta, .adamax,
                          .radam, .asgd)
                .whenUnset(optimizerDefaults(\.defaultWeightDecay)),
            .boolean("decay_batch_norm", \.optimizer.decayBatchNorm, help: "also decay (and L1) the norms' gamma and beta"),
            .optionalNumberList("layer_lr", \.optimizer.layerLR, count: nil, .positive, example: "[0.1, 0.3, 1]",
                                help: "discriminative learning rates: one multiplier per linear layer (with its norm), "
                                    + "applied to the scheduled lr (fastai's slice(lo, hi))")
                .whenUnset("every layer at the scheduled lr"),
            .boolean("amsgrad", \.optimizer.amsgrad, help: "the AMSGrad variant")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam, .adamw),
            .number("alpha", \.optimizer.alpha, .nonNegative,
                    help: "rmsprop: smoothing constant of the squared-gradient average (< 1); asgd: power of the eta decay")
                .onlyWhen("optimizer.name", is: OptimizerKind.rmsprop, .asgd)
                .whenUnset("the optimizer's PyTorch default: rmsprop 0.99, asgd 0.75"),
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
                .onlyWhen("optimizer.name", is: OptimizerKind.nadam, .radam),
            .number("rho", \.optimizer.rho, .atLeastZeroAtMostOne, help: "coefficient of the running averages")
                .onlyWhen("optimizer.name", is: OptimizerKind.adadelta),
            .numberList("etas", \.optimizer.etas, count: 2, .positive, example: "[0.5, 1.2]",
                        help: "(etaminus, etaplus): step-size factors after a sign change and after none")
                .onlyWhen("optimizer.name", is: OptimizerKind.rprop),
            .numberList("step_sizes", \.optimizer.stepSizes, count: 2, .nonNegative, example: "[1e-06, 50]",
                        help: "(min, max) of each parameter's step size")
                .onlyWhen("optimizer.name", is: OptimizerKind.rprop),
            .number("lambd", \.optimizer.lambd, .nonNegative, help: "decay term")
                .onlyWhen("optimizer.name", is: OptimizerKind.asgd),
            .number("t0", \.optimizer.t0, .nonNegative, help: "the step at which averaging starts")
                .onlyWhen("optimizer.name", is: OptimizerKind.asgd),
            .integer("max_iter", \.optimizer.maxIter, atLeast: 1, help: "iterations per optimizer step")
                .onlyWhen("optimizer.name", is: OptimizerKind.lbfgs),
            .optionalInteger("max_eval", \.optimizer.maxEval, atLeast: 1, help: "loss evaluations per optimizer step")
                .onlyWhen("optimizer.name", is: OptimizerKind.lbfgs).whenUnset("max_iter * 5 // 4 (torch's default)"),
            .number("tolerance_grad", \.optimizer.toleranceGrad, .nonNegative,
                    help: "a step ends once every |gradient| is at most this")
                .onlyWhen("optimizer.name", is: OptimizerKind.lbfgs),
            .number("tolerance_change", \.optimizer.toleranceChange, .nonNegative,
                    help: "a step ends once the loss or the parameters change less than this")
                .onlyWhen("optimizer.name", is: OptimizerKind.lbfgs),
            .integer("history_size", \.optimizer.historySize, atLeast: 1, help: "update pairs (y, s) kept")
                .onlyWhen("optimizer.name", is: OptimizerKind.lbfgs),
            .choice("line_search_fn", \.optimizer.lineSearchFn, help: "none (a fixed step of lr) or strong_wolfe")
                .onlyWhen("optimizer.name", is: OptimizerKind.lbfgs),
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
            .integer("total_iters", \.scheduler.totalIters, atLeast: 1,
                     help: "epochs from start_factor to end_factor, of constant's factor, of polynomial's decay")
                .onlyWhen("scheduler.name", is: ScheduleKind.linear, .constant, .polynomial),
            .number("power", \.scheduler.power, .positive, help: "the exponent of polynomial's decay")
                .onlyWhen("scheduler.name", is: ScheduleKind.polynomial),
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
                .whenUnset(momentumDefaults(\.baseMomentum, \.baseMomentum)),
            .optionalNumber("max_momentum", \.scheduler.maxMomentum, .atLeastZeroBelowOne, help: "the highest momentum")
                .onlyWhen("scheduler.name", is: ScheduleKind.oneCycle, .cyclic)
                .whenUnset(momentumDefaults(\.maxMomentum, \.maxMomentum)),
            .integer("step_size_up", \.scheduler.stepSizeUp, atLeast: 1, help: "steps of the rising half of a cycle")
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic),
            .optionalInteger("step_size_down", \.scheduler.stepSizeDown, atLeast: 1, help: "steps of the falling half")
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic).whenUnset("step_size_up"),
            .dependentWord("mode", \.scheduler.mode,
                           allowed: "triangular, triangular2 or exp_range (cyclic); min or max (reduce_on_plateau)",
                           help: "cyclic: the cycle's policy; reduce_on_plateau: whether the monitor should fall or rise",
                           word: \.word)
                .onlyWhen("scheduler.name", is: ScheduleKind.cyclic, .reduceOnPlateau)
                .whenUnset("triangular for cyclic; from the monitor for reduce_on_plateau"),
            .optionalNumber("factor", \.scheduler.factor, .aboveZeroAtMostOne,
                            help: "lr is multiplied by it on a plateau (< 1), or for constant's first total_iters epochs")
                .onlyWhen("scheduler.name", is: ScheduleKind.constant, .reduceOnPlateau)
                .whenUnset("0.1 for reduce_on_plateau, 1 for constant"),
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
            .integer("epochs", \.training.epochs, atLeast: 1,
                     help: "epochs to train (csv: 200 by default, which early stopping usually ends sooner)"),
            .batchSize("batch_size", \.training.batchSize,
                       help: "rows per optimizer step (1 is stochastic GD; full is batch GD, one step per epoch; "
                           + "csv: 64 by default)"),
            .integer("accumulate_steps", \.training.accumulateSteps, atLeast: 1,
                     help: "micro-batches of batch_size rows per optimizer step, each loss divided by it "
                        + "(Lightning's accumulate_grad_batches); schedules and logs count optimizer steps"),
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
            .layerList("freeze", \.training.freeze,
                       help: "linear layers (with their norms) that get no update and no gradient computation; a "
                           + "frozen batch norm uses its running statistics")
                .whenUnset("none, or every layer but the head with freeze_epochs"),
            .optionalInteger("freeze_epochs", \.training.freezeEpochs, atLeast: 1,
                             help: "the frozen layers train from epoch N+1 on (fastai's fine_tune(freeze_epochs=N))")
                .whenUnset("frozen for the whole run"),
            .optionalNumber("max_seconds", \.training.maxSeconds, .positive,
                            help: "this invocation's wall-time limit; then a checkpoint, resumable").whenUnset("no limit"),
        ]),
        .section("early_stopping", help: "Keras' EarlyStopping; on when patience is given", [
            .optionalChoice("monitor", \.earlyStopping.monitor, help: "the figure watched")
                .whenUnset("val_loss, or train_loss without a validation split"),
            .optionalChoice("mode", \.earlyStopping.mode, help: "whether the monitor should fall or rise")
                .whenUnset("from the monitor"),
            .optionalInteger("patience", \.earlyStopping.patience, atLeast: 1,
                             help: "epochs without improvement before stopping")
                .whenUnset("off; 10 for csv with a validation split"),
            .number("min_delta", \.earlyStopping.minDelta, .nonNegative, help: "the least change that counts as an improvement"),
            .boolean("restore_best", \.earlyStopping.restoreBest,
                     help: "put the best epoch's weights back at the end, however training ended (csv: true by default)"),
        ]),
        .section("checkpoint", help: "written into <run directory>/checkpoints/", [
            .integer("every_n_epochs", \.checkpoint.everyNEpochs, atLeast: 1,
                     help: "write last.bin after every N-th epoch (and always at the end; csv: 25 by default)"),
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
            .boolean("tensorboard", \.logging.tensorboard,
                     help: "also write TensorBoard event files into <run directory>/tensorboard/ (docs/tensorboard.md)"),
            .boolean("histograms", \.logging.histograms,
                     help: "each parameter's and its gradient's histogram once per epoch (TensorBoard's HISTOGRAMS tab)")
                .onlyWhen("logging.tensorboard", is: true),
            .boolean("layer_stats", \.logging.layerStats,
                     help: "per linear layer N: grad_norm_layerN in steps.csv; grad_norm_layerN, weight_norm_layerN "
                        + "and (relu) dead_units_layerN in metrics.csv; warnings of vanishing gradients and dead ReLUs"),
        ]),
        .section("pruning", help: "masks over the linear layers' weights, as torch.nn.utils.prune's (never biases or "
            + "norm parameters); on when method is given", [
            .optionalChoice("method", \.pruning.method,
                            help: "magnitude: the weights of least |w| (l1_unstructured); neurons: whole hidden units of "
                                + "least L2 norm of their incoming weights (ln_structured n=2, dim=0) and the next "
                                + "layer's inputs from them")
                .whenUnset("off"),
            .choice("scope", \.pruning.scope,
                    help: "layer: each layer pruned to the sparsity; global: one threshold over all pruned weights "
                        + "(global_unstructured)")
                .onlyWhen("pruning.method", is: PruningMethod.magnitude),
            .number("sparsity", \.pruning.sparsity, .atLeastZeroBelowOne,
                    help: "the final fraction of weights (neurons: of each hidden layer's units) pruned (amount)")
                .onlyWhen("pruning.method", is: PruningMethod.magnitude, .neurons),
            .choice("schedule", \.pruning.schedule,
                    help: "once: prune to sparsity at start_epoch; gradual: Zhu & Gupta's cubic ramp from "
                        + "initial_sparsity to sparsity between start_epoch and end_epoch, then fine-tune")
                .onlyWhen("pruning.method", is: PruningMethod.magnitude, .neurons),
            .integer("start_epoch", \.pruning.startEpoch, atLeast: 1, help: "the epoch before whose first step pruning starts")
                .onlyWhen("pruning.method", is: PruningMethod.magnitude, .neurons),
            .optionalInteger("end_epoch", \.pruning.endEpoch, atLeast: 1,
                             help: "gradual: the epoch within which sparsity is reached; the masks stay fixed after it")
                .onlyWhen("pruning.schedule", is: PruningScheduleKind.gradual).whenUnset("training.epochs"),
            .integer("every_n_steps", \.pruning.everyNSteps, atLeast: 1, help: "gradual: optimizer steps between pruning steps")
                .onlyWhen("pruning.schedule", is: PruningScheduleKind.gradual),
            .number("initial_sparsity", \.pruning.initialSparsity, .atLeastZeroBelowOne,
                    help: "gradual: the sparsity of the first pruning step (s_i)")
                .onlyWhen("pruning.schedule", is: PruningScheduleKind.gradual),
            .boolean("include_output", \.pruning.includeOutput, help: "also prune the output layer's weights")
                .onlyWhen("pruning.method", is: PruningMethod.magnitude),
        ]),
        .section("distillation", help: "knowledge distillation (Hinton et al. 2015): learn from a teacher's outputs too", [
            .pathOrPaths("teacher", \.distillation.teacher, example: "[runs/a/checkpoints/best.bin, runs/b/checkpoints/best.bin]",
                         help: "the teacher's checkpoint, or a list of them (an ensemble: probabilities averaged)")
                .whenUnset("none: no distillation"),
            .number("temperature", \.distillation.temperature, .positive,
                    help: "classification: T of softmax(z/T) for teacher and student; the soft term is scaled by T^2")
                .onlyWhenSet("distillation.teacher"),
            .number("alpha", \.distillation.alpha, .atLeastZeroAtMostOne,
                    help: "loss = alpha * T^2 * KL(teacher || student) + (1 - alpha) * the loss on the targets "
                        + "(regression: alpha * MSE to the teacher's outputs)")
                .onlyWhenSet("distillation.teacher"),
        ]),
        .section("ema", help: "an exponential moving average of the weights (AveragedModel with "
            + "get_ema_multi_avg_fn); on when enabled", [
            .boolean("enabled", \.ema.enabled, help: "keep the average: ema = decay * ema + (1 - decay) * w"),
            .number("decay", \.ema.decay, .aboveZeroBelowOne, help: "the weight of the average so far")
                .onlyWhen("ema.enabled", is: true),
            .integer("every_n_steps", \.ema.everyNSteps, atLeast: 1,
                     help: "average after every N-th batch of the run (the first average copies the weights)")
                .onlyWhen("ema.enabled", is: true),
            .boolean("evaluate", \.ema.evaluate,
                     help: "validate and test the average, and make it the final model (eval, predict, export)")
                .onlyWhen("ema.enabled", is: true),
        ]),
        .section("swa", help: "stochastic weight averaging (torch.optim.swa_utils); on when start_epoch is given", [
            .optionalInteger("start_epoch", \.swa.startEpoch, atLeast: 1,
                             help: "the first epoch whose end is averaged; SWALR anneals the lr from it on")
                .whenUnset("off"),
            .optionalNumber("lr", \.swa.lr, .positive, help: "SWALR's swa_lr, the lr annealed to (required)")
                .onlyWhenSet("swa.start_epoch").whenUnset("none: required with start_epoch"),
            .integer("anneal_epochs", \.swa.annealEpochs, atLeast: 0, help: "SWALR's epochs from the lr to swa_lr")
                .onlyWhenSet("swa.start_epoch"),
            .choice("anneal_strategy", \.swa.annealStrategy, help: "cos: (1 - cos(pi t))/2; linear: t")
                .onlyWhenSet("swa.start_epoch"),
            .boolean("evaluate", \.swa.evaluate,
                     help: "validate the average (after update_bn) in the epochs it exists; the average is always the "
                        + "final model")
                .onlyWhenSet("swa.start_epoch"),
        ]),
        .section("output", [
            .optionalPath("dir", \.output.dir, help: "the run directory").whenUnset("runs/<config file name without extension>"),
            .boolean("plots", \.output.plots, help: "draw curves.svg into the run directory when training ends"),
        ]),
    ]

    /// Every key of the config file as `--set` names it, depth first in the order of the key table
    /// (`seed`, `data.dataset`, `data.path`, ...): for shell completion and help.
    public static var keyNames: [String] { keys.valueEntries.map(\.path) }

    /// Every key of the table by its dotted path (`optimizer.lr`).
    static let keysByPath = Dictionary(keys.valueEntries, uniquingKeysWith: { first, _ in first })

    /// What an unset optimizer hyperparameter means, written from `OptimizerKind`'s defaults (the one
    /// place they are stated): `the optimizer's PyTorch default: sgd, adam, adamw 1e-3; rmsprop, ...`,
    /// the optimizers sharing a default listed together, in declaration order.
    private static func optimizerDefaults(_ value: (OptimizerKind) -> Double) -> String {
        var groups: [(value: Double, names: [String])] = []
        for kind in OptimizerKind.allCases {
            if let index = groups.firstIndex(where: { $0.value == value(kind) }) {
                groups[index].names.append(kind.rawValue)
            } else {
                groups.append((value(kind), [kind.rawValue]))
            }
        }
        return "the optimizer's PyTorch default: "
            + groups.map { "\($0.names.joined(separator: ", ")) \(powerOfTenText($0.value))" }.joined(separator: "; ")
    }

    /// A default written as people write learning rates, `1e-3` for 0.001 (`0` for zero); exact for
    /// the mantissas 1...9 that torch.optim's defaults have.
    private static func powerOfTenText(_ value: Double) -> String {
        guard value > 0 else { return "0" }
        if value == 1 { return "1" }  // adadelta's lr
        var exponent = Int(log10(value).rounded(.down))
        var mantissa = (value / pow(10, Double(exponent))).rounded()
        if mantissa >= 10 { (mantissa, exponent) = ((mantissa / 10).rounded(), exponent + 1) }  // log10 just below a power
        return "\(Int(mantissa))e\(exponent)"
    }

    /// What an unset momentum bound of one_cycle and cyclic means, read from the engine's defaults:
    /// `0.85 for one_cycle, 0.8 for cyclic`.
    private static func momentumDefaults(_ oneCycle: KeyPath<LearningRateSchedule.OneCycle, Double>,
                                         _ cyclic: KeyPath<LearningRateSchedule.Cyclic, Double>) -> String {
        "\(SchedulerSection.oneCycleDefaults[keyPath: oneCycle]) for one_cycle, "
            + "\(SchedulerSection.cyclicDefaults[keyPath: cyclic]) for cyclic"
    }
}
