/// Everything a run is made of, as read from the YAML config file (plus `--set` overrides) and
/// validated before any work starts. Defaults are PyTorch's where PyTorch has one.
///
/// Every key is declared once in `Configuration.keys` (Configuration+Keys.swift), with its default
/// (the stored property's initial value here), the values it takes and what it means; docs/config.md
/// is generated from that table (`referenceMarkdown()`). `parse` (Configuration+Parsing.swift) reads
/// and validates a file, `applyRulesBetweenKeys` (Configuration+Rules.swift) ties keys together, and
/// `resolvedYAML()` (Configuration+YAML.swift) writes it back out.
public struct Configuration: Equatable, Sendable {
    /// Seeds every random draw of the run (initialisation, split, shuffling).
    public var seed: UInt64 = 42
    public var data = DataSection()
    public var model = ModelSection()
    public var loss: LossKind = .crossEntropy
    /// δ of the huber loss (nn.HuberLoss's delta, default 1.0), > 0.
    public var huberDelta: Double = 1.0
    /// Class weights of cross_entropy (nn.CrossEntropyLoss's `weight`); nil: every class weighs 1.
    public var lossWeights: LossWeights? = nil
    public var regularization = RegularizationSection()
    public var optimizer = OptimizerSection()
    public var scheduler = SchedulerSection()
    public var training = TrainingSection()
    public var earlyStopping = EarlyStoppingSection()
    public var checkpoint = CheckpointSection()
    public var logging = LoggingSection()
    public var output = OutputSection()
    public var pruning = PruningSection()
    public var distillation = DistillationSection()
    public var ema = EMASection()
    public var swa = SWASection()
    /// Where the file or a `--set` gave each key, for the errors of the checks made once the data is
    /// loaded; no part of the configuration's value (see `KeySources`).
    var keySources = KeySources()

    public init() {}

    public struct DataSection: Equatable, Sendable {
        public var dataset: DatasetKind = .fashionMNIST
        /// Folder of the four IDX files (fashion-mnist, mnist, idx) or the CSV file (bonus), relative
        /// to the working directory. Default: `data/fashion-mnist`, `data/mnist` or `data/bonus.csv`;
        /// idx has none.
        public var path: String = "data/fashion-mnist"
        /// Fraction of the training set held out for validation, drawn with the seed; 0 ≤ x < 1.
        /// Not used with `folds`, whose fold `fold` is the validation split instead.
        public var validationSplit: Double = 0.1
        /// How each epoch orders the training rows: a shuffle, or (classification) rows drawn with
        /// replacement with probability ∝ 1 / their class's count (`BalancedSampler`).
        public var sampler: SamplerKind = .shuffle
        /// k-fold cross-validation (`nntrain cv`): the training rows (a CSV's after its test rows are
        /// taken out) are dealt into K ≥ 2 folds (`Dataset.folds`) and fold `fold` is the validation
        /// split; nil: off, `validationSplit` holds out the validation rows.
        public var folds: Int? = nil
        /// The fold, 1...`folds`, that is the validation split; required with `folds`.
        public var fold: Int? = nil
        /// Whether the run has a validation split: fold `fold` of `folds`, or `validationSplit` > 0.
        public var hasValidation: Bool { folds != nil || validationSplit > 0 }
        /// Fraction of a CSV dataset held out as the test set (IDX sets ship their own); 0 < x < 1.
        /// nil with `testPath`, which is the test set (the rules unset the default then).
        public var testSplit: Double? = defaultTestSplit
        /// The test fraction of a CSV without `test_split` or `test_path`.
        public static let defaultTestSplit = 0.2
        /// The fraction of a CSV held out for test when no `testPath` is given.
        public var testFraction: Double { testSplit ?? Self.defaultTestSplit }
        public var normalize: Normalization = .scale
        /// The classes' names in label order (classification); nil: the dataset's own, or sorted labels.
        public var classNames: [String]? = nil
        /// The names of an IDX set's four files in `path` (idx); nil fields: the standard names.
        public var files = IDXFileNames()
        /// csv: the column the model predicts (required).
        public var target: String? = nil
        /// csv: classification or regression, or `auto` (decided from the target column, see `CSVDataset`).
        public var task: TaskSetting = .auto
        /// csv: the feature columns; nil: every column but the target and `drop`.
        public var features: [String]? = nil
        /// csv: columns left out of the features (an id).
        public var drop: [String] = []
        /// csv: columns one-hot encoded even though their values are numbers (a zip code).
        public var categorical: [String] = []
        /// csv: the field texts that mean "missing", pandas' read_csv default na_values in short.
        public var missingValues: [String] = ["", "NA", "NaN", "nan", "null", "?"]
        /// csv: what a missing feature value does.
        public var missing: MissingPolicy = .refuse
        /// csv: a separate test CSV with the same columns, instead of holding out `test_split`.
        public var testPath: String? = nil
        /// csv and bonus, regression only: train on (y − μ)/σ of the training split's targets, the network
        /// ending in y = σ·z + μ (`TargetScaling`); nil: `standardizesTarget(task:)` decides (true for csv).
        public var standardizeTarget: Bool? = nil
        /// Random changes to training images (never to validation or test data).
        public var augment = AugmentSection()
        public init() {}

