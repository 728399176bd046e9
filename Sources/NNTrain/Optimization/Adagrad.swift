/// Adagrad (Duchi et al., 2011) exactly as torch.optim.Adagrad (`_single_tensor_adagrad`, dense
/// gradients):
///
///     t ← t + 1
///     g ← g + λθ                          (weight_decay λ; only in groups with weightDecay)
///     γ̃ ← γ / (1 + (t − 1)·η)             (lr_decay η)
///     s ← s + g²                          (s starts at initial_accumulator_value)
///     θ ← θ − γ̃·g / (√s + ε)
///
/// PyTorch's defaults: η = 0, λ = 0, initial_accumulator_value 0, ε = 1e-10 (γ is passed to each step;
/// PyTorch's default is 1e-2). PyTorch raises ValueError unless γ ≥ 0, η ≥ 0, λ ≥ 0,
/// initial_accumulator_value ≥ 0 and ε ≥ 0. γ̃ is computed in double precision, as Python does.
/// Adagrad has no momentum, so a cycling schedule has nothing to drive: `step` ignores `momentum`.
public final class Adagrad: Optimizer {
    public var groups: [ParameterGroup]
    public let lrDecay: Double
    public let weightDecay: Double
    public let initialAccumulatorValue: Double
    public let eps: Double
    /// The sum of squared gradients s, one value per parameter.
    public internal(set) var sum: [Float]
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], lrDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulatorValue: Double = 0, eps: Double = 1e-10) {
        self.groups = groups
        self.lrDecay = lrDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.eps = eps
        parameterCount = ParameterGroup.parameterCount(of: groups)
        sum = [Float](repeating: Float(initialAccumulatorValue), count: parameterCount)
    }

    /// s as `sum`, t as `step`.
    public var state: OptimizerState {
        OptimizerState(buffers: ["sum": sum], counters: ["step": Double(stepCount)])
    }

    public func load(_ state: OptimizerState.Verified) {
        sum = state.buffer("sum")
        stepCount = Int(state.counter("step"))
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum _: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        stepCount += 1
        let clr = Float(Double(lr) / (1 + Double(stepCount - 1) * lrDecay)), eps = Float(eps)
        sum.withUnsafeMutableBufferPointer { sBuffer in
            let s = sBuffer.baseAddress.unsafelyUnwrapped
            groups.forEachPiece(parameterCount: parameterCount) { group, range in
                let wd = group.l2(weightDecay)
                for i in range {
                    let g = grad[i] + wd * theta[i]
                    s[i] += g * g
                    theta[i] -= clr * g / (squareRoot(s[i]) + eps)
                }
            }
        }
    }
}
