import Foundation

/// RAdam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond") exactly as
/// torch.optim.RAdam (`_single_tensor_radam`, torch/optim/radam.py):
///
///     t ← t + 1
///     θ ← θ·(1 − γλ)                      if decoupled_weight_decay, else
///     g ← g + λθ                          (weight_decay λ as L2; only in groups with weightDecay)
///     m ← lerp(m, g, 1 − β1)              (torch's form of β1·m + (1 − β1)·g)
///     v ← β2·v + (1 − β2)·g²
///     m̂ ← m / (1 − β1ᵗ)
///     ρ∞ ← 2/(1 − β2) − 1;  ρ_t ← ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)
///     if ρ_t > 5:                         (the variance of the adaptive rate is tractable)
///         r ← √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
///         θ ← θ − m̂·γ·(√(1 − β2ᵗ) / (√v + ε))·r
///     else:                               (un-adapted momentum SGD)
///         θ ← θ − m̂·γ
///
/// PyTorch's defaults: (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0, decoupled_weight_decay false (γ is
/// passed to each step; PyTorch's default is 1e-3). PyTorch raises ValueError unless γ ≥ 0, ε ≥ 0,
/// 0 ≤ β1 < 1, 0 ≤ β2 < 1 and λ ≥ 0. ρ_t, r and the bias corrections are computed in double precision,
/// as Python does; √(1 − β2ᵗ)/(√v + ε) is torch's `reciprocal() * scalar`, in that order. With
/// β2 = 0.999, ρ_t first exceeds 5 at step 6.
public final class RAdam: Optimizer {
    public var groups: [ParameterGroup]
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    /// Whether λ shrinks θ directly (as AdamW) instead of being added to the gradient.
    public let decoupledWeightDecay: Bool
    /// First and second moment estimates m and v, one value per parameter.
    public internal(set) var firstMoment: [Float]
    public internal(set) var secondMoment: [Float]
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// m and v as `exp_avg` and `exp_avg_sq`, t as `step`.
    public var state: OptimizerState {
        OptimizerState(buffers: ["exp_avg": firstMoment, "exp_avg_sq": secondMoment], counters: ["step": Double(stepCount)])
    }

    public func load(_ state: OptimizerState.Verified) {
        firstMoment = state.buffer("exp_avg")
        secondMoment = state.buffer("exp_avg_sq")
        stepCount = Int(state.counter("step"))
    }

    /// ρ_t of step `t` with β2, and whether it exceeds 5 (the rectified step).
    static func rho(step t: Double, beta2: Double) -> (rhoT: Double, rhoInfinity: Double) {
        let rhoInfinity = 2 / (1 - beta2) - 1
        return (rhoInfinity - 2 * t * pow(beta2, t) / (1 - pow(beta2, t)), rhoInfinity)
    }

    /// `momentum`, when given, is β1 for this step: in the moment update and in 1 − β1ᵗ, as PyTorch
    /// reads group['betas'][0] afresh each step (OneCycleLR cycles it).
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        stepCount += 1
        let t = Double(stepCount), beta1 = momentum ?? self.beta1
        let correction1 = Float(1 - pow(beta1, t)), correction2 = 1 - pow(beta2, t)
        let (rhoT, rhoInfinity) = Self.rho(step: t, beta2: beta2)
        let rectified = rhoT > 5
        let rect = Float(((rhoT - 4) * (rhoT - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rhoT)).squareRoot())
        let correction2Sqrt = Float(correction2.squareRoot())
        let lerp = Lerp(weight: 1 - beta1), beta2f = Float(beta2), oneMinusBeta2 = Float(1 - beta2), eps = Float(eps)
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress.unsafelyUnwrapped, v = vBuffer.baseAddress.unsafelyUnwrapped
                groups.forEachPiece(parameterCount: parameterCount) { group, range in
                    let decay = group.decayTerms(weightDecay, decoupled: decoupledWeightDecay, learningRate: lr)
                    for i in range {
                        let decayed = theta[i] * decay.shrink
                        let g = grad[i] + decay.l2 * decayed
                        m[i] = lerp(m[i], g)
                        v[i] = v[i] * beta2f + oneMinusBeta2 * g * g
                        let corrected = m[i] / correction1 * lr
                        if rectified {
                            let adaptive = 1 / (squareRoot(v[i]) + eps) * correction2Sqrt
                            theta[i] = decayed - corrected * adaptive * rect
                        } else {
                            theta[i] = decayed - corrected
                        }
                    }
                }
            }
        }
    }
}
