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

    /// y = round(f(v)) with v = round(z + bias) for every row of `z` (rows × width), in place; v is
    /// kept in `preActivation` when the derivative needs it. `round` is to `precision` (fp32: none):
    /// v is the low-precision output of the linear layer or batch norm that f follows in PyTorch,
    /// and y the activation's own stored output (relu and identity need no second rounding).
    package func applyWithBias(_ z: MatrixView, bias: UnsafePointer<Float>, preActivation: MatrixView?, precision: Precision) {
        switch precision {
        case .fp32: applyWithBias(z, bias: bias, preActivation: preActivation, rounding: Binary32.self)
        case .fp16: applyWithBias(z, bias: bias, preActivation: preActivation, rounding: Binary16.self)
        case .bf16: applyWithBias(z, bias: bias, preActivation: preActivation, rounding: BFloat16.self)
        }
    }

    /// `applyWithBias` with the rounding of v fused into the loop, specialised per format.
    private func applyWithBias<Format: RoundingFormat>(
        _ z: MatrixView, bias: UnsafePointer<Float>, preActivation: MatrixView?, rounding: Format.Type
    ) {
        let width = z.columns
        for row in 0..<z.rows {
            let y = z.base + row * width
            switch self {
            case .identity:
                for j in 0..<width { y[j] = Format.rounded(y[j] + bias[j]) }
            case .relu:
                for j in 0..<width { y[j] = max(Format.rounded(y[j] + bias[j]), 0) }
            case .leakyRelu(let slope):
                for j in 0..<width {
                    let v = Format.rounded(y[j] + bias[j])
                    y[j] = v > 0 ? v : Format.rounded(slope * v)
                }
            case .gelu:
                let kept = preActivation.unsafelyUnwrapped.base + row * width
                for j in 0..<width {
                    let v = Format.rounded(y[j] + bias[j])
                    kept[j] = v
                    y[j] = Format.rounded(0.5 * v * (1 + erff(v * Float(0.5).squareRoot())))
                }
            case .silu:
                let kept = preActivation.unsafelyUnwrapped.base + row * width
                for j in 0..<width {
                    let v = Format.rounded(y[j] + bias[j])
                    kept[j] = v
                    y[j] = Format.rounded(v / (1 + expf(-v)))
                }
            case .tanh:
                for j in 0..<width { y[j] = Format.rounded(tanhf(Format.rounded(y[j] + bias[j]))) }
            case .sigmoid:
                for j in 0..<width { y[j] = Format.rounded(1 / (1 + expf(-Format.rounded(y[j] + bias[j])))) }
            }
        }
    }

    /// dz = dy ⊙ f'(z), in place over `gradient`, from the outputs `y` (and `preActivation` for GELU
    /// and SiLU), stored rounded to `precision` as PyTorch stores the activation's input gradient.
    /// Identity and relu multiply by 1 or 0, which needs no rounding.
    func backward(gradient: MatrixView, output y: MatrixView, preActivation: MatrixView?, precision: Precision) {
        let g = gradient.base, out = y.base, n = gradient.count
        switch self {
        case .identity:
            return
        case .relu:
            // A select rather than a conditional store, so the loop vectorises; a NaN output passes
            // no gradient, as PyTorch's threshold_backward (grad where result > 0).
            for i in 0..<n { g[i] = out[i] > 0 ? g[i] : 0 }
            return
        case .leakyRelu(let slope):
            for i in 0..<n { g[i] *= out[i] > 0 ? 1 : slope }
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
        precision.format?.round(g, count: n)
    }
}
