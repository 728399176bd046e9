/// Stochastic gradient descent with momentum, as torch.optim.SGD (dampening 0, no Nesterov):
///
///     g ← g + λθ                       (weight_decay λ, default 0)
///     if μ ≠ 0:
///         b ← g                        on the first step
///         b ← μ·b + g                  afterwards
///         g ← b
///     θ ← θ − γ·g
///
/// PyTorch's defaults: μ = 0, λ = 0; γ has no default there and is required by the config.
public final class SGD: Optimizer {
    public let momentum: Float
    public let weightDecay: Float
    /// The momentum buffer b, one value per parameter.
    public private(set) var momentumBuffer: [Float]
    /// Steps taken so far; the first one seeds the momentum buffer with the raw gradient.
    public private(set) var stepCount = 0

    public init(parameterCount: Int, momentum: Float = 0, weightDecay: Float = 0) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        momentumBuffer = momentum == 0 ? [] : [Float](repeating: 0, count: parameterCount)
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float) {
        let theta = parameters.baseAddress.unsafelyUnwrapped, grad = gradients.baseAddress.unsafelyUnwrapped
        let n = parameters.count, mu = momentum, wd = weightDecay, first = stepCount == 0
        stepCount += 1
        if mu == 0 {
            for i in 0..<n { theta[i] -= lr * (grad[i] + wd * theta[i]) }
            return
        }
        momentumBuffer.withUnsafeMutableBufferPointer { buffer in
            let b = buffer.baseAddress.unsafelyUnwrapped
            for i in 0..<n {
                let g = grad[i] + wd * theta[i]
                b[i] = first ? g : mu * b[i] + g
                theta[i] -= lr * b[i]
            }
        }
    }
}
