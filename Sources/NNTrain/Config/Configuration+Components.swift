/// The engine's pieces built from a validated configuration: what each config section means in
/// terms of the engine's types.
extension Configuration.OptimizerSection {
    /// The torch.optim optimizer this section names, over the parameter runs `groups`.
    public func makeOptimizer(groups: [ParameterGroup]) -> any Optimizer {
        switch name {
        case .sgd:
            SGD(groups: groups, momentum: momentum, dampening: dampening, nesterov: nesterov, weightDecay: weightDecay)
        case .adam:
            Adam(groups: groups, beta1: betas[0], beta2: betas[1], eps: eps, weightDecay: weightDecay, amsgrad: amsgrad)
        case .adamw:
            AdamW(groups: groups, beta1: betas[0], beta2: betas[1], eps: eps, weightDecay: weightDecay, amsgrad: amsgrad)
        case .rmsprop:
            RMSprop(groups: groups, alpha: alpha, eps: eps, weightDecay: weightDecay, momentum: momentum, centered: centered)
        case .adagrad:
            Adagrad(groups: groups, lrDecay: lrDecay, weightDecay: weightDecay,
                    initialAccumulatorValue: initialAccumulatorValue, eps: eps)
        case .nadam:
            NAdam(groups: groups, beta1: betas[0], beta2: betas[1], eps: eps, weightDecay: weightDecay,
                  momentumDecay: momentumDecay, decoupledWeightDecay: decoupledWeightDecay)
        case .adadelta:
            Adadelta(groups: groups, rho: rho, eps: eps, weightDecay: weightDecay)
        case .adamax:
            Adamax(groups: groups, beta1: betas[0], beta2: betas[1], eps: eps, weightDecay: weightDecay)
        case .radam:
            RAdam(groups: groups, beta1: betas[0], beta2: betas[1], eps: eps, weightDecay: weightDecay,
                  decoupledWeightDecay: decoupledWeightDecay)
        case .rprop:
            Rprop(groups: groups, etaMinus: etas[0], etaPlus: etas[1], stepSizeMin: stepSizes[0], stepSizeMax: stepSizes[1])
        case .asgd:
            ASGD(groups: groups, lambd: lambd, alpha: alpha, t0: t0, weightDecay: weightDecay)
        case .lbfgs:
            LBFGS(groups: groups, maxIter: maxIter, maxEval: maxEval, toleranceGrad: toleranceGrad,
                  toleranceChange: toleranceChange, historySize: historySize, lineSearch: lineSearchFn)
        }
    }
}

extension Configuration.ModelSection {
    /// The activation function `activation` (and `leaky_slope`, `elu_alpha`, `softplus_beta`,
    /// `softplus_threshold`, `prelu_init`) name.
    var activationFunction: Activation {
        Activation(activation, leakySlope: Float(leakySlope), eluAlpha: Float(eluAlpha), softplusBeta: Float(softplusBeta),
                   softplusThreshold: Float(softplusThreshold), preluInit: Float(preluInit))
    }
}

extension Configuration {
    /// The model section's MLP for inputs of `inputWidth` features and `outputWidth` outputs, in the
    /// training precision, ending in y = σ·z + μ when `targetScaling` is given (a standardised
    /// regression target: the training data's, or a checkpoint's); parameters zero until initialised,
    /// dropout streams from the seed.
    public func makeNetwork(inputWidth: Int, outputWidth: Int, targetScaling: TargetScaling?) -> Network {
        Network.mlp(
            Network.MLPShape(inputWidth: inputWidth, hidden: model.hidden, outputWidth: outputWidth,
                             activation: model.activationFunction, dropout: Float(model.dropout),
                             norm: model.norm, precision: training.precision, targetScaling: targetScaling,
                             residual: model.residual),
            dropoutSeed: seed ^ Trainer.RandomStream.dropout.rawValue)
    }

    /// The weight initialisation of `model`.
    var initialization: Initialization {
        Initialization(scheme: model.initialization, bias: model.biasInit,
                       range: (Float(model.initRange[0]), Float(model.initRange[1])), std: Float(model.initStd))
    }

    /// Optimizer steps in an epoch over `trainRows` training rows: its batches (the last may be smaller), in
    /// groups of `training.accumulate_steps` (the last group may have fewer).
    public func stepsPerEpoch(trainRows: Int) -> Int {
        let rows = training.batchSize.rows(of: trainRows), groups = max(training.accumulateSteps, 1)
        let microBatches = (trainRows + rows - 1) / rows
        return (microBatches + groups - 1) / groups
    }

