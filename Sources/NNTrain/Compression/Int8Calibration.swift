import Foundation

/// Static int8 post-training quantization of an `InferenceModel`, as ONNX Runtime's `quantize_static`
/// computes it with `QuantFormat.QDQ`, `per_channel=True`, `activation_type=QUInt8`,
/// `weight_type=QInt8` (symmetric weights, its default for int8) and `reduce_range=False`
/// (onnxruntime/python/tools/quantization: quant_utils.py `compute_scale_zp`, `quantize_nparray`;
/// calibrate.py `MinMaxCalibrater`).
///
/// Activations, per tensor (each linear layer's input), asymmetric uint8, from the calibrated range
/// [min, max] of the layer's input over the calibration rows:
///
///     rmin = min(min, 0)    rmax = max(max, 0)                  so that 0 is exactly representable
///     s_x  = (rmax − rmin) / 255                                in Double, then stored as Float
///     z_x  = round_half_even(0 − rmin / s_x)                    with the Double s_x, in [0, 255]
///     s_x = 1, z_x = 0 when (rmax − rmin)/255 is below Float's smallest normal (a constant input of 0)
///
/// Weights, per output channel c (a row of W [out, in]), symmetric int8 in [−127, 127], zero point 0:
///
///     a    = max(|min(W[c,:], 0)|, |max(W[c,:], 0)|)
///     s_w[c] = 2a / 254 = a / 127                               in Double, then stored as Float
///     W_q[c, i] = clamp(round_half_even(W[c, i] / s_w[c]), −127, 127)   Float division, as numpy's
///     s_w[c] = 1 for a row of zeros (its scale would be below Float's smallest normal), so W_q = 0
///
/// (`quantize_nparray` clips to int8's full [−128, 127]; |W/s_w| ≤ 127 up to rounding, so no code
/// reaches −128 and the two clips agree.)
extension Int8Quantization {
    /// The default number of training rows the ranges are calibrated on (`--calibration-rows`).
    public static let defaultCalibrationRows = 1024

    /// Calibrates `model`, the checkpoint at `checkpointPath` in inference form: reads the
    /// checkpoint's training split as `nntrain eval --split train` does (its config's data, at
    /// `dataPath` when given, split with its seed), takes its first `rows` rows (all of them when it
    /// has fewer), normalises them with the checkpoint's normaliser, runs them through `model` in
    /// float32 and takes each linear layer's input range by `method`; then quantizes the weights.
    ///
    /// Throws `.usage` for rows < 1 or a percentile outside 50...100; the data's own errors; and,
    /// when there are no training rows to calibrate on (the data path does not exist, or the split is
    /// empty), one line naming `--data`. A non-finite weight, or a layer input that is not finite on
    /// the calibration rows, is refused (`.data`): it has no int8 range.
    public static func calibrate(_ model: InferenceModel, checkpointPath: String, dataPath: String?, rows: Int,
                                 method: CalibrationMethod) throws(NNTrainError) -> Int8Quantization {
        guard rows >= 1 else {
            throw NNTrainError(.usage, "--calibration-rows \(rows): expected a number of training rows of at least 1")
        }
        if case .percentile(let p) = method, !(50...100).contains(p) {
            throw NNTrainError(.usage, "--calibration percentile:\(p): expected a percentile from 50 to 100, "
                + "e.g. percentile:99.99")
        }
        for (index, layer) in model.layers.enumerated()
        where !layer.weight.allSatisfy(\.isFinite) || !layer.bias.allSatisfy(\.isFinite) {
            throw .data(checkpointPath, "layer \(index) has a weight or bias that is not a finite number; expected a "
                + "checkpoint of finite parameters to quantize")
        }
        func noRows(_ why: String, kind: NNTrainError.Kind) -> NNTrainError {
            NNTrainError(kind, "\(checkpointPath): has no training rows to calibrate int8 ranges on (\(why)); expected "
                + "--data PATH with the model's training data (--calibration-data PATH on eval and predict)")
        }
        let train: Dataset
        do {
            let checkpoint = try Checkpoint.read(path: checkpointPath)
            train = try CheckpointEvaluation.data(of: checkpoint, path: checkpointPath, dataPath: dataPath).data.train
        } catch where error.kind == .missingFile {
            throw noRows(error.message, kind: .missingFile)
        }
        guard train.count > 0 else { throw noRows("its training split is empty", kind: .data) }
        let count = min(rows, train.count)
        let ranges = inputRanges(of: model, on: train, rows: count, method: method)
        for (index, range) in ranges.enumerated() where !range.minimum.isFinite || !range.maximum.isFinite {
            throw .data(checkpointPath, "the input of layer \(index) reaches \(range.minimum)…\(range.maximum) on the "
                + "calibration rows; expected finite activations to quantize")
        }
        return Int8Quantization(model: model, inputRanges: ranges, calibrationRows: count, method: method)
    }

    /// The quantization of `model` with each linear layer's input range given (`inputRanges[k]` is
    /// layer k's [minimum, maximum]), calibrated on `calibrationRows` rows by `method`.
    public init(model: InferenceModel, inputRanges: [(minimum: Float, maximum: Float)], calibrationRows: Int,
                method: CalibrationMethod) {
        precondition(inputRanges.count == model.layers.count,
                     "Int8Quantization: \(inputRanges.count) ranges for \(model.layers.count) layers")
        let layers = zip(model.layers, inputRanges).map { layer, range in
            let input = Self.activationParameters(minimum: range.minimum, maximum: range.maximum)
            let weights = Self.quantizedWeights(layer.weight, outputs: layer.outputs, inputs: layer.inputs)
            return Layer(inputScale: input.scale, inputZeroPoint: input.zeroPoint, weightScales: weights.scales,
                         weights: weights.codes)
        }
        self.init(layers: layers, calibrationRows: calibrationRows, method: method)
    }

