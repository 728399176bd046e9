import Foundation

/// The ONNX file of an `InferenceModel`: one graph from the raw input a user fed nntrain to the
/// model's outputs, written as the ModelProto of the ONNX specification (onnx/onnx.proto3; the
/// messages in `onnx.proto`) with SwiftProtobuf. docs/onnx.md describes it for callers.
///
/// Inputs, each with a dynamic first dimension `batch`:
///
///     images   input                 float  [batch, rows·columns]   the pixels 0…255 as floats
///     tables   one per column        float  [batch, 1]              a numeric column; NaN when missing
///              (the column's name)   string [batch, 1]              a categorical column, trimmed text
///
/// A table is encoded in the graph as `TableSchema.encode` encodes a record, the way skl2onnx
/// converts a ColumnTransformer over a DataFrame: a numeric column with a fill goes through
/// ai.onnx.ml Imputer (NaN → fill); a categorical one through ai.onnx.ml OneHotEncoder
/// (`cats_strings` = its sorted categories, `zeros` = 1, so an unseen category is all zeros;
/// [batch, 1] → [batch, 1, C], then Flatten to [batch, C]). When the column has a fill, the
/// schema's missing-value texts are one-hot columns of their own and a MatMul by a constant 0/1
/// matrix [categories + missing texts, categories] sends each to the fill's column. Concat (axis 1)
/// lays the columns out in the schema's order. An input whose column name is empty or is an
/// output's name is named `<name>_input` (repeated until unique).
///
/// Then, per model (`appendModel`):
///
///     x' = (x − shift)·scale                    Sub, Mul with float [width] (each left out when identity)
///     h = f(x' Wᵀ + b)                          per layer, as `weights` stores W (below)
///     h = f(LN(x' Wᵀ + b))                      with a layer norm: LayerNormalization (see `layerNormalization`)
///     h = f(…) + x,  h = f(…) + MatMul(x, Pᵀ)   a residual layer's shortcut (`shortcut`): Add after the activation,
///                                               Pᵀ [in, out] stored as the weights are, but float32 in int8
///     y = σ·h + μ                               Mul, Add: a standardised regression target only
///
/// - fp32: Gemm(h, W [out, in], b [out], transB = 1).
/// - fp16: W and b stored as FLOAT16 initializers (binary16, round to nearest even, what
///   `model.half()` stores), each followed by Cast(to = FLOAT): the arithmetic is float32 with the
///   fp16-rounded weights, which is what `--quantize fp16` evaluation computes.
/// - int8 (`Int8Quantization`): the QDQ form ONNX Runtime's `quantize_static` writes and runs with its
///   integer kernels (its QDQ transformer makes DequantizeLinear → MatMul a MatMulIntegerToFloat):
///   QuantizeLinear(h, s_x, z_x uint8) → DequantizeLinear(·, s_x, z_x) for the layer's input per
///   tensor; W_q stored int8 transposed [in, out] → DequantizeLinear(W_q, s_w [out], int8 zeros [out],
///   axis = 1); MatMul; Sum(·, b float32), the bias added in float. (Sum rather than Add, which
///   ONNX Runtime would fuse with the MatMul into a float Gemm first, losing the integer kernel.)
///
/// Activations f: Relu, LeakyRelu(alpha = slope), PRelu(z, slope [out]) with the learned slopes, Sigmoid, Tanh;
/// SiLU as Mul(z, Sigmoid(z)); exact GELU as the Gelu operator (approximate "none") from opset 20, below it
/// Mul(Mul(z, Add(Erf(Div(z, √2)), 1)), 0.5), the form torch.onnx exports; Elu(alpha); Selu(alpha,
/// gamma = torch's α₀ and λ in float32); HardSwish from opset 14, below it Mul(z, HardSigmoid(z,
/// alpha = 1/6, beta = 1/2)), the same function (x·max(0, min(1, x/6 + 1/2)) = x·relu6(x + 3)/6);
/// Mish from opset 18, below it Mul(z, Tanh(Softplus(z))). Softplus(beta, threshold) as
/// Where(Greater(βz, threshold), z, Div(Softplus(Mul(z, β)), β)) (Mul and Div left out for β = 1):
/// ONNX's Softplus has neither β nor torch's linear region, and the Where keeps torch's function for
/// any threshold (with the default 20 the two differ by at most log1p(e^(−20)) ≈ 2.1e-9 absolute,
/// 1e-10 relative, below float32's resolution, but a threshold of 1 would differ by 0.31).
///
/// Outputs: classification `logits` float [batch, classes] and `probabilities` = Softmax(axis = −1);
/// regression `value` float [batch, outputs].
///
/// `metadata_props`: `class_names`, `feature_names` (JSON arrays; `[]` for images), `input_encoding`
/// (the `InputSchema` as the checkpoint stores it), `architecture`, `nntrain_version` (the version
/// that trained the model), `exported_with` (the exporting version, also `producer_version`),
/// `checkpoint_fingerprint`, `quantization` (none, fp16 or int8), and for int8 `int8_quantization`
/// (each layer's input scale and zero point and weight scales, JSON).
///
/// An ensemble (`encode(ensemble:opset:)`, the members of `Ensemble`, float32 only): the raw inputs
/// and their table encoding once (the members share them), then each member laid out as above under
/// the name prefix `member<m>/` (its own normalisation, layers and target affine), then
///
///     classification:  member<m>/probabilities = Softmax(z_m, axis = −1);
///                      probabilities = Mean(member<0>/probabilities, …)      float [batch, classes]
///     regression:      value = Mean(member<0>/value, …)                     float [batch, outputs]
///
/// (Mean is (1/M)·Σ, what `nntrain predict A.bin B.bin` computes.) An ensemble has no `logits`
/// output: the mean of probabilities is not the softmax of any one set of logits worth the name
/// (log p̄ would be, up to a constant), so only `probabilities` is written. Its metadata is the first
/// member's (class and feature names, input encoding; quantization none), with `architecture`
/// listing the members' and `checkpoint_fingerprint` replaced by `member_fingerprints`, a JSON array
/// of the members' checkpoint CRC-32s in order.
///
/// `ir_version` and the ai.onnx.ml version are those of the ONNX release that introduced `opset`
/// (onnx/helper.py's VERSION_TABLE), the oldest a runtime must read.
public enum ONNXExport {
    /// The opsets `--opset` accepts, and the default (ONNX Runtime 1.14 and later run 17).
    public static let opsets = 13...21
    public static let defaultOpset = 17

