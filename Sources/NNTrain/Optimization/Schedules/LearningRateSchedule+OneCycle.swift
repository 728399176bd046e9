extension LearningRateSchedule {
    /// torch.optim.lr_scheduler.OneCycleLR (Smith, "Super-Convergence", fastai's two-phase variant by
    /// default), stepped once per batch. With T = `totalSteps`, p = `pctStart`,
    /// initial = maxLR / divFactor and min = initial / finalDivFactor, step s lies in phases that end
    /// at these steps (PyTorch's `_schedule_phases`; an end need not be a whole step):
    ///
    ///     two phases:    p·T − 1:   initial → maxLR,   maxMomentum → baseMomentum
    ///                    T − 1:     maxLR → min,       baseMomentum → maxMomentum
    ///     three phases:  p·T − 1:   initial → maxLR,   maxMomentum → baseMomentum
    ///                    2p·T − 2:  maxLR → initial,   baseMomentum → maxMomentum
    ///                    T − 1:     initial → min,     maxMomentum → maxMomentum
    ///
    /// s belongs to the first phase whose end is ≥ s (else the last). With `start` the previous
    /// phase's end (0 for the first) and pct = (s − start) / (end − start), a value goes from a to b as
    ///
    ///     cos:     b + (a − b) / 2 · (cos(π · pct) + 1)
    ///     linear:  (b − a) · pct + a
    ///
    /// So step 0 runs at `initial` with `maxMomentum`, and step T − 1 at `min`. The optimizer's
    /// configured rate is not used. PyTorch raises past step T; here every later step keeps step
    /// T − 1's values. PyTorch also divides by zero when p·T = 1
    /// (`Configuration.checkScheduleFitsTheData` refuses it); here that one-step first phase is at its end.
    public struct OneCycle: Equatable, Sendable {
        /// OneCycleLR's `anneal_strategy`.
        public enum Annealing: String, Equatable, Sendable, CaseIterable {
            case cos
            case linear
        }

        /// The peak learning rate.
        public var maxLR: Double
        /// Steps in the whole cycle: epochs × batches per epoch (steps after any warm-up).
        public var totalSteps: Int
        /// The fraction of the cycle spent raising the rate.
        public var pctStart: Double
        public var annealing: Annealing
        /// Whether momentum (SGD's μ, Adam's β1) moves opposite to the rate between the two values.
        public var cycleMomentum: Bool
        public var baseMomentum: Double
        public var maxMomentum: Double
        /// initial = maxLR / divFactor.
        public var divFactor: Double
        /// min = initial / finalDivFactor.
        public var finalDivFactor: Double
        /// The original paper's three phases instead of fastai's two.
        public var threePhase: Bool

        /// OneCycleLR's defaults.
        public init(maxLR: Double, totalSteps: Int, pctStart: Double = 0.3, annealing: Annealing = .cos,
                    cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
                    divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false) {
            self.maxLR = maxLR
            self.totalSteps = totalSteps
            self.pctStart = pctStart
            self.annealing = annealing
            self.cycleMomentum = cycleMomentum
            self.baseMomentum = baseMomentum
            self.maxMomentum = maxMomentum
            self.divFactor = divFactor
            self.finalDivFactor = finalDivFactor
            self.threePhase = threePhase
        }

        /// OneCycleLR's `get_lr` at `last_epoch = step` (clamped to the last step).
        func values(atStep step: Int) -> ScheduledValues {
            let total = max(totalSteps, 1)
            let s = Double(min(step, total - 1))
            let initialLR = maxLR / divFactor, minLR = initialLR / finalDivFactor
            let riseEnd = pctStart * Double(total) - 1, lastStep = Double(total - 1)
            let start: Double, end: Double, lr: (Double, Double), momentum: (Double, Double)
            if s <= riseEnd {
                (start, end, lr, momentum) = (0, riseEnd, (initialLR, maxLR), (maxMomentum, baseMomentum))
            } else if !threePhase {
                (start, end, lr, momentum) = (riseEnd, lastStep, (maxLR, minLR), (baseMomentum, maxMomentum))
            } else {
                let fallEnd = 2 * pctStart * Double(total) - 2
                if s <= fallEnd {
                    (start, end, lr, momentum) = (riseEnd, fallEnd, (maxLR, initialLR), (baseMomentum, maxMomentum))
                } else {
                    (start, end, lr, momentum) = (fallEnd, lastStep, (initialLR, minLR), (maxMomentum, maxMomentum))
                }
            }
            let pct = end > start ? (s - start) / (end - start) : 1
            return ScheduledValues(
                learningRate: anneal(from: lr.0, to: lr.1, pct: pct),
                momentum: cycleMomentum ? anneal(from: momentum.0, to: momentum.1, pct: pct) : nil)
        }

        private func anneal(from a: Double, to b: Double, pct: Double) -> Double {
            switch annealing {
            case .cos: LearningRateSchedule.cosineAnneal(from: a, to: b, angle: .pi * pct)
            case .linear: (b - a) * pct + a
            }
        }
    }
}
