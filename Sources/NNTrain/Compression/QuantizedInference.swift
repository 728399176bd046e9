import Foundation

/// Forward passes of an `InferenceModel` with its weights stored as an export stores them, computing
/// what ONNX Runtime computes on the exported graph, so that `nntrain eval --quantize` and `predict
/// --quantize` give the exported file's figures. Rows come in normalised (the graph's Sub and Mul,
/// `Normalizer.normalize`, in float32); every buffer is sized once for `rowCapacity` rows.
///
/// `.fp32`, `.fp16`: each layer is y = f(x·Wᵀ + b) in float32 (an sgemm, then the bias and the
/// activation in one pass as nntrain's `Activation` computes them), with W and b as trained, or each
/// rounded to IEEE binary16 (round to nearest even, `Binary16`): the float16 initializers a graph
/// Casts to float before its Gemm.
///
/// `.int8`: each layer is the exported QDQ pattern QuantizeLinear(x) → DequantizeLinear → MatMul with
/// DequantizeLinear(W_q), then the bias (a Sum) and the activation, which ONNX Runtime's QDQ optimiser
/// (its default level, ORT_ENABLE_ALL) runs as `MatMulIntegerToFloat` (onnxruntime/contrib_ops/cpu/
/// quantization/matmul_integer_to_float.cc): the input quantized as MLAS's MlasQuantizeLinear (a
/// division, then the rounding and the clamp), the product summed exactly in integers (MLAS's QGEMM),
/// scaled in float32 by MLAS_QGEMM_SCALE_BIAS_OUTPUT_PROCESSOR, then the float32 bias and activation:
///
///     x_q[i]  = clamp(round_half_even(x[i] / s_x) + z_x, 0, 255)
///     acc[c]  = Σ_i (x_q[i] − z_x)·W_q[c, i]                         exact, in Int32
///     y[c]    = f(Float(acc[c])·(s_x·s_w[c]) + b[c])
///
/// (A relu before the next QuantizeLinear of zero point 0 is dropped by ONNX Runtime, whose uint8
/// clamp at 0 computes the same.) A layer with a layer norm (`InferenceModel.Layer.layerNorm`) adds b
/// alone, then y = f(γ ⊙ (z − μ)/√(σ² + ε) + β) over each row in float32 (`LayerNorm.normalizeRows`), in
/// every mode: γ and β stay float32, as the exported LayerNormalization takes them. Then the standardised
/// target's affine y = σ·z + μ (regression), as `TargetAffine`.
///
/// A residual layer (`InferenceModel.Layer.shortcut`) then adds its input x in float32: y + x, or y + x·Pᵀ with
/// P float32 (fp32 and int8: the exported graph's float MatMul after the int8 layer's DequantizeLinear) or
/// rounded to binary16 (fp16, Cast to float as the other weights), the product an sgemm, then the sum
/// (`Network`'s order: x·Pᵀ first, then + y).
public final class QuantizedInference {
    public let model: InferenceModel
    public let weights: ExportedWeights
    public let rowCapacity: Int
    private let layers: [Prepared]
    /// Each layer's prelu slopes as the forward pass reads them (fp16: values of binary16, as `model.half()`
    /// stores nn.PReLU's weight; int8: float32, the PRelu between the quantized products); [] without prelu.
    private let slopes: [[Float]]
    /// Each layer's shortcut P [outputs, inputs] as the forward pass reads it (fp16: values of binary16);
    /// nil for an identity shortcut or none.
    private let projections: [[Float]?]
    /// x·Pᵀ of a projection shortcut: [rowCapacity, widest layer].
    private let shortcutProducts: FloatBuffer
    /// Each layer's output [rowCapacity, outputs].
    private let outputs: [FloatBuffer]
    /// f's input z, which `Activation` keeps for GELU and SiLU: [rowCapacity, widest layer].
    private let preActivations: FloatBuffer
    /// x_q − z_x of an int8 layer's input: [rowCapacity, widest input].
    private let codes: UnsafeMutableBufferPointer<Int16>

    /// A layer's numbers in the form its forward pass reads them.
    private enum Prepared {
        /// W [outputs, inputs] and b, as float32 (fp16: values of binary16).
        case float(weight: [Float], bias: [Float])
        case int8(Int8Layer)
    }

    private struct Int8Layer {
        /// W_q [outputs, inputs] widened to Int16; s_x and z_x; the multipliers s_x·s_w[c]; b.
        var codes: [Int16]
        var inputScale: Float
        var zeroPoint: Int16
        var multipliers: [Float]
        var bias: [Float]
    }

