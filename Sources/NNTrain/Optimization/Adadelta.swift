/// Adadelta (Zeiler, 2012) exactly as torch.optim.Adadelta (`_single_tensor_adadelta`,
/// torch/optim/adadelta.py):
///
///     g ← g + λθ                          (weight_decay λ; only in groups with weightDecay)
///     v ← ρ·v + (1 − ρ)·g²                (square_avg)
///     Δ ← √(u + ε) / √(v + ε) · g
///     u ← ρ·u + (1 − ρ)·Δ²                (acc_delta)
///     θ ← θ − γ·Δ
///
/// PyTorch's defaults: ρ = 0.9, ε = 1e-6, λ = 0 (γ is passed to each step; PyTorch's default is 1.0,
/// which makes the step the paper's unit-free Δ). PyTorch raises ValueError unless γ ≥ 0, 0 ≤ ρ ≤ 1,
/// ε ≥ 0 and λ ≥ 0. Adadelta has neither momentum nor betas, so a cycling schedule has nothing to
/// drive: `step` ignores `momentum`, and PyTorch's OneCycleLR refuses it (`OptimizerKind.hasMomentum`).
/// torch keeps a `step` count that no formula reads; it is not kept here.
public final class Adadelta: Optimizer {
    public var groups: [ParameterGroup]
    public let rho: Double
    public let eps: Double
    public let weightDecay: Double
    /// The running mean of squared gradients v, one value per parameter.
    public internal(set) var squareAverage: [Float]
    /// The running mean of squared updates u, one value per parameter.
    public internal(set) var accumulatedDelta: [Float]
    private let parameterCount: Int

    public init(groups: [ParameterGroup], rho: Double = 0.9, eps: Double = 1e-6, weightDecay: Double = 0) {
        self.groups = groups
        self.rho = rho
        self.eps = eps
        self.weightDecay = weightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        squareAverage = [Float](repeating: 0, count: parameterCount)
        accumulatedDelta = [Float](repeating: 0, count: parameterCount)
    }

    /// v and u as `square_avg` and `acc_delta`; no counter.
    public var state: OptimizerState {
        OptimizerState(buffers: ["square_avg": squareAverage, "acc_delta": accumulatedDelta])
    }

    public func load(_ state: OptimizerState.Verified) {
        squareAverage = state.buffer("square_avg")
        accumulatedDelta = state.buffer("acc_delta")
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum _: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        let rho = Float(rho), oneMinusRho = Float(1 - self.rho), eps = Float(eps)
        squareAverage.withUnsafeMutableBufferPointer { vBuffer in
            accumulatedDelta.withUnsafeMutableBufferPointer { uBuffer in
                let v = vBuffer.baseAddress.unsafelyUnwrapped, u = uBuffer.baseAddress.unsafelyUnwrapped
                groups.forEachPiece(parameterCount: parameterCount) { group, range in
                    let wd = group.l2(weightDecay)
                    for i in range {
                        let g = grad[i] + wd * theta[i]
                        v[i] = v[i] * rho + oneMinusRho * g * g
                        let delta = squareRoot(u[i] + eps) / squareRoot(v[i] + eps) * g
                        u[i] = u[i] * rho + oneMinusRho * delta * delta
                        theta[i] -= lr * delta
                    }
                }
            }
        }
    }
}