        /// Whether a target of `task` is standardised: never a class label; a regression target when
        /// `standardizeTarget` says so, and when it is not given for csv (a table of any units, after
        /// scikit-learn's TransformedTargetRegressor with a StandardScaler) but not for bonus, whose
        /// plain SGD lesson and learned-vs-true weights are those of the raw target.
        public func standardizesTarget(task: PredictionTask) -> Bool {
            task == .regression && (standardizeTarget ?? (dataset == .csv))
        }
    }

    public struct AugmentSection: Equatable, Sendable {
        /// Flip each training image left-right with probability 0.5 (RandomHorizontalFlip).
        public var hflip = false
        /// Shift each training image by up to this many pixels each way, padding with black
        /// (RandomCrop(28, padding=shift)); 0 is off.
        public var shift = 0
        /// Probability of erasing a random rectangle of each training image (RandomErasing); 0 is off.
        public var erasing: Double = 0
        /// α of mixup's Beta(α, α) mixing weight; 0 is off.
        public var mixup: Double = 0
        /// The largest angle of a random rotation, in degrees (RandomRotation(rotation)); 0 is off.
        public var rotation: Double = 0
        /// RandomResizedCrop's scale [a, b], fractions of the image's area; nil is off.
        public var cropScale: [Double]? = nil
        /// α of CutMix's Beta(α, α); 0 is off.
        public var cutmix: Double = 0
        /// ColorJitter's brightness and contrast; 0 is off.
        public var brightness: Double = 0
        public var contrast: Double = 0
        /// The standard deviation of Gaussian noise on the [0, 1] pixel scale; 0 is off.
        public var noise: Double = 0
        public init() {}
    }

    public struct ModelSection: Equatable, Sendable {
        /// Widths of the hidden layers; `[]` is a linear model.
        public var hidden: [Int] = [256, 128]
        public var activation: ActivationKind = .relu
        /// Negative slope of leaky_relu (nn.LeakyReLU's negative_slope, default 0.01), > 0.
        public var leakySlope: Double = 0.01
        /// α of elu (nn.ELU's alpha, default 1.0), > 0.
        public var eluAlpha: Double = 1
        /// β of softplus (nn.Softplus's beta, default 1.0), > 0.
        public var softplusBeta: Double = 1
        /// Softplus is the identity where β·z exceeds this (nn.Softplus's threshold, default 20.0), > 0.
        public var softplusThreshold: Double = 20
        /// The slopes' initial value of prelu (nn.PReLU's init, default 0.25); they are learned.
        public var preluInit: Double = 0.25
        /// Initialisation of the weights; `default` is nn.Linear's own; unset with selu, `lecunNormal`
        /// (nn.SELU's advice), see `applyRulesBetweenKeys`.
        public var initialization: InitializationKind = .default
        /// `[a, b]` of `init: uniform` (nn.init.uniform_, default [0, 1]).
        public var initRange: [Double] = [0, 1]
        /// Standard deviation of `init: normal` (nn.init.normal_ with mean 0, default 1), > 0.
        public var initStd: Double = 1
        /// Initialisation of the biases: nn.Linear's own U(±1/√fan_in), or zero.
        public var biasInit: BiasInitialization = .default
        /// Dropout probability after each hidden layer's activation (nn.Dropout, inverted), 0 ≤ p < 1.
        public var dropout: Double = 0
        /// The normalisation between each hidden layer's product and its activation: none, batch
        /// (nn.BatchNorm1d) or layer (nn.LayerNorm over each row, ε 1e-5, elementwise affine).
        public var norm: NormKind = .none
        /// `norm: batch`, by the older key `batch_norm` (its alias): true sets batch, false clears a batch norm
        /// only (a layer norm stays), so that the two keys read in either order agree when they do not conflict.
        public var batchNorm: Bool {
            get { norm == .batch }
            set { if newValue { norm = .batch } else if norm == .batch { norm = .none } }
        }
        /// Skip connections (He et al. 2016): each hidden layer after the first outputs h + f(h), or P·h + f(h)
        /// where its width changes (`residualProjection`); see `Network.mlp`.
        public var residual = false
        /// What a residual block whose width changes adds: P·h (a bias-free linear map) or nothing (refused).
        public var residualProjection: ResidualProjection = .linear
        /// A checkpoint or safetensors state_dict whose weights replace the initialiser's at the start of a new
        /// run (`InitialWeights`); nil: none.
        public var initFrom: String? = nil
        /// The linear layers `initFrom` gives (each with its norm); nil: all.
        public var initLayers: [Int]? = nil
        /// Whether the inputs are normalised with `initFrom`'s statistics rather than the training data's.
        public var initNormalizer = false
        public init() {}
    }

