/// A linear warm-up of W steps in front of any schedule. With target the wrapped schedule's rate at
/// its own first step (position 0), s the optimizer steps taken and e the training epoch (from 0):
///
///     s < W:   γ = target · (s + 1) / W
///     s ≥ W:   the wrapped schedule at step s − W (per-batch schedules) and epoch e − ⌊W / stepsPerEpoch⌋
///              (per-epoch schedules)
///
/// Conventions differ on the first step: Hugging Face transformers' `get_*_schedule_with_warmup`
/// uses s / W, so step 0 runs at rate 0 and is wasted; Keras' `warmup_target` and timm's
/// `warmup_lr_init` start from a separate initial rate (0 by default, the same waste). This follows
/// llm.c's `train_gpt2` and Karpathy's GPT-2 reproduction, (s + 1) / W: every warm-up step moves the
/// weights, and the last one (s = W − 1) reaches the target, the rate the wrapped schedule starts at,
/// so the joint is continuous.
///
/// The wrapped schedule's clock starts after warm-up, as in PyTorch's
/// `SequentialLR([LinearLR(...), CosineAnnealingLR(T_max=epochs - warmup)], milestones=[warmup])`,
/// llm.c and transformers (unlike timm's default): per-batch schedules count the steps after it,
/// per-epoch schedules the training epochs after the ⌊W / stepsPerEpoch⌋ epochs it fills (all of
/// `warmup_epochs`; a warm-up in steps that ends mid-epoch hands over to the wrapped schedule's
/// epoch 0 for the rest of that epoch). So a per-epoch rate changes only at a training epoch's
/// boundary, as `scheduler.step()` after each epoch changes it in PyTorch, even when mixed
/// precision skipped steps (then s lags behind the batches; the warm-up, like the per-batch
/// schedules, counts the steps taken: see `Trainer`). `Configuration.makeSchedule` sizes the
/// defaults (cosine's T_max, one_cycle's total steps) to what is left after the warm-up. During
/// warm-up the momentum is the wrapped schedule's at position 0 (OneCycleLR's `maxMomentum`), or nil.
public struct Warmup: Equatable, Sendable {
    /// How long the warm-up lasts; 0 means no warm-up.
    public enum Length: Equatable, Sendable {
        /// `scheduler.warmup_steps`: optimizer steps.
        case steps(Int)
        /// `scheduler.warmup_epochs`: whole epochs of `stepsPerEpoch` steps.
        case epochs(Int)
    }

    public var length: Length
    /// The schedule that runs after warm-up.
    public var schedule: LearningRateSchedule

    public init(_ length: Length, then schedule: LearningRateSchedule) {
        self.length = length
        self.schedule = schedule
    }

    /// W: the warm-up's length in optimizer steps (at least 0; `Int.max` if an epoch count overflows).
    public func steps(stepsPerEpoch: Int) -> Int {
        switch length {
        case let .steps(count):
            return max(count, 0)
        case let .epochs(count):
            let (steps, overflow) = max(count, 0).multipliedReportingOverflow(by: max(stepsPerEpoch, 1))
            return overflow ? Int.max : steps
        }
    }

    /// ⌊W / stepsPerEpoch⌋: the training epochs the warm-up fills entirely, which per-epoch
    /// schedules behind it do not count.
    public func epochs(stepsPerEpoch: Int) -> Int {
        switch length {
        case let .steps(count): max(count, 0) / max(stepsPerEpoch, 1)
        case let .epochs(count): max(count, 0)
        }
    }

    /// The rate (and momentum, if the wrapped schedule sets it) of the optimizer step at `position`.
    public func values(at position: SchedulePosition, baseLR: Double) -> ScheduledValues {
        let perEpoch = max(position.stepsPerEpoch, 1), step = max(position.step, 0)
        let warmupSteps = steps(stepsPerEpoch: perEpoch)
        guard step < warmupSteps else {
            let epoch = max(position.epoch - epochs(stepsPerEpoch: perEpoch), 0)
            return schedule.values(at: SchedulePosition(epoch: epoch, step: step - warmupSteps, stepsPerEpoch: perEpoch),
                                   baseLR: baseLR)
        }
        var values = schedule.values(at: SchedulePosition(epoch: 0, step: 0, stepsPerEpoch: perEpoch), baseLR: baseLR)
        values.learningRate *= Double(step + 1) / Double(warmupSteps)
        return values
    }
}
