import ArgumentParser
import Foundation
import NNTrain

/// `nntrain export CHECKPOINT --out FILE`: a trained model in a format the rest of the world runs,
/// ONNX or a PyTorch state_dict in safetensors, optionally quantized (see docs/export.md).
/// `nntrain export A.bin B.bin --out ensemble.onnx`: one ONNX graph with the members side by side and
/// their probabilities (or values) averaged (`ONNXExport.encode(ensemble:opset:)`), float32 only.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint's model as ONNX (for ONNX Runtime) or as a PyTorch state_dict (safetensors), "
            + "in float32, float16 or int8; several checkpoints: one ONNX graph averaging them.",
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

    @Argument(help: ArgumentHelp("The checkpoint, e.g. runs/fashion-mnist/checkpoints/last.bin; several make an ensemble "
                                 + "(ONNX only, float32): one graph averaging their probabilities, or values.",
                                 valueName: "checkpoint"),
              completion: .checkpointFile)
    var checkpoints: [String]

    /// The first checkpoint: the only one, or the ensemble's first member.
    var checkpoint: String { checkpoints.first ?? "" }

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
        if checkpoints.isEmpty { throw ValidationError("Missing expected argument '<checkpoint> ...'") }
        if checkpoints.count > 1 {
            if quantization.settings != nil { throw ValidationError(Ensemble.quantizationRefusal) }
            if try resolvedFormat() == .safetensors {
                throw ValidationError("--out \(out): an ensemble of \(checkpoints.count) checkpoints is exported as one ONNX "
                    + "graph; a state_dict holds one model: expected --out ending in .onnx, or one checkpoint")
            }
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
        if checkpoints.count > 1 { return try runEnsemble() }
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

    /// The ensemble's ONNX file (see `ONNXExport.encode(ensemble:opset:)`): members read and checked by
    /// `Ensemble.members`, each in inference form.
    func runEnsemble() throws {
        let members = try Ensemble.members(paths: checkpoints)
        var models: [InferenceModel] = []
        for member in members {
            models.append(try InferenceModel(checkpoint: member.checkpoint, fingerprint: member.fingerprint, path: member.path))
        }
        let opset = opset ?? ONNXExport.defaultOpset
        let bytes = try ONNXExport.encode(ensemble: models, opset: opset)
        try OutputFile.write(bytes, to: out)
        var report = ExportReport(checkpoint: checkpoints.joined(separator: " + "), out: out, format: Format.onnx.rawValue,
                                  quantization: .none, model: models[0])
        report.layers = models.flatMap { $0.layers.map(ExportReport.Layer.init) }
        report.members = models.count
        report.opset = opset
        report.bytes = bytes.count
        if json {
            print(String(decoding: try report.json(), as: UTF8.self))
        } else {
            print(report.text(), terminator: "")
        }
    }
}
