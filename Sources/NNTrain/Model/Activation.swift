import Foundation

/// Element-wise non-linearities, applied in the same pass as the bias (see `Dense`).
///
/// Each derivative is written in terms of what `Dense` keeps: the output y, or the pre-activation z
/// for GELU, SiLU, ELU, SELU, Mish, Softplus, Hardswish and PReLU (`needsPreActivation`), which ATen's
/// backward kernels read too.
///
/// | name        | y = f(z)                          | f'(z)                          | PyTorch                |
/// |-------------|-----------------------------------|--------------------------------|------------------------|
/// | relu        | max(0, z)                         | 1 if y > 0 else 0              | nn.ReLU                |
/// | leaky_relu  | z if z > 0 else 0.01·z            | 1 if y > 0 else 0.01           | nn.LeakyReLU(0.01)     |
/// | gelu        | z·Φ(z) = ½z(1 + erf(z/√2))        | Φ(z) + z·φ(z)                  | nn.GELU() (exact, erf) |
/// | silu        | z·σ(z)                            | σ(z)(1 + z(1 − σ(z)))          | nn.SiLU                |
/// | tanh        | tanh z                            | 1 − y²                         | nn.Tanh                |
/// | sigmoid     | 1 / (1 + e^(−z))                  | y(1 − y)                       | nn.Sigmoid             |
/// | elu         | z if z > 0 else α(e^z − 1)         | 1 if z > 0 else α·e^z          | nn.ELU(alpha=1.0)      |
/// | selu        | λ·elu(z) with α = α₀              | λ if z > 0 else λ·α₀·e^z       | nn.SELU                |
/// | mish        | z·tanh(softplus(z))               | t + z·σ(z)(1 − t²), t = tanh(softplus z) | nn.Mish      |
/// | softplus    | log(1 + e^(βz))/β, z if βz > θ    | e^(βz)/(1 + e^(βz)), 1 if βz > θ | nn.Softplus(beta=1.0, threshold=20.0) |
/// | hardswish   | z·min(max(z + 3, 0), 6)/6         | 0 if z < −3, (2z + 3)/6 if z ≤ 3, else 1 | nn.Hardswish |
/// | prelu       | z if z > 0 else a_j·z             | 1 if z > 0 else a_j            | nn.PReLU(width, init=0.25) |
/// | identity    | z                                 | 1                              | (the output layer)     |
///
/// The last five follow ATen's CPU kernels (aten/src/ATen/native/cpu/Activation.cpp: elu_kernel and
/// elu_backward_kernel with is_result false, softplus_kernel, mish_kernel, hardswish_kernel and their
/// backward kernels), derivatives included at the kinks: ELU's and SELU's at z = 0 is the left one
/// (α, λα₀: the kernel tests z ≤ 0); hardswish's is 0 below −3 and (2z + 3)/6 on the closed [−3, 3]
/// (−1/2 at −3, 3/2 at 3: hardswish_backward tests z < −3 and z ≤ 3). SELU's constants are torch's
/// (α₀ = 1.6732632423543772848170429916717, λ = 1.0507009873554804934193349852946, Klambauer et al.,
/// "Self-Normalizing Neural Networks", NeurIPS 2017); softplus reverts to the identity where βz > θ
/// for numerical stability, as torch does; mish's softplus is the plain log1p(e^z), without a threshold.
///
/// prelu's a_j is a learned slope per unit, a parameter: in a network it is a `PReLU` layer of its
/// own (after an identity Dense or BatchNorm), which owns the slopes and their gradient; `initial` is
/// nn.PReLU's `init`, the value they start at. The fused pass here applies it only in inference
/// (`InferenceModel`, `QuantizedInference`), given the slopes; without them (or in `backward`,
/// which a network never reaches for prelu) it is the function at initialisation, every a_j = `initial`.
public enum Activation: Equatable, Sendable {
    case identity
    case relu
    case leakyRelu(slope: Float)
    case gelu
    case silu
    case tanh
    case sigmoid
    case elu(alpha: Float)
    case selu
    case mish
    case softplus(beta: Float, threshold: Float)
    case hardswish
    /// PReLU with a learned slope per unit, starting at `initial` (see the type's comment).
    case prelu(initial: Float)

    /// SELU's α₀ and λ (torch/nn/functional.py selu; aten/src/ATen/native/Activation.cpp SELU_ALPHA, SELU_SCALE).
    static let seluAlpha: Float = 1.6732632423543772848170429916717
    static let seluScale: Float = 1.0507009873554804934193349852946

    /// The activation a config names; `leakySlope` is leaky_relu's negative slope, `eluAlpha` ELU's α,
    /// `softplusBeta` and `softplusThreshold` Softplus's β and threshold, `preluInit` PReLU's initial
    /// slope (torch's defaults).
    public init(_ kind: ActivationKind, leakySlope: Float = 0.01, eluAlpha: Float = 1,
                softplusBeta: Float = 1, softplusThreshold: Float = 20, preluInit: Float = 0.25) {
        switch kind {
        case .relu: self = .relu
        case .leakyRelu: self = .leakyRelu(slope: leakySlope)
        case .gelu: self = .gelu
        case .silu: self = .silu
        case .tanh: self = .tanh
        case .sigmoid: self = .sigmoid
        case .elu: self = .elu(alpha: eluAlpha)
        case .selu: self = .selu
        case .mish: self = .mish
        case .softplus: self = .softplus(beta: softplusBeta, threshold: softplusThreshold)
        case .hardswish: self = .hardswish
        case .prelu: self = .prelu(initial: preluInit)
        }
    }

