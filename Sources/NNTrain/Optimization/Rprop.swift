/// Rprop (Riedmiller & Braun, 1993; torch's variant without weight-backtracking) exactly as
/// torch.optim.Rprop (`_single_tensor_rprop`, torch/optim/rprop.py):
///
///     t ← t + 1
///     s ← γ                               (at the first step only: step_size starts at the lr)
///     f ← η+ if g·p > 0,  η− if g·p < 0,  1 if g·p = 0      (p: prev, the last step's gradient)
///     s ← clamp(s·f, Δmin, Δmax)
///     g ← 0 where g·p < 0                 (a sign change: no move, and the next step sees p = 0)
///     θ ← θ − sign(g)·s
///     p ← g
///
/// PyTorch's defaults: etas (η−, η+) = (0.5, 1.2), step_sizes (Δmin, Δmax) = (1e-6, 50) (γ is PyTorch's
/// lr, default 1e-2). PyTorch raises ValueError unless γ ≥ 0 and 0 < η− < 1 < η+. Rprop has no weight
/// decay and no momentum (a cycling schedule has nothing to drive: `step` ignores `momentum`). The lr
/// enters only as the first step's step size, as in torch, so a schedule changes nothing after step 1.
/// Rprop is meant for full-batch gradients, but torch (and so this) allows any batch size.
/// g·p is the single-precision product (an underflow to 0 counts as 0, as torch's `grad.mul(prev).sign()`).
public final class Rprop: Optimizer {
    public var groups: [ParameterGroup]
    public let etaMinus: Double
    public let etaPlus: Double
    public let stepSizeMin: Double
    public let stepSizeMax: Double
    /// p, the gradient of the last step with sign changes zeroed, one value per parameter.
    public internal(set) var previous: [Float]
    /// s, each parameter's step size.
    public internal(set) var stepSize: [Float]
    public internal(set) var stepCount = 0
    private let parameterCount: Int

    public init(groups: [ParameterGroup], etaMinus: Double = 0.5, etaPlus: Double = 1.2,
                stepSizeMin: Double = 1e-6, stepSizeMax: Double = 50) {
        self.groups = groups
        self.etaMinus = etaMinus
        self.etaPlus = etaPlus
        self.stepSizeMin = stepSizeMin
        self.stepSizeMax = stepSizeMax
        parameterCount = ParameterGroup.parameterCount(of: groups)
        previous = [Float](repeating: 0, count: parameterCount)
        stepSize = [Float](repeating: 0, count: parameterCount)
    }

    /// p and s as `prev` and `step_size`, t as `step`.
    public var state: OptimizerState {
        OptimizerState(buffers: ["prev": previous, "step_size": stepSize], counters: ["step": Double(stepCount)])
    }

    public func load(_ state: OptimizerState.Verified) {
        previous = state.buffer("prev")
        stepSize = state.buffer("step_size")
        stepCount = Int(state.counter("step"))
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum _: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        if stepCount == 0 {  // the groups stepped now (a frozen layer's, or another lr's, start at their own first step)
            stepSize.withUnsafeMutableBufferPointer { sBuffer in
                let s = sBuffer.baseAddress.unsafelyUnwrapped
                groups.forEachPiece(parameterCount: parameterCount) { _, range in
                    for i in range { s[i] = lr }
                }
            }
        }
        stepCount += 1
        let etaMinus = Float(etaMinus), etaPlus = Float(etaPlus)
        let low = Float(stepSizeMin), high = Float(stepSizeMax)
        previous.withUnsafeMutableBufferPointer { pBuffer in
            stepSize.withUnsafeMutableBufferPointer { sBuffer in
                let p = pBuffer.baseAddress.unsafelyUnwrapped, s = sBuffer.baseAddress.unsafelyUnwrapped
                groups.forEachPiece(parameterCount: parameterCount) { _, range in
                    for i in range {
                        let g = grad[i], product = g * p[i]
                        let factor: Float = product > 0 ? etaPlus : product < 0 ? etaMinus : product == 0 ? 1 : product
                        let scaled = s[i] * factor
                        // torch's clamp_(min, max): max(min(·)) with a NaN kept; Δmin > Δmax gives Δmax.
                        s[i] = scaled.isNaN ? scaled : Swift.min(Swift.max(scaled, low), high)
                        let kept: Float = product < 0 ? 0 : g
                        theta[i] -= Self.sign(kept) * s[i]
                        p[i] = kept
                    }
                }
            }
        }
    }

    /// torch.sign: −1, 0 or 1 (NaN stays NaN).
    @inline(__always)
    static func sign(_ x: Float) -> Float {
        x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x
    }
}
