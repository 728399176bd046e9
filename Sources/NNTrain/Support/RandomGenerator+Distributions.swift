import Foundation

/// Draws that data augmentation needs beyond the uniform and normal ones of `RandomGenerator`.
/// Like those, each consumes a fixed, documented sequence of the generator's outputs for a given
/// outcome, so a seed reproduces it on every platform.
extension RandomGenerator {
    /// A Beta(a, b) draw, in [0, 1], as X / (X + Y) with X ~ Gamma(a, 1) and Y ~ Gamma(b, 1) (drawn
    /// in that order). Mean a / (a + b), variance ab / ((a + b)²(a + b + 1)).
    ///
    /// Computed from the logarithms of X and Y as 1 / (1 + exp(log Y − log X)), so a small shape
    /// (mixup's α = 0.2, or 0.001), whose Gamma draws underflow to 0 more often than not, still gives
    /// a number in [0, 1] rather than 0 / 0.
    ///
    /// Both shapes must be positive and finite (the configuration layer refuses others).
    public mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        let logX = nextLogGamma(shape: a)
        let logY = nextLogGamma(shape: b)
        return 1 / (1 + exp(logY - logX))
    }

    /// The natural logarithm of a Gamma(shape, 1) draw (density x^(shape−1) e^(−x) / Γ(shape); mean
    /// and variance both `shape`).
    ///
    /// For shape ≥ 1, Marsaglia & Tsang, "A simple method for generating gamma variables" (ACM TOMS
    /// 26(3), 2000): with d = shape − 1/3 and c = 1/√(9d), repeat x ~ N(0, 1), v = (1 + cx)³ (x
    /// redrawn while v ≤ 0), u ~ U(0, 1] until u < 1 − 0.0331x⁴ or log u < x²/2 + d(1 − v + log v),
    /// and return dv. For shape < 1, their boost: Gamma(shape) = Gamma(shape + 1) · U^(1/shape), the
    /// Gamma(shape + 1) draw first, then U ~ U(0, 1]; in logarithms that product cannot underflow.
    ///
    /// `shape` must be positive and finite: a caller's bug otherwise, so it stops the program.
    public mutating func nextLogGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "nextLogGamma: shape \(shape) is not positive and finite")
        guard shape < 1 else { return log(marsagliaTsangGamma(shape: shape)) }
        let boosted = log(marsagliaTsangGamma(shape: shape + 1))
        return boosted + log(1 - nextUnitDouble()) / shape
    }

    /// A Gamma(shape, 1) draw for shape ≥ 1 by Marsaglia & Tsang's squeeze-and-reject loop (see
    /// `nextLogGamma`). Each try draws the normals x (two uniforms each, by `nextGaussian`), then u.
    private mutating func marsagliaTsangGamma(shape: Double) -> Double {
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = 1 - nextUnitDouble()  // in (0, 1], so its logarithm is finite
            let xSquared = x * x
            if u < 1 - 0.0331 * xSquared * xSquared || log(u) < 0.5 * xSquared + d * (1 - v + log(v)) {
                return d * v
            }
        }
    }

    /// Shuffles `indices` in place into a uniformly random permutation of its elements: Fisher–Yates
    /// from the last position down, swapping position i with j = `next(upperBound: i + 1)`. The same
    /// draws as `shuffle(_:)` on an array, for buffers allocated once (mixup's partner rows).
    public mutating func shuffle(_ indices: UnsafeMutableBufferPointer<Int32>) {
        guard indices.count > 1 else { return }
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = Int(next(upperBound: UInt64(i + 1)))
            indices.swapAt(i, j)
        }
    }
}
