import Foundation

/// A checkpoint's model as a PyTorch `state_dict` in a safetensors file (`nntrain export --format
/// safetensors`): the tensors of the `torch.nn.Sequential` that computes what nntrain's MLP computes,
/// named as that Sequential's `state_dict()` names them, so that
///
///     model.load_state_dict(safetensors.torch.load_file(path))        # strict=True, the default
///
/// loads them (PyTorch, `torch.nn.Module.load_state_dict`: every key present, no key left over,
/// every shape equal). Unlike `InferenceModel`, batch norm stays its own module, with its running
/// statistics, as a PyTorch user's model has it.
///
/// The Sequential (`Network.mlp`): for each hidden layer Linear → [BatchNorm1d | LayerNorm] → activation →
/// [Dropout(p)], then the output Linear. Its positions count every module, the parameter-free ones
/// too, so with batch norm and dropout a hidden layer takes four positions:
///
///     position  module                      tensors (shape; dtype F32, or F16 with --quantize fp16)
///     0         nn.Linear(in, h)            0.weight [h, in], 0.bias [h]
///     1         nn.BatchNorm1d(h)           1.weight (γ) [h], 1.bias (β) [h], 1.running_mean [h],
///                                           1.running_var [h], 1.num_batches_tracked [] I64
///     2         activation                  none; prelu: nn.PReLU(num_parameters=h), 2.weight [h] (the slopes)
///     3         nn.Dropout(p)               none
///     4         nn.Linear(h, out)           4.weight [out, h], 4.bias [out]
///
/// Without batch norm or dropout the positions close up (`0`, activation `1`, `2.weight`, ...). A layer
/// norm (`model.norm: layer`) takes the batch norm's position as nn.LayerNorm(h) (ε 1e-5, elementwise
/// affine: torch/nn/modules/normalization.py), with `1.weight` (γ) [h] and `1.bias` (β) [h] only: it
/// keeps no running statistics.
/// BatchNorm1d has PyTorch's defaults, ε = 1e-5 and momentum 0.1, as nntrain's `BatchNorm`.
/// `num_batches_tracked` counts the training batches the batch norm saw: the optimizer steps taken
/// plus the steps fp16's loss scaler skipped (the forward pass ran, the update did not); in
/// evaluation mode PyTorch does not read it.
///
/// With `--quantize fp16` every floating-point tensor is IEEE binary16, rounded to nearest even,
/// the running statistics too: the tensors of `model.half().state_dict()`; `num_batches_tracked`
/// stays I64, as `half()` leaves integer buffers. `load_state_dict` copies them into a float32
/// model unchanged in value (binary16 converts to binary32 exactly), or into a `model.half()`.
///
/// A residual model (`model.residual`) is no Sequential: `python` prints a small nn.Module, `ResidualMLP`, holding one
/// nn.Sequential per linear layer (its Linear and the modules after it, positions counted within it) in
/// `self.layers = nn.ModuleList([...])`, and the projections in `self.shortcuts = nn.ModuleDict({"<i>":
/// nn.Linear(in, out, bias=False)})`; its forward adds each block i ≥ 1's input after the block (`Network.mlp`):
///
///     layers.<i>.<position>.weight …                 block i's modules, as above within the block
///     shortcuts.<i>.weight [out, in]                 P of a block whose width changes (after every other tensor)
///
///     h = block_i(h) + h   (i in `identity`),   h = block_i(h) + shortcuts[i](h)   (a projection)
///
/// The input normalisation x' = (x − shift)·scale, the standardised target's y = σ·z + μ, the class
/// and feature names and the input schema are not modules: they go in the file's `__metadata__`
/// (strings; see `metadataKeys`), and `python` prints the code that applies them.
public struct StateDictExport: Sendable {
    /// One module of the Sequential, in order.
    public enum Module: Equatable, Sendable {
        case linear(inputs: Int, outputs: Int)
        case batchNorm(features: Int)
        case layerNorm(features: Int)
        /// Never `.identity`: an identity is no module.
        case activation(Activation)
        /// nn.PReLU(num_parameters=features): its learned slopes are its `weight` [features].
        case prelu(features: Int)
        case dropout(probability: Float)
    }

    /// The weights a state_dict export writes.
    public enum Weights: String, Sendable {
        case fp32, fp16
    }