    /// The output names: a classifier's two, a regression model's one.
    public static let logitsName = "logits", probabilitiesName = "probabilities", valueName = "value"
    /// An image model's input.
    public static let imageInputName = "input"

    /// The serialized ModelProto of `model` with its weights stored as `weights` says, for `opset`.
    /// Refuses an opset outside `opsets` (`.usage`), and what the graph cannot express (`.data`: a model
    /// without layers or inputs, sizes that do not chain, a quantization that does not fit the model,
    /// more than protobuf's 2 GiB), each with one line.
    public static func encode(_ model: InferenceModel, weights: ExportedWeights, opset: Int) throws(NNTrainError) -> [UInt8] {
        guard opsets.contains(opset) else {
            throw NNTrainError(.usage, "--opset \(opset): ONNX export writes opsets \(opsets.lowerBound) to \(opsets.upperBound)")
        }
        let outputs = model.task == .classification ? [logitsName, probabilitiesName] : [valueName]
        let inputs = inputNames(of: model.schema, avoiding: outputs)
        var graph = ONNXGraph(opset: opset, reserving: inputs + outputs)
        let result = try appendModel(model, weights: weights, prefix: "", inputs: inputs, to: &graph)
        graph.nameOutput(result, as: outputs[0])
        if model.task == .classification {
            let probabilities = graph.node("Softmax", [logitsName], output: "softmax", attributes: [.int("axis", -1)])
            graph.nameOutput(probabilities, as: probabilitiesName)
        }
        return try file(model, graph: graph, inputs: inputs, outputs: outputs, opset: opset,
                        metadata: metadata(model, weights: weights))
    }

    /// The serialized ModelProto of the ensemble of `models` (at least two, sharing inputs, task and
    /// classes as `Ensemble.members` checks) in float32, as the type's comment lays it out. Refuses
    /// what `encode` refuses, and members that do not share their input schema and classes (`.data`).
    public static func encode(ensemble models: [InferenceModel], opset: Int) throws(NNTrainError) -> [UInt8] {
        guard opsets.contains(opset) else {
            throw NNTrainError(.usage, "--opset \(opset): ONNX export writes opsets \(opsets.lowerBound) to \(opsets.upperBound)")
        }
        guard let first = models.first, models.count > 1 else {
            throw NNTrainError(.internal, "ONNX export: an ensemble of \(models.count) models; expected two or more")
        }
        if let other = models.first(where: { $0.schema != first.schema || $0.classNames != first.classNames }) {
            throw NNTrainError(.data, "ONNX export: the ensemble's members \(first.fingerprint) and \(other.fingerprint) "
                + "read other inputs or name other classes; expected members of the same inputs and classes")
        }
        let output = first.task == .classification ? probabilitiesName : valueName
        let inputs = inputNames(of: first.schema, avoiding: [output])
        var graph = ONNXGraph(opset: opset, reserving: inputs + [output])
        let encoded = switch first.schema {
        case .images: inputs[0]
        case .table(let table): encoding(table, inputs: inputs, prefix: "", in: &graph)
        }
        var results: [String] = []
        for (index, model) in models.enumerated() {
            let prefix = "member\(index)/"
            try checkShapes(of: model, weights: .fp32)
            var result = appendNetwork(model, weights: .fp32, prefix: prefix, input: encoded, to: &graph)
            if model.task == .classification {
                result = graph.node("Softmax", [result], output: prefix + "probabilities", attributes: [.int("axis", -1)])
            }
            results.append(result)
        }
        graph.nameOutput(graph.node("Mean", results, output: "mean"), as: output)
        var entries = try metadata(first, weights: .fp32).filter { $0.0 != "checkpoint_fingerprint" }
        for index in entries.indices where entries[index].0 == "architecture" {
            entries[index].1 = "ensemble of \(models.count): " + models.map(\.architecture).joined(separator: "; ")
        }
        entries.append(("member_fingerprints", try json(models.map(\.fingerprint))))
        return try file(first, graph: graph, inputs: inputs, outputs: [output], opset: opset, metadata: entries,
                        members: models.count)
    }

