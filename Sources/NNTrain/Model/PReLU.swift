/// The parametric rectifier with a learned slope per unit (nn.PReLU(num_parameters=width, init=0.25)),
/// after each hidden layer's product (or its batch norm) when `model.activation` is prelu. He, Zhang,
/// Ren & Sun, "Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet
/// Classification", ICCV 2015 (arXiv:1502.01852), eq. 1 and 4.
///
/// Shapes: x, y [B, n]; the slopes a [n], parameter `activations.<i>.weight` (role `.slope`), which
/// start at `model.prelu_init` (torch's `init`, 0.25) and take no weight decay (`ParameterStore.groups`).
///
///     y_ij  = x_ij                 if x_ij > 0, else a_j·x_ij     = max(0, x) + a·min(0, x)
///     dx_ij = dy_ij                if x_ij > 0, else a_j·dy_ij
///     da_j  = Σ_i (0               if x_ij > 0, else x_ij·dy_ij)
///
/// as ATen's prelu kernels test it (aten/src/ATen/native/cpu/Activation.cpp, prelu_kernel and
/// prelu_backward_kernel: `input > 0`), so at x = 0 the input gradient is a·dy and the slope's is 0.
///
/// In mixed precision prelu is one of autocast's lower_precision_fp operators
/// (aten/src/ATen/autocast_mode.cpp, `KERNEL_CPU(prelu, lower_precision_fp)`, and CUDA's list): the
/// slopes are rounded into a copy by each forward pass (the master values stay fp32), x arrives rounded,
/// y = round(a·x) below zero; dx is rounded by `Network`, and da, summed in fp32, is rounded to the low
/// precision by `Network.finishGradients` as a linear layer's gradients (the gradient of the cast).
public final class PReLU: TrainableLayer {
    public let inputWidth: Int
    public var outputWidth: Int { inputWidth }
    /// The format of x, y and the slopes' copy; fp32 for plain training.
    public let precision: Precision
    /// Frozen (`training.freeze`): back-propagation leaves the slopes' gradient alone.
    public var frozen = false
    public var layerIndex: Int { slope.layer ?? -1 }
    let parameters: ParameterStore
    let slope: ParameterStore.Tensor
    /// The slopes rounded to `precision`, refreshed by every forward pass (empty in fp32).
    private let roundedSlopes: FloatBuffer

    init(parameters: ParameterStore, slope: ParameterStore.Tensor, precision: Precision = .fp32) {
        self.parameters = parameters
        self.slope = slope
        self.precision = precision
        inputWidth = slope.count
        roundedSlopes = FloatBuffer(count: precision == .fp32 ? 0 : slope.count)
    }

    /// The layer's name in checkpoints: `activations.<i>`.
    public var name: String { String(slope.name.dropLast(".weight".count)) }

    /// The slopes as the forward pass reads them: the master values in fp32, else their rounded copy.
    private var slopes: UnsafePointer<Float> {
        precision == .fp32 ? UnsafePointer(parameters.values.base + slope.offset) : UnsafePointer(roundedSlopes.base)
    }

    public func reserve(rows: Int) {}

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        if let format = precision.format {
            format.round(parameters.values.base + slope.offset, into: roundedSlopes.base, count: slope.count)
        }
        switch precision {
        case .fp32: forward(x, into: y, rounding: Binary32.self)
        case .fp16: forward(x, into: y, rounding: Binary16.self)
        case .bf16: forward(x, into: y, rounding: BFloat16.self)
        }
    }

    /// y = x where x > 0, else round(a·x), with the rounding specialised per format.
    private func forward<Format: RoundingFormat>(_ x: MatrixView, into y: MatrixView, rounding: Format.Type) {
        let n = inputWidth, a = slopes
        for i in 0..<x.rows {
            let input = x.base + i * n, out = y.base + i * n
            for j in 0..<n { out[j] = input[j] > 0 ? input[j] : Format.rounded(a[j] * input[j]) }
        }
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        let n = inputWidth, a = slopes, da = parameters.gradients.base + slope.offset
        if !frozen {
            for j in 0..<n { da[j] = 0 }
            for i in 0..<x.rows {
                let input = x.base + i * n, g = dy.base + i * n
                for j in 0..<n { da[j] += input[j] > 0 ? 0 : input[j] * g[j] }
            }
        }
        guard let dx else { return }
        for i in 0..<x.rows {
            let input = x.base + i * n, g = dy.base + i * n, out = dx.base + i * n
            for j in 0..<n { out[j] = input[j] > 0 ? g[j] : a[j] * g[j] }
        }
    }
}
