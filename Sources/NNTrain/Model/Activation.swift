import Foundation

/// Element-wise non-linearities, applied in the same pass as the bias (see `Dense`).
///
/// Each derivative is written in terms of what `Dense` keeps: the output y, and for GELU the
/// pre-activation z.
///
/// | name        | y = f(z)                          | f'(z)                          | PyTorch                |
/// |-------------|-----------------------------------|--------------------------------|------------------------|
/// | relu        | max(0, z)                         | 1 if y > 0 else 0              | nn.ReLU                |
/// | leaky_relu  | z if z > 0 else 0.01·z            | 1 if y > 0 else 0.01           | nn.LeakyReLU(0.01)     |
/// | gelu        | z·Φ(z) = ½z(1 + erf(z/√2))        | Φ(z) + z·φ(z)                  | nn.GELU() (exact, erf) |
/// | silu        | z·σ(z)                            | σ(z)(1 + z(1 − σ(z)))          | nn.SiLU                |
/// | tanh        | tanh z                            | 1 − y²                         | nn.Tanh                |
/// | sigmoid     | 1 / (1 + e^(−z))                  | y(1 − y)                       | nn.Sigmoid             |
/// | identity    | z                                 | 1                              | (the output layer)     |
public enum Activation: Equatable, Sendable {
    case identity
    case relu
    case leakyRelu(slope: Float)
    case gelu
    case silu
    case tanh
    case sigmoid

    /// The activation a config names; `leakySlope` is leaky_relu's negative slope.
    public init(_ kind: ActivationKind, leakySlope: Float = 0.01) {
        switch kind {
        case .relu: self = .relu
        case .leakyRelu: self = .leakyRelu(slope: leakySlope)
        case .gelu: self = .gelu
        case .silu: self = .silu
        case .tanh: self = .tanh
        case .sigmoid: self = .sigmoid
        }
    }

    /// Whether the derivative needs the pre-activation z rather than the output y.
    var needsPreActivation: Bool { self == .gelu || self == .silu }

    /// y = f(z + bias) for every row of `z` (rows × width), in place; z is kept in `preActivation`
    /// when the derivative needs it.
    func applyWithBias(_ z: MatrixView, bias: UnsafePointer<Float>, preActivation: MatrixView?) {
        let width = z.columns
        for row in 0..<z.rows {
            let y = z.base + row * width
            switch self {
            case .identity:
                for j in 0..<width { y[j] += bias[j] }
            case .relu:
                for j in 0..<width { y[j] = max(y[j] + bias[j], 0) }
            case .leakyRelu(let slope):
                for j in 0..<width {
                    let v = y[j] + bias[j]
                    y[j] = v > 0 ? v : slope * v
                }
            case .gelu:
                let kept = preActivation.unsafelyUnwrapped.base + row * width
                for j in 0..<width {
                    let v = y[j] + bias[j]
                    kept[j] = v
                    y[j] = 0.5 * v * (1 + erff(v * Float(0.5).squareRoot()))
                }
            case .silu:
                let kept = preActivation.unsafelyUnwrapped.base + row * width
                for j in 0..<width {
                    let v = y[j] + bias[j]
                    kept[j] = v
                    y[j] = v / (1 + expf(-v))
                }
            case .tanh:
                for j in 0..<width { y[j] = tanhf(y[j] + bias[j]) }
            case .sigmoid:
                for j in 0..<width { y[j] = 1 / (1 + expf(-(y[j] + bias[j]))) }
            }
        }
    }

    /// dz = dy ⊙ f'(z), in place over `gradient`, from the outputs `y` (and `preActivation` for GELU).
    func backward(gradient: MatrixView, output y: MatrixView, preActivation: MatrixView?) {
        let g = gradient.base, out = y.base, n = gradient.count
        switch self {
        case .identity:
            return
        case .relu:
            for i in 0..<n where out[i] <= 0 { g[i] = 0 }
        case .leakyRelu(let slope):
            for i in 0..<n where out[i] <= 0 { g[i] *= slope }
        case .gelu:
            let z = preActivation.unsafelyUnwrapped.base
            let invSqrt2 = Float(0.5).squareRoot(), invSqrt2Pi = 1 / (2 * Float.pi).squareRoot()
            for i in 0..<n {
                let cdf = 0.5 * (1 + erff(z[i] * invSqrt2))
                let pdf = invSqrt2Pi * expf(-0.5 * z[i] * z[i])
                g[i] *= cdf + z[i] * pdf
            }
        case .silu:
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n {
                let sigma = 1 / (1 + expf(-z[i]))
                g[i] *= sigma * (1 + z[i] * (1 - sigma))
            }
        case .tanh:
            for i in 0..<n { g[i] *= 1 - out[i] * out[i] }
        case .sigmoid:
            for i in 0..<n { g[i] *= out[i] * (1 - out[i]) }
        }
    }
}
