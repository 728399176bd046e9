/// What may change between a checkpoint's configuration and the one a run resumes with.
extension Configuration {
    /// Keys (or sections, ending in ".") whose change would make the saved state meaningless: the
    /// model's shapes, the data and its split (the seed draws it), the batches (their size sets
    /// the epoch's steps), the number format and loss scaler, and the optimizer's kind and the
    /// options that decide which buffers it keeps (lbfgs's history_size: its `old_dirs.<i>`),
    /// which layers train when (`training.freeze`, `freeze_epochs`: the optimizer's per-layer state follows them),
    /// and which weights pruning masks (its method, scope and
    /// layers: the masks saved are of those), and whether an average is kept (EMA on, SWA's start: the
    /// averages saved are of those). A resume with one of these changed is refused.
    static let keysFixedOnResume = [
        "seed", "data.", "model.", "loss", "huber_delta", "training.batch_size", "training.accumulate_steps",
        "training.precision",
        "training.loss_scale", "training.freeze", "training.freeze_epochs",
        "optimizer.name", "optimizer.momentum", "optimizer.amsgrad", "optimizer.centered",
        "optimizer.history_size",
        "pruning.method", "pruning.scope", "pruning.include_output", "ema.enabled", "swa.start_epoch",
    ]

    /// Keys that belong to one invocation, not to the run: where it writes and how long this
    /// invocation may take. A resume changes them without a word.
    static let keysOfOneInvocation: Set = ["output.dir", "training.max_seconds"]

    /// The value keys (`training.epochs`) whose values differ between `self` and `saved`, those of
    /// one invocation aside (where the run writes, its time limit: not part of what it computes).
    public func changedKeys(from saved: Configuration) -> [String] {
        Self.keys.valueEntries.compactMap { path, key in
            guard !Self.keysOfOneInvocation.contains(path), case .value(_, let write) = key.kind, write(self) != write(saved)
            else { return nil }
            return path
        }
    }

    /// Splits changed keys into those a resume refuses and those it allows (with a warning).
    public static func classifyForResume(_ changed: [String]) -> (refused: [String], allowed: [String]) {
        let refused = changed.filter { path in
            keysFixedOnResume.contains { $0.hasSuffix(".") ? path.hasPrefix($0) : path == $0 }
        }
        return (refused, changed.filter { !refused.contains($0) })
    }
}

/// How a resumed run's config differs from its checkpoint's, for the warning `nntrain run --resume`
/// prints before training: each allowed change with both values, and the learning rate of the
/// next step under each config when it moves (a schedule's horizon that follows `training.epochs`
/// moves with it: cosine's default `t_max`, one_cycle's total steps).
public struct ResumeChanges: Sendable, CustomStringConvertible {
    public struct Change: Sendable, Equatable {
        /// The key's path, `training.epochs`.
        public var key: String
        /// Its YAML text in the checkpoint's config and in the new one ("none" when absent).
        public var saved: String, new: String
        /// The key the new config leaves to its default, which follows this other key; nil when the
        /// new config gives the key (or its default is a constant).
        public var defaultFollows: String?
    }

    public var changes: [Change]
    /// The rate of the next optimizer step under the checkpoint's config and under the new one.
    public var nextLearningRate: (saved: Double, new: Double)
    /// one_cycle's total steps under both configs, when they differ.
    public var oneCycleSteps: (saved: Int, new: Int)?

    public var keys: [String] { changes.map(\.key) }

