/// RMSprop (Hinton's lecture 6e; centered form from Graves, 2013) exactly as torch.optim.RMSprop
/// (`_single_tensor_rmsprop`):
///
///     g ← g + λθ                          (weight_decay λ; only in groups with weightDecay)
///     v ← α·v + (1 − α)·g²
///     if centered:
///         ḡ ← lerp(ḡ, g, 1 − α)           (torch's form of α·ḡ + (1 − α)·g)
///         d ← √(v − ḡ²) + ε
///     else:
///         d ← √v + ε
///     if μ > 0:
///         b ← μ·b + g/d
///         θ ← θ − γ·b
///     else:
///         θ ← θ − γ·g/d
///
/// PyTorch's defaults: α = 0.99, ε = 1e-8, λ = 0, μ = 0, centered false (γ is passed to each step;
/// PyTorch's default is 1e-2). PyTorch raises ValueError unless γ ≥ 0, ε ≥ 0, μ ≥ 0, λ ≥ 0 and α ≥ 0.
public final class RMSprop: Optimizer {
    public var groups: [ParameterGroup]
    public let alpha: Double
    public let eps: Double
    public let weightDecay: Double
    public let momentum: Double
    public let centered: Bool
    /// The running mean of squared gradients v, one value per parameter.
    public internal(set) var squareAverage: [Float]
    /// The running mean of gradients ḡ, one value per parameter when centered; empty otherwise.
    public internal(set) var gradientAverage: [Float]
    /// The momentum buffer b, one value per parameter, starting at zero as PyTorch's does. It is
    /// allocated whatever μ is, so that a schedule cycling μ never makes a step allocate.
    public internal(set) var momentumBuffer: [Float]
    private let parameterCount: Int

    public init(groups: [ParameterGroup], alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false) {
        self.groups = groups
        self.alpha = alpha
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        parameterCount = ParameterGroup.parameterCount(of: groups)
        squareAverage = [Float](repeating: 0, count: parameterCount)
        gradientAverage = centered ? [Float](repeating: 0, count: parameterCount) : []
        momentumBuffer = [Float](repeating: 0, count: parameterCount)
    }

    /// v, ḡ (empty unless centered) and b as `square_avg`, `grad_avg` and `momentum_buffer`; no counter.
    public var state: OptimizerState {
        OptimizerState(buffers: ["square_avg": squareAverage, "grad_avg": gradientAverage, "momentum_buffer": momentumBuffer])
    }

    public func load(_ state: OptimizerState.Verified) {
        squareAverage = state.buffer("square_avg")
        gradientAverage = state.buffer("grad_avg")
        momentumBuffer = state.buffer("momentum_buffer")
    }

    /// `momentum`, when given, is μ for this step.
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum override: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        let mu = override ?? momentum
        let s = Scalars(lr: lr, alpha: Float(alpha), oneMinusAlpha: Float(1 - alpha),
                        lerp: Lerp(weight: 1 - alpha), eps: Float(eps), mu: Float(mu))
        squareAverage.withUnsafeMutableBufferPointer { vBuffer in
            gradientAverage.withUnsafeMutableBufferPointer { gBarBuffer in
                momentumBuffer.withUnsafeMutableBufferPointer { bBuffer in
                    let v = vBuffer.baseAddress.unsafelyUnwrapped, b = bBuffer.baseAddress.unsafelyUnwrapped
                    let gBar = gBarBuffer.baseAddress
                    groups.forEachPiece(parameterCount: parameterCount) { group, r in
                        let wd = group.l2(weightDecay)
                        // Literal flags, so each call inlines to a loop without the others' branches.
                        switch (centered, mu > 0) {
                        case (true, true):
                            Self.update(r, theta, grad, v, gBar, b, wd, s, centered: true, momentum: true)
                        case (true, false):
                            Self.update(r, theta, grad, v, gBar, b, wd, s, centered: true, momentum: false)
                        case (false, true):
                            Self.update(r, theta, grad, v, nil, b, wd, s, centered: false, momentum: true)
                        case (false, false):
                            Self.update(r, theta, grad, v, nil, b, wd, s, centered: false, momentum: false)
                        }
                    }
                }
            }
        }
    }

    /// The single-precision scalars of one step.
    private struct Scalars {
        let lr, alpha, oneMinusAlpha: Float
        let lerp: Lerp
        let eps, mu: Float
    }

    /// One step over `range`; `gBar` is non-nil exactly when `centered`.
    @inline(__always)
    private static func update(_ range: Range<Int>, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                               _ v: UnsafeMutablePointer<Float>, _ gBar: UnsafeMutablePointer<Float>?,
                               _ b: UnsafeMutablePointer<Float>, _ wd: Float, _ s: Scalars,
                               centered: Bool, momentum: Bool) {
        for i in range {
            let g = grad[i] + wd * theta[i]
            v[i] = s.alpha * v[i] + s.oneMinusAlpha * g * g
            var d: Float
            if centered {
                let mean = s.lerp(gBar.unsafelyUnwrapped[i], g)
                gBar.unsafelyUnwrapped[i] = mean
                d = squareRoot(v[i] - mean * mean)
            } else {
                d = squareRoot(v[i])
            }
            d += s.eps
            if momentum {
                b[i] = s.mu * b[i] + g / d
                theta[i] -= s.lr * b[i]
            } else {
                theta[i] -= s.lr * g / d
            }
        }
    }
}
