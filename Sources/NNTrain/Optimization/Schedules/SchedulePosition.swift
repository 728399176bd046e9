/// Where training is when the optimizer is about to take a step: the only input a schedule needs,
/// so resuming a run needs nothing but this position (as in mlx-swift, where a schedule is a pure
/// function of the step).
///
/// In the loop `for epoch { for batch { ...; optimizer.step() } }`, the step taken in batch `i` of
/// epoch `e` is at `SchedulePosition(epoch: e, step: e × stepsPerEpoch + i, stepsPerEpoch:)`. In mixed
/// precision a step GradScaler skipped is not counted, so `step` then lags behind the batches while
/// `epoch` stays the loop's: per-batch schedules follow the one, per-epoch schedules the other.
/// Negative counts are read as 0 and a `stepsPerEpoch` below 1 as 1, so no position can trap.
public struct SchedulePosition: Equatable, Sendable {
    /// Epochs completed before this step: the 0-based index of the current epoch.
    public var epoch: Int
    /// Optimizer steps already taken in the whole run: the 0-based index of the current step.
    public var step: Int
    /// Optimizer steps (batches) in one epoch.
    public var stepsPerEpoch: Int

    public init(epoch: Int, step: Int, stepsPerEpoch: Int) {
        self.epoch = epoch
        self.step = step
        self.stepsPerEpoch = stepsPerEpoch
    }
}

/// What a schedule sets for one optimizer step.
public struct ScheduledValues: Equatable, Sendable {
    /// The learning rate γ of this step.
    public var learningRate: Double
    /// SGD's momentum μ, or Adam's β1, for this step: set only by the schedules that cycle it
    /// (`oneCycle` and `cyclic` with `cycleMomentum`), as PyTorch's OneCycleLR and CyclicLR
    /// overwrite `momentum` or `betas[0]` in the optimizer's param group. `nil` means the schedule
    /// leaves momentum alone: the optimizer keeps its configured value.
    public var momentum: Double?

    public init(learningRate: Double, momentum: Double? = nil) {
        self.learningRate = learningRate
        self.momentum = momentum
    }
}
