/// Stochastic gradient descent with momentum, exactly as torch.optim.SGD (`_single_tensor_sgd`):
///
///     g ← g + λθ                          (weight_decay λ; only in groups with weightDecay)
///     if μ ≠ 0:
///         b ← g                           the first time μ ≠ 0 (PyTorch's buffer is None until then)
///         b ← μ·b + (1 − τ)·g             afterwards (dampening τ)
///         g ← g + μ·b  if nesterov, else g ← b
///     θ ← θ − γ·g
///
/// PyTorch's defaults: μ = 0, τ = 0, nesterov false, λ = 0 (γ is passed to each step). PyTorch raises
/// ValueError unless γ ≥ 0, μ ≥ 0 and λ ≥ 0, and unless μ > 0 and τ = 0 when nesterov is set.
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool
    public let weightDecay: Double
    /// The momentum buffer b, one value per parameter. It is allocated whatever μ is, so that a
    /// schedule cycling μ from 0 never makes a step allocate; it holds values once `hasMomentumBuffer`.
    public internal(set) var momentumBuffer: [Float]
    /// Whether b has been seeded, by the first step with μ ≠ 0 (PyTorch: momentum_buffer is not None).
    public internal(set) var hasMomentumBuffer = false
    private let parameterCount: Int

    public init(groups: [ParameterGroup], momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                weightDecay: Double = 0) {
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        parameterCount = ParameterGroup.parameterCount(of: groups)
        momentumBuffer = [Float](repeating: 0, count: parameterCount)
    }

    /// b as `momentum_buffer` and whether it is seeded as the counter `has_momentum_buffer` (1 or 0).
    public var state: OptimizerState {
        OptimizerState(buffers: ["momentum_buffer": momentumBuffer],
                       counters: ["has_momentum_buffer": hasMomentumBuffer ? 1 : 0])
    }

    public func load(_ state: OptimizerState.Verified) {
        momentumBuffer = state.buffer("momentum_buffer")
        hasMomentumBuffer = state.counter("has_momentum_buffer") == 1
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float, momentum override: Double?) {
        let (theta, grad) = flatPointers(parameters, gradients, count: parameterCount)
        let mu = override ?? momentum
        if mu == 0 {
            groups.forEachPiece(parameterCount: parameterCount) { group, range in
                let wd = group.l2(weightDecay)
                for i in range { theta[i] -= lr * (grad[i] + wd * theta[i]) }
            }
            return
        }
        // b is all zeros until seeded, so the seeding step's μ·b + 1·g is g: PyTorch's b ← clone(g).
        let s = Scalars(lr: lr, mu: Float(mu), keep: hasMomentumBuffer ? Float(1 - dampening) : 1)
        hasMomentumBuffer = true
        momentumBuffer.withUnsafeMutableBufferPointer { buffer in
            let b = buffer.baseAddress.unsafelyUnwrapped
            groups.forEachPiece(parameterCount: parameterCount) { group, range in
                let wd = group.l2(weightDecay)
                // Literal flags, so each call inlines to a loop without the other's branch.
                if nesterov {
                    Self.update(range, theta, grad, b, wd, s, nesterov: true)
                } else {
                    Self.update(range, theta, grad, b, wd, s, nesterov: false)
                }
            }
        }
    }

    /// The single-precision scalars of one step with momentum; `keep` is 1 − τ, or 1 when seeding b.
    private struct Scalars {
        let lr, mu, keep: Float
    }

    @inline(__always)
    private static func update(_ range: Range<Int>, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                               _ b: UnsafeMutablePointer<Float>, _ wd: Float, _ s: Scalars, nesterov: Bool) {
        for i in range {
            let g = grad[i] + wd * theta[i]
            b[i] = s.mu * b[i] + s.keep * g
            theta[i] -= s.lr * (nesterov ? g + s.mu * b[i] : b[i])
        }
    }
}
