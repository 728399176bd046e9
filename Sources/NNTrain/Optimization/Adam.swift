import Foundation

/// Adam (Kingma & Ba, 2015) exactly as torch.optim.Adam computes it (amsgrad off):
///
///     t ← t + 1
///     g ← g + λθ                          (weight_decay λ: L2 added to the gradient)
///     m ← m + (1 − β1)(g − m)             (torch's lerp form of β1·m + (1 − β1)·g)
///     v ← β2·v + (1 − β2)·g²
///     θ ← θ − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// PyTorch's defaults: γ = 1e-3, (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0. The bias corrections are
/// computed in double precision, as Python does, then used as single-precision scalars.
public final class Adam: Optimizer {
    public let beta1: Double
    public let beta2: Double
    public let eps: Float
    public let weightDecay: Float
    /// First and second moment estimates m and v, one value per parameter.
    public private(set) var firstMoment: [Float]
    public private(set) var secondMoment: [Float]
    public private(set) var stepCount = 0

    public init(parameterCount: Int, beta1: Double = 0.9, beta2: Double = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate lr: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(lr) / (1 - pow(beta1, t)))
        let correction2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let oneMinusBeta1 = Float(1 - beta1), beta2f = Float(beta2), oneMinusBeta2 = Float(1 - beta2)
        let theta = parameters.baseAddress.unsafelyUnwrapped, grad = gradients.baseAddress.unsafelyUnwrapped
        let n = parameters.count, wd = weightDecay, eps = eps
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress.unsafelyUnwrapped, v = vBuffer.baseAddress.unsafelyUnwrapped
                for i in 0..<n {
                    let g = grad[i] + wd * theta[i]
                    m[i] += oneMinusBeta1 * (g - m[i])
                    v[i] = beta2f * v[i] + oneMinusBeta2 * g * g
                    theta[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Sqrt + eps)
                }
            }
        }
    }
}
