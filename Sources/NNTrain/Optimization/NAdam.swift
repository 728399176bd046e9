import Foundation

/// NAdam (Dozat, 2016) exactly as torch.optim.NAdam (`_single_tensor_nadam`):
///
///     t ← t + 1
///     θ ← θ·(1 − γλ)                      if decoupled_weight_decay, else
///     g ← g + λθ                          (weight_decay λ as L2; only in groups with weightDecay)
///     μ_t ← β1·(1 − ½·0.96^(t·ψ))         (momentum_decay ψ)
///     μ_{t+1} ← β1·(1 − ½·0.96^((t+1)·ψ))
///     Π ← Π·μ_t                           (Π starts at 1)
///     m ← lerp(m, g, 1 − β1)              (torch's form of β1·m + (1 − β1)·g)
///     v ← β2·v + (1 − β2)·g²
///     d ← √(v / (1 − β2ᵗ)) + ε
///     θ ← θ − (γ·(1 − μ_t) / (1 − Π))·g/d
///     θ ← θ − (γ·μ_{t+1} / (1 − Π·μ_{t+1}))·m/d
///
/// PyTorch's defaults: (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0, ψ = 4e-3, decoupled_weight_decay false
/// (γ is passed to each step; PyTorch's default is 2e-3). PyTorch raises ValueError unless γ ≥ 0, ε ≥ 0,
/// 0 ≤ β1 < 1, 0 ≤ β2 < 1, λ ≥ 0 and ψ ≥ 0. μ_t, μ_{t+1}, 1 − β2ᵗ and the two step sizes are
/// computed in double precision, as Python does; Π is a single-precision value, as PyTorch keeps it in
/// a float32 tensor (state['mu_product']).
public final class NAdam: Optimizer {
    public var groups: [ParameterGroup]
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let momentumDecay: Double
    /// Whether λ shrinks θ directly (as AdamW) instead of being added to the gradient.
    public let decoupledWeightDecay: Bool
    /// First and second moment estimates m and v, one value per parameter.
    public internal(set) var firstMoment: [Float]
    public internal(set) var secondMoment: [Float]
    /// Π, the product of the momentum coefficients μ_1⋯μ_t so far.
    public internal(set) var muProduct: Float = 1
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0, momentumDecay: Double = 4e-3, decoupledWeightDecay: Bool = false) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentumDecay = momentumDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// m and v as `exp_avg` and `exp_avg_sq`, t as `step` and Π as `mu_product` (a Float, exact as a Double).
    public var state: OptimizerState {
        OptimizerState(buffers: ["exp_avg": firstMoment, "exp_avg_sq": secondMoment],
                       counters: ["step": Double(stepCount), "mu_product": Double(muProduct)])
    }

    public func load(_ state: OptimizerState.Verified) {
        firstMoment = state.buffer("exp_avg")
        secondMoment = state.buffer("exp_avg_sq")
        stepCount = Int(state.counter("step"))
        muProduct = Float(state.counter("mu_product"))
    }

    /// `momentum`, when given, is β1 for this step: in μ_t, μ_{t+1} and the moment update, as PyTorch
    /// reads group['betas'][0] afresh each step.
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        stepCount += 1
        let t = Double(stepCount), beta1 = momentum ?? self.beta1, gamma = Double(lr)
        let mu = beta1 * (1 - 0.5 * pow(0.96, t * momentumDecay))
        let muNext = beta1 * (1 - 0.5 * pow(0.96, (t + 1) * momentumDecay))
        muProduct *= Float(mu)
        let product = Double(muProduct)
        let gradStep = Float(-gamma * (1 - mu) / (1 - product))
        let momentStep = Float(-gamma * muNext / (1 - product * muNext))
        let lerp = Lerp(weight: 1 - beta1), beta2f = Float(beta2), oneMinusBeta2 = Float(1 - beta2)
        let correction2 = Float(1 - pow(beta2, t)), eps = Float(eps)
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress.unsafelyUnwrapped, v = vBuffer.baseAddress.unsafelyUnwrapped
                groups.forEachPiece(parameterCount: parameterCount) { group, range in
                    let decay = group.decayTerms(weightDecay, decoupled: decoupledWeightDecay, learningRate: lr)
                    for i in range {
                        let decayed = theta[i] * decay.shrink
                        let g = grad[i] + decay.l2 * decayed
                        m[i] = lerp(m[i], g)
                        v[i] = beta2f * v[i] + oneMinusBeta2 * g * g
                        let d = squareRoot(v[i] / correction2) + eps
                        let afterGradient = decayed + gradStep * g / d
                        theta[i] = afterGradient + momentStep * m[i] / d
                    }
                }
            }
        }
    }
}
