/// Gradient clipping, applied to the flat gradient buffer after back-propagation and before the
/// optimizer step.
///
///     norm (torch.nn.utils.clip_grad_norm_):  n = ‖g‖₂ over all parameters together;
///                                             g ← g·min(1, max_norm / (n + 1e-6))
///     value (torch.nn.utils.clip_grad_value_): g ← clamp(g, −value, value), element-wise
///
/// Both may be set; the norm is clipped first. `clip` returns the global norm before clipping,
/// which the trainer logs every epoch (mean and max) so exploding gradients can be seen.
public struct GradientClipping: Equatable, Sendable {
    public var maxNorm: Float?
    public var maxValue: Float?

    public init(maxNorm: Float? = nil, maxValue: Float? = nil) {
        self.maxNorm = maxNorm
        self.maxValue = maxValue
    }

    /// The global L2 norm of `gradients`: squares summed in 16 float lanes (a reduction the compiler
    /// cannot vectorise by itself, since it may not reorder float additions), each run of 4,096
    /// elements then added into a double total in order, so 235k terms keep float's precision per
    /// run. The runs' sums are computed on all cores (`Parallel`); the total is the same on any number.
    public static func norm(_ gradients: UnsafeMutableBufferPointer<Float>) -> Double {
        let g = UnsafeRawPointer(gradients.baseAddress.unsafelyUnwrapped), n = gradients.count
        let run = runLength, runCount = (n + run - 1) / run
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: runCount) { runSums in
            Parallel.forEachPiece(of: runCount, minimumPiece: 8) { runs in
                for r in runs {
                    let start = r * run
                    let partial = runSquares(g, start..<min(start + run, n))
                    runSums[r] = Double(partial)
                }
            }
            var total: Double = 0
            for r in 0..<runCount { total += runSums[r] }
            return total.squareRoot()
        }
    }

    /// The elements summed in float before a run's sum joins the double total (`norm`).
    static let runLength = 4096

    /// Σ x² over `range` (at most `runLength` elements) of the floats at `x`, in 16 float lanes and then
    /// the tail: one run of `norm`, and of `LayerStatistics.sumOfSquares`, which must sum as it does.
    static func runSquares(_ x: UnsafeRawPointer, _ range: Range<Int>) -> Float {
        let lanes = 16, stride = MemoryLayout<Float>.stride
        var squares = SIMD16<Float>(repeating: 0)
        var i = range.lowerBound
        while i + lanes <= range.upperBound {
            let v = x.loadUnaligned(fromByteOffset: i * stride, as: SIMD16<Float>.self)
            squares += v * v
            i += lanes
        }
        var partial = squares.sum()
        while i < range.upperBound {
            let v = x.load(fromByteOffset: i * stride, as: Float.self)
            partial += v * v
            i += 1
        }
        return partial
    }

    /// Clips `gradients` in place and returns their global L2 norm before clipping.
    @discardableResult
    public func clip(_ gradients: UnsafeMutableBufferPointer<Float>) -> Double {
        let norm = Self.norm(gradients)
        let g = gradients.baseAddress.unsafelyUnwrapped, n = gradients.count
        if let maxNorm {
            let coefficient = Double(maxNorm) / (norm + 1e-6)
            if coefficient < 1 {
                let c = Float(coefficient)
                for i in 0..<n { g[i] *= c }
            }
        }
        if let maxValue {
            for i in 0..<n { g[i] = min(max(g[i], -maxValue), maxValue) }
        }
        return norm
    }
}

/// The L1 penalty λ·Σ|θ| over the parameters that take weight decay, added to the loss's gradient:
/// g ← g + λ·sign(θ) (sign(0) = 0, as autograd differentiates |θ|). The penalty itself is not added
/// to the reported loss, so metrics stay comparable between runs with and without it. A frozen layer's
/// group (`ParameterGroup.active` false) gets none: its gradient stays zero, as torch's stays None.
public enum L1Penalty {
    public static func addGradient(lambda: Float, parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                                   groups: [ParameterGroup]) {
        for group in groups where group.weightDecay && group.active {
            for i in group.range {
                let theta = parameters[i]
                gradients[i] += theta > 0 ? lambda : (theta < 0 ? -lambda : 0)
            }
        }
    }
}
