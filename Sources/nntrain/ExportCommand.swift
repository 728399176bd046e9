import ArgumentParser
import Foundation
import NNTrain

/// `nntrain export CHECKPOINT --out FILE`: a trained model in a format the rest of the world runs,
/// ONNX or a PyTorch state_dict in safetensors, optionally quantized (see docs/export.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint's model as ONNX (for ONNX Runtime) or as a PyTorch state_dict (safetensors), "
            + "in float32, float16 or int8.",
        discussion: "The format follows --out's extension (.onnx, .safetensors) unless --format says otherwise. "
            + "The file is written whole or not at all. See docs/export.md.")

    /// The file formats export writes.
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case onnx, safetensors

        /// The format an output file's extension names, if any.
        init?(extensionOf path: String) {
            self.init(rawValue: (path as NSString).pathExtension.lowercased())
        }
    }

    @Argument(help: ArgumentHelp("The checkpoint, e.g. runs/fashion-mnist/checkpoints/last.bin.", valueName: "checkpoint"),
              completion: .checkpointFile)
    var checkpoint: String

    @Option(help: ArgumentHelp("The file to write: model.onnx or model.safetensors.", valueName: "file"),
            completion: .file(extensions: Format.allCases.map(\.rawValue)))
    var out: String

    @Option(help: ArgumentHelp("onnx or safetensors (default: --out's extension).", valueName: "format"))
    var format: Format?

    @Option(help: ArgumentHelp("none, fp16 (weights as float16) or int8 (static post-training quantization, ONNX only).",
                               valueName: "mode"),
            transform: ExportCommand.quantizationMode)
    var quantize: QuantizationMode = .none

    @Option(name: .customLong("calibration-rows"), help: ArgumentHelp(
        "Training rows int8 calibrates its activation ranges on (default: \(defaultCalibrationRows), or the whole "
            + "training split if smaller).", valueName: "n"))
    var calibrationRows: Int?

    @Option(help: ArgumentHelp("minmax, or percentile:P with 50 < P ≤ 100, e.g. percentile:99.99 (default: minmax).",
                               valueName: "method"),
            transform: ExportCommand.calibrationMethod)
    var calibration: CalibrationMethod?

    @Option(name: .customLong("calibration-data"), help: ArgumentHelp(
        "The data int8 calibrates on instead of the checkpoint config's data.path.", valueName: "path"),
            completion: .csvFile)
    var calibrationData: String?

    @Option(help: ArgumentHelp("The ONNX opset, \(ONNXExport.opsets.lowerBound) to \(ONNXExport.opsets.upperBound) "
                               + "(default: \(ONNXExport.defaultOpset)).", valueName: "n"))
    var opset: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    static let defaultCalibrationRows = 1024

    func validate() throws {
        if let opset, !ONNXExport.opsets.contains(opset) {
            throw ValidationError("--opset \(opset): expected an ONNX opset from \(ONNXExport.opsets.lowerBound) to "
                + "\(ONNXExport.opsets.upperBound)")
        }
        if let calibrationRows, calibrationRows < 1 {
            throw ValidationError("--calibration-rows \(calibrationRows): expected a number of rows >= 1")
        }
        if quantize != .int8 {
            let given = [("--calibration-rows", calibrationRows != nil), ("--calibration", calibration != nil),
                         ("--calibration-data", calibrationData != nil)].filter(\.1).map(\.0)
            if let option = given.first {
                throw ValidationError("\(option) calibrates int8 quantization; add --quantize int8 or leave it out")
            }
        }
        guard try resolvedFormat() == .safetensors else { return }
        if quantize == .int8 { throw ValidationError(StateDictExport.int8Refusal) }
        if let opset { throw ValidationError("--opset \(opset) is for ONNX; a safetensors file has no opset") }
    }

    /// --format, or the format --out's extension names.
    func resolvedFormat() throws -> Format {
        if let format { return format }
        guard let format = Format(extensionOf: out) else {
            throw ValidationError("--out \(out): the format follows the extension, .onnx or .safetensors; "
                + "name the file so or give --format onnx or --format safetensors")
        }
        return format
    }

    func run() throws {
        let format = try resolvedFormat()
        let file = try CheckpointFile.read(path: checkpoint)
        let fingerprint = file.metadata["nntrain.crc32"] ?? ""
        let contents = try Checkpoint(contents: file, path: checkpoint)
        let model = try InferenceModel(checkpoint: contents, fingerprint: fingerprint, path: checkpoint)
        var report = ExportReport(checkpoint: checkpoint, out: out, format: format.rawValue, quantization: quantize,
                                  model: model)
        let bytes: [UInt8]
        switch format {
        case .safetensors:
            let export = try StateDictExport(checkpoint: contents, fingerprint: fingerprint, path: checkpoint,
                                             quantization: quantize)
            bytes = export.encoded()
            report.modules = export.modules.map(StateDictExport.python)
            report.python = export.python(path: out, schema: model.schema)
        case .onnx:
            let opset = opset ?? ONNXExport.defaultOpset
            report.opset = opset
            let weights: ExportedWeights
            switch quantize {
            case .none: weights = .fp32
            case .fp16: weights = .fp16
            case .int8:
                let rows = calibrationRows ?? Self.defaultCalibrationRows, method = calibration ?? .minMax
                let quantization = try Int8Quantization.calibrate(model, checkpointPath: checkpoint, dataPath: calibrationData,
                                                                  rows: rows, method: method)
                report.calibration = ExportReport.Calibration(quantization)
                report.layers = zip(model.layers, quantization.layers).map(ExportReport.Layer.init)
                weights = .int8(quantization)
            }
            bytes = try ONNXExport.encode(model, weights: weights, opset: opset)
        }
        try OutputFile.write(bytes, to: out)
        report.bytes = bytes.count
        if json {
            print(String(decoding: try report.json(), as: UTF8.self))
        } else {
            print(report.text(), terminator: "")
        }
    }

    // MARK: Arguments

    /// --quantize's value (ArgumentParser puts "The value 'x' is invalid for '--quantize <mode>': " before the error).
    static func quantizationMode(_ text: String) throws -> QuantizationMode {
        guard let mode = QuantizationMode(rawValue: text) else {
            throw ValidationError("expected one of: " + QuantizationMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return mode
    }

    /// `minmax` or `percentile:P`, 50 < P ≤ 100 (the range keeps the values between the (100 − P)-th and
    /// the P-th percentile, so P must be over half).
    static func calibrationMethod(_ text: String) throws -> CalibrationMethod {
        if text == "minmax" { return .minMax }
        if text.hasPrefix("percentile:"), let p = Double(text.dropFirst("percentile:".count)), p > 50, p <= 100 {
            return .percentile(p)
        }
        throw ValidationError("expected minmax or percentile:P with 50 < P ≤ 100, e.g. percentile:99.99")
    }
}
