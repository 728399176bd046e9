// What the config layer calls after reading the `scheduler:` section. Each `validate()` returns the
// first problem as one line naming the config key (`scheduler.step_size: 0 is out of range; expected
// an integer >= 1`), for the config layer to prefix with the file and line, or nil when all is well.
// The rules are PyTorch's constructor checks plus those that keep the arithmetic away from a division
// by zero.

/// `scheduler.<key>: <value> is out of range; expected <expected>`.
private func outOfRange(_ key: String, _ value: some CustomStringConvertible, expected: String) -> String {
    "scheduler.\(key): \(value) is out of range; expected \(expected)"
}

/// nil when `holds`, else the `outOfRange` message.
private func scheduleProblem(unless holds: Bool, _ key: String, _ value: some CustomStringConvertible,
                             expected: String) -> String? {
    holds ? nil : outOfRange(key, value, expected: expected)
}

/// The momentum bounds of OneCycleLR and CyclicLR: μ and Adam's β1 must stay in [0, 1).
private func momentumProblem(cycled: Bool, base: Double, max: Double) -> String? {
    guard cycled else { return nil }
    return scheduleProblem(unless: base >= 0 && base < 1, "base_momentum", base, expected: "a number in [0, 1)")
        ?? scheduleProblem(unless: max >= 0 && max < 1, "max_momentum", max, expected: "a number in [0, 1)")
}

extension LearningRateSchedule {
    /// The first thing wrong with the schedule's parameters, phrased with its config keys, or nil.
    public func validate() -> String? {
        switch self {
        case .constant:
            return nil
        case let .step(stepSize, gamma):
            return scheduleProblem(unless: stepSize >= 1, "step_size", stepSize, expected: "an integer >= 1")
                ?? scheduleProblem(unless: gamma > 0, "gamma", gamma, expected: "a number > 0")
        case let .multiStep(milestones, gamma):
            let expected = "increasing epochs such as [30, 60, 90]"
            if milestones.isEmpty { return "scheduler.milestones: is empty; expected \(expected)" }
            if milestones.contains(where: { $0 < 1 }) {
                return outOfRange("milestones", milestones, expected: "epochs >= 1")
            }
            if zip(milestones, milestones.dropFirst()).contains(where: { $0 >= $1 }) {
                return "scheduler.milestones: \(milestones) is not strictly increasing; expected \(expected)"
            }
            return scheduleProblem(unless: gamma > 0, "gamma", gamma, expected: "a number > 0")
        case let .exponential(gamma):
            return scheduleProblem(unless: gamma > 0, "gamma", gamma, expected: "a number > 0")
        case let .cosine(tMax, etaMin):
            return scheduleProblem(unless: tMax >= 1, "t_max", tMax, expected: "an integer >= 1")
                ?? scheduleProblem(unless: etaMin >= 0, "eta_min", etaMin, expected: "a number >= 0")
        case let .cosineRestarts(t0, tMult, etaMin):
            return scheduleProblem(unless: t0 >= 1, "t_0", t0, expected: "an integer >= 1")
                ?? scheduleProblem(unless: tMult >= 1, "t_mult", tMult, expected: "an integer >= 1")
                ?? scheduleProblem(unless: etaMin >= 0, "eta_min", etaMin, expected: "a number >= 0")
        case let .linear(startFactor, endFactor, totalIters):
            return scheduleProblem(unless: startFactor > 0 && startFactor <= 1, "start_factor", startFactor,
                                   expected: "a number in (0, 1]")
                ?? scheduleProblem(unless: endFactor >= 0 && endFactor <= 1, "end_factor", endFactor,
                                   expected: "a number in [0, 1]")
                ?? scheduleProblem(unless: totalIters >= 1, "total_iters", totalIters, expected: "an integer >= 1")
        case let .oneCycle(schedule):
            return schedule.validate()
        case let .cyclic(schedule):
            return schedule.validate()
        }
    }
}

extension LearningRateSchedule.OneCycle {
    /// The first thing wrong with OneCycleLR's parameters, phrased with its config keys, or nil.
    public func validate() -> String? {
        if totalSteps < 1 {
            return "scheduler: one_cycle spans \(totalSteps) steps (epochs × batches per epoch); expected at least 1"
        }
        if let problem = scheduleProblem(unless: maxLR > 0, "max_lr", maxLR, expected: "a number > 0")
            ?? scheduleProblem(unless: pctStart > 0 && pctStart < 1, "pct_start", pctStart, expected: "a number in (0, 1)")
            ?? scheduleProblem(unless: divFactor > 0, "div_factor", divFactor, expected: "a number > 0")
            ?? scheduleProblem(unless: finalDivFactor > 0, "final_div_factor", finalDivFactor, expected: "a number > 0")
            ?? momentumProblem(cycled: cycleMomentum, base: baseMomentum, max: maxMomentum) {
            return problem
        }
        if pctStart * Double(totalSteps) == 1 {
            return "scheduler.pct_start: \(pctStart) × \(totalSteps) steps is exactly 1, a rising phase of no length "
                + "(PyTorch divides by zero); expected a pct_start with pct_start × total steps ≠ 1"
        }
        return nil
    }
}

extension LearningRateSchedule.Cyclic {
    /// The first thing wrong with CyclicLR's parameters, phrased with its config keys, or nil.
    public func validate() -> String? {
        scheduleProblem(unless: baseLR >= 0, "base_lr", baseLR, expected: "a number >= 0")
            ?? scheduleProblem(unless: maxLR > 0, "max_lr", maxLR, expected: "a number > 0")
            ?? scheduleProblem(unless: stepSizeUp >= 1, "step_size_up", stepSizeUp, expected: "an integer >= 1")
            ?? scheduleProblem(unless: (stepSizeDown ?? 0) >= 0, "step_size_down", stepSizeDown ?? 0,
                               expected: "an integer >= 0")
            ?? scheduleProblem(unless: gamma > 0, "gamma", gamma, expected: "a number > 0")
            ?? momentumProblem(cycled: cycleMomentum, base: baseMomentum, max: maxMomentum)
    }
}

extension Warmup {
    /// The first thing wrong with the warm-up's length or the schedule behind it, or nil.
    public func validate() -> String? {
        let problem = switch length {
        case let .steps(count): scheduleProblem(unless: count >= 0, "warmup_steps", count, expected: "an integer >= 0")
        case let .epochs(count): scheduleProblem(unless: count >= 0, "warmup_epochs", count, expected: "an integer >= 0")
        }
        return problem ?? schedule.validate()
    }
}

extension ReduceLROnPlateau {
    /// The first thing wrong with ReduceLROnPlateau's parameters, phrased with its config keys, or nil.
    public func validate() -> String? {
        let thresholdRange = thresholdMode == .relative ? "a number in [0, 1)" : "a number >= 0"
        return scheduleProblem(unless: factor > 0 && factor < 1, "factor", factor, expected: "a number in (0, 1)")
            ?? scheduleProblem(unless: patience >= 0, "patience", patience, expected: "an integer >= 0")
            ?? scheduleProblem(unless: threshold >= 0 && (thresholdMode == .absolute || threshold < 1),
                               "threshold", threshold, expected: thresholdRange)
            ?? scheduleProblem(unless: cooldown >= 0, "cooldown", cooldown, expected: "an integer >= 0")
            ?? scheduleProblem(unless: minLR >= 0, "min_lr", minLR, expected: "a number >= 0")
            ?? scheduleProblem(unless: eps >= 0, "eps", eps, expected: "a number >= 0")
    }
}
