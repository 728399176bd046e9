import Foundation

/// Averaged SGD (Polyak & Juditsky, 1992; the step-size schedule of Bottou, 2012) exactly as
/// torch.optim.ASGD (`_single_tensor_asgd`, torch/optim/asgd.py):
///
///     t ← t + 1
///     g ← g + λθ                          (weight_decay λ; only in groups with weightDecay)
///     θ ← θ·(1 − λd·η)                    (lambd λd, in every group: it is ASGD's own decay term)
///     θ ← θ − η·g
///     ā ← θ                               if μ = 1, else
///     ā ← ā + (θ − ā)·μ                   (ax, the average of the iterates since step t0)
///     η ← γ / (1 + λd·γ·t)^α              (for the next step; η starts at γ)
///     μ ← 1 / max(1, t − t0)
///
/// PyTorch's defaults: λd = 1e-4, α = 0.75, t0 = 1e6, λ = 0 (γ is passed to each step; PyTorch's default
/// is 1e-2). PyTorch raises ValueError unless γ ≥ 0 and λ ≥ 0. η and μ are single-precision values, as
/// torch keeps them in float32 tensors (state['eta'], state['mu']); the scalars built from them
/// (1 − λd·η, the new η and μ) are computed in double precision, as Python does. A step reads the η
/// computed at the end of the step before, so a schedule's lr reaches the steps one step late, as in
/// torch. ASGD has no momentum for a cycling schedule to drive: `step` ignores `momentum`.
///
/// torch users evaluate ā, the averaged parameters: `averagedParameters` is it (zero until the first
/// step, then a copy of θ until averaging starts). A checkpoint carries it (`optimizer.ax`), and from
/// the first step on it is the model validation and the test evaluate and `nntrain.final_model` (`ax`)
/// names for eval, predict and export (`Trainer.iterateAverage`), with the model's batch-norm statistics.
public final class ASGD: Optimizer {
    public var groups: [ParameterGroup]
    public let lambd: Double
    public let alpha: Double
    public let t0: Double
    public let weightDecay: Double
    /// ā, the averaged parameters (`ax`), one value per parameter; zero before the first step.
    public internal(set) var averagedParameters: [Float]
    /// η, the step size of the next step (Float, as torch's float32 state['eta']); γ before the first step.
    public internal(set) var eta: Float = 0
    /// μ, the averaging weight of the next step (torch's float32 state['mu']).
    public internal(set) var mu: Float = 1
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], lambd: Double = 1e-4, alpha: Double = 0.75, t0: Double = 1e6,
                weightDecay: Double = 0) {
        self.groups = groups
        self.lambd = lambd
        self.alpha = alpha
        self.t0 = t0
        self.weightDecay = weightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        averagedParameters = [Float](repeating: 0, count: parameterCount)
    }

    /// ā as `ax`; t, η and μ as `step`, `eta` and `mu` (Floats, exact as Doubles).
    public var state: OptimizerState {
        OptimizerState(buffers: ["ax": averagedParameters],
                       counters: ["step": Double(stepCount), "eta": Double(eta), "mu": Double(mu)])
    }

    public func load(_ state: OptimizerState.Verified) {
        averagedParameters = state.buffer("ax")
        stepCount = Int(state.counter("step"))
        eta = Float(state.counter("eta"))
        mu = Float(state.counter("mu"))
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum _: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        if stepCount == 0 { eta = lr }  // torch's state['eta'] = lr when the state is made
        stepCount += 1
        let etaValue = Double(eta)
        let shrink = Float(1 - lambd * etaValue), negativeEta = Float(-etaValue), mu = mu, copies = mu == 1
        averagedParameters.withUnsafeMutableBufferPointer { axBuffer in
            let ax = axBuffer.baseAddress.unsafelyUnwrapped
            groups.forEachPiece(parameterCount: parameterCount) { group, range in
                let wd = group.l2(weightDecay)
                for i in range {
                    let g = grad[i] + wd * theta[i]
                    let updated = theta[i] * shrink + negativeEta * g
                    theta[i] = updated
                    ax[i] = copies ? updated : ax[i] + (updated - ax[i]) * mu
                }
            }
        }
        let t = Double(stepCount), gamma = Double(lr)
        eta = Float(gamma / pow(1 + lambd * gamma * t, alpha))
        self.mu = Float(1 / max(1, t - t0))
    }
}
