import Foundation

extension LearningRateSchedule {
    /// torch.optim.lr_scheduler.CyclicLR (Smith, "Cyclical Learning Rates"), stepped once per batch.
    /// With up = `stepSizeUp`, down = `stepSizeDown` (default up), L = up + down and step s:
    ///
    ///     cycle = ⌊1 + s / L⌋,   x = 1 + s / L − cycle                  (0 ≤ x < 1 through a cycle)
    ///     f     = x / r  if x ≤ r,  else (x − 1) / (r − 1),   r = up / L  (0 → 1 → 0 triangle)
    ///     scale = 1 (triangular),  1 / 2^(cycle − 1) (triangular2),  gamma^s (expRange)
    ///     γ     = baseLR + (maxLR − baseLR) · f · scale
    ///     μ     = maxMomentum − (maxMomentum − baseMomentum) · f · scale
    ///
    /// So momentum (SGD's μ, Adam's β1) moves opposite to the rate: step 0 runs at `baseLR` with
    /// `maxMomentum`, step `up` at the peak with `baseMomentum`. The optimizer's configured rate is
    /// not used: CyclicLR overwrites it with `base_lr`.
    public struct Cyclic: Equatable, Sendable {
        /// CyclicLR's `mode`; the raw values are PyTorch's names.
        public enum Mode: String, Equatable, Sendable, CaseIterable {
            case triangular
            case triangular2
            case expRange = "exp_range"
        }

        /// The lower boundary of the cycle.
        public var baseLR: Double
        /// The upper boundary; the amplitude is maxLR − baseLR before scaling.
        public var maxLR: Double
        /// Steps in the rising half of a cycle.
        public var stepSizeUp: Int
        /// Steps in the falling half; nil means `stepSizeUp`.
        public var stepSizeDown: Int?
        public var mode: Mode
        /// The base of `expRange`'s scale gamma^s.
        public var gamma: Double
        public var cycleMomentum: Bool
        public var baseMomentum: Double
        public var maxMomentum: Double

        /// CyclicLR's defaults.
        public init(baseLR: Double, maxLR: Double, stepSizeUp: Int = 2000, stepSizeDown: Int? = nil,
                    mode: Mode = .triangular, gamma: Double = 1, cycleMomentum: Bool = true,
                    baseMomentum: Double = 0.8, maxMomentum: Double = 0.9) {
            self.baseLR = baseLR
            self.maxLR = maxLR
            self.stepSizeUp = stepSizeUp
            self.stepSizeDown = stepSizeDown
            self.mode = mode
            self.gamma = gamma
            self.cycleMomentum = cycleMomentum
            self.baseMomentum = baseMomentum
            self.maxMomentum = maxMomentum
        }

        /// CyclicLR's `get_lr` at `last_epoch = step`. A `stepSizeUp` below 1 is read as 1 and a
        /// `stepSizeDown` below 0 as 0, so r is never 0 and no division is by zero.
        func values(atStep step: Int) -> ScheduledValues {
            let up = Double(max(stepSizeUp, 1))
            let down = stepSizeDown.map { Double(max($0, 0)) } ?? up
            let cycleLength = up + down, riseRatio = up / cycleLength
            let s = Double(step)
            let cycle = (1 + s / cycleLength).rounded(.down)
            let x = 1.0 + s / cycleLength - cycle
            let heightFactor = x <= riseRatio ? x / riseRatio : (x - 1) / (riseRatio - 1)
            let scale = switch mode {
            case .triangular: 1.0
            case .triangular2: 1 / pow(2.0, cycle - 1)
            case .expRange: pow(gamma, s)
            }
            return ScheduledValues(
                learningRate: baseLR + (maxLR - baseLR) * heightFactor * scale,
                momentum: cycleMomentum ? maxMomentum - (maxMomentum - baseMomentum) * heightFactor * scale : nil)
        }
    }
}
