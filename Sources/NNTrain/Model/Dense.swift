/// A fully connected layer with its activation fused in: y = f(x·Wᵀ + b), as nn.Linear followed by
/// an activation module in PyTorch.
///
/// Shapes (B = batch rows): x [B, in], W [out, in] (nn.Linear's layout, so exported weights load into
/// PyTorch unchanged), b [out], y [B, out]. The product is one GEMM; bias and activation are one
/// further pass over y.
///
/// Backward, with dz = dy ⊙ f'(z):
///
///     dW = dzᵀ · x      [out, in]
///     db = Σ_rows dz    [out]
///     dx = dz · W       [B, in]
///
/// In mixed precision (`precision` fp16 or bf16, see `Precision`), as torch.autocast runs
/// nn.Linear: each forward pass first rounds W and b into copies (the master weights stay fp32);
/// x arrives rounded (`Network` stores every layer's input rounded); the GEMMs read the rounded
/// operands and accumulate in fp32; z = x·Wᵀ + b is rounded once, as cuBLAS rounds addmm's result,
/// before the activation; dz is stored rounded (relu's needs no rounding), dx = dz · W reads the
/// same rounded W, and dW and db are rounded by `Network.finishGradients`, in one pass with
/// unscaling.
public final class Dense: TrainableLayer {
    public let inputWidth: Int
    public let outputWidth: Int
    public let activation: Activation
    let parameters: ParameterStore
    let weight: ParameterStore.Tensor
    let bias: ParameterStore.Tensor
    /// The format of the products' operands and results; fp32 for plain training.
    public let precision: Precision
    /// Frozen (`training.freeze`): back-propagation skips dW and db, the GEMM that costs as much as dx.
    public var frozen = false
    public var layerIndex: Int { weight.layer ?? -1 }
    /// z = x·Wᵀ + b, kept only when the activation's derivative needs it (GELU).
    private var preActivation: FloatBuffer?
    /// W then b rounded to `precision`, refreshed by every forward pass (empty in fp32).
    private let roundedParameters: FloatBuffer

    init(parameters: ParameterStore, weight: ParameterStore.Tensor, bias: ParameterStore.Tensor,
         activation: Activation, precision: Precision = .fp32) {
        self.parameters = parameters
        self.weight = weight
        self.bias = bias
        self.activation = activation
        self.precision = precision
        outputWidth = weight.shape[0]
        inputWidth = weight.shape[1]
        roundedParameters = FloatBuffer(count: precision == .fp32 ? 0 : weight.count + bias.count)
    }

    /// W and b as the products read them: the master values in fp32, else their rounded copies.
    private var operands: (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        guard precision != .fp32 else {
            return (UnsafePointer(parameters.values.base + weight.offset), UnsafePointer(parameters.values.base + bias.offset))
        }
        return (UnsafePointer(roundedParameters.base), UnsafePointer(roundedParameters.base + weight.count))
    }

    public func reserve(rows: Int) {
        if activation.needsPreActivation { preActivation = FloatBuffer(count: rows * outputWidth) }
    }

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        if let format = precision.format {
            format.round(parameters.values.base + weight.offset, into: roundedParameters.base, count: weight.count)
            format.round(parameters.values.base + bias.offset, into: roundedParameters.base + weight.count,
                         count: bias.count)
        }
        let (w, b) = operands
        BLAS.gemm(transposeA: false, transposeB: true, m: x.rows, n: outputWidth, k: inputWidth,
                  alpha: 1, a: x.base, lda: inputWidth, b: w, ldb: inputWidth, beta: 0, c: y.base, ldc: outputWidth)
        activation.applyWithBias(y, bias: b, preActivation: preActivation?.matrix(rows: x.rows, columns: outputWidth),
                                 precision: precision)
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        activation.backward(gradient: dy, output: y,
                            preActivation: preActivation?.matrix(rows: x.rows, columns: outputWidth), precision: precision)
        let dz = dy
        let w = operands.weight
        let dw = parameters.gradients.base + weight.offset
        let db = parameters.gradients.base + bias.offset
        if !frozen {
            BLAS.gemm(transposeA: true, transposeB: false, m: outputWidth, n: inputWidth, k: x.rows,
                      alpha: 1, a: dz.base, lda: outputWidth, b: x.base, ldb: inputWidth, beta: 0, c: dw, ldc: inputWidth)
            for j in 0..<outputWidth { db[j] = 0 }
            for row in 0..<dz.rows {
                let g = dz.base + row * outputWidth
                for j in 0..<outputWidth { db[j] += g[j] }
            }
        }
        if let dx {
            BLAS.gemm(transposeA: false, transposeB: false, m: x.rows, n: inputWidth, k: outputWidth,
                      alpha: 1, a: dz.base, lda: outputWidth, b: w, ldb: inputWidth, beta: 0, c: dx.base, ldc: inputWidth)
        }
    }
}
