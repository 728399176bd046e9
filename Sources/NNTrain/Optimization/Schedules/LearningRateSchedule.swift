import Foundation

/// A learning-rate schedule as a pure function of the training position, giving the values of
/// torch.optim.lr_scheduler in PyTorch's usual loop:
///
///     for epoch in range(epochs):
///         for i, batch in enumerate(loader):
///             ...; optimizer.step()
///             scheduler.step()                   # per batch: OneCycleLR, CyclicLR
///             scheduler.step(epoch + i / iters)  # per batch: CosineAnnealingWarmRestarts
///         scheduler.step()                       # per epoch: every other schedule
///
/// `values(at:baseLR:)` is what `param_group["lr"]` (and `momentum` or `betas[0]`) holds when
/// `optimizer.step()` runs at that position. Per-epoch schedules read only `position.epoch`, so every
/// step of an epoch has the same rate; per-batch schedules read `position.step`. Where PyTorch has a
/// closed form (`_get_closed_form_lr`) it is used, with PyTorch's order of operations; the recursive
/// form the loop runs agrees with it to the last bit or two.
///
/// The schedules do not check their parameters: the config layer refuses what PyTorch's constructors
/// refuse (the key table's bounds and `Configuration+Rules.swift`). A parameter out of range is
/// clamped where it would divide by zero (a `stepSize`, `tMax`, `t0`, `tMult`, linear's or polynomial's `totalIters` below 1
/// is read as 1), so even an unchecked schedule gives a number and never traps. ReduceLROnPlateau,
/// the one schedule with state, is its own type.
public enum LearningRateSchedule: Equatable, Sendable {
    /// ConstantLR, per epoch, by its closed form (`torch/optim/lr_scheduler.py`, `ConstantLR._get_closed_form_lr`):
    ///
    ///     γ = base · (factor + [epoch ≥ totalIters] · (1 − factor))
    ///
    /// so the rate is base · factor for the first `totalIters` epochs and base after them. `factor` 1
    /// (`.constant()`) is the configured rate at every step. PyTorch's class defaults to factor 1/3;
    /// the config's `scheduler.factor` defaults to 1, a plain constant rate.
    case constant(factor: Double = 1, totalIters: Int = 5)

    /// StepLR, per epoch: γ = base · gamma^⌊epoch / stepSize⌋.
    case step(stepSize: Int, gamma: Double = 0.1)

    /// MultiStepLR, per epoch: γ = base · gamma^k, with k the number of milestones ≤ epoch, so the
    /// rate drops at the start of each milestone epoch.
    case multiStep(milestones: [Int], gamma: Double = 0.1)

    /// ExponentialLR, per epoch: γ = base · gamma^epoch.
    case exponential(gamma: Double)

    /// CosineAnnealingLR, per epoch, by its closed form:
    ///
    ///     γ = η_min + (base − η_min) · (1 + cos(π · epoch / T_max)) / 2
    ///
    /// It reaches η_min at epoch T_max; past it the rate climbs the cosine back up (period 2·T_max),
    /// as PyTorch's does, so set T_max to the number of epochs to end at η_min.
    case cosine(tMax: Int, etaMin: Double = 0)

    /// CosineAnnealingWarmRestarts (SGDR), per batch with fractional epochs. With T_i the length of
    /// the current cycle (T_0, then T_0·T_mult, T_0·T_mult², ...) and T_cur the epochs into it:
    ///
    ///     γ = η_min + (base − η_min) · (1 + cos(π · T_cur / T_i)) / 2
    ///
    /// PyTorch's documented loop calls `scheduler.step(epoch + i / iters)` after batch i's optimizer
    /// step, so batch i runs with the rate set after the batch before it: step s ≥ 1 is at fractional
    /// epoch (s − 1) / stepsPerEpoch, and step 0 at epoch 0. Each restart therefore lands on the
    /// second batch of an epoch, exactly as in PyTorch. T_cur and T_i follow PyTorch's `step(epoch)`
    /// arithmetic, including its cycle count n = int(log(epoch / T_0 · (T_mult − 1) + 1, T_mult)) for
    /// T_mult > 1, rounding and all: with T_0 = 1, T_mult = 3, log(243, 3) = 4.999…, so epoch 121.0
    /// ends the fourth cycle at η_min instead of starting the fifth, and the restart comes a step later.
    case cosineRestarts(t0: Int, tMult: Int = 1, etaMin: Double = 0)

    /// LinearLR, per epoch: γ = base · (start + (end − start) · min(epoch, totalIters) / totalIters).
    /// The usual linear warm-up in epochs; see `Warmup` for one in steps in front of another schedule.
    case linear(startFactor: Double = 1.0 / 3, endFactor: Double = 1.0, totalIters: Int = 5)