    public var description: String {
        let list = changes.map { change in
            "\(change.key) (\(change.saved) -> \(change.new)\(change.defaultFollows.map { ", following \($0)" } ?? ""))"
        }
        var text = "resumed with changed \(list.joined(separator: ", ")) (allowed: they do not alter the model or the data)"
        let (saved, new) = nextLearningRate
        if saved != new {
            let (before, after) = Self.distinctFigures(saved, new)
            text += "; the learning rate of the next step moves from \(before) to \(after)"
            if let steps = oneCycleSteps {
                text += " (one_cycle spans \(steps.saved) -> \(steps.new) steps, following training.epochs)"
            }
        }
        let keep = changes.filter { $0.defaultFollows != nil }.map { "\($0.key)=\($0.saved)" }
        if !keep.isEmpty { text += "; set \(keep.joined(separator: " ")) to keep the old schedule" }
        return text
    }

    /// The two rates with 4 significant digits, or as many more as it takes to tell them apart.
    static func distinctFigures(_ a: Double, _ b: Double) -> (String, String) {
        for digits in 4...17 {
            let pair = (String(format: "%.\(digits)g", a), String(format: "%.\(digits)g", b))
            if pair.0 != pair.1 { return pair }
        }
        return ("\(a)", "\(b)")
    }
}

extension Configuration {
    /// The keys whose default (when a config leaves them out) follows another key's value.
    static let defaultsFollowing = [
        "scheduler.t_max": "training.epochs", "scheduler.max_lr": "optimizer.lr", "scheduler.base_lr": "optimizer.lr",
        "scheduler.step_size_down": "scheduler.step_size_up", "pruning.end_epoch": "training.epochs",
    ]

    /// Compares the checkpoint's configuration `saved` with this one (as read from the config file
    /// and `--set`, its schedule's defaults not yet filled in) for resuming `state`: both with the
    /// schedule's defaults of their batches (`resolvingScheduleDefaults`), so a default that
    /// follows `training.epochs` counts as changed with it. Returns the keys a resume refuses and
    /// the changes it allows, nil when there are none.
    public func resumeChanges(from saved: Configuration, state: TrainingState) -> (refused: [String], allowed: ResumeChanges?) {
        let rows = state.order.count
        // A loss left to the task that only the data decide (a csv with data.task: auto) is filled in
        // once the data are read, as it was for the checkpoint: the checkpoint's loss until then.
        var current = self
        if keySources.sources["loss"] == nil, knownTask == nil { current.loss = saved.loss }
        // So is whether the target is standardised: the checkpoint's, which the data check then confirms.
        if keySources.sources["data.standardize_target"] == nil, knownTask == nil {
            current.data.standardizeTarget = saved.data.standardizeTarget
        }
        let old = saved.resolvingScheduleDefaults(stepsPerEpoch: saved.stepsPerEpoch(trainRows: rows))
        let new = current.resolvingScheduleDefaults(stepsPerEpoch: stepsPerEpoch(trainRows: rows))
        let (refused, allowed) = Self.classifyForResume(new.changedKeys(from: old))
        guard refused.isEmpty, !allowed.isEmpty else { return (refused, nil) }
        let entries = Self.keysByPath
        let changes = allowed.map { key in
            let text = { (configuration: Configuration) in entries[key]?.yamlText(in: configuration) ?? "none" }
            let leftToDefault = entries[key]?.yamlText(in: self) == nil
            return ResumeChanges.Change(key: key, saved: text(old), new: text(new),
                                        defaultFollows: leftToDefault ? Self.defaultsFollowing[key] : nil)
        }
        let oldSchedule = old.makeSchedule(stepsPerEpoch: old.stepsPerEpoch(trainRows: rows))
        let newSchedule = new.makeSchedule(stepsPerEpoch: new.stepsPerEpoch(trainRows: rows))
        var oneCycleSteps: (Int, Int)?
        if case .oneCycle(let a) = oldSchedule.schedule, case .oneCycle(let b) = newSchedule.schedule,
           a.totalSteps != b.totalSteps {
            oneCycleSteps = (a.totalSteps, b.totalSteps)
        }
        // The keys the config changed first, then the defaults that follow them.
        let ordered = changes.filter { $0.defaultFollows == nil } + changes.filter { $0.defaultFollows != nil }
        return ([], ResumeChanges(changes: ordered, nextLearningRate: (old.nextLearningRate(oldSchedule, state: state),
                                                                        new.nextLearningRate(newSchedule, state: state)),
                                  oneCycleSteps: oneCycleSteps))
    }