    public struct RegularizationSection: Equatable, Sendable {
        /// λ of an L1 penalty λ·Σ|θ| on the parameters that take weight decay, ≥ 0.
        public var l1: Double = 0
        /// ε of cross-entropy label smoothing (nn.CrossEntropyLoss's label_smoothing), 0 ≤ ε < 1.
        public var labelSmoothing: Double = 0
        public init() {}
    }

    /// The optimizer and its hyperparameters, named and defaulted as torch.optim's. `lr` defaults to
    /// the chosen optimizer's PyTorch default (`OptimizerKind.defaultLR`, the one place those are
    /// written, as the optimizers are given γ at each step); every other default is read from the
    /// engine's optimizers (below), `eps` and `weight_decay` for the optimizer chosen (the rules
    /// between keys fill them in), the keys shared by several optimizers from one of them (PyTorch's
    /// defaults agree; OptimizerTests checks that the config's defaults build each optimizer's own).
    public struct OptimizerSection: Equatable, Sendable {
        /// The engine's optimizers with PyTorch's defaults (their initialisers' default arguments, the
        /// one place those are written), which the defaults of their keys are read from; made afresh
        /// on each read, as an optimizer is a class with state, over `oneParameter`.
        static var sgdDefaults: SGD { SGD(groups: oneParameter) }
        static var adamDefaults: Adam { Adam(groups: oneParameter) }
        static var adamWDefaults: AdamW { AdamW(groups: oneParameter) }
        static var rmspropDefaults: RMSprop { RMSprop(groups: oneParameter) }
        static var adagradDefaults: Adagrad { Adagrad(groups: oneParameter) }
        static var nadamDefaults: NAdam { NAdam(groups: oneParameter) }
        static var adadeltaDefaults: Adadelta { Adadelta(groups: oneParameter) }
        static var adamaxDefaults: Adamax { Adamax(groups: oneParameter) }
        static var radamDefaults: RAdam { RAdam(groups: oneParameter) }
        static var rpropDefaults: Rprop { Rprop(groups: oneParameter) }
        static var asgdDefaults: ASGD { ASGD(groups: oneParameter) }
        static var lbfgsDefaults: LBFGS { LBFGS(groups: oneParameter) }
        /// One parameter, the fewest an optimizer is built over (so its buffers are a few bytes).
        private static let oneParameter = [ParameterGroup(range: 0..<1, weightDecay: true)]

        public var name: OptimizerKind = .adam
        /// Learning rate γ, > 0.
        public var lr: Double = OptimizerKind.adam.defaultLR
        /// Momentum μ of sgd and rmsprop, 0 ≤ μ < 1.
        public var momentum: Double = sgdDefaults.momentum
        /// Dampening τ of sgd's momentum, 0 ≤ τ < 1.
        public var dampening: Double = sgdDefaults.dampening
        /// Nesterov momentum for sgd (needs momentum > 0 and dampening 0).
        public var nesterov = sgdDefaults.nesterov
        /// (β1, β2) of adam, adamw, nadam, adamax and radam, each in [0, 1).
        public var betas: [Double] = [adamDefaults.beta1, adamDefaults.beta2]
        /// ε added to the denominator, ≥ 0.
        public var eps: Double = OptimizerKind.adam.defaultEps
        /// λ ≥ 0: L2 added to the gradient (g + λθ), or decoupled θ ← θ(1 − γλ) for adamw.
        public var weightDecay: Double = OptimizerKind.adam.defaultWeightDecay
        /// Whether weight decay (and the L1 penalty) also applies to the norms' γ and β (batch or layer norm).
        public var decayBatchNorm = false
        /// Discriminative learning rates: one multiplier > 0 per linear layer (with its norm, slopes and projection),
        /// applied to the scheduled lr of each step, as fastai's `slice(lo, hi)` or one torch param group per layer;
        /// nil: every layer at the scheduled lr.
        public var layerLR: [Double]? = nil
        /// AMSGrad variant of adam and adamw.
        public var amsgrad = adamDefaults.amsgrad
        /// Smoothing constant α of rmsprop, 0 ≤ α < 1; asgd's power α of its η schedule, ≥ 0 (each
        /// optimizer's default: the rules between keys fill it in).
        public var alpha: Double = rmspropDefaults.alpha
        /// Centered rmsprop (normalise by the estimated variance of the gradient).
        public var centered = rmspropDefaults.centered
        /// Learning-rate decay of adagrad, ≥ 0.
        public var lrDecay: Double = adagradDefaults.lrDecay
        /// Initial accumulator value of adagrad, ≥ 0.
        public var initialAccumulatorValue: Double = adagradDefaults.initialAccumulatorValue
        /// ψ of nadam's momentum schedule, ≥ 0.
        public var momentumDecay: Double = nadamDefaults.momentumDecay
        /// Decoupled (AdamW-style) weight decay for nadam and radam.
        public var decoupledWeightDecay = nadamDefaults.decoupledWeightDecay
        /// ρ of adadelta's running averages, 0 ≤ ρ ≤ 1.
        public var rho: Double = adadeltaDefaults.rho
        /// (η−, η+) of rprop, 0 < η− < 1 < η+.
        public var etas: [Double] = [rpropDefaults.etaMinus, rpropDefaults.etaPlus]
        /// (Δmin, Δmax) of rprop, 0 ≤ Δmin ≤ Δmax.
        public var stepSizes: [Double] = [rpropDefaults.stepSizeMin, rpropDefaults.stepSizeMax]
        /// λd, asgd's decay term, ≥ 0.
        public var lambd: Double = asgdDefaults.lambd
        /// The step at which asgd starts averaging, ≥ 0.
        public var t0: Double = asgdDefaults.t0
        /// lbfgs's iterations per step, ≥ 1.
        public var maxIter: Int = lbfgsDefaults.maxIter
        /// lbfgs's evaluations of the objective per step, ≥ 1; nil: max_iter·5/4 (integer division), torch's default.
        public var maxEval: Int? = nil
        /// lbfgs's stop on max|g|, ≥ 0.
        public var toleranceGrad: Double = lbfgsDefaults.toleranceGrad
        /// lbfgs's stop on changes of the loss, the step and the directional derivative, ≥ 0.
        public var toleranceChange: Double = lbfgsDefaults.toleranceChange
        /// lbfgs's pairs (y, s) kept, ≥ 1.
        public var historySize: Int = lbfgsDefaults.historySize
        /// lbfgs's line search.
        public var lineSearchFn: LineSearchKind = lbfgsDefaults.lineSearch
        public init() {}
    }