    /// The learning-rate schedule of the `scheduler` section behind its warm-up (of length 0 when
    /// none is set), for an epoch of `stepsPerEpoch` steps; the defaults PyTorch leaves to the
    /// caller are filled in here, and `resolvingScheduleDefaults` writes them back into the config.
    ///
    /// The schedules whose length follows the run's count what is left after the warm-up, as
    /// PyTorch users write `SequentialLR([LinearLR(...), CosineAnnealingLR(T_max=epochs - warmup)],
    /// milestones=[warmup])` (and transformers' `get_cosine_schedule_with_warmup` spans the steps
    /// after the warm-up), so that the schedule ends where training does: cosine's `t_max` defaults to
    /// `training.epochs` minus the epochs the warm-up fills (`Warmup.epochs`: `warmup_epochs`, or
    /// ⌊warmup_steps / stepsPerEpoch⌋), at least 1; one_cycle spans the steps after the warm-up.
    /// linear's `total_iters` is PyTorch's fixed 5, not derived. reduce_on_plateau is constant
    /// here, its lr coming from `makePlateau()`.
    public func makeSchedule(stepsPerEpoch: Int) -> Warmup {
        let s = scheduler
        let (oneCycleDefaults, cyclicDefaults) = (SchedulerSection.oneCycleDefaults, SchedulerSection.cyclicDefaults)
        let warmup = Warmup(s.warmupEpochs > 0 ? .epochs(s.warmupEpochs) : .steps(s.warmupSteps), then: .constant())
        let (totalSteps, overflow) = training.epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        let warmupSteps = warmup.steps(stepsPerEpoch: stepsPerEpoch)
        let epochsAfterWarmup = max(training.epochs - warmup.epochs(stepsPerEpoch: stepsPerEpoch), 1)
        let schedule: LearningRateSchedule = switch s.name {
        case .constant: .constant(factor: s.factor ?? 1, totalIters: s.totalIters)
        case .reduceOnPlateau: .constant()
        case .step: .step(stepSize: s.stepSize ?? 1, gamma: s.gamma ?? 0.1)
        case .multistep: .multiStep(milestones: s.milestones, gamma: s.gamma ?? 0.1)
        case .exponential: .exponential(gamma: s.gamma ?? 1)
        case .cosine: .cosine(tMax: s.tMax ?? epochsAfterWarmup, etaMin: s.etaMin)
        case .cosineRestarts: .cosineRestarts(t0: s.t0 ?? 1, tMult: s.tMult, etaMin: s.etaMin)
        case .linear: .linear(startFactor: s.startFactor, endFactor: s.endFactor, totalIters: s.totalIters)
        case .polynomial: .polynomial(totalIters: s.totalIters, power: s.power)
        case .oneCycle:
            .oneCycle(.init(maxLR: s.maxLR ?? optimizer.lr, totalSteps: overflow ? Int.max : max(totalSteps - warmupSteps, 0),
                            pctStart: s.pctStart, annealing: s.annealStrategy,
                            cycleMomentum: s.cycleMomentum, baseMomentum: s.baseMomentum ?? oneCycleDefaults.baseMomentum,
                            maxMomentum: s.maxMomentum ?? oneCycleDefaults.maxMomentum, divFactor: s.divFactor,
                            finalDivFactor: s.finalDivFactor, threePhase: s.threePhase))
        case .cyclic:
            .cyclic(.init(baseLR: s.baseLR ?? optimizer.lr / 10, maxLR: s.maxLR ?? optimizer.lr,
                          stepSizeUp: s.stepSizeUp, stepSizeDown: s.stepSizeDown,
                          mode: { if case .cyclic(let mode) = s.mode { mode } else { cyclicDefaults.mode } }(),
                          gamma: s.gamma ?? 1, cycleMomentum: s.cycleMomentum,
                          baseMomentum: s.baseMomentum ?? cyclicDefaults.baseMomentum,
                          maxMomentum: s.maxMomentum ?? cyclicDefaults.maxMomentum))
        }
        return Warmup(warmup.length, then: schedule)
    }

    /// This configuration with every scheduler default that `makeSchedule` works out from other
    /// keys written into its keys (cosine's `t_max`, one_cycle's and cyclic's `max_lr`, `base_lr`
    /// and momentum bounds, cyclic's `step_size_down`, the `gamma` of step, multistep and cyclic),
    /// read back from the schedule it builds for epochs of `stepsPerEpoch` steps, and gradual pruning's
    /// `end_epoch` (training.epochs); so the resolved YAML (config.yaml, a checkpoint's config) lists
    /// them, and builds the same schedules again.
    public func resolvingScheduleDefaults(stepsPerEpoch: Int) -> Configuration {
        var resolved = self
        if pruning.method != nil, pruning.schedule == .gradual, pruning.endEpoch == nil {
            resolved.pruning.endEpoch = training.epochs
        }
        switch makeSchedule(stepsPerEpoch: stepsPerEpoch).schedule {
        case let .step(_, gamma), let .multiStep(_, gamma):
            resolved.scheduler.gamma = gamma
        case let .cosine(tMax, _):
            resolved.scheduler.tMax = tMax
        case let .oneCycle(cycle):
            (resolved.scheduler.maxLR, resolved.scheduler.baseMomentum, resolved.scheduler.maxMomentum) =
                (cycle.maxLR, cycle.baseMomentum, cycle.maxMomentum)
        case let .cyclic(cycle):
            (resolved.scheduler.baseLR, resolved.scheduler.maxLR, resolved.scheduler.gamma) =
                (cycle.baseLR, cycle.maxLR, cycle.gamma)
            (resolved.scheduler.baseMomentum, resolved.scheduler.maxMomentum) = (cycle.baseMomentum, cycle.maxMomentum)
            resolved.scheduler.stepSizeDown = cycle.stepSizeDown ?? cycle.stepSizeUp
        case .constant, .exponential, .cosineRestarts, .linear, .polynomial:
            break
        }
        return resolved
    }

