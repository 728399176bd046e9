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

    @OptionGroup var quantization: QuantizationOptions

    @Option(help: ArgumentHelp("The ONNX opset, \(ONNXExport.opsets.lowerBound) to \(ONNXExport.opsets.upperBound) "
                               + "(default: \(ONNXExport.defaultOpset)).", valueName: "n"))
    var opset: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if let opset, !ONNXExport.opsets.contains(opset) {
            throw ValidationError("--opset \(opset): expected an ONNX opset from \(ONNXExport.opsets.lowerBound) to "
                + "\(ONNXExport.opsets.upperBound)")
        }
        guard try resolvedFormat() == .safetensors else { return }
        if quantization.quantize == .int8 { throw ValidationError(StateDictExport.int8Refusal) }
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
        let settings = quantization.settings ?? QuantizationSettings(mode: .none)
        var report = ExportReport(checkpoint: checkpoint, out: out, format: format.rawValue, quantization: settings.mode,
                                  model: model)
        let bytes: [UInt8]
        switch format {
        case .safetensors:
            let export = try StateDictExport(checkpoint: contents, fingerprint: fingerprint, path: checkpoint,
                                             quantization: settings.mode)
            bytes = export.encoded()
            report.modules = export.modules.map(StateDictExport.python)
            report.python = export.python(path: out, schema: model.schema)
        case .onnx:
            let opset = opset ?? ONNXExport.defaultOpset
            report.opset = opset
            let weights = try settings.weights(of: model, checkpointPath: checkpoint)
            if case .int8(let quantization) = weights {
                report.calibration = ExportReport.Calibration(quantization)
                report.layers = zip(model.layers, quantization.layers).map(ExportReport.Layer.init)
            }
            bytes = try ONNXExport.encode(model, weights: weights, opset: opset)
        }
        try OutputFile.write(bytes, to: out)
        report.bytes = bytes.count
        if !contents.state.pruningMasks.isEmpty, var sparsity = ExportReport.Sparsity(model) {
            sparsity.compressedBytes = Gzip.compressedSize(of: bytes)
            report.sparsity = sparsity
        }
        if json {
            print(String(decoding: try report.json(), as: UTF8.self))
        } else {
            print(report.text(), terminator: "")
        }
    }
}