    /// The learning-rate schedule (torch.optim.lr_scheduler), with an optional linear warm-up in front.
    /// Keys that a schedule needs and PyTorch has no default for are required when it is chosen.
    public struct SchedulerSection: Equatable, Sendable {
        /// The engine's OneCycleLR, CyclicLR and ReduceLROnPlateau with PyTorch's defaults (their
        /// initialisers, the one place those are written), which the defaults of their keys are read from.
        static let oneCycleDefaults = LearningRateSchedule.OneCycle(maxLR: 1, totalSteps: 1)
        static let cyclicDefaults = LearningRateSchedule.Cyclic(baseLR: 0, maxLR: 1)
        static let plateauDefaults = ReduceLROnPlateau(learningRate: 1)

        public var name: ScheduleKind = .constant
        public var stepSize: Int? = nil
        public var gamma: Double? = nil
        public var milestones: [Int] = []
        /// Cosine period in epochs; default training.epochs minus the epochs the warm-up fills
        /// (see `Configuration.makeSchedule`).
        public var tMax: Int? = nil
        public var etaMin: Double = 0
        public var t0: Int? = nil
        public var tMult: Int = 1
        public var startFactor: Double = 1.0 / 3
        public var endFactor: Double = 1.0
        /// Epochs of linear's ramp, of constant's factor, and of polynomial's decay (PyTorch's 5).
        public var totalIters: Int = 5
        /// polynomial's exponent (PolynomialLR's `power`).
        public var power: Double = 1
        /// Peak lr of one_cycle and cyclic; default optimizer.lr.
        public var maxLR: Double? = nil
        /// Lower lr of cyclic; default optimizer.lr / 10.
        public var baseLR: Double? = nil
        public var pctStart: Double = oneCycleDefaults.pctStart
        public var divFactor: Double = oneCycleDefaults.divFactor
        public var finalDivFactor: Double = oneCycleDefaults.finalDivFactor
        public var annealStrategy: LearningRateSchedule.OneCycle.Annealing = oneCycleDefaults.annealing
        public var threePhase = oneCycleDefaults.threePhase
        public var cycleMomentum = oneCycleDefaults.cycleMomentum
        /// Momentum (or β1) bounds of one_cycle (defaults 0.85, 0.95) and cyclic (0.8, 0.9).
        public var baseMomentum: Double? = nil
        public var maxMomentum: Double? = nil
        public var stepSizeUp: Int = cyclicDefaults.stepSizeUp
        public var stepSizeDown: Int? = nil
        /// cyclic: triangular | triangular2 | exp_range; reduce_on_plateau: min | max.
        public var mode: ScheduleMode? = nil
        /// reduce_on_plateau's multiplier on a plateau (default 0.1, below 1), or constant's factor for
        /// the first `total_iters` epochs (default 1: the plain constant rate).
        public var factor: Double? = nil
        public var patience: Int = plateauDefaults.patience
        public var threshold: Double = plateauDefaults.threshold
        public var thresholdMode: ReduceLROnPlateau.ThresholdMode = plateauDefaults.thresholdMode
        public var cooldown: Int = plateauDefaults.cooldown
        public var minLR: Double = plateauDefaults.minLR
        /// The metric reduce_on_plateau watches; default val_loss (train_loss without a validation split).
        public var monitor: MonitoredMetric? = nil
        /// Linear warm-up length in optimizer steps or in epochs (at most one of the two), ≥ 0.
        public var warmupSteps: Int = 0
        public var warmupEpochs: Int = 0
        public init() {}
    }

