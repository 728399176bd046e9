import Foundation

/// What `--quantize`, `--calibration-rows`, `--calibration` and `--calibration-data` ask of
/// `nntrain eval` and `nntrain predict`: the model's weights in `mode`, int8's ranges calibrated on
/// `calibrationRows` training rows by `method`, read from `calibrationDataPath` when given (else
/// from the checkpoint config's data.path).
public struct QuantizationSettings: Sendable, Equatable {
    public var mode: QuantizationMode
    public var calibrationRows: Int
    public var method: CalibrationMethod
    public var calibrationDataPath: String?

    public init(mode: QuantizationMode, calibrationRows: Int = Int8Quantization.defaultCalibrationRows,
                method: CalibrationMethod = .minMax, calibrationDataPath: String? = nil) {
        self.mode = mode
        self.calibrationRows = calibrationRows
        self.method = method
        self.calibrationDataPath = calibrationDataPath
    }

    /// The weights `mode` makes of `model`, the checkpoint at `checkpointPath` in inference form
    /// (int8: calibrated, `Int8Quantization.calibrate`).
    public func weights(of model: InferenceModel, checkpointPath: String) throws(NNTrainError) -> ExportedWeights {
        switch mode {
        case .none: .fp32
        case .fp16: .fp16
        case .int8:
            .int8(try Int8Quantization.calibrate(model, checkpointPath: checkpointPath, dataPath: calibrationDataPath,
                                                 rows: calibrationRows, method: method))
        }
    }
}

extension CalibrationMethod: CustomStringConvertible {
    /// The method as `--calibration` names it: "minmax" or "percentile:P" (e.g. percentile:99.99).
    public init?(_ text: String) {
        if text == "minmax" {
            self = .minMax
        } else if text.hasPrefix("percentile:"), let p = Double(text.dropFirst("percentile:".count)), p.isFinite {
            self = .percentile(p)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .minMax: "minmax"
        case .percentile(let p): "percentile:\(p)"
        }
    }
}

/// What eval reports of a quantized model (`eval --json`'s `quantization`, and a block of the text):
/// the mode; for int8 the calibration and, per linear layer, the input's scale and zero point and
/// the smallest and largest of its per-channel weight scales; and the model's size in each format
/// (`QuantizationMode.modelBytes`).
public struct QuantizationReport: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public var inputScale: Float
        public var inputZeroPoint: Int
        public var weightScaleMin: Float
        public var weightScaleMax: Float
    }

    public struct ModelBytes: Codable, Sendable, Equatable {
        public var fp32: Int
        public var fp16: Int
        public var int8: Int
    }

    public var mode: QuantizationMode
    /// int8: the training rows the ranges were calibrated on, and how ("minmax", "percentile:P").
    public var calibrationRows: Int?
    public var calibration: String?
    /// int8: one entry per linear layer, in order; empty otherwise.
    public var layers: [Layer]
    public var modelBytes: ModelBytes

    public init(model: InferenceModel, weights: ExportedWeights) {
        modelBytes = ModelBytes(fp32: QuantizationMode.none.modelBytes(of: model),
                                fp16: QuantizationMode.fp16.modelBytes(of: model),
                                int8: QuantizationMode.int8.modelBytes(of: model))
        switch weights {
        case .fp32, .fp16:
            mode = weights == .fp32 ? .none : .fp16
            layers = []
        case .int8(let quantization):
            mode = .int8
            calibrationRows = quantization.calibrationRows
            calibration = quantization.method.description
            layers = quantization.layers.map {
                Layer(inputScale: $0.inputScale, inputZeroPoint: Int($0.inputZeroPoint),
                      weightScaleMin: $0.weightScales.min() ?? 1, weightScaleMax: $0.weightScales.max() ?? 1)
            }
        }
    }

    /// The lines for a person at a terminal, e.g.
    ///
    ///     quantization int8, calibrated on 1024 training rows (minmax)
    ///       layer 0: input scale 0.00392157, zero point 0; weight scales 0.00101…0.00488
    ///     model size: fp32 937,000 bytes, fp16 468,500, int8 237,514 (25.3% of fp32)
    public func text() -> String {
        var text = "quantization \(mode.rawValue)"
        if let calibrationRows, let calibration {
            text += ", calibrated on \(calibrationRows) training row\(calibrationRows == 1 ? "" : "s") (\(calibration))"
        }
        text += "\n"
        for (index, layer) in layers.enumerated() {
            text += "  layer \(index): input scale \(ConsoleFormat.significant(Double(layer.inputScale))), zero point "
                + "\(layer.inputZeroPoint); weight scales \(ConsoleFormat.significant(Double(layer.weightScaleMin)))…"
                + "\(ConsoleFormat.significant(Double(layer.weightScaleMax)))\n"
        }
        let share = modelBytes.fp32 > 0 ? Double(mode == .fp16 ? modelBytes.fp16 : modelBytes.int8) / Double(modelBytes.fp32) : 0
        text += "model size: fp32 \(Self.grouped(modelBytes.fp32)) bytes, fp16 \(Self.grouped(modelBytes.fp16)), "
            + "int8 \(Self.grouped(modelBytes.int8))"
        if mode != .none { text += " (\(mode.rawValue) \(ConsoleFormat.percent(share)) of fp32)" }
        return text + "\n"
    }

    /// 1234567 as "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        let groups = stride(from: digits.count, to: 0, by: -3).reversed().map { String(digits[max($0 - 3, 0)..<$0]) }
        return (n < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}
