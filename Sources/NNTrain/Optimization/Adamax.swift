import Foundation

/// Adamax (Kingma & Ba, 2015, section 7.1: Adam with the infinity norm) exactly as torch.optim.Adamax
/// (`_single_tensor_adamax`, torch/optim/adamax.py):
///
///     t ← t + 1
///     g ← g + λθ                          (weight_decay λ as L2; only in groups with weightDecay)
///     m ← lerp(m, g, 1 − β1)              (torch's form of β1·m + (1 − β1)·g)
///     u ← max(β2·u, |g| + ε)              (exp_inf; a NaN on either side propagates, as torch.maximum)
///     θ ← θ − (γ / (1 − β1ᵗ))·m / u
///
/// PyTorch's defaults: (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0 (γ is passed to each step; PyTorch's
/// default is 2e-3). PyTorch raises ValueError unless γ ≥ 0, ε ≥ 0, 0 ≤ β1 < 1, 0 ≤ β2 < 1 and λ ≥ 0.
/// The step size γ/(1 − β1ᵗ) is computed in double precision, as Python does.
public final class Adamax: Optimizer {
    public var groups: [ParameterGroup]
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    /// The first moment m and the exponentially weighted infinity norm u, one value per parameter.
    public internal(set) var firstMoment: [Float]
    public internal(set) var infinityNorm: [Float]
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        firstMoment = [Float](repeating: 0, count: parameterCount)
        infinityNorm = [Float](repeating: 0, count: parameterCount)
    }

    /// m and u as `exp_avg` and `exp_inf`, t as `step`.
    public var state: OptimizerState {
        OptimizerState(buffers: ["exp_avg": firstMoment, "exp_inf": infinityNorm], counters: ["step": Double(stepCount)])
    }

    public func load(_ state: OptimizerState.Verified) {
        firstMoment = state.buffer("exp_avg")
        infinityNorm = state.buffer("exp_inf")
        stepCount = Int(state.counter("step"))
    }

    /// `momentum`, when given, is β1 for this step: in the moment update and in 1 − β1ᵗ, as PyTorch
    /// reads group['betas'][0] afresh each step (OneCycleLR cycles it).
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        stepCount += 1
        let beta1 = momentum ?? self.beta1
        let lerp = Lerp(weight: 1 - beta1), beta2 = Float(beta2), eps = Float(eps)
        let negativeStep = Float(-(Double(lr) / (1 - pow(beta1, Double(stepCount)))))
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            infinityNorm.withUnsafeMutableBufferPointer { uBuffer in
                let m = mBuffer.baseAddress.unsafelyUnwrapped, u = uBuffer.baseAddress.unsafelyUnwrapped
                groups.forEachPiece(parameterCount: parameterCount) { group, range in
                    let wd = group.l2(weightDecay)
                    for i in range {
                        let g = grad[i] + wd * theta[i]
                        m[i] = lerp(m[i], g)
                        let decayed = u[i] * beta2, magnitude = abs(g) + eps
                        // torch.maximum: the larger, or NaN if either is NaN.
                        u[i] = decayed < magnitude ? magnitude : (magnitude.isNaN ? magnitude : decayed)
                        theta[i] += negativeStep * (m[i] / u[i])
                    }
                }
            }
        }
    }
}