    public struct TrainingSection: Equatable, Sendable {
        /// Passes over the training split, ≥ 1.
        public var epochs: Int = 15
        /// Rows per optimizer step: `full` (batch gradient descent), N ≥ 1 (mini-batch; 1 is
        /// stochastic). The last batch of an epoch may be smaller (DataLoader's drop_last=False).
        public var batchSize: BatchSize = .rows(128)
        /// Gradient accumulation (Lightning's `accumulate_grad_batches`), ≥ 1: K micro-batches of `batchSize`
        /// rows per optimizer step, each micro-batch's loss divided by K (see `Trainer`).
        public var accumulateSteps: Int = 1
        /// The number format of the forward and backward passes: fp32, or fp16 / bf16 emulating
        /// torch.autocast with fp32 master weights (see `Precision`).
        public var precision: Precision = .fp32
        /// Loss scaling (torch.amp.GradScaler); default dynamic for fp16, none for bf16 and fp32.
        public var lossScale: LossScaling = .none
        /// Gradient clipping, applied before the optimizer step.
        public var clip = ClipSection()
        /// The linear layers (indices of `layers.<i>`, with their norms, slopes and projections) that get no update
        /// (`requires_grad_(False)`): all epochs, or with `freezeEpochs` the first N; nil: none, or with
        /// `freezeEpochs` every layer but the head (fastai's `freeze()`).
        public var freeze: [Int]? = nil
        /// N ≥ 1: the frozen layers train from epoch N + 1 on (fastai's `fine_tune(freeze_epochs=N)`); nil: frozen
        /// for the whole run.
        public var freezeEpochs: Int? = nil
        /// The linear layers frozen during `epoch` (from 1) of a model of `layerCount` linear layers.
        public func frozenLayers(epoch: Int, layerCount: Int) -> Set<Int> {
            guard let freezeEpochs else { return Set(freeze ?? []) }
            return epoch > freezeEpochs ? [] : Set(freeze ?? Array(0..<(layerCount - 1)))
        }
        /// Wall seconds this invocation may take (> 0; nil is no limit): once past them, training stops
        /// after the current step with a checkpoint, as an interruption does, and the run exits 0. A
        /// per-invocation limit for CI, so a resume may change it freely.
        public var maxSeconds: Double? = nil
        public init() {}
    }

    public struct ClipSection: Equatable, Sendable {
        /// Rescale all gradients together when their global L2 norm exceeds this (clip_grad_norm_).
        public var norm: Double? = nil
        /// Clamp every gradient element to [−value, value] (clip_grad_value_).
        public var value: Double? = nil
        public init() {}
    }

    /// Early stopping (Keras' EarlyStopping): on when `patience` is given.
    public struct EarlyStoppingSection: Equatable, Sendable {
        /// Default val_loss, or train_loss without a validation split.
        public var monitor: MonitoredMetric? = nil
        /// min or max; default from the monitor (max for accuracies).
        public var mode: MetricMode? = nil
        /// Epochs without improvement before stopping, ≥ 1; nil is off.
        public var patience: Int? = nil
        /// The least change that counts as an improvement, ≥ 0.
        public var minDelta: Double = 0
        /// Put the best epoch's weights back at the end, however training ended.
        public var restoreBest = false
        public init() {}
    }

    /// When checkpoints are written into the run directory's `checkpoints/` folder (see
    /// `CheckpointPolicy`); a final `last.bin` is always written when training ends.
    public struct CheckpointSection: Equatable, Sendable {
        /// Write `last.bin` after every N-th epoch, ≥ 1.
        public var everyNEpochs: Int = 1
        /// Also keep the K most recent of those as `epoch-NNNN.bin`; 0 keeps none.
        public var keepLast: Int = 0
        /// Write `best.bin` whenever the monitored figure improves on its best so far.
        public var saveBest = false
        /// The figure save_best watches; default val_loss (train_loss without a validation split).
        public var monitor: MonitoredMetric? = nil
        /// min or max; default from the monitor (max for accuracies).
        public var mode: MetricMode? = nil
        public init() {}
    }

