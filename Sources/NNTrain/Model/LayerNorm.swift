import Foundation

/// Layer normalisation over each row's features (nn.LayerNorm(n), elementwise_affine, eps 1e-5), with
/// the following activation fused in: y = f(γ·x̂ + β). Ba, Kiros & Hinton, "Layer Normalization",
/// arXiv:1607.06450 (2016), eq. 4; torch/nn/modules/normalization.py.
///
/// Shapes: x, y [B, n]; γ, β [n] (`norms.<i>.weight`, `norms.<i>.bias`, as BatchNorm's). No running
/// statistics: training and evaluation compute the same thing.
///
///     μ_i = mean_j x_ij,  σ²_i = mean_j (x_ij − μ_i)²       (biased, as torch normalises)
///     x̂_ij = (x_ij − μ_i) / √(σ²_i + ε)
///
/// Backward, with dz = dy ⊙ f′ and ĝ_ij = γ_j·dz_ij:
///
///     dβ_j = Σ_i dz_ij     dγ_j = Σ_i dz_ij·x̂_ij
///     dx_ij = 1 / (n·√(σ²_i + ε)) · (n·ĝ_ij − Σ_k ĝ_ik − x̂_ij·Σ_k ĝ_ik·x̂_ik)
///
/// In mixed precision the statistics and x̂ are computed in fp32 from the rounded input (autocast runs
/// layer_norm in fp32), γ·x̂ + β is rounded before the activation and dz is stored rounded, as BatchNorm.
public final class LayerNorm: TrainableLayer {
    public let inputWidth: Int
    public var outputWidth: Int { inputWidth }
    public let activation: Activation
    public let precision: Precision
    /// Frozen (`training.freeze`): back-propagation leaves dγ and dβ alone (dL/dx does not need them).
    public var frozen = false
    public var layerIndex: Int { scale.layer ?? -1 }
    public static let epsilon: Float = 1e-5
    let parameters: ParameterStore
    let scale: ParameterStore.Tensor
    let shift: ParameterStore.Tensor
    private var normalized = FloatBuffer(count: 0)
    /// 1/√(σ²_i + ε) of each row of the last forward pass.
    private var inverseStd = FloatBuffer(count: 0)
    private var preActivation: FloatBuffer?

    init(parameters: ParameterStore, scale: ParameterStore.Tensor, shift: ParameterStore.Tensor, activation: Activation,
         precision: Precision = .fp32) {
        self.parameters = parameters
        self.scale = scale
        self.shift = shift
        self.activation = activation
        self.precision = precision
        inputWidth = scale.count
    }

    /// The layer's name in checkpoints, as PyTorch's state_dict names it: `norms.<i>`.
    public var name: String { String(scale.name.dropLast(".weight".count)) }

    public func reserve(rows: Int) {
        normalized = FloatBuffer(count: rows * inputWidth)
        inverseStd = FloatBuffer(count: rows)
        if activation.needsPreActivation { preActivation = FloatBuffer(count: rows * inputWidth) }
    }

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        let rows = x.rows, n = inputWidth, count = Float(n)
        let xHat = normalized.base, invStd = inverseStd.base, gamma = parameters.values.base + scale.offset
        for i in 0..<rows {
            let row = x.base + i * n, centered = xHat + i * n, out = y.base + i * n
            var sum: Float = 0
            for j in 0..<n { sum += row[j] }
            let mean = sum / count
            var squares: Float = 0
            for j in 0..<n {
                centered[j] = row[j] - mean
                squares += centered[j] * centered[j]
            }
            invStd[i] = 1 / (squares / count + Self.epsilon).squareRoot()
            for j in 0..<n {
                centered[j] *= invStd[i]
                out[j] = gamma[j] * centered[j]
            }
        }
        activation.applyWithBias(y, bias: parameters.values.base + shift.offset,
                                 preActivation: preActivation?.matrix(rows: rows, columns: n), precision: precision)
    }

    /// z ← γ ⊙ (z − μ) / √(σ² + ε) in place, each row with its own μ and σ², in float32 as `forward`
    /// computes them (β and the activation are left to `Activation.applyWithBias`): the layer norm of
    /// an exported model (`QuantizedInference`).
    static func normalizeRows(_ z: MatrixView, scale gamma: UnsafePointer<Float>) {
        let n = z.columns, count = Float(n)
        for i in 0..<z.rows {
            let row = z.base + i * n
            var sum: Float = 0
            for j in 0..<n { sum += row[j] }
            let mean = sum / count
            var squares: Float = 0
            for j in 0..<n {
                row[j] -= mean
                squares += row[j] * row[j]
            }
            let invStd = 1 / (squares / count + epsilon).squareRoot()
            for j in 0..<n { row[j] = gamma[j] * (row[j] * invStd) }
        }
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        let rows = x.rows, n = inputWidth, count = Float(n)
        activation.backward(gradient: dy, output: y, preActivation: preActivation?.matrix(rows: rows, columns: n),
                            precision: precision)
        let dz = dy.base, xHat = normalized.base, invStd = inverseStd.base
        let gamma = parameters.values.base + scale.offset
        let dGamma = parameters.gradients.base + scale.offset, dBeta = parameters.gradients.base + shift.offset
        if !frozen {
            BatchNorm.affineGradients(dz: dz, normalized: xHat, rows: rows, width: n, dGamma: dGamma, dBeta: dBeta)
        }
        guard let dx else { return }
        for i in 0..<rows {
            let g = dz + i * n, h = xHat + i * n, out = dx.base + i * n
            var sum: Float = 0, dot: Float = 0
            for j in 0..<n {
                let scaled = gamma[j] * g[j]
                sum += scaled
                dot += scaled * h[j]
            }
            let factor = invStd[i] / count
            for j in 0..<n { out[j] = factor * (count * gamma[j] * g[j] - sum - h[j] * dot) }
        }
    }
}