    /// reduce_on_plateau's state, starting at optimizer.lr; nil for the other schedules.
    func makePlateau() -> ReduceLROnPlateau? {
        guard scheduler.name == .reduceOnPlateau else { return nil }
        let s = scheduler
        let mode = if case .plateau(let mode) = s.mode { mode } else { SchedulerSection.plateauDefaults.mode }
        return ReduceLROnPlateau(learningRate: optimizer.lr, mode: mode,
                                 factor: s.factor ?? SchedulerSection.plateauDefaults.factor,
                                 patience: s.patience, threshold: s.threshold,
                                 thresholdMode: s.thresholdMode,
                                 cooldown: s.cooldown, minLR: s.minLR)
    }

    /// Early stopping's state, when early_stopping.patience is set.
    func makeEarlyStopping() -> EarlyStopping? {
        guard let patience = earlyStopping.patience else { return nil }
        let monitor = earlyStopping.monitor ?? .valLoss
        return EarlyStopping(monitor: monitor, higherIsBetter: (earlyStopping.mode ?? .min) == .max,
                             patience: patience, minDelta: earlyStopping.minDelta)
    }

    /// The augmentation settings of `data.augment`. A crop scale that is not [a, b] with a <= b (which
    /// validation refuses, naming its line) stops the program: a library caller's bug.
    var augmentation: AugmentationSettings {
        let augment = data.augment
        let cropScale = augment.cropScale.map { scale in
            guard scale.count == 2, scale[0] <= scale[1] else {
                preconditionFailure("data.augment.crop_scale \(scale): expected [a, b] with a <= b")
            }
            return scale[0]...scale[1]
        }
        return AugmentationSettings(hflip: augment.hflip, shift: augment.shift, erasingProbability: augment.erasing,
                                    mixupAlpha: augment.mixup, rotationDegrees: augment.rotation, cropScale: cropScale,
                                    cutmixAlpha: augment.cutmix, brightness: augment.brightness,
                                    contrast: augment.contrast, noiseStd: augment.noise)
    }

    /// The training-batch augmenter, for images (`schema`) with augmentation on; `fill` and `white`
    /// are the normalised values of a black and a white pixel (`PixelRange`): shifted-in and
    /// rotated-in pixels take the first, and brightness, contrast and noise clamp to both.
    func makeAugmenter(schema: InputSchema, normalizer: Normalizer, batchCapacity: Int) -> BatchAugmenter? {
        guard augmentation.isEnabled, case .images(let rows, let columns) = schema else { return nil }
        let image = (rows: rows, columns: columns)
        let range = normalizer.shift.isEmpty ? PixelRange(black: 0, white: 1)
            : PixelRange(shift: normalizer.shift[0], scale: normalizer.scale[0])
        return BatchAugmenter(settings: augmentation, imageHeight: image.rows, imageWidth: image.columns,
                              batchCapacity: batchCapacity, fill: range.black, white: range.white)
    }
}

extension Configuration {
    /// The line a run prints at its start when it freezes layers or scales their learning rates, nil otherwise:
    /// `training.freeze: layers 0, 1 frozen (no update, no gradient) for epochs 1-2, then every layer trains;
    /// optimizer.layer_lr: lr × 0.1, 0.3, 1 for layers 0, 1, 2`.
    public var layerTrainingNote: String? {
        let layerCount = model.hidden.count + 1
        var parts: [String] = []
        let frozen = training.frozenLayers(epoch: 1, layerCount: layerCount).sorted()
        if !frozen.isEmpty {
            let names = (frozen.count == 1 ? "layer " : "layers ") + frozen.map(String.init).joined(separator: ", ")
            let span = training.freezeEpochs.map { n in
                " for epoch\(n == 1 ? " 1" : "s 1-\(n)"), then every layer trains"
            } ?? " for the whole run"
            parts.append("training.freeze: \(names) frozen (no update, no gradient)\(span)")
        }
        if let scales = optimizer.layerLR {
            parts.append("optimizer.layer_lr: lr × " + scales.map { String(format: "%g", $0) }.joined(separator: ", ")
                + " for layers " + (0..<layerCount).map(String.init).joined(separator: ", "))
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