    public struct LoggingSection: Equatable, Sendable {
        /// Also write every N-th optimizer step to steps.csv; 0 is off.
        public var everyNSteps: Int = 0
        /// In mixed precision, also log the fractions of activation-gradient values that underflowed
        /// to zero or overflowed to infinity when rounded (metrics.csv `grad_underflow`, `grad_overflow`).
        public var precisionStats = false
        /// Write TensorBoard event files (`TensorBoardLog`) into the run directory's tensorboard/.
        public var tensorboard = false
        /// With `tensorboard`: each parameter tensor's and its gradient's histogram once per epoch.
        public var histograms = false
        /// Per-layer diagnostics (`LayerStatistics`): each linear layer's gradient norm in steps.csv, and
        /// its mean gradient norm, weight norm and (relu layers) dead-unit fraction in metrics.csv.
        public var layerStats = false
        public init() {}

        /// Whether the trainer computes the per-layer statistics (`Trainer.layerStatistics`): whenever
        /// something reads them, the CSV columns (`layerStats`) or TensorBoard's per-layer scalars
        /// (`tensorboard`). The CSV columns appear only with `layerStats`.
        public var computesLayerStatistics: Bool { layerStats || tensorboard }
    }

    /// Pruning of the linear layers' weights (see `Pruner`): on when `method` is given.
    public struct PruningSection: Equatable, Sendable {
        /// magnitude (unstructured) or neurons (whole hidden units); nil is off.
        public var method: PruningMethod? = nil
        /// magnitude: rank each layer's weights alone, or all pruned weights together.
        public var scope: PruningScope = .layer
        /// The final fraction pruned, s_f, in [0, 1).
        public var sparsity: Double = 0.5
        public var schedule: PruningScheduleKind = .gradual
        /// The epoch before whose first step pruning starts, ≥ 1.
        public var startEpoch: Int = 1
        /// gradual: the epoch within which the final sparsity is reached; nil is training.epochs.
        public var endEpoch: Int? = nil
        /// gradual: Δt, optimizer steps between pruning steps.
        public var everyNSteps: Int = 100
        /// gradual: s_i, the sparsity of the first pruning step.
        public var initialSparsity: Double = 0
        /// magnitude: prune the output layer's weights too.
        public var includeOutput = false
        public init() {}
    }

    public struct OutputSection: Equatable, Sendable {
        /// The run directory; nil means `runs/<config file name without extension>`.
        public var dir: String? = nil
        /// Draw the learning curves (curves.svg) into the run directory when training ends.
        public var plots = true
        public init() {}
    }

    /// Knowledge distillation (Hinton, Vinyals & Dean 2015): the student is trained on its targets and
    /// on a teacher's outputs (see `DistillationLoss`, `Teacher`); off while `teacher` is empty.
    public struct DistillationSection: Equatable, Sendable {
        /// The teacher's checkpoint, or several: an ensemble whose softened probabilities are averaged.
        public var teacher: [String] = []
        /// T > 0 of softmax(z/T) on both sides (classification).
        public var temperature: Double = 4
        /// α in [0, 1]: the weight of the teacher's term; 1 − α that of the targets' loss.
        public var alpha: Double = 0.9
        public init() {}
    }

    /// An exponential moving average of the weights (AveragedModel with get_ema_multi_avg_fn, see
    /// `WeightAverage`); off unless `enabled`.
    public struct EMASection: Equatable, Sendable {
        public var enabled = false
        /// The decay d in (0, 1): ema ← d·ema + (1 − d)·w (get_ema_multi_avg_fn's default 0.999).
        public var decay: Double = 0.999
        /// Average after every N-th batch (counted over the run, skipped steps included), ≥ 1.
        public var everyNSteps = 1
        /// Validate and test the averaged weights, and make them the run's final model.
        public var evaluate = false
        public init() {}
    }

    /// Stochastic weight averaging (torch.optim.swa_utils: AveragedModel, SWALR, update_bn); off
    /// while `startEpoch` is nil.
    public struct SWASection: Equatable, Sendable {
        /// The first epoch whose end is averaged; SWALR's annealing starts with it.
        public var startEpoch: Int? = nil
        /// SWALR's swa_lr, the lr annealed to (required with start_epoch).
        public var lr: Double? = nil
        /// SWALR's anneal_epochs (default 10), ≥ 0.
        public var annealEpochs = 10
        /// SWALR's anneal_strategy (default cos).
        public var annealStrategy: SWAAnnealStrategy = .cos
        /// Validate each epoch from start_epoch on with the averaged weights (after update_bn).
        public var evaluate = false
        public init() {}
    }
}

/// SWALR's anneal_strategy: how the lr moves from its value at the start to swa_lr.
public enum SWAAnnealStrategy: String, CaseIterable, Sendable {
    /// α = (1 − cos(π·t))/2.
    case cos
    /// α = t.
    case linear
}

