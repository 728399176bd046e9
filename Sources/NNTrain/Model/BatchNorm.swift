import Foundation

/// Batch normalisation over the batch dimension (nn.BatchNorm1d, affine, track_running_stats),
/// with the following activation fused in: y = f(γ·x̂ + β). The method of Ioffe & Szegedy, "Batch
/// Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift", ICML 2015
/// (arXiv:1502.03167), Algorithm 1 and section 3.1 (the population statistics used at inference).
///
/// Shapes: x, y [B, n]; γ, β and the running statistics [n]. Defaults: momentum 0.1, ε = 1e-5.
///
///     training:  μ_j = mean_i x_ij,  σ²_j = mean_i (x_ij − μ_j)²       (biased, as PyTorch normalises)
///                x̂_ij = (x_ij − μ_j) / √(σ²_j + ε)
///                running_mean ← (1 − 0.1)·running_mean + 0.1·μ
///                running_var  ← (1 − 0.1)·running_var  + 0.1·σ²·B/(B − 1)   (unbiased)
///     eval:      x̂_ij = (x_ij − running_mean_j) / √(running_var_j + ε)
///
/// Backward (training), with dz = dy ⊙ f′:
///
///     dβ_j = Σ_i dz_ij     dγ_j = Σ_i dz_ij·x̂_ij
///     dx_ij = γ_j / (B·√(σ²_j + ε)) · (B·dz_ij − dβ_j − x̂_ij·dγ_j)
///
/// Frozen (`training.freeze`), the layer is in eval mode while the rest trains (fastai's freezing: the running
/// statistics normalise and stay as they are), and back-propagation sets no dγ, dβ; the eval-mode input gradient
/// is then dx_ij = dz_ij·γ_j / √(running_var_j + ε).
///
/// PyTorch refuses a training batch of one row; here such a batch normalises to β (x̂ = 0) and
/// leaves the running variance as it was, rather than stopping a run over its last batch.
/// γ and β take no weight decay unless `optimizer.decay_batch_norm` says so.
///
/// In mixed precision (`Precision`) the statistics and x̂ are computed in fp32 from the rounded
/// input, as cuDNN does for fp16 data; γ·x̂ + β is rounded before the activation, dz is stored
/// rounded, and dγ, dβ stay fp32 (parameters are fp32 under autocast).
public final class BatchNorm: TrainableLayer {
    public let inputWidth: Int
    public var outputWidth: Int { inputWidth }
    public let activation: Activation
    /// The format the output before the activation, and dz, are rounded to; fp32 for plain training.
    public let precision: Precision
    /// Frozen (`training.freeze`): eval mode in training too, no dγ, dβ.
    public var frozen = false
    public var layerIndex: Int { scale.layer ?? -1 }
    public static let momentum: Float = 0.1
    public static let epsilon: Float = 1e-5
    let parameters: ParameterStore
    let scale: ParameterStore.Tensor
    let shift: ParameterStore.Tensor
    /// Running estimates of each feature's mean and variance, used in evaluation (start 0 and 1).
    public var runningMean: [Float]
    public var runningVariance: [Float]
    /// During update_bn (`Trainer.updateBatchNorm`): the training batches seen so far, PyTorch's
    /// num_batches_tracked under `momentum=None`, which makes the running statistics a cumulative
    /// average: the factor of the k-th batch is 1/k instead of `momentum`. nil: momentum 0.1.
    public var cumulativeBatches: Int?
    private var normalized = FloatBuffer(count: 0)
    private var inverseStd: [Float]
    private var preActivation: FloatBuffer?

    init(parameters: ParameterStore, scale: ParameterStore.Tensor, shift: ParameterStore.Tensor, activation: Activation,
         precision: Precision = .fp32) {
        self.parameters = parameters
        self.scale = scale
        self.shift = shift
        self.activation = activation
        self.precision = precision
        inputWidth = scale.count
        runningMean = [Float](repeating: 0, count: scale.count)
        runningVariance = [Float](repeating: 1, count: scale.count)
        inverseStd = [Float](repeating: 0, count: scale.count)
    }

    /// The layer's name in checkpoints, as PyTorch's state_dict names it: `norms.<i>`.
    public var name: String { String(scale.name.dropLast(".weight".count)) }

