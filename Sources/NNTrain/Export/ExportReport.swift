import Foundation

/// What `nntrain export` says of the file it wrote: as text for a person, or as one JSON object
/// (`--json`, keys in snake_case, see `ReportJSON`). For a state_dict the text is a Python script:
/// the report as comments, then the Python that loads the file (`StateDictExport.python`).
public struct ExportReport: Encodable, Sendable {
    public struct Layer: Encodable, Sendable {
        public var inputs: Int
        public var outputs: Int
        public var activation: String
        /// Whether a layer norm comes between the product and the activation (`model.norm: layer`).
        public var layerNorm: Bool
        /// A residual layer's skip connection (`model.residual`): "identity" (+ its input) or "projection"
        /// (+ its input times Pᵀ); nil (left out of the JSON) for none.
        public var shortcut: String?
        /// int8 only: the layer input's s_x and z_x, and the range of its weights' per-channel scales.
        public var inputScale: Float?
        public var inputZeroPoint: Int?
        public var weightScaleMin: Float?
        public var weightScaleMax: Float?

        public init(_ layer: InferenceModel.Layer) {
            inputs = layer.inputs
            outputs = layer.outputs
            activation = Self.name(layer.activation)
            layerNorm = layer.layerNorm != nil
            shortcut = switch layer.shortcut {
            case nil: nil
            case .identity: "identity"
            case .projection: "projection"
            }
        }

        public init(_ layer: InferenceModel.Layer, _ quantized: Int8Quantization.Layer) {
            self.init(layer)
            inputScale = quantized.inputScale
            inputZeroPoint = Int(quantized.inputZeroPoint)
            weightScaleMin = quantized.weightScales.min()
            weightScaleMax = quantized.weightScales.max()
        }

        /// The activation as the config names it ("none" after the output layer).
        public static func name(_ activation: Activation) -> String {
            switch activation {
            case .identity: "none"
            case .relu: "relu"
            case .leakyRelu(let slope): "leaky_relu(\(slope))"
            case .gelu: "gelu"
            case .silu: "silu"
            case .tanh: "tanh"
            case .sigmoid: "sigmoid"
            case .elu(let alpha): "elu(\(alpha))"
            case .selu: "selu"
            case .mish: "mish"
            case .softplus(let beta, let threshold): "softplus(\(beta), \(threshold))"
            case .hardswish: "hardswish"
            case .prelu: "prelu"
            }
        }
    }

    public struct Calibration: Encodable, Sendable {
        public var rows: Int
        public var method: String

        public init(_ quantization: Int8Quantization) {
            rows = quantization.calibrationRows
            method = quantization.method.description
        }
    }

    public var checkpoint: String
    public var out: String
    public var format: String
    public var quantization: String
    public var bytes: Int
    public var layers: [Layer]
    public var opset: Int?
    public var calibration: Calibration?
    /// A pruned model's exact zeros among its linear layers' weights, which ONNX and safetensors store
    /// dense as any other weight, and the file's size compressed (see `Gzip.compressedSize`); nil for a
    /// model without pruning masks or without zero weights (neurons pruning drops whole units instead).
    public var sparsity: Sparsity?
    /// An ensemble's number of members (`layers` then lists each member's in turn); nil for one model.
    public var members: Int?

    public struct Sparsity: Encodable, Sendable {
        public var zeroWeights: Int
        public var weights: Int
        public var compressedBytes: Int

        /// The zeros among `model`'s weights, nil when there are none; `compressedBytes` is filled in
        /// once the file is encoded.
        public init?(_ model: InferenceModel) {
            weights = model.layers.reduce(0) { $0 + $1.weight.count }
            zeroWeights = model.layers.reduce(0) { sum, layer in sum + layer.weight.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
            compressedBytes = 0
            guard zeroWeights > 0 else { return nil }
        }
    }
    /// safetensors only: the Sequential's modules, and the Python that loads the file.
    public var modules: [String]?
    public var python: String?

    /// The report of `model`'s export from `checkpoint` to `out` in `format` with `quantization`; the
    /// size, opset, calibration and state_dict's parts are filled in as the export goes.
    public init(checkpoint: String, out: String, format: String, quantization: QuantizationMode, model: InferenceModel) {
        self.checkpoint = checkpoint
        self.out = out
        self.format = format
        self.quantization = quantization.rawValue
        bytes = 0
        layers = model.layers.map(Layer.init)
    }

    public func json() throws(NNTrainError) -> Data { try ReportJSON.encode(self, naming: "the export report") }

    public func text() -> String {
        var text = "\(checkpoint) → \(out)\n"
        text += "format        \(format)" + (opset.map { ", opset \($0)" } ?? "") + "\n"
        text += "quantization  \(quantization)"
        if let calibration { text += ", calibrated on \(calibration.rows) rows, \(calibration.method)" }
        text += "\nsize          \(bytes) bytes\n"
        if let members { text += "ensemble      \(members) members, their outputs averaged (Mean)\n" }
        if let sparsity {
            let percent = ConsoleFormat.percent(Double(sparsity.zeroWeights) / Double(max(sparsity.weights, 1)))
            text += "sparsity      \(percent) of the weights are zero (pruned), stored dense; "
                + "\(sparsity.compressedBytes) bytes compressed (zlib, level 9)\n"
        }
        text += "layers\n"
        for (index, layer) in layers.enumerated() {
            text += "  \(index)  \(layer.inputs) → \(layer.outputs)  \(layer.layerNorm ? "layer norm, " : "")\(layer.activation)"
            if let shortcut = layer.shortcut { text += ", + input" + (shortcut == "projection" ? " · Pᵀ" : "") }
            if let scale = layer.inputScale, let zero = layer.inputZeroPoint, let low = layer.weightScaleMin,
               let high = layer.weightScaleMax
            {
                text += "  input scale \(scale) zero point \(zero), weight scales \(low) to \(high)"
            }
            text += "\n"
        }
        guard let python else { return text }
        // A state_dict's report is a Python comment above the Python, so the whole output runs as a script.
        let commented = text.split(separator: "\n").map { "# " + $0 }.joined(separator: "\n")
        return commented + "\n\n" + python
    }
}