    /// `weights` must be of `model` (an int8 quantization with one entry per layer, of its shapes).
    public init(model: InferenceModel, weights: ExportedWeights, rowCapacity: Int) {
        precondition(rowCapacity > 0, "QuantizedInference: rowCapacity must be positive")
        self.model = model
        self.weights = weights
        self.rowCapacity = rowCapacity
        if case .fp16 = weights {
            slopes = model.layers.map { $0.slopes.map(Binary16.rounded) }
        } else {
            slopes = model.layers.map(\.slopes)
        }
        projections = model.layers.map { layer in
            guard case .projection(let p) = layer.shortcut else { return nil }
            if case .fp16 = weights { return p.map(Binary16.rounded) }
            return p
        }
        switch weights {
        case .fp32:
            layers = model.layers.map { .float(weight: $0.weight, bias: $0.bias) }
        case .fp16:
            layers = model.layers.map { .float(weight: $0.weight.map(Binary16.rounded), bias: $0.bias.map(Binary16.rounded)) }
        case .int8(let quantization):
            precondition(quantization.layers.count == model.layers.count,
                         "QuantizedInference: \(quantization.layers.count) quantized layers for \(model.layers.count)")
            layers = model.layers.indices.map { index in
                let layer = model.layers[index], q = quantization.layers[index]
                precondition(q.weights.count == layer.weight.count && q.weightScales.count == layer.outputs,
                             "QuantizedInference: quantized weights of another shape than the layer's")
                return .int8(Int8Layer(codes: q.weights.map(Int16.init), inputScale: q.inputScale,
                                       zeroPoint: Int16(q.inputZeroPoint), multipliers: q.weightScales.map { q.inputScale * $0 },
                                       bias: layer.bias))
            }
        }
        outputs = model.layers.map { FloatBuffer(count: rowCapacity * $0.outputs) }
        preActivations = FloatBuffer(count: rowCapacity * (model.layers.map(\.outputs).max() ?? 1))
        shortcutProducts = FloatBuffer(count: rowCapacity * (model.layers.map(\.outputs).max() ?? 1))
        let widest = max(rowCapacity * (model.layers.map(\.inputs).max() ?? 1), 1)
        codes = UnsafeMutableBufferPointer<Int16>.allocate(capacity: widest)
        codes.initialize(repeating: 0)
    }

    deinit { codes.deallocate() }

    /// The outputs [rows, outputWidth] of the normalised rows `x` ([rows ≤ rowCapacity, inputWidth]):
    /// logits of a classifier, values of a regression; valid until the next call. `observeInput`,
    /// when given, sees each layer's input (its index, and [rows, inputs]) before the layer runs.
    public func forward(_ x: MatrixView, observeInput: ((Int, MatrixView) -> Void)? = nil) -> MatrixView {
        precondition((1...rowCapacity).contains(x.rows) && x.columns == model.inputWidth,
                     "QuantizedInference: [\(x.rows), \(x.columns)] rows for [\(rowCapacity), \(model.inputWidth)]")
        var input = x
        for (index, (layer, prepared)) in zip(model.layers, layers).enumerated() {
            observeInput?(index, input)
            let y = outputs[index].matrix(rows: x.rows, columns: layer.outputs)
            let kept = preActivations.matrix(rows: x.rows, columns: layer.outputs)
            switch prepared {
            case .float(let weight, let bias):
                weight.withUnsafeBufferPointer { w in
                    BLAS.gemm(transposeA: false, transposeB: true, m: x.rows, n: layer.outputs, k: layer.inputs,
                              alpha: 1, a: input.base, lda: layer.inputs, b: w.baseAddress.unsafelyUnwrapped,
                              ldb: layer.inputs, beta: 0, c: y.base, ldc: layer.outputs)
                }
                Self.finish(y, layer, bias: bias, kept: kept, slopes: slopes[index])
            case .int8(let int8):
                integerProduct(input, int8, into: y)
                Self.finish(y, layer, bias: int8.bias, kept: kept, slopes: slopes[index])
            }
            addShortcut(of: layer, projection: projections[index], input: input, to: y)
            input = y
        }
        if let scaling = model.targetScaling {
            for i in 0..<input.count { input.base[i] = scaling.apply(input.base[i]) }
        }
        return input
    }

    /// y = f(y + b), or with a layer norm f(LN(y + b)·γ + β); `kept` holds f's input where `Activation` keeps it.
    private static func finish(_ y: MatrixView, _ layer: InferenceModel.Layer, bias: [Float], kept: MatrixView,
                               slopes: [Float]?) {
        guard let norm = layer.layerNorm else {
            bias.withUnsafeBufferPointer { b in
                layer.activate(y, bias: b.baseAddress.unsafelyUnwrapped, preActivation: kept, slopes: slopes)
            }
            return
        }
        bias.withUnsafeBufferPointer { b in
            Activation.identity.applyWithBias(y, bias: b.baseAddress.unsafelyUnwrapped, preActivation: nil, precision: .fp32)
        }
        norm.scale.withUnsafeBufferPointer { LayerNorm.normalizeRows(y, scale: $0.baseAddress.unsafelyUnwrapped) }
        norm.shift.withUnsafeBufferPointer { b in
            layer.activate(y, bias: b.baseAddress.unsafelyUnwrapped, preActivation: kept, slopes: slopes)
        }
    }