    public func reserve(rows: Int) {
        normalized = FloatBuffer(count: rows * inputWidth)
        if activation.needsPreActivation { preActivation = FloatBuffer(count: rows * inputWidth) }
    }

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        let rows = x.rows, n = inputWidth
        let xHat = normalized.base, gamma = parameters.values.base + scale.offset
        runningMean.withUnsafeMutableBufferPointer { runningMean in
            runningVariance.withUnsafeMutableBufferPointer { runningVariance in
                inverseStd.withUnsafeMutableBufferPointer { inverseStd in
                    let mean = runningMean.baseAddress.unsafelyUnwrapped, variance = runningVariance.baseAddress.unsafelyUnwrapped
                    let invStd = inverseStd.baseAddress.unsafelyUnwrapped
                    if training && !frozen {
                        var factor = Self.momentum
                        if let batches = cumulativeBatches {
                            cumulativeBatches = batches + 1
                            factor = Float(1 / Double(batches + 1))
                        }
                        Self.batchStatistics(x, normalizedInto: xHat, inverseStd: invStd,
                                             runningMean: mean, runningVariance: variance, momentum: factor)
                    } else {
                        for j in 0..<n { invStd[j] = 1 / (variance[j] + Self.epsilon).squareRoot() }
                        for i in 0..<rows {
                            let row = x.base + i * n, out = xHat + i * n
                            for j in 0..<n { out[j] = (row[j] - mean[j]) * invStd[j] }
                        }
                    }
                }
            }
        }
        for i in 0..<rows {
            let source = xHat + i * n, out = y.base + i * n
            for j in 0..<n { out[j] = gamma[j] * source[j] }
        }
        activation.applyWithBias(y, bias: parameters.values.base + shift.offset,
                                 preActivation: preActivation?.matrix(rows: rows, columns: n), precision: precision)
    }

    /// μ, σ² and x̂ of a training batch, and the running statistics' update.
    private static func batchStatistics(
        _ x: MatrixView, normalizedInto xHat: UnsafeMutablePointer<Float>, inverseStd invStd: UnsafeMutablePointer<Float>,
        runningMean: UnsafeMutablePointer<Float>, runningVariance: UnsafeMutablePointer<Float>, momentum: Float
    ) {
        let rows = x.rows, n = x.columns, invRows = 1 / Float(rows)
        // x̂ first holds x − μ; invStd first holds the batch mean, then the sum of squares.
        for j in 0..<n { invStd[j] = 0 }
        for i in 0..<rows {
            let row = x.base + i * n
            for j in 0..<n { invStd[j] += row[j] }
        }
        for j in 0..<n {
            let mean = invStd[j] * invRows
            runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean
            invStd[j] = mean
        }
        for i in 0..<rows {
            let row = x.base + i * n, centered = xHat + i * n
            for j in 0..<n { centered[j] = row[j] - invStd[j] }
        }
        for j in 0..<n { invStd[j] = 0 }
        for i in 0..<rows {
            let centered = xHat + i * n
            for j in 0..<n { invStd[j] += centered[j] * centered[j] }
        }
        let unbiased: Float = rows > 1 ? Float(rows) / Float(rows - 1) : 0
        for j in 0..<n {
            let variance = invStd[j] * invRows
            if rows > 1 { runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * variance * unbiased }
            invStd[j] = 1 / (variance + epsilon).squareRoot()
        }
        for i in 0..<rows {
            let centered = xHat + i * n
            for j in 0..<n { centered[j] *= invStd[j] }
        }
    }

    /// The gradients of a norm's affine y = γ·x̂ + β over `rows` rows of `width` features (batch and layer norm
    /// alike): dβ_j = Σ_i dz_ij, dγ_j = Σ_i dz_ij·x̂_ij, summed in row order.
    static func affineGradients(dz: UnsafePointer<Float>, normalized xHat: UnsafePointer<Float>, rows: Int, width n: Int,
                                dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>) {
        for j in 0..<n { dGamma[j] = 0; dBeta[j] = 0 }
        for i in 0..<rows {
            let g = dz + i * n, h = xHat + i * n
            for j in 0..<n {
                dBeta[j] += g[j]
                dGamma[j] += g[j] * h[j]
            }
        }
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        let rows = x.rows, n = inputWidth
        activation.backward(gradient: dy, output: y, preActivation: preActivation?.matrix(rows: rows, columns: n),
                            precision: precision)
        let dz = dy.base, xHat = normalized.base
        let gamma = parameters.values.base + scale.offset
        if frozen {
            guard let dx else { return }
            inverseStd.withUnsafeBufferPointer { inverseStd in
                let invStd = inverseStd.baseAddress.unsafelyUnwrapped
                for i in 0..<rows {
                    let g = dz + i * n, out = dx.base + i * n
                    for j in 0..<n { out[j] = g[j] * gamma[j] * invStd[j] }
                }
            }
            return
        }
        let dGamma = parameters.gradients.base + scale.offset, dBeta = parameters.gradients.base + shift.offset
        Self.affineGradients(dz: dz, normalized: xHat, rows: rows, width: n, dGamma: dGamma, dBeta: dBeta)
        guard let dx else { return }
        let count = Float(rows), invRows = 1 / Float(rows)
        inverseStd.withUnsafeBufferPointer { inverseStd in
            let invStd = inverseStd.baseAddress.unsafelyUnwrapped
            for i in 0..<rows {
                let g = dz + i * n, h = xHat + i * n, out = dx.base + i * n
                for j in 0..<n {
                    out[j] = gamma[j] * invStd[j] * invRows * (count * g[j] - dBeta[j] - h[j] * dGamma[j])
                }
            }
        }
    }
}