    /// The rate of the step a trainer of this configuration restored from `state` takes next (as
    /// `Trainer.scheduledValues`): SWALR's saved rate once SWA has begun, else reduce_on_plateau's
    /// saved rate, if it has one, under the schedule.
    private func nextLearningRate(_ schedule: Warmup, state: TrainingState) -> Double {
        if swa.startEpoch != nil, let swaSchedule = state.swaSchedule { return swaSchedule.learningRate }
        let plateauRate = scheduler.name == .reduceOnPlateau ? state.plateau?.learningRate : nil
        let position = SchedulePosition(epoch: state.position.epoch - 1, step: state.stepCount,
                                        stepsPerEpoch: stepsPerEpoch(trainRows: state.order.count))
        return schedule.values(at: position, baseLR: plateauRate ?? optimizer.lr).learningRate
    }

    /// Why a run that already ended (`ending`, at `position`, with early stopping's saved state)
    /// stays ended under this configuration, or nil when it trains on. It goes on when
    /// `training.epochs` exceeds the epochs it has done and early stopping, as configured now and
    /// continuing the saved count, does not already call for a stop (`wait < patience`; off, or
    /// watching another figure, it does not). The same rule holds for a completed run and an
    /// early-stopped one, so the stop that ended a run is not undone by raising `training.epochs`
    /// alone; a run interrupted mid-way (`ending` nil) has not ended.
    public func endedRun(ending: TrainingEnd?, position: TrainingPosition, earlyStopping: EarlyStopping?) -> EndedRun? {
        guard let ending else { return nil }
        let done = position.epoch - 1
        let stopper = makeEarlyStopping().map { fresh in earlyStopping.map(fresh.continuing) ?? fresh }
        let stillStopping = stopper.flatMap { $0.wait >= $0.patience ? $0 : nil }
        guard training.epochs <= done || stillStopping != nil else { return nil }
        return EndedRun(ending: ending, epochsDone: done, needsEpochs: training.epochs <= done, stopper: stillStopping)
    }
}

/// A resumed run that had already ended and that its new configuration would not train further:
/// why, and what would let it go on (see `Configuration.endedRun`).
public struct EndedRun: Sendable, Equatable {
    public var ending: TrainingEnd
    public var epochsDone: Int
    /// `training.epochs` is not above the epochs done.
    public var needsEpochs: Bool
    /// Early stopping that still says stop: its wait has reached its patience.
    public var stopper: EarlyStopping?

    /// "completed 6 of 6 epochs", "stopped early at epoch 3 (val_loss has not improved for 2 epochs,
    /// early_stopping.patience 2)".
    public var reason: String {
        let ended = switch ending {
        case .completed: "completed \(epochsDone) of \(epochsDone) epochs"
        case .earlyStopped(let epoch): "stopped early at epoch \(epoch)"
        }
        return ended + (stopper.map {
            " (\($0.monitor.rawValue) has not improved for \($0.wait) epoch\($0.wait == 1 ? "" : "s"), "
                + "early_stopping.patience \($0.patience))"
        } ?? "")
    }

    /// What to change to train on: "raise training.epochs above 6 (e.g. --set training.epochs=12)".
    public var remedy: String {
        var steps: [String] = []
        if needsEpochs {
            steps.append("raise training.epochs above \(epochsDone) (e.g. --set training.epochs=\(2 * epochsDone))")
        }
        if let stopper {
            steps.append("raise early_stopping.patience above \(stopper.wait) (e.g. --set early_stopping.patience="
                + "\(2 * stopper.wait)) or unset it (--set early_stopping.patience=null)")
        }
        return steps.joined(separator: ", and ")
    }
}