public enum Normalization: String, CaseIterable, Sendable {
    /// Features as stored (pixels 0...255).
    case none
    /// Pixels divided by 255; CSV columns min-max scaled to 0...1 with the training split's range.
    case scale
    /// (x − mean) / std with the training split's statistics: one mean and std over all pixels for
    /// images (as torchvision's Normalize on one channel), per column for CSV data.
    case standardize
}

/// What `data.task` says about a CSV's target: decide from the column (`auto`), or fixed.
public enum TaskSetting: String, CaseIterable, Sendable {
    case auto, classification, regression

    /// The task it fixes; nil for `auto`.
    public var task: PredictionTask? { PredictionTask(rawValue: rawValue) }
}

/// What a missing feature value (one of `data.missing_values`) in a CSV does.
public enum MissingPolicy: String, CaseIterable, Sendable {
    /// Refused, naming the first row and column.
    case refuse
    /// The row is left out (counted in a line).
    case dropRows = "drop_rows"
    /// Replaced by the training split's mean (numeric) or most frequent category (scikit-learn's
    /// SimpleImputer, strategies "mean" and "most_frequent").
    case impute
}

public enum ActivationKind: String, CaseIterable, Sendable {
    case relu
    case leakyRelu = "leaky_relu"
    case gelu
    case silu
    case tanh
    case sigmoid
    case elu
    case selu
    case mish
    case softplus
    case hardswish
    /// nn.PReLU(num_parameters=width): a learned slope per hidden unit (`PReLU`).
    case prelu
}

public enum InitializationKind: String, CaseIterable, Sendable {
    case `default`
    case xavierUniform = "xavier_uniform"
    case xavierNormal = "xavier_normal"
    case kaimingUniform = "kaiming_uniform"
    case kaimingNormal = "kaiming_normal"
    /// N(0, 1/fan_in): kaiming_normal_ with nonlinearity='linear', the default for selu.
    case lecunNormal = "lecun_normal"
    case uniform
    case normal
}

public enum BiasInitialization: String, CaseIterable, Sendable {
    case `default`
    case zero
}

/// `model.residual_projection`: the shortcut of a residual block whose width changes (in → out, in ≠ out).
public enum ResidualProjection: String, CaseIterable, Sendable {
    /// P·h with P [out, in] bias-free, torchvision ResNet's projection shortcut (a 1×1 convolution, there
    /// followed by batch norm; here a plain nn.Linear(in, out, bias=False)).
    case linear
    /// No projection: consecutive hidden widths must agree, or the config is refused.
    case none
}

/// `training.loss_scale`: how the loss gradient is scaled in mixed precision (see `GradScaler`).
public enum LossScaling: Equatable, Sendable {
    /// No scaling: a gradient that underflows is lost, one that overflows stops the run.
    case none
    /// A static scale S: multiply, unscale, skip steps with inf/NaN gradients; S never changes.
    case fixed(Double)
    /// torch.amp.GradScaler's dynamic scale (65536, ×2 every 2000 clean steps, ×0.5 on inf/NaN).
    case dynamic
}

/// Rows per optimizer step.
public enum BatchSize: Equatable, Sendable {
    /// The whole training split: one step per epoch (batch gradient descent).
    case full
    case rows(Int)
}

/// `scheduler.mode`, whose values depend on the schedule: CyclicLR's `mode`, or ReduceLROnPlateau's
/// (the direction its monitor improves in).
public enum ScheduleMode: Equatable, Sendable {
    case cyclic(LearningRateSchedule.Cyclic.Mode)
    case plateau(MetricMode)

    /// The modes `schedule` takes, in PyTorch's order; none for the schedules without a mode.
    static func modes(of schedule: ScheduleKind) -> [ScheduleMode] {
        switch schedule {
        case .cyclic: LearningRateSchedule.Cyclic.Mode.allCases.map(ScheduleMode.cyclic)
        case .reduceOnPlateau: MetricMode.allCases.map(ScheduleMode.plateau)
        default: []
        }
    }

    /// The word a config writes: `exp_range`, `min`.
    public var word: String {
        switch self {
        case .cyclic(let mode): mode.rawValue
        case .plateau(let mode): mode.rawValue
        }
    }
}

public enum ScheduleKind: String, CaseIterable, Sendable {
    case constant, step, multistep, exponential, cosine
    case cosineRestarts = "cosine_restarts"
    case linear, polynomial
    case oneCycle = "one_cycle"
    case cyclic
    case reduceOnPlateau = "reduce_on_plateau"
}

/// An epoch figure that reduce_on_plateau, early stopping and save_best can watch.
public enum MonitoredMetric: String, CaseIterable, Sendable, Codable {
    case valLoss = "val_loss"
    case valAcc = "val_acc"
    case trainLoss = "train_loss"
    case trainAcc = "train_acc"
}