    /// PolynomialLR, per epoch, by its closed form (`PolynomialLR._get_closed_form_lr`):
    ///
    ///     γ = base · (1 − min(epoch, totalIters) / totalIters)^power
    ///
    /// reaching 0 at epoch `totalIters` and staying there; PyTorch's defaults totalIters 5, power 1.
    case polynomial(totalIters: Int = 5, power: Double = 1)

    /// OneCycleLR, per batch; ignores the optimizer's configured rate. See `OneCycle`.
    case oneCycle(OneCycle)

    /// CyclicLR, per batch; ignores the optimizer's configured rate. See `Cyclic`.
    case cyclic(Cyclic)

    /// The rate (and, for `oneCycle` and `cyclic` with `cycleMomentum`, the momentum) of the optimizer
    /// step at `position`, for an optimizer configured with learning rate `baseLR`.
    public func values(at position: SchedulePosition, baseLR: Double) -> ScheduledValues {
        let epoch = max(position.epoch, 0), step = max(position.step, 0)
        switch self {
        case let .constant(factor, totalIters):
            return ScheduledValues(learningRate: baseLR * (factor + (epoch >= totalIters ? 1 : 0) * (1 - factor)))
        case let .step(stepSize, gamma):
            return ScheduledValues(learningRate: baseLR * pow(gamma, Double(epoch / max(stepSize, 1))))
        case let .multiStep(milestones, gamma):
            let passed = milestones.count { $0 <= epoch }
            return ScheduledValues(learningRate: baseLR * pow(gamma, Double(passed)))
        case let .exponential(gamma):
            return ScheduledValues(learningRate: baseLR * pow(gamma, Double(epoch)))
        case let .cosine(tMax, etaMin):
            let angle = .pi * Double(epoch) / Double(max(tMax, 1))
            return ScheduledValues(learningRate: Self.cosineAnneal(from: baseLR, to: etaMin, angle: angle))
        case let .cosineRestarts(t0, tMult, etaMin):
            let angle = Self.restartsAngle(step: step, stepsPerEpoch: max(position.stepsPerEpoch, 1),
                                           t0: max(t0, 1), tMult: max(tMult, 1))
            return ScheduledValues(learningRate: Self.cosineAnneal(from: baseLR, to: etaMin, angle: angle))
        case let .linear(startFactor, endFactor, totalIters):
            let iters = max(totalIters, 1)
            let factor = startFactor + (endFactor - startFactor) * Double(min(iters, epoch)) / Double(iters)
            return ScheduledValues(learningRate: baseLR * factor)
        case let .polynomial(totalIters, power):
            let iters = max(totalIters, 1)
            return ScheduledValues(learningRate: baseLR * pow(1.0 - Double(min(iters, epoch)) / Double(iters), power))
        case let .oneCycle(schedule):
            return schedule.values(atStep: step)
        case let .cyclic(schedule):
            return schedule.values(atStep: step)
        }
    }

    /// `low + (high − low) · (1 + cos(angle)) / 2`: `high` at angle 0, `low` at π. The one cosine of
    /// CosineAnnealingLR, CosineAnnealingWarmRestarts and OneCycleLR's `"cos"` annealing; each caller
    /// computes the angle in its PyTorch order (π·t/T or π·(t/T)), which decides the last bit.
    static func cosineAnneal(from high: Double, to low: Double, angle: Double) -> Double {
        low + (high - low) * (1 + cos(angle)) / 2
    }

    /// π · T_cur / T_i for the step's fractional epoch, as CosineAnnealingWarmRestarts.step(epoch)
    /// computes it:
    ///
    ///     epoch < T_0:   T_cur = epoch,                                 T_i = T_0
    ///     T_mult = 1:    T_cur = epoch mod T_0,                         T_i = T_0
    ///     otherwise:     n = int(log(epoch / T_0 · (T_mult − 1) + 1) / log(T_mult))
    ///                    T_cur = epoch − T_0 · (T_mult^n − 1) / (T_mult − 1),  T_i = T_0 · T_mult^n
    private static func restartsAngle(step: Int, stepsPerEpoch: Int, t0: Int, tMult: Int) -> Double {
        // The value `scheduler.step(epoch + i / iters)` set after the previous step (see the case).
        let previous = max(step - 1, 0)
        let epoch = Double(previous / stepsPerEpoch) + Double(previous % stepsPerEpoch) / Double(stepsPerEpoch)
        let firstCycle = Double(t0), multiplier = Double(tMult)
        if epoch < firstCycle { return .pi * epoch / firstCycle }
        if tMult == 1 { return .pi * epoch.truncatingRemainder(dividingBy: firstCycle) / firstCycle }
        let cycles = (log(epoch / firstCycle * (multiplier - 1) + 1) / log(multiplier)).rounded(.towardZero)
        let growth = pow(multiplier, cycles)
        let epochsIntoCycle = epoch - firstCycle * (growth - 1) / (multiplier - 1)
        return .pi * epochsIntoCycle / (firstCycle * growth)
    }
}