    /// The ModelProto around `graph` (made for `model`, or an ensemble of `members` like it), serialized.
    private static func file(_ model: InferenceModel, graph: ONNXGraph, inputs: [String], outputs: [String], opset: Int,
                             metadata: [(String, String)], members: Int = 1) throws(NNTrainError) -> [UInt8] {
        var proto = Onnx_GraphProto()
        proto.name = "nntrain"
        proto.docString = feedingInstructions(model, members: members)
        proto.input = inputValues(model.schema, names: inputs)
        proto.output = outputs.map { tensorValue($0, type: .float, shape: [nil, model.outputWidth]) }
        proto.node = graph.nodes
        proto.initializer = graph.initializers

        var file = Onnx_ModelProto()
        file.irVersion = Int64(irVersion(opset: opset))
        file.opsetImport = [operatorSet("", version: opset)]
        if graph.usesMLDomain { file.opsetImport.append(operatorSet(ONNXGraph.mlDomain, version: mlVersion(opset: opset))) }
        file.producerName = "nntrain"
        file.producerVersion = NNTrainVersion.string
        file.docString = proto.docString
        file.graph = proto
        file.metadataProps = metadata.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            (entry.key, entry.value) = (key, value)
            return entry
        }
        do { return try file.serializedBytes() } catch {
            throw NNTrainError(.data, "ONNX export: the model does not fit in one protobuf message (\(error)); "
                + "expected a model under 2 GiB")
        }
    }

    /// Lays out `model` in `graph`, reading the raw inputs `inputs` (the image input, or one tensor per
    /// table column in the schema's order), and returns the name of its output tensor: the logits, or
    /// the regression value after the target's affine. Every tensor it makes is named `prefix` + a
    /// name of its own, so that several models (an ensemble) can share one graph and be averaged.
    static func appendModel(_ model: InferenceModel, weights: ExportedWeights, prefix: String, inputs: [String],
                            to graph: inout ONNXGraph) throws(NNTrainError) -> String {
        try checkShapes(of: model, weights: weights)
        let x: String
        switch model.schema {
        case .images:
            precondition(inputs.count == 1, "ONNXExport.appendModel: \(inputs.count) inputs for an image model")
            x = inputs[0]
        case .table(let table):
            precondition(inputs.count == table.columns.count, "ONNXExport.appendModel: \(inputs.count) inputs for a table")
            x = encoding(table, inputs: inputs, prefix: prefix, in: &graph)
        }
        return appendNetwork(model, weights: weights, prefix: prefix, input: x, to: &graph)
    }

    /// `appendModel` after the table encoding: from the encoded `input` [batch, width] (shapes already
    /// checked), the normalisation, layers and target affine, every tensor named `prefix` + its name.
    private static func appendNetwork(_ model: InferenceModel, weights: ExportedWeights, prefix: String, input: String,
                                      to graph: inout ONNXGraph) -> String {
        var x = input
        let normalizer = model.normalizer
        let width = [normalizer.shift.count]
        if normalizer.shift.contains(where: { $0 != 0 }) {
            x = graph.node("Sub", [x, graph.floats(prefix + "normalizer/shift", normalizer.shift, shape: width)],
                           output: prefix + "normalizer/centred")
        }
        if normalizer.scale.contains(where: { $0 != 1 }) {
            x = graph.node("Mul", [x, graph.floats(prefix + "normalizer/scale", normalizer.scale, shape: width)],
                           output: prefix + "normalized")
        }
        for (index, layer) in model.layers.enumerated() {
            let name = "\(prefix)layer\(index)/"
            let layerInput = x
            switch weights {
            case .fp32:
                x = graph.node("Gemm", [x, graph.floats(name + "weight", layer.weight, shape: [layer.outputs, layer.inputs]),
                                        graph.floats(name + "bias", layer.bias, shape: [layer.outputs])],
                               output: name + "linear", attributes: [.int("transB", 1)])
            case .fp16:
                let toFloat: [Onnx_AttributeProto] = [.int("to", Int(ONNXGraph.DataType.float.rawValue))]
                let storedWeight = graph.halves(name + "weight_fp16", layer.weight, shape: [layer.outputs, layer.inputs])
                let weight = graph.node("Cast", [storedWeight], output: name + "weight", attributes: toFloat)
                let storedBias = graph.halves(name + "bias_fp16", layer.bias, shape: [layer.outputs])
                let bias = graph.node("Cast", [storedBias], output: name + "bias", attributes: toFloat)
                x = graph.node("Gemm", [x, weight, bias], output: name + "linear", attributes: [.int("transB", 1)])
            case .int8(let quantization):
                x = quantizedLinear(layer, quantization.layers[index], input: x, name: name, in: &graph)
            }
            if let norm = layer.layerNorm { x = layerNormalization(norm, of: x, name: name, in: &graph) }
            x = layer.slopes.isEmpty ? activation(layer.activation, of: x, name: name, in: &graph)
                : prelu(layer, weights: weights, of: x, name: name, in: &graph)
            if let shortcut = layer.shortcut {
                x = self.shortcut(shortcut, layer: layer, weights: weights, input: layerInput, output: x, name: name, in: &graph)
            }
        }
        if let target = model.targetScaling {
            let scale = graph.floats(prefix + "target/scale", [target.scale], shape: [])
            x = graph.node("Mul", [x, scale], output: prefix + "target/scaled")
            let shift = graph.floats(prefix + "target/shift", [target.shift], shape: [])
            x = graph.node("Add", [x, shift], output: prefix + "target/value")
        }
        return x
    }

    /// A residual layer's output y + x (identity) or y + x Pᵀ (`InferenceModel.Shortcut`), x the layer's input: Add,
    /// after the activation, as `Network` adds it. P [out, in] is stored transposed, Pᵀ [in, out], as MatMul's
    /// right operand (torch.onnx exports nn.Linear(bias=False) as MatMul by the transposed weight): FLOAT16 and a
    /// Cast in fp16; float32 in fp32 and int8, where the MatMul stays a float product after the layer's
    /// DequantizeLinear (no QDQ pair around it, so ONNX Runtime's QDQ transformer leaves it float).
    private static func shortcut(_ shortcut: InferenceModel.Shortcut, layer: InferenceModel.Layer, weights: ExportedWeights,
                                 input: String, output y: String, name: String, in graph: inout ONNXGraph) -> String {
        let added: String
        switch shortcut {
        case .identity:
            added = input
        case .projection(let p):
            var transposed = [Float](repeating: 0, count: p.count)
            for row in 0..<layer.outputs {
                for column in 0..<layer.inputs { transposed[column * layer.outputs + row] = p[row * layer.inputs + column] }
            }
            let shape = [layer.inputs, layer.outputs]
            let projection: String
            if case .fp16 = weights {
                let stored = graph.halves(name + "shortcut_weight_fp16", transposed, shape: shape)
                projection = graph.node("Cast", [stored], output: name + "shortcut_weight",
                                        attributes: [.int("to", Int(ONNXGraph.DataType.float.rawValue))])
            } else {
                projection = graph.floats(name + "shortcut_weight", transposed, shape: shape)
            }
            added = graph.node("MatMul", [input, projection], output: name + "shortcut")
        }
        return graph.node("Add", [y, added], output: name + "residual")
    }

    /// One int8 linear layer in QDQ form (see the type's comment); returns its pre-activation.
    private static func quantizedLinear(_ layer: InferenceModel.Layer, _ quantized: Int8Quantization.Layer, input: String,
                                        name: String, in graph: inout ONNXGraph) -> String {
        let scale = graph.floats(name + "input_scale", [quantized.inputScale], shape: [])
        let zeroPoint = graph.tensor(name + "input_zero_point", type: .uint8, bytes: [quantized.inputZeroPoint], shape: [])
        let inputQuantized = graph.node("QuantizeLinear", [input, scale, zeroPoint], output: name + "input_quantized")
        let inputDequantized = graph.node("DequantizeLinear", [inputQuantized, scale, zeroPoint],
                                          output: name + "input_dequantized")
        // W_q [out, in] row-major, stored transposed [in, out] as MatMul's right operand.
        var transposed = [UInt8](repeating: 0, count: layer.inputs * layer.outputs)
        for row in 0..<layer.outputs {
            for column in 0..<layer.inputs {
                transposed[column * layer.outputs + row] = UInt8(bitPattern: quantized.weights[row * layer.inputs + column])
            }
        }
        let weightQuantized = graph.tensor(name + "weight_quantized", type: .int8, bytes: transposed,
                                           shape: [layer.inputs, layer.outputs])
        let weightScales = graph.floats(name + "weight_scales", quantized.weightScales, shape: [layer.outputs])
        let weightZeroPoints = graph.tensor(name + "weight_zero_points", type: .int8,
                                            bytes: [UInt8](repeating: 0, count: layer.outputs), shape: [layer.outputs])
        let weight = graph.node("DequantizeLinear", [weightQuantized, weightScales, weightZeroPoints], output: name + "weight",
                                attributes: [.int("axis", 1)])
        let product = graph.node("MatMul", [inputDequantized, weight], output: name + "matmul")
        // Sum, not Add: ONNX Runtime's MatMulAddFusion would make MatMul + Add a float Gemm before its QDQ
        // transformer sees the MatMul, and no QDQ rule makes a Gemm with a float bias integer arithmetic.
        let bias = graph.floats(name + "bias", layer.bias, shape: [layer.outputs])
        return graph.node("Sum", [product, bias], output: name + "linear")
    }

    /// A layer norm over the last axis of `z` [batch, width] (nn.LayerNorm(width), ε 1e-5): from opset
    /// 17 the LayerNormalization operator (axis −1, epsilon, Scale γ, B β, float32 in every format);
    /// below it the same arithmetic written out, as torch.onnx decomposes layer_norm for older opsets:
    /// μ = ReduceMean(z), d = z − μ, σ² = ReduceMean(d·d), γ·d / √(σ² + ε) + β (ReduceMean's axes an
    /// attribute, as it is below opset 18; keepdims 1).
    private static func layerNormalization(_ norm: InferenceModel.LayerNormAffine, of z: String, name: String,
                                           in graph: inout ONNXGraph) -> String {
        let width = [norm.scale.count]
        let scale = graph.floats(name + "norm/scale", norm.scale, shape: width)
        let shift = graph.floats(name + "norm/shift", norm.shift, shape: width)
        if graph.opset >= 17 {
            return graph.node("LayerNormalization", [z, scale, shift], output: name + "norm",
                              attributes: [.int("axis", -1), .float("epsilon", LayerNorm.epsilon)])
        }
        let lastAxis: [Onnx_AttributeProto] = [.ints("axes", [-1]), .int("keepdims", 1)]
        let mean = graph.node("ReduceMean", [z], output: name + "norm/mean", attributes: lastAxis)
        let centred = graph.node("Sub", [z, mean], output: name + "norm/centred")
        let squares = graph.node("Mul", [centred, centred], output: name + "norm/squares")
        let variance = graph.node("ReduceMean", [squares], output: name + "norm/variance", attributes: lastAxis)
        let epsilon = graph.floats(name + "norm/epsilon", [LayerNorm.epsilon], shape: [])
        let shifted = graph.node("Add", [variance, epsilon], output: name + "norm/variance_eps")
        let deviation = graph.node("Sqrt", [shifted], output: name + "norm/std")
        let normalized = graph.node("Div", [centred, deviation], output: name + "norm/normalized")
        let scaled = graph.node("Mul", [normalized, scale], output: name + "norm/scaled")
        return graph.node("Add", [scaled, shift], output: name + "norm")
    }

    /// PRelu(z, slope [outputs]): the slope broadcasts over [batch, outputs] (ONNX's unidirectional
    /// broadcasting, as torch.onnx exports nn.PReLU); stored as the weights are (fp16: FLOAT16 and a Cast;
    /// int8: float32, the activation between the quantized products).
    private static func prelu(_ layer: InferenceModel.Layer, weights: ExportedWeights, of z: String, name: String,
                              in graph: inout ONNXGraph) -> String {
        let slope: String
        if case .fp16 = weights {
            let stored = graph.halves(name + "slope_fp16", layer.slopes, shape: [layer.outputs])
            slope = graph.node("Cast", [stored], output: name + "slope",
                               attributes: [.int("to", Int(ONNXGraph.DataType.float.rawValue))])
        } else {
            slope = graph.floats(name + "slope", layer.slopes, shape: [layer.outputs])
        }
        return graph.node("PRelu", [z, slope], output: name + "prelu")
    }

    /// f(z) as ONNX operators; `z` itself for the identity (prelu, whose slopes the layer holds, is `prelu`).
    private static func activation(_ activation: Activation, of z: String, name: String, in graph: inout ONNXGraph) -> String {
        switch activation {
        case .identity:
            return z
        case .relu:
            return graph.node("Relu", [z], output: name + "relu")
        case .prelu(let initial):  // without learned slopes: every slope its initial value
            return graph.node("LeakyRelu", [z], output: name + "leaky_relu", attributes: [.float("alpha", initial)])
        case .leakyRelu(let slope):
            return graph.node("LeakyRelu", [z], output: name + "leaky_relu", attributes: [.float("alpha", slope)])
        case .sigmoid:
            return graph.node("Sigmoid", [z], output: name + "sigmoid")
        case .tanh:
            return graph.node("Tanh", [z], output: name + "tanh")
        case .silu:
            let sigmoid = graph.node("Sigmoid", [z], output: name + "silu/sigmoid")
            return graph.node("Mul", [z, sigmoid], output: name + "silu")
        case .gelu where graph.opset >= 20:
            return graph.node("Gelu", [z], output: name + "gelu", attributes: [.string("approximate", "none")])
        case .gelu:
            let scaled = graph.node("Div", [z, graph.floats(name + "gelu/sqrt2", [Float(2).squareRoot()], shape: [])],
                                    output: name + "gelu/scaled")
            let erf = graph.node("Erf", [scaled], output: name + "gelu/erf")
            let one = graph.floats(name + "gelu/one", [1], shape: [])
            let shifted = graph.node("Add", [erf, one], output: name + "gelu/erf_plus_one")
            let product = graph.node("Mul", [z, shifted], output: name + "gelu/product")
            return graph.node("Mul", [product, graph.floats(name + "gelu/half", [0.5], shape: [])], output: name + "gelu")
        case .elu(let alpha):
            return graph.node("Elu", [z], output: name + "elu", attributes: [.float("alpha", alpha)])
        case .selu:
            return graph.node("Selu", [z], output: name + "selu",
                              attributes: [.float("alpha", Activation.seluAlpha), .float("gamma", Activation.seluScale)])
        case .hardswish where graph.opset >= 14:
            return graph.node("HardSwish", [z], output: name + "hardswish")
        case .hardswish:
            let gate = graph.node("HardSigmoid", [z], output: name + "hardswish/hardsigmoid",
                                  attributes: [.float("alpha", 1.0 / 6), .float("beta", 0.5)])
            return graph.node("Mul", [z, gate], output: name + "hardswish")
        case .mish where graph.opset >= 18:
            return graph.node("Mish", [z], output: name + "mish")
        case .mish:
            let softplus = graph.node("Softplus", [z], output: name + "mish/softplus")
            let tanh = graph.node("Tanh", [softplus], output: name + "mish/tanh")
            return graph.node("Mul", [z, tanh], output: name + "mish")
        case .softplus(let beta, let threshold):
            let prefix = name + "softplus/"
            let scaled = beta == 1 ? z
                : graph.node("Mul", [z, graph.floats(prefix + "beta", [beta], shape: [])], output: prefix + "scaled")
            var smooth = graph.node("Softplus", [scaled], output: prefix + "softplus")
            if beta != 1 {
                smooth = graph.node("Div", [smooth, graph.floats(prefix + "beta_divisor", [beta], shape: [])],
                                    output: prefix + "smooth")
            }
            let linear = graph.node("Greater", [scaled, graph.floats(prefix + "threshold", [threshold], shape: [])],
                                    output: prefix + "linear")
            return graph.node("Where", [linear, z, smooth], output: name + "softplus")
        }
    }

    // MARK: Tables

    /// The table's columns encoded and concatenated in the schema's order, [batch, width]: the
    /// layout of `TableSchema.encode`.
    private static func encoding(_ table: TableSchema, inputs: [String], prefix: String, in graph: inout ONNXGraph) -> String {
        var pieces: [String] = []
        for (index, (column, input)) in zip(table.columns, inputs).enumerated() {
            let name = "\(prefix)column\(index)/"
            switch column.encoding {
            case .numeric(fill: nil):
                pieces.append(input)
            case .numeric(let fill?):
                let nanToFill: [Onnx_AttributeProto] = [
                    .floats("imputed_value_floats", [fill]), .float("replaced_value_float", .nan),
                ]
                pieces.append(graph.node("Imputer", [input], output: name + "imputed", domain: ONNXGraph.mlDomain,
                                         attributes: nanToFill))
            case .categorical(let categories, _) where categories.isEmpty:
                continue  // no model input: the column is only declared
            case .categorical(let categories, let fill):
                // The texts the one-hot sees, and the category each stands for (TableSchema.encode's
                // order of tests: a missing text is the fill whatever else it is).
                let missing = fill == nil ? [] : table.missingValues.reduce(into: [String]()) { texts, text in
                    if !texts.contains(text) { texts.append(text) }
                }
                let texts = categories + missing.filter { TableSchema.position(of: $0, in: categories) == nil }
                let meaning = texts.map { text in
                    missing.contains(text) ? fill.flatMap { TableSchema.position(of: $0, in: categories) }
                        : TableSchema.position(of: text, in: categories)
                }
                let oneHot = graph.node("OneHotEncoder", [input], output: name + "one_hot", domain: ONNXGraph.mlDomain,
                                        attributes: [.strings("cats_strings", texts), .int("zeros", 1)])
                var encoded = graph.node("Flatten", [oneHot], output: name + "one_hot_2d", attributes: [.int("axis", 1)])
                if meaning != texts.indices.map({ Optional($0) }) {
                    var matrix = [Float](repeating: 0, count: texts.count * categories.count)
                    for (row, category) in meaning.enumerated() {
                        if let category { matrix[row * categories.count + category] = 1 }
                    }
                    let map = graph.floats(name + "missing_to_fill", matrix, shape: [texts.count, categories.count])
                    encoded = graph.node("MatMul", [encoded, map], output: name + "encoded")
                }
                pieces.append(encoded)
            }
        }
        if pieces.count == 1 { return pieces[0] }
        return graph.node("Concat", pieces, output: prefix + "features", attributes: [.int("axis", 1)])
    }

    /// The graph input of each table column (its name; `<name>_input` when that is empty, an
    /// output's name or taken by another column's renaming), or the one image input.
    static func inputNames(of schema: InputSchema, avoiding outputs: [String]) -> [String] {
        guard case .table(let table) = schema else { return [imageInputName] }
        var taken = Set(outputs).union(table.columns.map(\.name))
        return table.columns.map { column in
            guard column.name.isEmpty || outputs.contains(column.name) else { return column.name }
            var name = column.name + "_input"
            while taken.contains(name) { name += "_input" }
            taken.insert(name)
            return name
        }
    }

    private static func inputValues(_ schema: InputSchema, names: [String]) -> [Onnx_ValueInfoProto] {
        switch schema {
        case .images(let rows, let columns):
            var input = tensorValue(names[0], type: .float, shape: [nil, rows * columns])
            input.docString = "\(rows)×\(columns) pixels per row, row by row, as floats 0…255"
            return [input]
        case .table(let table):
            return zip(table.columns, names).map { column, name in
                switch column.encoding {
                case .numeric(let fill):
                    var input = tensorValue(name, type: .float, shape: [nil, 1])
                    input.docString = "column '\(column.name)': a number; NaN when missing"
                        + (fill.map { " (filled with \($0))" } ?? " (no fill: the outputs are NaN)")
                    return input
                case .categorical(let categories, let fill):
                    var input = tensorValue(name, type: .string, shape: [nil, 1])
                    input.docString = "column '\(column.name)': one of \(categories.count) categories, trimmed; "
                        + (fill.map { "a missing text is '\($0)'" } ?? "an unseen or missing text encodes as all zeros")
                    return input
                }
            }
        }
    }

    // MARK: Checks

    /// What the graph cannot express, or sizes that do not chain (a model built in code), as one line.
    private static func checkShapes(of model: InferenceModel, weights: ExportedWeights) throws(NNTrainError) {
        func refuse(_ problem: String) -> NNTrainError { NNTrainError(.data, "ONNX export: \(problem)") }
        guard !model.layers.isEmpty else { throw refuse("the model has no layers; expected at least its output layer") }
        let width = model.schema.width
        guard model.normalizer.shift.count == width, model.inputWidth == width, width > 0 else {
            throw refuse("the input encoding has \(model.schema.width) values, the normaliser \(model.normalizer.shift.count), "
                + "the first layer \(model.inputWidth) inputs; expected the same positive number")
        }
        for (index, layer) in model.layers.enumerated() {
            guard layer.weight.count == layer.inputs * layer.outputs, layer.bias.count == layer.outputs, layer.outputs > 0,
                  index == 0 || model.layers[index - 1].outputs == layer.inputs
            else {
                throw refuse("layer \(index) (\(layer.inputs)→\(layer.outputs)) does not follow the layer before it; "
                    + "expected each layer's inputs to be the previous one's outputs")
            }
            switch layer.shortcut {
            case nil: break
            case .identity where layer.inputs == layer.outputs: break
            case .projection(let p) where p.count == layer.inputs * layer.outputs: break
            default:
                throw refuse("layer \(index) (\(layer.inputs)→\(layer.outputs)) has a shortcut of another shape; expected "
                    + "an identity of equal widths or a projection [\(layer.outputs), \(layer.inputs)]")
            }
        }
        if model.task == .classification, model.classNames.count != model.outputWidth {
            throw refuse("\(model.classNames.count) class names for \(model.outputWidth) outputs; expected one name per output")
        }
        if case .int8(let quantization) = weights {
            guard quantization.layers.count == model.layers.count else {
                throw refuse("the int8 quantization has \(quantization.layers.count) layers, the model \(model.layers.count)")
            }
            for (index, (layer, quantized)) in zip(model.layers, quantization.layers).enumerated() {
                guard quantized.weights.count == layer.weight.count, quantized.weightScales.count == layer.outputs else {
                    throw refuse("the int8 quantization of layer \(index) has \(quantized.weights.count) weights and "
                        + "\(quantized.weightScales.count) scales; expected \(layer.weight.count) and \(layer.outputs)")
                }
                let scale = quantized.inputScale
                guard scale.isFinite, scale > 0, quantized.weightScales.allSatisfy(\.isFinite) else {
                    throw refuse("the int8 quantization of layer \(index) has a scale that is not positive and finite "
                        + "(input scale \(quantized.inputScale)); expected positive finite scales")
                }
            }
        }
    }

    // MARK: Model, graph and metadata

    /// The IR version of the ONNX release that introduced `opset` (onnx/helper.py VERSION_TABLE).
    static func irVersion(opset: Int) -> Int {
        switch opset {
        case ...14: 7
        case 15...18: 8
        case 19...20: 9
        default: 10
        }
    }

    /// The ai.onnx.ml version of the ONNX release that introduced `opset` (its Imputer and
    /// OneHotEncoder are those of version 1).
    static func mlVersion(opset: Int) -> Int {
        switch opset {
        case ...15: 2
        case 16...19: 3
        case 20: 4
        default: 5
        }
    }

    private static func operatorSet(_ domain: String, version: Int) -> Onnx_OperatorSetIdProto {
        var set = Onnx_OperatorSetIdProto()
        set.domain = domain
        set.version = Int64(version)
        return set
    }

    /// A graph input or output: a tensor of `type` whose dimensions are `shape` (nil: `batch`).
    private static func tensorValue(_ name: String, type: ONNXGraph.DataType, shape: [Int?]) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = type.rawValue
        tensor.shape.dim = shape.map { size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let size { dimension.dimValue = Int64(size) } else { dimension.dimParam = "batch" }
            return dimension
        }
        var value = Onnx_ValueInfoProto()
        value.name = name
        value.type.tensorType = tensor
        return value
    }

    private static func feedingInstructions(_ model: InferenceModel, members: Int = 1) -> String {
        let outputs = members > 1
            ? (model.task == .classification
                ? "Output: probabilities [batch, \(model.outputWidth)], the mean of \(members) members' softmax "
                    + "probabilities, classes in the order of metadata class_names."
                : "Output: value [batch, \(model.outputWidth)], the mean of \(members) members' values, in the target's units.")
            : model.task == .classification
            ? "Outputs: logits [batch, \(model.outputWidth)] and probabilities (their softmax), classes in the order of "
                + "metadata class_names."
            : "Output: value [batch, \(model.outputWidth)], in the target's units."
        switch model.schema {
        case .images(let rows, let columns):
            return "nntrain model \(model.architecture). Feed 'input': float [batch, \(rows * columns)], each row the "
                + "\(rows)×\(columns) image's pixels row by row as 0…255 (not normalised). " + outputs
        case .table:
            return "nntrain model \(model.architecture). Feed one [batch, 1] tensor per CSV column, in the order of "
                + "metadata feature_names: float for a numeric column (NaN when missing), string for a categorical "
                + "one (the trimmed text). " + outputs
        }
    }

    /// The int8 figures of `int8_quantization`.
    private struct Int8Figures: Encodable {
        struct Layer: Encodable {
            var inputScale: Float
            var inputZeroPoint: UInt8
            var weightScales: [Float]
            enum CodingKeys: String, CodingKey {
                case inputScale = "input_scale", inputZeroPoint = "input_zero_point", weightScales = "weight_scales"
            }
        }
        var calibrationRows: Int
        var method: String
        var percentile: Double?
        var layers: [Layer]
        enum CodingKeys: String, CodingKey {
            case calibrationRows = "calibration_rows", method, percentile, layers
        }
    }

    private static func metadata(_ model: InferenceModel, weights: ExportedWeights) throws(NNTrainError) -> [(String, String)] {
        let featureNames: [String] = if case .table(let table) = model.schema { table.columns.map(\.name) } else { [] }
        var entries = [
            ("class_names", try json(model.classNames)),
            ("feature_names", try json(featureNames)),
            ("input_encoding", try json(model.schema)),
            ("architecture", model.architecture),
            ("nntrain_version", model.trainedWith),
            ("exported_with", NNTrainVersion.string),
            ("checkpoint_fingerprint", model.fingerprint),
        ]
        switch weights {
        case .fp32: entries.append(("quantization", QuantizationMode.none.rawValue))
        case .fp16: entries.append(("quantization", QuantizationMode.fp16.rawValue))
        case .int8(let quantization):
            entries.append(("quantization", QuantizationMode.int8.rawValue))
            let layers = quantization.layers.map {
                Int8Figures.Layer(inputScale: $0.inputScale, inputZeroPoint: $0.inputZeroPoint, weightScales: $0.weightScales)
            }
            var figures = Int8Figures(calibrationRows: quantization.calibrationRows, method: "min_max", percentile: nil,
                                      layers: layers)
            if case .percentile(let percentile) = quantization.method {
                (figures.method, figures.percentile) = ("percentile", percentile)
            }
            entries.append(("int8_quantization", try json(figures)))
        }
        return entries
    }

    /// The metadata JSON of `value`, as the checkpoint's (`ReportJSON.compact`).
    private static func json<T: Encodable>(_ value: T) throws(NNTrainError) -> String {
        try ReportJSON.compact(value, naming: "ONNX export")
    }
}

/// The weights an export writes: as trained, rounded to float16, or quantized to int8.
public enum ExportedWeights: Sendable, Equatable {
    case fp32
    case fp16
    case int8(Int8Quantization)
}
