/// The ONNX file of an `InferenceModel` (being built: issue 16).
public enum ONNXExport {
    /// The opsets `--opset` accepts, and the default (ONNX Runtime 1.14 and later run 17).
    public static let opsets = 13...21
    public static let defaultOpset = 17

    /// The serialized ModelProto of `model` with its weights stored as `weights` says, for `opset`.
    public static func encode(_ model: InferenceModel, weights: ExportedWeights, opset: Int) throws(NNTrainError) -> [UInt8] {
        throw NNTrainError(.internal, "ONNX export is not built yet")
    }
}

/// The weights an export writes: as trained, rounded to float16, or quantized to int8.
public enum ExportedWeights: Sendable, Equatable {
    case fp32
    case fp16
    case int8(Int8Quantization)
}