    /// s_x and z_x of an input whose calibrated range is [minimum, maximum] (asymmetric uint8; see
    /// the formulas above). A range that is not finite, which calibration refuses before, gets
    /// s_x = 1, z_x = 0 like an empty one.
    public static func activationParameters(minimum: Float, maximum: Float) -> (scale: Float, zeroPoint: UInt8) {
        let rmin = Double(min(minimum, 0)), rmax = Double(max(maximum, 0))
        let scale = (rmax - rmin) / 255
        guard scale.isFinite, scale >= Double(Float.leastNormalMagnitude) else { return (1, 0) }
        let zeroPoint = (0 - rmin / scale).rounded(.toNearestOrEven)
        return (Float(scale), UInt8(min(max(zeroPoint, 0), 255)))
    }

    /// s_w (one per output channel) and W_q ([outputs, inputs], row-major) of `weight` (symmetric
    /// int8 per channel; see the formulas above).
    public static func quantizedWeights(_ weight: [Float], outputs: Int, inputs: Int) -> (scales: [Float], codes: [Int8]) {
        precondition(weight.count == outputs * inputs, "Int8Quantization: \(weight.count) weights for \(outputs)×\(inputs)")
        var scales: [Float] = []
        var codes: [Int8] = []
        scales.reserveCapacity(outputs)
        codes.reserveCapacity(weight.count)
        for c in 0..<outputs {
            let row = weight[(c * inputs)..<((c + 1) * inputs)]
            let largest = max(abs(min(row.min() ?? 0, 0)), abs(max(row.max() ?? 0, 0)))
            let wide = (Double(largest) - Double(-largest)) / 254
            let scale: Float = wide >= Double(Float.leastNormalMagnitude) ? Float(wide) : 1
            scales.append(scale)
            for w in row { codes.append(Int8(clamping: Self.rounded(w / scale, from: -127, to: 127))) }
        }
        return (scales, codes)
    }

    /// round_half_even(x) clamped to [low, high], as an integer; NaN gives `low` (as x86's MAXPS
    /// returns its second operand for a NaN, which ONNX Runtime's QuantizeLinear clamps with).
    @inline(__always)
    static func rounded(_ x: Float, from low: Float, to high: Float) -> Int32 {
        let clamped = x > low ? (x < high ? x : high) : low
        return Int32(clamped.rounded(.toNearestOrEven))
    }

    /// Each layer's input range on the first `rows` rows of `dataset`, normalised with `model`'s
    /// normaliser and run through it in float32, in chunks of 1024 rows.
    static func inputRanges(of model: InferenceModel, on dataset: Dataset, rows: Int, method: CalibrationMethod)
        -> [(minimum: Float, maximum: Float)]
    {
        let chunk = min(rows, Trainer.evaluationRows)
        let inference = QuantizedInference(model: model, weights: .fp32, rowCapacity: chunk)
        let loader = BatchLoader(dataset: dataset, normalizer: model.normalizer, capacity: chunk)
        var minimums = [Float](repeating: .infinity, count: model.layers.count)
        var maximums = [Float](repeating: -.infinity, count: model.layers.count)
        var values = [[Float]](repeating: [], count: model.layers.count)
        let order = (0..<Int32(rows)).map { $0 }
        order.withUnsafeBufferPointer { order in
            for start in stride(from: 0, to: rows, by: chunk) {
                loader.withBatch(order: order, range: start..<min(start + chunk, rows)) { x, _ in
                    _ = inference.forward(x) { layer, input in
                        switch method {
                        case .minMax:
                            for v in input.elements {
                                minimums[layer] = min(minimums[layer], v)
                                maximums[layer] = max(maximums[layer], v)
                            }
                        case .percentile:
                            values[layer] += input.elements
                        }
                    }
                }
            }
        }
        guard case .percentile(let p) = method else { return Array(zip(minimums, maximums)) }
        return values.map { layerValues in
            let sorted = layerValues.sorted { $0 < $1 || (!$0.isNaN && $1.isNaN) }
            return (percentile(100 - p, ofSorted: sorted), percentile(p, ofSorted: sorted))
        }
    }

    /// The p-th percentile (0 ≤ p ≤ 100) of `sorted` (ascending, at least one value), interpolated
    /// linearly between the two nearest ranks, as numpy.percentile's default (method="linear"):
    /// h = (n − 1)·p/100, v = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]), in Double, rounded to Float once.
    /// (ONNX Runtime's PercentileCalibrater reads its percentiles off a 2048-bin histogram of |x|
    /// instead; an exact percentile of the values themselves keeps a negative tail and needs no bins.)
    public static func percentile(_ p: Double, ofSorted sorted: [Float]) -> Float {
        precondition(!sorted.isEmpty, "Int8Quantization.percentile: no values")
        let h = Double(sorted.count - 1) * p / 100
        let below = min(max(Int(h.rounded(.down)), 0), sorted.count - 1)
        let above = min(below + 1, sorted.count - 1)
        let fraction = h - Double(below)
        return Float(Double(sorted[below]) + fraction * (Double(sorted[above]) - Double(sorted[below])))
    }
}
