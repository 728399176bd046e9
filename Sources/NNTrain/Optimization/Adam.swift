import Foundation

/// Adam (Kingma & Ba, 2015) exactly as torch.optim.Adam (`_single_tensor_adam`):
///
///     t ← t + 1
///     θ ← θ·(1 − γλ)                      if decoupled weight decay (AdamW), else
///     g ← g + λθ                          (weight_decay λ as L2; only in groups with weightDecay)
///     m ← lerp(m, g, 1 − β1)              (torch's form of β1·m + (1 − β1)·g)
///     v ← β2·v + (1 − β2)·g²
///     if amsgrad: v̂max ← max(v̂max, v), and v̂max replaces v below
///     θ ← θ − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// PyTorch's defaults: (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0, amsgrad false, decoupled_weight_decay
/// false (γ is passed to each step; PyTorch's default is 1e-3). PyTorch raises ValueError unless γ ≥ 0,
/// ε ≥ 0, 0 ≤ β1 < 1, 0 ≤ β2 < 1 and λ ≥ 0. The bias corrections and step size are computed in
/// double precision, as Python does, then used as single-precision scalars. `AdamW` is this class with
/// decoupled decay, as torch.optim.AdamW is a subclass of Adam.
public class Adam: Optimizer {
    public var groups: [ParameterGroup]
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let amsgrad: Bool
    /// Whether λ shrinks θ directly (AdamW) instead of being added to the gradient.
    public let decoupledWeightDecay: Bool
    /// First and second moment estimates m and v, one value per parameter.
    public internal(set) var firstMoment: [Float]
    public internal(set) var secondMoment: [Float]
    /// v̂max, the running maximum of v, one value per parameter with amsgrad; empty without.
    public internal(set) var maxSecondMoment: [Float]
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupledWeightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
        maxSecondMoment = amsgrad ? [Float](repeating: 0, count: parameterCount) : []
    }

    /// m, v and v̂max as `exp_avg`, `exp_avg_sq` and `max_exp_avg_sq` (empty without amsgrad), t as `step`.
    public final var state: OptimizerState {
        OptimizerState(buffers: ["exp_avg": firstMoment, "exp_avg_sq": secondMoment, "max_exp_avg_sq": maxSecondMoment],
                       counters: ["step": Double(stepCount)])
    }

    public final func load(_ state: OptimizerState.Verified) {
        firstMoment = state.buffer("exp_avg")
        secondMoment = state.buffer("exp_avg_sq")
        maxSecondMoment = state.buffer("max_exp_avg_sq")
        stepCount = Int(state.counter("step"))
    }

    /// `momentum`, when given, is β1 for this step: in the moment update and in the bias correction
    /// 1 − β1ᵗ, as PyTorch reads group['betas'][0] afresh each step.
    public final func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                           learningRate lr: Float, momentum: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        stepCount += 1
        let t = Double(stepCount), beta1 = momentum ?? self.beta1
        let scalars = Scalars(
            lerp: Lerp(weight: 1 - beta1), beta2: Float(beta2), oneMinusBeta2: Float(1 - beta2),
            stepSize: Float(Double(lr) / (1 - pow(beta1, t))),
            correction2Sqrt: Float(pow(1 - pow(beta2, t), 0.5)), eps: Float(eps))
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                maxSecondMoment.withUnsafeMutableBufferPointer { vMaxBuffer in
                    let m = mBuffer.baseAddress.unsafelyUnwrapped, v = vBuffer.baseAddress.unsafelyUnwrapped
                    groups.forEachPiece(parameterCount: parameterCount) { group, r in
                        let decay = group.decayTerms(weightDecay, decoupled: decoupledWeightDecay, learningRate: lr)
                        // Literal flags, so each call inlines to a loop without the other's branch.
                        if amsgrad {
                            Self.update(r, theta, grad, m, v, vMaxBuffer.baseAddress, decay, scalars, amsgrad: true)
                        } else {
                            Self.update(r, theta, grad, m, v, nil, decay, scalars, amsgrad: false)
                        }
                    }
                }
            }
        }
    }

    /// The single-precision scalars of one step.
    private struct Scalars {
        let lerp: Lerp
        let beta2, oneMinusBeta2, stepSize, correction2Sqrt, eps: Float
    }

    /// One step over `range`; `vMax` is non-nil exactly when `amsgrad`.
    @inline(__always)
    private static func update(_ range: Range<Int>, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                               _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                               _ vMax: UnsafeMutablePointer<Float>?, _ decay: (shrink: Float, l2: Float),
                               _ s: Scalars, amsgrad: Bool) {
        for i in range {
            let decayed = theta[i] * decay.shrink
            let g = grad[i] + decay.l2 * decayed
            m[i] = s.lerp(m[i], g)
            v[i] = s.beta2 * v[i] + s.oneMinusBeta2 * g * g
            var second = v[i]
            if amsgrad {
                second = max(second, vMax.unsafelyUnwrapped[i])  // a NaN in v propagates, as in torch.maximum
                vMax.unsafelyUnwrapped[i] = second
            }
            theta[i] = decayed - s.stepSize * m[i] / (squareRoot(second) / s.correction2Sqrt + s.eps)
        }
    }
}