    public var modules: [Module]
    /// A residual model's skip connections, by block (the linear layer's index); [] for a Sequential.
    public var shortcuts: [Shortcut] = []

    /// A skip connection around block `block`: its input added to its output, through nn.Linear(inputs, outputs,
    /// bias=False) when `projected`.
    public struct Shortcut: Equatable, Sendable {
        public var block: Int
        public var projected: Bool
    }

    /// Whether the model is a `ResidualMLP` rather than an nn.Sequential.
    public var isResidual: Bool { !shortcuts.isEmpty }
    /// The file's contents: the state_dict's tensors in the Sequential's order, and the metadata.
    public var contents: SafeTensors
    public var weights: Weights

    /// The metadata keys besides `format: pt` (safetensors' marker of a PyTorch file), each a string:
    ///
    ///     nntrain.normalizer.shift, .scale   JSON arrays of float32 values (shortest round-trip decimals;
    ///                                        a non-finite value as NaN, Infinity or -Infinity, which
    ///                                        Python's json reads)
    ///     nntrain.target.shift, .scale       JSON numbers μ and σ; only for a standardised regression target
    ///     nntrain.task                       classification or regression
    ///     nntrain.class_names                JSON array, the classes by output index ([] for regression)
    ///     nntrain.feature_names              JSON array, the model's inputs by index (a CSV's encoded
    ///                                        columns, `TableSchema.encodedNames`; [] for images)
    ///     nntrain.input                      the input schema's JSON, as the checkpoint's `nntrain.input`
    ///     nntrain.architecture               "784-256-10 gelu, batch norm"
    ///     nntrain.version                    the nntrain version that trained the checkpoint
    ///     nntrain.exported_by                the nntrain version that wrote this file
    ///     nntrain.checkpoint_crc32           the checkpoint's own `nntrain.crc32`: which checkpoint it came from
    ///     nntrain.weights                    fp32 or fp16
    public static let metadataKeys = [
        "nntrain.normalizer.shift", "nntrain.normalizer.scale", "nntrain.target.shift", "nntrain.target.scale",
        "nntrain.task", "nntrain.class_names", "nntrain.feature_names", "nntrain.input", "nntrain.architecture",
        "nntrain.version", "nntrain.exported_by", "nntrain.checkpoint_crc32", "nntrain.weights",
    ]

    /// Why int8 has no safetensors export, in one line.
    public static let int8Refusal = "--quantize int8 cannot be written as safetensors: a PyTorch int8 model is another "
        + "module type than nn.Linear; export int8 as ONNX (--format onnx, or an --out ending in .onnx)"