    /// y += x (identity shortcut) or y = x·Pᵀ + y (projection), in float32; nothing without a shortcut.
    private func addShortcut(of layer: InferenceModel.Layer, projection: [Float]?, input x: MatrixView, to y: MatrixView) {
        switch layer.shortcut {
        case nil:
            return
        case .identity:
            for k in 0..<y.count { y.base[k] = y.base[k] + x.base[k] }
        case .projection:
            let product = shortcutProducts.matrix(rows: y.rows, columns: y.columns)
            (projection ?? []).withUnsafeBufferPointer { p in
                BLAS.gemm(transposeA: false, transposeB: true, m: y.rows, n: y.columns, k: x.columns, alpha: 1,
                          a: x.base, lda: x.columns, b: p.baseAddress.unsafelyUnwrapped, ldb: x.columns, beta: 0,
                          c: product.base, ldc: y.columns)
            }
            for k in 0..<y.count { y.base[k] = product.base[k] + y.base[k] }
        }
    }

    /// One int8 layer's product on the rows of `x`: their codes x_q − z_x, the exact sums, and
    /// y = Float(acc)·(s_x·s_w[c]) (the bias and activation left to `Activation`'s pass). Rows are split
    /// over the cores (`Parallel`); the sums are exact in Int32 (|x_q − z_x| ≤ 255, |W_q| ≤ 127: below
    /// 2^31 for up to 66,000 inputs, and wrapping past that as MLAS's Int32 accumulators do), so the
    /// split does not change them.
    private func integerProduct(_ x: MatrixView, _ layer: Int8Layer, into y: MatrixView) {
        let inputs = x.columns, outputs = y.columns
        let scale = layer.inputScale
        // x_q − z_x = clamp(round(x/s_x), −z_x, 255 − z_x): the clamp of x_q shifted by z_x.
        let low = Float(-layer.zeroPoint), high = Float(255 - layer.zeroPoint)
        let inputCodes = codes.baseAddress.unsafelyUnwrapped
        Parallel.forEachPiece(of: x.rows, minimumPiece: max(1, (1 << 16) / max(inputs * outputs, 1))) { rows in
            layer.codes.withUnsafeBufferPointer { weightCodes in
                let w = weightCodes.baseAddress.unsafelyUnwrapped
                for r in rows {
                    let q = inputCodes + r * inputs
                    let source = x.base + r * inputs
                    for i in 0..<inputs {
                        q[i] = Int16(truncatingIfNeeded: Int8Quantization.rounded(source[i] / scale, from: low, to: high))
                    }
                    let out = y.base + r * outputs
                    for c in 0..<outputs {
                        let row = w + c * inputs
                        var sum: Int32 = 0
                        for i in 0..<inputs { sum &+= Int32(q[i]) &* Int32(row[i]) }
                        out[c] = Float(sum) * layer.multipliers[c]
                    }
                }
            }
        }
    }
}

extension QuantizationMode {
    /// The bytes of `model`'s layers stored in this format: float32, 4 a weight and a bias; float16,
    /// 2; int8, 1 a weight, 4 a bias (float32, as the QDQ graph keeps it), 4 a scale (each output
    /// channel's s_w and the input's s_x), 1 a zero point (each output channel's int8 zero, as
    /// DequantizeLinear's zero-point tensor stores it, and the input's z_x). The normaliser (2 floats
    /// an input) is the same in every format and left out; a layer norm adds its γ and β, 8 bytes a unit;
    /// prelu's slopes count as biases do (float32 in int8); a projection shortcut's P as weights do, but float32 in
    /// int8 (the graph keeps its MatMul in float).
    public func modelBytes(of model: InferenceModel) -> Int {
        model.layers.reduce(0) { total, layer in
            let weights = layer.inputs * layer.outputs, biases = layer.outputs + layer.slopes.count
            let bytes = switch self {
            case .none: 4 * (weights + biases)
            case .fp16: 2 * (weights + biases)
            case .int8: weights + 4 * biases + 4 * (layer.outputs + 1) + (layer.outputs + 1)
            }
            let norm = layer.layerNorm == nil ? 0 : 8 * layer.outputs  // a layer norm's γ and β, float32 in every format
            let projection = if case .projection(let p) = layer.shortcut { p.count * (self == .fp16 ? 2 : 4) } else { 0 }
            return total + bytes + norm + projection
        }
    }
}
