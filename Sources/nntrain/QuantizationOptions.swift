import ArgumentParser
import NNTrain

/// `--quantize`, `--calibration-rows`, `--calibration` and `--calibration-data`, shared by `nntrain eval`
/// and `nntrain predict` (docs/quantization.md).
struct QuantizationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run the model with its weights as an export stores them: none (as trained), fp16, or "
                               + "int8 (static, ranges calibrated on training rows), as ONNX Runtime computes them.",
                               valueName: "mode"))
    var quantize: QuantizationMode?

    @Option(name: .customLong("calibration-rows"), help: ArgumentHelp(
        "int8: the training rows the input ranges are calibrated on, at least 1 (default: "
            + "\(Int8Quantization.defaultCalibrationRows), or the whole training split if smaller).", valueName: "n"))
    var calibrationRows: Int?

    @Option(help: ArgumentHelp("int8: how the ranges are taken: minmax (default) or percentile:P, e.g. percentile:99.99.",
                               valueName: "method"))
    var calibration: CalibrationMethod?

    @Option(name: .customLong("calibration-data"), help: ArgumentHelp(
        "int8: the model's training data (an IDX folder or a CSV file) to calibrate on, instead of the checkpoint "
            + "config's data.path.", valueName: "path"), completion: .csvFile)
    var calibrationData: String?

    func validate() throws {
        if let calibrationRows, calibrationRows < 1 {
            throw ValidationError("--calibration-rows \(calibrationRows): expected a number of training rows of at least 1")
        }
        if case .percentile(let p) = calibration, !(50...100).contains(p) {
            throw ValidationError("--calibration percentile:\(p): expected a percentile from 50 to 100, e.g. percentile:99.99")
        }
        let calibrating = [
            calibrationRows.map { "--calibration-rows \($0)" }, calibration.map { "--calibration \($0)" },
            calibrationData.map { "--calibration-data \($0)" },
        ].compactMap { $0 }
        if let first = calibrating.first, quantize != .int8 {
            throw ValidationError("\(first) calibrates int8 ranges; expected it with --quantize int8")
        }
    }

    /// The settings for the engine; nil without --quantize.
    var settings: QuantizationSettings? {
        quantize.map {
            QuantizationSettings(mode: $0, calibrationRows: calibrationRows ?? Int8Quantization.defaultCalibrationRows,
                                 method: calibration ?? .minMax, calibrationDataPath: calibrationData)
        }
    }
}

extension QuantizationMode: ExpressibleByArgument {}

extension CalibrationMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