    /// Whether the derivative needs the pre-activation z rather than the output y.
    var needsPreActivation: Bool {
        switch self {
        case .identity, .relu, .leakyRelu, .tanh, .sigmoid: false
        case .gelu, .silu, .elu, .selu, .mish, .softplus, .hardswish, .prelu: true
        }
    }

    /// y = round(f(v)) with v = round(z + bias) for every row of `z` (rows × width), in place; v is
    /// kept in `preActivation` when the derivative needs it. `round` is to `precision` (fp32: none):
    /// v is the low-precision output of the linear layer or batch norm that f follows in PyTorch,
    /// and y the activation's own stored output (relu and identity need no second rounding). `slopes`
    /// are prelu's a_j, one per column (nil: every a_j is its `initial`); other activations ignore them.
    package func applyWithBias(_ z: MatrixView, bias: UnsafePointer<Float>, preActivation: MatrixView?, precision: Precision,
                               slopes: UnsafePointer<Float>? = nil) {
        switch precision {
        case .fp32: applyWithBias(z, bias: bias, preActivation: preActivation, slopes: slopes, rounding: Binary32.self)
        case .fp16: applyWithBias(z, bias: bias, preActivation: preActivation, slopes: slopes, rounding: Binary16.self)
        case .bf16: applyWithBias(z, bias: bias, preActivation: preActivation, slopes: slopes, rounding: BFloat16.self)
        }
    }

    /// `applyWithBias` with the rounding of v fused into the loop, specialised per format.
    private func applyWithBias<Format: RoundingFormat>(
        _ z: MatrixView, bias: UnsafePointer<Float>, preActivation: MatrixView?, slopes: UnsafePointer<Float>?,
        rounding: Format.Type
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
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in
                    0.5 * v * (1 + erff(v * Float(0.5).squareRoot()))
                }
            case .silu:
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in v / (1 + expf(-v)) }
            case .tanh:
                for j in 0..<width { y[j] = Format.rounded(tanhf(Format.rounded(y[j] + bias[j]))) }
            case .sigmoid:
                for j in 0..<width { y[j] = Format.rounded(1 / (1 + expf(-Format.rounded(y[j] + bias[j])))) }
            case .elu(let alpha):
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in v > 0 ? v : alpha * expm1f(v) }
            case .selu:
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in
                    v > 0 ? Self.seluScale * v : Self.seluScale * Self.seluAlpha * expm1f(v)
                }
            case .mish:
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in v * tanhf(log1pf(expf(v))) }
            case .softplus(let beta, let threshold):
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in
                    v * beta > threshold ? v : log1pf(expf(v * beta)) / beta
                }
            case .hardswish:
                Self.apply(y, bias, kept(preActivation, row), width, Format.self) { v in v * min(max(v + 3, 0), 6) / 6 }
            case .prelu(let initial):
                let kept = kept(preActivation, row)
                for j in 0..<width {
                    let v = Format.rounded(y[j] + bias[j])
                    kept?[j] = v
                    y[j] = v > 0 ? v : Format.rounded((slopes?[j] ?? initial) * v)
                }
            }
        }
    }

    /// Row `row` of the pre-activation buffer, nil when there is none (`value(at:)` needs no z).
    private func kept(_ preActivation: MatrixView?, _ row: Int) -> UnsafeMutablePointer<Float>? {
        preActivation.map { $0.base + row * $0.columns }
    }

    /// One row: v = round(y + bias), kept in `kept` if given, and y = round(f(v)).
    @inline(__always)
    private static func apply<Format: RoundingFormat>(
        _ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ kept: UnsafeMutablePointer<Float>?,
        _ width: Int, _: Format.Type, _ f: (Float) -> Float
    ) {
        if let kept {
            for j in 0..<width {
                let v = Format.rounded(y[j] + bias[j])
                kept[j] = v
                y[j] = Format.rounded(f(v))
            }
        } else {
            for j in 0..<width { y[j] = Format.rounded(f(Format.rounded(y[j] + bias[j]))) }
        }
    }

    /// dz = dy ⊙ f'(z), in place over `gradient`, from the outputs `y` (or `preActivation` when
    /// `needsPreActivation`), stored rounded to `precision` as PyTorch stores the activation's input gradient.
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
        case .prelu(let initial):
            // The function at initialisation, every a_j = initial, tested on z as ATen's kernel does (with a
            // negative slope y > 0 on both sides); a network's prelu is a `PReLU` layer, whose own backward
            // also gives the slopes' gradient.
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n { g[i] *= z[i] > 0 ? 1 : initial }
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
        case .elu(let alpha):
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n { g[i] *= z[i] > 0 ? 1 : alpha * expf(z[i]) }
        case .selu:
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n { g[i] *= z[i] > 0 ? Self.seluScale : Self.seluScale * Self.seluAlpha * expf(z[i]) }
        case .mish:
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n {
                let sigma = 1 / (1 + expf(-z[i])), t = tanhf(log1pf(expf(z[i])))
                g[i] *= t + z[i] * sigma * (1 - t * t)
            }
        case .softplus(let beta, let threshold):
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n {
                let e = expf(z[i] * beta)
                g[i] *= z[i] * beta > threshold ? 1 : e / (e + 1)
            }
        case .hardswish:
            let z = preActivation.unsafelyUnwrapped.base
            for i in 0..<n { g[i] *= z[i] < -3 ? 0 : z[i] <= 3 ? z[i] / 3 + 0.5 : 1 }
        }
        precision.format?.round(g, count: n)
    }
}