    /// The state_dict of `checkpoint`'s model (its current weights, not restore_best's copy: the
    /// model `nntrain eval` evaluates), its tensors stored as `quantization` says. `fingerprint` is
    /// the checkpoint file's `nntrain.crc32`; `path` names the checkpoint in errors. int8 is refused
    /// (`.usage`): a PyTorch int8 model is another module type (torch.ao.nn.quantized.Linear), whose
    /// packed weights a state_dict of nn.Linear cannot hold; ONNX stores it.
    public init(checkpoint: Checkpoint, fingerprint: String, path: String, quantization: QuantizationMode)
        throws(NNTrainError)
    {
        switch quantization {
        case .none: weights = .fp32
        case .fp16: weights = .fp16
        case .int8: throw NNTrainError(.usage, Self.int8Refusal)
        }
        let configuration = try checkpoint.configuration(path: path)
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: configuration, path: path)
        let values = network.parameters.values.base
        func array(_ tensor: ParameterStore.Tensor) -> [Float] {
            Array(UnsafeBufferPointer(start: values + tensor.offset, count: tensor.count))
        }
        let half = weights == .fp16
        func tensor(_ values: [Float], shape: [Int]) -> SafeTensors.Tensor {
            half ? SafeTensors.Tensor(float16: values, shape: shape) : SafeTensors.Tensor(values, shape: shape)
        }
        let batchesSeen = Int64(checkpoint.state.stepCount) + Int64(checkpoint.state.gradScaler?.skippedSteps ?? 0)
        var modules: [Module] = []
        var tensors: [(name: String, tensor: SafeTensors.Tensor)] = []
        let residual = !network.skips.isEmpty
        var blockStart = 0, block = -1  // a residual model's current block and the module it starts at
        var blockOf: [Int] = []  // per network layer, its block
        for layer in network.layers {
            defer { blockOf.append(block) }
            if layer is Dense {
                block += 1
                blockStart = modules.count
            }
            let position = residual ? "layers.\(block).\(modules.count - blockStart)." : "\(modules.count)."
            switch layer {
            case let dense as Dense:
                modules.append(.linear(inputs: dense.inputWidth, outputs: dense.outputWidth))
                tensors.append((position + "weight", tensor(array(dense.weight), shape: [dense.outputWidth, dense.inputWidth])))
                tensors.append((position + "bias", tensor(array(dense.bias), shape: [dense.outputWidth])))
                if dense.activation != .identity { modules.append(.activation(dense.activation)) }
            case let norm as BatchNorm:
                let width = [norm.inputWidth]
                modules.append(.batchNorm(features: norm.inputWidth))
                tensors.append((position + "weight", tensor(array(norm.scale), shape: width)))
                tensors.append((position + "bias", tensor(array(norm.shift), shape: width)))
                tensors.append((position + "running_mean", tensor(norm.runningMean, shape: width)))
                tensors.append((position + "running_var", tensor(norm.runningVariance, shape: width)))
                tensors.append((position + "num_batches_tracked", SafeTensors.Tensor(scalar: batchesSeen)))
                if norm.activation != .identity { modules.append(.activation(norm.activation)) }
            case let norm as LayerNorm:
                modules.append(.layerNorm(features: norm.inputWidth))
                tensors.append((position + "weight", tensor(array(norm.scale), shape: [norm.inputWidth])))
                tensors.append((position + "bias", tensor(array(norm.shift), shape: [norm.inputWidth])))
                if norm.activation != .identity { modules.append(.activation(norm.activation)) }
            case let prelu as PReLU:
                modules.append(.prelu(features: prelu.inputWidth))
                tensors.append((position + "weight", tensor(array(prelu.slope), shape: [prelu.inputWidth])))
            case let dropout as Dropout:
                modules.append(.dropout(probability: dropout.probability))
            case is TargetAffine:
                continue  // y = σ·z + μ is metadata: the Python applies it
            default:
                throw .data(path, "its model has a layer a state_dict export cannot express (\(type(of: layer))); "
                    + "expected linear layers, batch or layer norms, activations and dropout")
            }
        }
        for skip in network.skips {
            let block = blockOf[skip.to]
            shortcuts.append(Shortcut(block: block, projected: skip.projection != nil))
            if let p = skip.projection {
                tensors.append(("shortcuts.\(block).weight", tensor(array(p), shape: p.shape)))
            }
        }
        self.modules = modules
        contents = SafeTensors(tensors: tensors, metadata: try Self.metadata(
            of: checkpoint, fingerprint: fingerprint, weights: weights, path: path))
    }

    /// The file's bytes.
    public func encoded() -> [UInt8] { contents.encoded() }

    private static func metadata(of checkpoint: Checkpoint, fingerprint: String, weights: Weights, path: String)
        throws(NNTrainError) -> [String: String]
    {
        let schema: String
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            schema = String(decoding: try encoder.encode(checkpoint.inputSchema), as: UTF8.self)
        } catch {
            throw .data(path, "its input schema cannot be written as JSON (\(error)); expected a checkpoint written by "
                + "nntrain run")
        }
        var architecture = checkpoint.architecture
        if !checkpoint.batchNormNames.isEmpty { architecture += ", batch norm" }
        var metadata = [
            "format": "pt",
            "nntrain.normalizer.shift": jsonArray(checkpoint.normalizer.shift),
            "nntrain.normalizer.scale": jsonArray(checkpoint.normalizer.scale),
            "nntrain.task": checkpoint.classNames.isEmpty ? PredictionTask.regression.rawValue
                : PredictionTask.classification.rawValue,
            "nntrain.class_names": jsonArray(checkpoint.classNames),
            "nntrain.feature_names": jsonArray(checkpoint.inputSchema.encodedNames),
            "nntrain.input": schema,
            "nntrain.architecture": architecture,
            "nntrain.version": checkpoint.nntrainVersion,
            "nntrain.exported_by": NNTrainVersion.string,
            "nntrain.checkpoint_crc32": fingerprint,
            "nntrain.weights": weights.rawValue,
        ]
        if let scaling = checkpoint.targetScaling {
            metadata["nntrain.target.shift"] = jsonNumber(scaling.shift)
            metadata["nntrain.target.scale"] = jsonNumber(scaling.scale)
        }
        return metadata
    }

    /// A float32 as a JSON number in its shortest round-trip decimal (Swift's description, "0.003921569",
    /// "1e-05"), which a reader's float32 conversion turns back into the same bits; NaN and the
    /// infinities as Python's json module writes and reads them.
    static func jsonNumber(_ value: Float) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return "\(value)"
    }

    static func jsonArray(_ values: [Float]) -> String {
        "[" + values.map(jsonNumber).joined(separator: ",") + "]"
    }

    static func jsonArray(_ strings: [String]) -> String {
        // Strings only: serialisation cannot fail.
        (try? JSONSerialization.data(withJSONObject: strings, options: [.withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}

// MARK: - The Python

extension StateDictExport {
    /// The PyTorch expression of `module`: nn.Linear(in, out), nn.BatchNorm1d(n) (ε 1e-5 and momentum
    /// 0.1 are its defaults), nn.LayerNorm(n) (ε 1e-5 and elementwise_affine are its defaults),
    /// nn.PReLU(num_parameters=n) (its init is overwritten by the loaded weight), nn.ReLU(),
    /// nn.LeakyReLU(negative_slope=s), nn.GELU() (the exact erf form is its default), nn.SiLU(), nn.Tanh(),
    /// nn.Sigmoid(), nn.ELU(alpha=a), nn.SELU(), nn.Mish(), nn.Softplus(beta=b, threshold=t), nn.Hardswish(),
    /// nn.Dropout(p=p).
    public static func python(_ module: Module) -> String {
        switch module {
        case .linear(let inputs, let outputs): "nn.Linear(\(inputs), \(outputs))"
        case .batchNorm(let features): "nn.BatchNorm1d(\(features))"
        case .layerNorm(let features): "nn.LayerNorm(\(features))"
        case .prelu(let features): "nn.PReLU(num_parameters=\(features))"
        case .dropout(let probability): "nn.Dropout(p=\(probability))"
        case .activation(let activation):
            switch activation {
            case .identity: "nn.Identity()"
            case .relu: "nn.ReLU()"
            case .leakyRelu(let slope): "nn.LeakyReLU(negative_slope=\(slope))"
            case .gelu: "nn.GELU()"
            case .silu: "nn.SiLU()"
            case .tanh: "nn.Tanh()"
            case .sigmoid: "nn.Sigmoid()"
            case .elu(let alpha): "nn.ELU(alpha=\(alpha))"
            case .selu: "nn.SELU()"
            case .mish: "nn.Mish()"
            case .softplus(let beta, let threshold): "nn.Softplus(beta=\(beta), threshold=\(threshold))"
            case .hardswish: "nn.Hardswish()"
            case .prelu(let initial): "nn.PReLU(init=\(initial))"  // one shared slope: a network's are `.prelu(features:)`
            }
        }
    }

    /// Python that builds the Sequential, loads the file at `path` into it in strict mode, and
    /// defines `predict(x)`, which computes what `nntrain predict` computes for a batch `x` of raw
    /// inputs: the normalisation from the metadata, the model in evaluation mode, then softmax
    /// (classification) or the target's affine (a standardised regression target). `schema` (the
    /// checkpoint's) says what `x` holds. It runs as it is (`exec`), with torch and safetensors.
    public func python(path: String, schema: InputSchema) -> String {
        let file = Self.pythonString(path)
        let inputWidth = modules.first.flatMap { if case .linear(let inputs, _) = $0 { inputs } else { nil } } ?? 0
        var lines = [
            "import json, torch, torch.nn as nn",
            "from safetensors import safe_open",
            "from safetensors.torch import load_file",
            "",
        ]
        // One row per layer: its Linear and the modules after it up to the next Linear.
        var rows: [[String]] = []
        for module in modules {
            if case .linear = module { rows.append([]) }
            if rows.isEmpty { rows.append([]) }
            rows[rows.count - 1].append(Self.python(module))
        }
        if isResidual {
            lines += residualClass(rows: rows)
        } else {
            lines.append("model = nn.Sequential(")
            lines += rows.map { "    " + $0.map { $0 + "," }.joined(separator: " ") }
            lines.append(")")
        }
        lines += [
            "model.load_state_dict(load_file(\(file)))  # strict: every tensor named and shaped as above",
            "model.eval()  # batch norm uses its running statistics; dropout passes its input through",
        ]
        if weights == .fp16 {
            lines.append("# the F16 tensors load exactly into this float32 model (or into model.half(), for float16 arithmetic)")
        }
        lines += [
            "meta = safe_open(\(file), \"pt\").metadata()",
            "shift = torch.tensor(json.loads(meta[\"nntrain.normalizer.shift\"]))",
            "scale = torch.tensor(json.loads(meta[\"nntrain.normalizer.scale\"]))",
        ]
        let scaled = contents.metadata["nntrain.target.shift"] != nil
        if !isRegression {
            lines.append("classes = json.loads(meta[\"nntrain.class_names\"])  # the class of each output, in order")
        } else if scaled {
            lines.append("target_shift, target_scale = float(meta[\"nntrain.target.shift\"]), "
                + "float(meta[\"nntrain.target.scale\"])")
        }
        lines += ["", "def predict(x):"]
        switch schema {
        case .images(let rows, let columns):
            lines.append("    # x: float32 [N, \(inputWidth)], each row an image's \(rows)×\(columns) pixels (0-255) row by row")
        case .table:
            lines += [
                "    # x: float32 [N, \(inputWidth)], the encoded columns in the order of "
                    + "json.loads(meta[\"nntrain.feature_names\"]):",
                "    # a numeric column as its value (a missing one as its fill, in json.loads(meta[\"nntrain.input\"]));",
                "    # a categorical column as one input per category, \"name=category\", 1 for the row's category and 0",
                "    # for the others (a category not seen in training: all 0; a missing one: its fill category)",
            ]
        }
        lines.append("    with torch.no_grad():")
        if !isRegression {
            lines.append("        return torch.softmax(model((x - shift) * scale), dim=1)  # probabilities [N, classes]")
        } else if scaled {
            lines.append("        return model((x - shift) * scale)[:, 0] * target_scale + target_shift  # y = σ·z + μ")
        } else {
            lines.append("        return model((x - shift) * scale)[:, 0]  # the predicted values [N]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `ResidualMLP` class of a residual model and `model = ResidualMLP()`: `rows` are the blocks' modules.
    private func residualClass(rows: [[String]]) -> [String] {
        let identity = shortcuts.filter { !$0.projected }.map { String($0.block) }
        let linears = modules.compactMap { module -> (inputs: Int, outputs: Int)? in
            if case .linear(let inputs, let outputs) = module { (inputs, outputs) } else { nil }
        }
        let projections = shortcuts.filter { $0.projected && linears.indices.contains($0.block) }.map { shortcut in
            "\"\(shortcut.block)\": nn.Linear(\(linears[shortcut.block].inputs), \(linears[shortcut.block].outputs), bias=False)"
        }
        return [
            "class ResidualMLP(nn.Module):",
            "    # block i's output is block(h) + h (i in identity) or block(h) + shortcuts[str(i)](h), P h with P [out, in]",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.layers = nn.ModuleList([",
        ] + rows.map { "            nn.Sequential(" + $0.joined(separator: ", ") + ")," } + [
            "        ])",
            "        self.identity = {" + identity.joined(separator: ", ") + "}",
            "        self.shortcuts = nn.ModuleDict({" + projections.joined(separator: ", ") + "})",
            "",
            "    def forward(self, x):",
            "        for i, block in enumerate(self.layers):",
            "            y = block(x)",
            "            if i in self.identity:",
            "                y = y + x",
            "            elif str(i) in self.shortcuts:",
            "                y = y + self.shortcuts[str(i)](x)",
            "            x = y",
            "        return x",
            "",
            "",
            "model = ResidualMLP()",
        ]
    }

    private var isRegression: Bool { contents.metadata["nntrain.task"] == PredictionTask.regression.rawValue }

    /// `text` as a Python string literal in double quotes.
    static func pythonString(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": literal += "\\\\"
            case "\"": literal += "\\\""
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            default:
                literal += scalar.value < 0x20 || scalar.value == 0x7F
                    ? String(format: "\\x%02x", scalar.value) : String(scalar)
            }
        }
        return literal + "\""
    }
}