/// `data.sampler`: how an epoch's training rows are ordered.
public enum SamplerKind: String, CaseIterable, Sendable {
    /// Every row once, shuffled (DataLoader's shuffle=True).
    case shuffle
    /// WeightedRandomSampler(1 / class count, num_samples = rows, replacement=True).
    case balanced
}

/// `loss_weights`: cross-entropy's per-class weights w_c (nn.CrossEntropyLoss's `weight`).
public enum LossWeights: Equatable, Sendable {
    /// scikit-learn's `compute_class_weight("balanced")` on the training split: w_c = n / (K · n_c).
    case balanced
    /// One weight per class, in class-index order.
    case given([Double])

    /// The weights for a training split whose labels are `labels` (each in 0..<`classCount`), or the
    /// index of a class without training rows (balanced weighs it n / 0; scikit-learn refuses such a class).
    public func weights(labels: [Int32], classCount: Int) -> Result<[Double], EmptyClass> {
        switch self {
        case .given(let weights): return .success(weights)
        case .balanced:
            var counts = [Int](repeating: 0, count: classCount)
            for label in labels where label >= 0 && Int(label) < classCount { counts[Int(label)] += 1 }
            if let empty = counts.firstIndex(of: 0) { return .failure(EmptyClass(index: empty)) }
            return .success(counts.map { Double(labels.count) / (Double(classCount) * Double($0)) })
        }
    }

    /// A class with no training rows, which balanced weights cannot weigh.
    public struct EmptyClass: Error, Equatable { public var index: Int }
}

public enum LossKind: String, CaseIterable, Sendable {
    /// Softmax cross-entropy over class logits, mean over the batch (nn.CrossEntropyLoss).
    case crossEntropy = "cross_entropy"
    /// Mean squared error over every output of every row (nn.MSELoss, reduction "mean").
    case mse
    /// Mean absolute error (nn.L1Loss).
    case mae
    /// Huber loss with `huber_delta` (nn.HuberLoss).
    case huber
}

public enum OptimizerKind: String, CaseIterable, Sendable {
    case sgd, adam, adamw, rmsprop, adagrad, nadam, adadelta, adamax, radam, rprop, asgd, lbfgs

    /// torch.optim's default learning rate.
    public var defaultLR: Double {
        switch self {
        case .sgd, .adam, .adamw, .radam: 1e-3
        case .rmsprop, .adagrad, .rprop, .asgd: 1e-2
        case .nadam, .adamax: 2e-3
        case .adadelta, .lbfgs: 1.0
        }
    }

    /// torch.optim's default ε, read from the optimizer's initialiser. SGD, Rprop and ASGD have no ε:
    /// their `eps`, a key that does not apply to them, holds Adam's.
    public var defaultEps: Double {
        typealias Defaults = Configuration.OptimizerSection
        return switch self {
        case .sgd, .adam, .rprop, .asgd, .lbfgs: Defaults.adamDefaults.eps
        case .adamw: Defaults.adamWDefaults.eps
        case .rmsprop: Defaults.rmspropDefaults.eps
        case .adagrad: Defaults.adagradDefaults.eps
        case .nadam: Defaults.nadamDefaults.eps
        case .adadelta: Defaults.adadeltaDefaults.eps
        case .adamax: Defaults.adamaxDefaults.eps
        case .radam: Defaults.radamDefaults.eps
        }
    }

    /// torch.optim's default weight decay (AdamW decays by default), read from the optimizer's initialiser;
    /// 0 for Rprop, which has none.
    public var defaultWeightDecay: Double {
        typealias Defaults = Configuration.OptimizerSection
        return switch self {
        case .sgd: Defaults.sgdDefaults.weightDecay
        case .adam: Defaults.adamDefaults.weightDecay
        case .adamw: Defaults.adamWDefaults.weightDecay
        case .rmsprop: Defaults.rmspropDefaults.weightDecay
        case .adagrad: Defaults.adagradDefaults.weightDecay
        case .nadam: Defaults.nadamDefaults.weightDecay
        case .adadelta: Defaults.adadeltaDefaults.weightDecay
        case .adamax: Defaults.adamaxDefaults.weightDecay
        case .radam: Defaults.radamDefaults.weightDecay
        case .asgd: Defaults.asgdDefaults.weightDecay
        case .rprop, .lbfgs: 0
        }
    }

    /// Whether the optimizer has a momentum (SGD, RMSprop) or β1 (Adam, AdamW, NAdam, Adamax, RAdam) for
    /// one_cycle and cyclic to cycle: PyTorch's OneCycleLR and CyclicLR raise ValueError for
    /// `cycle_momentum` with an optimizer whose defaults have neither `momentum` nor `betas`.
    public var hasMomentum: Bool {
        switch self {
        case .sgd, .adam, .adamw, .rmsprop, .nadam, .adamax, .radam: true
        case .adagrad, .adadelta, .rprop, .asgd, .lbfgs: false
        }
    }
}
