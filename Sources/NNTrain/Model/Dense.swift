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
public final class Dense: Layer {
    public let inputWidth: Int
    public let outputWidth: Int
    public let activation: Activation
    let parameters: ParameterStore
    let weight: ParameterStore.Tensor
    let bias: ParameterStore.Tensor
    /// z = x·Wᵀ + b, kept only when the activation's derivative needs it (GELU).
    private var preActivation: FloatBuffer?

    init(parameters: ParameterStore, weight: ParameterStore.Tensor, bias: ParameterStore.Tensor,
         activation: Activation) {
        self.parameters = parameters
        self.weight = weight
        self.bias = bias
        self.activation = activation
        outputWidth = weight.shape[0]
        inputWidth = weight.shape[1]
    }

    public func reserve(rows: Int) {
        if activation.needsPreActivation { preActivation = FloatBuffer(count: rows * outputWidth) }
    }

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        let w = parameters.values.base + weight.offset
        BLAS.gemm(transposeA: false, transposeB: true, m: x.rows, n: outputWidth, k: inputWidth,
                  alpha: 1, a: x.base, lda: inputWidth, b: w, ldb: inputWidth, beta: 0, c: y.base, ldc: outputWidth)
        activation.applyWithBias(y, bias: parameters.values.base + bias.offset,
                                 preActivation: preActivation?.matrix(rows: x.rows, columns: outputWidth))
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        activation.backward(gradient: dy, output: y,
                            preActivation: preActivation?.matrix(rows: x.rows, columns: outputWidth))
        let dz = dy
        let w = parameters.values.base + weight.offset
        let dw = parameters.gradients.base + weight.offset
        let db = parameters.gradients.base + bias.offset
        BLAS.gemm(transposeA: true, transposeB: false, m: outputWidth, n: inputWidth, k: x.rows,
                  alpha: 1, a: dz.base, lda: outputWidth, b: x.base, ldb: inputWidth, beta: 0, c: dw, ldc: inputWidth)
        for j in 0..<outputWidth { db[j] = 0 }
        for row in 0..<dz.rows {
            let g = dz.base + row * outputWidth
            for j in 0..<outputWidth { db[j] += g[j] }
        }
        if let dx {
            BLAS.gemm(transposeA: false, transposeB: false, m: x.rows, n: inputWidth, k: outputWidth,
                      alpha: 1, a: dz.base, lda: outputWidth, b: w, ldb: inputWidth, beta: 0, c: dx.base, ldc: inputWidth)
        }
    }
}
