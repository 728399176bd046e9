/// Post-training quantization of an `InferenceModel`: what `--quantize` names on `nntrain export`,
/// `eval` and `predict`.
public enum QuantizationMode: String, CaseIterable, Sendable, Codable {
    /// float32 weights, as trained.
    case none
    /// Every weight and bias stored as IEEE binary16 (`model.half()`'s parameters), computed in float32.
    case fp16
    /// Static int8: weights per output channel, symmetric int8; each linear layer's input per tensor,
    /// asymmetric uint8, its range calibrated on training rows (`Int8Quantization`).
    case int8
}

/// How an activation's range is calibrated from the calibration rows' values.
public enum CalibrationMethod: Equatable, Sendable, Codable {
    /// The smallest and largest value seen (ONNX Runtime's `CalibrationMethod.MinMax`).
    case minMax
    /// The `percentile`-th and (100 − percentile)-th percentiles of the values seen, which ignore
    /// rare outliers (a percentile of 99.99 keeps 99.98% of the values inside the range).
    case percentile(Double)
}

/// The numbers of a static int8 quantization of an `InferenceModel`, one entry per linear layer, as
/// the exported QDQ graph stores them and the int8 simulation computes with them:
///
///     x_q = saturate(round_half_even(x / s_x) + z_x)     uint8 [0, 255]      per tensor (the layer's input)
///     W_q = saturate(round_half_even(W / s_w[c]))        int8 [−127, 127]    per output channel c, zero point 0
///     y[c] = Σ_i (x_q,i − z_x)·W_q[c, i] · (s_x·s_w[c]) + b[c]               bias in float32
///
/// (ONNX QuantizeLinear/DequantizeLinear; ONNX Runtime's `quantize_static` with per_channel=True,
/// activation uint8, weight int8 symmetric.)
public struct Int8Quantization: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        /// s_x and z_x of the layer's input.
        public var inputScale: Float
        public var inputZeroPoint: UInt8
        /// s_w, one per output channel.
        public var weightScales: [Float]
        /// W_q, [outputs, inputs] row-major as the float weight.
        public var weights: [Int8]

        public init(inputScale: Float, inputZeroPoint: UInt8, weightScales: [Float], weights: [Int8]) {
            self.inputScale = inputScale
            self.inputZeroPoint = inputZeroPoint
            self.weightScales = weightScales
            self.weights = weights
        }
    }

    public var layers: [Layer]
    /// How many training rows the ranges were calibrated on, and how.
    public var calibrationRows: Int
    public var method: CalibrationMethod

    public init(layers: [Layer], calibrationRows: Int, method: CalibrationMethod) {
        self.layers = layers
        self.calibrationRows = calibrationRows
        self.method = method
    }
}
