import Foundation
import Testing

@testable import NNTrain

/// The ONNX graph `ONNXExport.encode` writes, decoded with the generated messages and checked
/// without Python: inputs and outputs with their dynamic batch dimension, the operators in order for
/// each activation, opset and quantization, the table encoding against `TableSchema.encode`, and the
/// initializers against the model's numbers (folded weights, transposes, binary16 bit patterns,
/// int8 bytes). ONNX Runtime itself runs the files in the CI script (issue 16).
@Suite struct ONNXExportTests {
    // MARK: Reading the written graph

    static func decode(_ bytes: [UInt8]) throws -> Onnx_ModelProto { try Onnx_ModelProto(serializedBytes: bytes) }

    static func export(_ model: InferenceModel, _ weights: ExportedWeights = .fp32, opset: Int = 17) throws -> Onnx_ModelProto {
        try decode(try ONNXExport.encode(model, weights: weights, opset: opset))
    }

    /// A graph input or output as (name, element type, shape with "batch" for the dynamic dimension).
    static func signature(_ value: Onnx_ValueInfoProto) -> (String, Int32, [String]) {
        let tensor = value.type.tensorType
        return (value.name, tensor.elemType, tensor.shape.dim.map { dimension in
            switch dimension.value {
            case .dimValue(let size): "\(size)"
            case .dimParam(let name): name
            case nil: "?"
            }
        })
    }

    static func initializer(_ name: String, in model: Onnx_ModelProto) throws -> Onnx_TensorProto {
        try #require(model.graph.initializer.first { $0.name == name }, "no initializer \(name)")
    }

    /// A float32 initializer's values (raw_data, little-endian).
    static func floats(_ tensor: Onnx_TensorProto) -> [Float] {
        let bytes = [UInt8](tensor.rawData)
        return stride(from: 0, to: bytes.count, by: 4).map { at in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) })
        }
    }

    static func floats(_ name: String, in model: Onnx_ModelProto) throws -> [Float] {
        let tensor = try initializer(name, in: model)
        #expect(tensor.dataType == 1)
        return floats(tensor)
    }

    static func node(_ output: String, in model: Onnx_ModelProto) throws -> Onnx_NodeProto {
        try #require(model.graph.node.first { $0.output == [output] }, "no node makes \(output)")
    }

    static func attribute(_ name: String, of node: Onnx_NodeProto) throws -> Onnx_AttributeProto {
        try #require(node.attribute.first { $0.name == name }, "\(node.opType) has no attribute \(name)")
    }

    static func metadata(_ model: Onnx_ModelProto) -> [String: String] {
        Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Hand-built models

    /// A 2×3-pixel image classifier 6 → 4 (`activation`) → 3 with weights wᵢ = i/10 − 1 and biases
    /// bⱼ = j/4, pixels scaled by 1/255.
    static func imageModel(activation: Activation = .gelu) -> InferenceModel {
        func layer(_ inputs: Int, _ outputs: Int, _ activation: Activation) -> InferenceModel.Layer {
            InferenceModel.Layer(inputs: inputs, outputs: outputs, weight: (0..<inputs * outputs).map { Float($0) / 10 - 1 },
                                 bias: (0..<outputs).map { Float($0) / 4 }, activation: activation)
        }
        let pixels = Normalizer(shift: Array(repeating: 0, count: 6), scale: Array(repeating: 1 / 255, count: 6))
        return InferenceModel(normalizer: pixels,
                              layers: [layer(6, 4, activation), layer(4, 3, .identity)], targetScaling: nil,
                              schema: .images(rows: 2, columns: 3), classNames: ["a", "b", "c"],
                              architecture: "6-4-3 gelu", trainedWith: "0.0.9", fingerprint: "0badf00d")
    }

    /// A table of `size` (numeric, fill 2.5), `colour` (blue, green, red; fill red), `weight`
    /// (numeric, no fill), missing texts "" and NA: 5 encoded inputs → 2 relu → 3 classes.
    static let table = TableSchema(
        columns: [.init(name: "size", encoding: .numeric(fill: 2.5)),
                  .init(name: "colour", encoding: .categorical(categories: ["blue", "green", "red"], fill: "red")),
                  .init(name: "weight", encoding: .numeric(fill: nil))],
        target: "kind", task: .classification, missingValues: ["", "NA"])

    static func tableModel(_ schema: TableSchema = table, classes: [String] = ["cat", "dog", "eel"]) -> InferenceModel {
        let width = schema.width
        return InferenceModel(
            normalizer: Normalizer(shift: (0..<width).map { Float($0) }, scale: Array(repeating: 0.5, count: width)),
            layers: [.init(inputs: width, outputs: 2, weight: (0..<2 * width).map { Float($0) }, bias: [1, 2], activation: .relu),
                     .init(inputs: 2, outputs: classes.count, weight: Array(repeating: 1, count: 2 * classes.count),
                           bias: Array(repeating: 0, count: classes.count), activation: .identity)],
            targetScaling: nil, schema: .table(schema), classNames: classes, architecture: "\(width)-2-\(classes.count) relu",
            trainedWith: "0.1.0", fingerprint: "12345678")
    }

    // MARK: Images

    @Test(arguments: [17, 20])
    func anImageClassifierReadsRawPixelsAndEndsInLogitsAndTheirSoftmax(opset: Int) throws {
        let model = Self.imageModel()
        let onnx = try Self.export(model, opset: opset)
        #expect(onnx.irVersion == (opset == 17 ? 8 : 9))
        #expect(onnx.opsetImport.map { "\($0.domain):\($0.version)" } == [":\(opset)"])
        #expect(onnx.producerName == "nntrain" && onnx.producerVersion == NNTrainVersion.string)
        #expect(onnx.graph.input.map { "\(Self.signature($0))" } == ["(\"input\", 1, [\"batch\", \"6\"])"])
        #expect(onnx.graph.output.map { "\(Self.signature($0))" }
            == ["(\"logits\", 1, [\"batch\", \"3\"])", "(\"probabilities\", 1, [\"batch\", \"3\"])"])

        // No shift: x·(1/255) alone; GELU below opset 20 as torch.onnx writes it: x·0.5·(1 + erf(x/√2)).
        let gelu = opset >= 20 ? ["Gelu"] : ["Div", "Erf", "Add", "Mul", "Mul"]
        #expect(onnx.graph.node.map(\.opType) == ["Mul", "Gemm"] + gelu + ["Gemm", "Softmax"])
        let first = try Self.node("layer0/linear", in: onnx)
        #expect(first.input == ["normalized", "layer0/weight", "layer0/bias"])
        #expect(try Self.attribute("transB", of: first).i == 1)
        #expect(try Self.floats("normalizer/scale", in: onnx) == Array(repeating: 1 / 255, count: 6))
        #expect(try Self.floats("layer0/weight", in: onnx) == model.layers[0].weight)
        #expect(try Self.initializer("layer0/weight", in: onnx).dims == [4, 6])
        #expect(try Self.floats("layer1/bias", in: onnx) == [0, 0.25, 0.5])
        if opset >= 20 {
            #expect(try Self.attribute("approximate", of: Self.node("layer0/gelu", in: onnx)).s == Data("none".utf8))
        } else {
            #expect(try Self.floats("layer0/gelu/sqrt2", in: onnx) == [Float(2).squareRoot()])
            #expect(try Self.floats("layer0/gelu/half", in: onnx) == [0.5])
            #expect(try Self.node("layer0/gelu", in: onnx).input == ["layer0/gelu/product", "layer0/gelu/half"])
        }
        let logits = try Self.node("logits", in: onnx)
        #expect(logits.opType == "Gemm" && logits.input[0] == "layer0/gelu")
        let softmax = try Self.node("probabilities", in: onnx)
        #expect(softmax.input == ["logits"])
        #expect(try Self.attribute("axis", of: softmax).i == -1)
    }

    @Test func eachActivationIsItsOperators() throws {
        let cases: [(Activation, [String])] = [
            (.relu, ["Relu"]), (.sigmoid, ["Sigmoid"]), (.tanh, ["Tanh"]), (.silu, ["Sigmoid", "Mul"]),
            (.leakyRelu(slope: 0.125), ["LeakyRelu"]),
        ]
        for (activation, operators) in cases {
            let onnx = try Self.export(Self.imageModel(activation: activation), opset: 13)
            #expect(onnx.irVersion == 7)
            #expect(onnx.graph.node.map(\.opType) == ["Mul", "Gemm"] + operators + ["Gemm", "Softmax"])
        }
        let leaky = try Self.export(Self.imageModel(activation: .leakyRelu(slope: 0.125)))
        #expect(try Self.attribute("alpha", of: Self.node("layer0/leaky_relu", in: leaky)).f == 0.125)
        let silu = try Self.export(Self.imageModel(activation: .silu))
        #expect(try Self.node("layer0/silu", in: silu).input == ["layer0/linear", "layer0/silu/sigmoid"])
    }

    /// ELU, SELU, Hardswish, Mish and Softplus: their own operators where the opset has them
    /// (HardSwish from 14, Mish from 18), the decompositions below, and Softplus's β and threshold
    /// around ONNX's plain Softplus.
    @Test func theNewerActivationsAreTheirOperatorsOrDecompositions() throws {
        let cases: [(Activation, Int, [String])] = [
            (.elu(alpha: 0.5), 13, ["Elu"]), (.selu, 13, ["Selu"]),
            (.hardswish, 13, ["HardSigmoid", "Mul"]), (.hardswish, 14, ["HardSwish"]), (.hardswish, 17, ["HardSwish"]),
            (.mish, 17, ["Softplus", "Tanh", "Mul"]), (.mish, 18, ["Mish"]), (.mish, 21, ["Mish"]),
            (.softplus(beta: 1, threshold: 20), 17, ["Softplus", "Greater", "Where"]),
            (.softplus(beta: 2, threshold: 5), 13, ["Mul", "Softplus", "Div", "Greater", "Where"]),
        ]
        for (activation, opset, operators) in cases {
            let onnx = try Self.export(Self.imageModel(activation: activation), opset: opset)
            #expect(onnx.graph.node.map(\.opType) == ["Mul", "Gemm"] + operators + ["Gemm", "Softmax"],
                    "\(activation) at opset \(opset)")
            let name = ExportReport.Layer.name(activation).prefix { $0 != "(" }
            #expect(try Self.node("logits", in: onnx).input[0] == "layer0/\(name)")
        }
        let elu = try Self.export(Self.imageModel(activation: .elu(alpha: 0.5)))
        #expect(try Self.attribute("alpha", of: Self.node("layer0/elu", in: elu)).f == 0.5)
        let selu = try Self.node("layer0/selu", in: Self.export(Self.imageModel(activation: .selu)))
        // torch's α₀ and λ rounded to float32, which are also ONNX's defaults for Selu.
        #expect(try Self.attribute("alpha", of: selu).f == 1.67326319217681884765625)
        #expect(try Self.attribute("gamma", of: selu).f == 1.05070102214813232421875)
        let gate = try Self.node("layer0/hardswish/hardsigmoid", in: Self.export(Self.imageModel(activation: .hardswish),
                                                                                  opset: 13))
        #expect(try Self.attribute("alpha", of: gate).f == 1.0 / 6 && Self.attribute("beta", of: gate).f == 0.5)
        let mish = try Self.export(Self.imageModel(activation: .mish), opset: 17)
        #expect(try Self.node("layer0/mish", in: mish).input == ["layer0/linear", "layer0/mish/tanh"])
        let softplus = try Self.export(Self.imageModel(activation: .softplus(beta: 2, threshold: 5)))
        #expect(try Self.floats("layer0/softplus/beta", in: softplus) == [2])
        #expect(try Self.floats("layer0/softplus/threshold", in: softplus) == [5])
        #expect(try Self.node("layer0/softplus/linear", in: softplus).input
            == ["layer0/softplus/scaled", "layer0/softplus/threshold"])
        #expect(try Self.node("layer0/softplus", in: softplus).input
            == ["layer0/softplus/linear", "layer0/linear", "layer0/softplus/smooth"])
    }

    /// A trained model with batch norm: the Gemm initializers are the folded layers of
    /// `InferenceModel(checkpointPath:)` to the bit, and there is no BatchNormalization node.
    @Test func aCheckpointWithBatchNormIsExportedWithItsFoldedWeights() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let config = try folder.write("""
            data: {path: \(folder.path), validation_split: 0.25, normalize: standardize}
            model: {hidden: [5], batch_norm: true, activation: gelu}
            training: {epochs: 1, batch_size: 30}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let model = try InferenceModel(checkpointPath: folder.file("run/checkpoints/last.bin"))
        let onnx = try Self.export(model, opset: 20)
        #expect(onnx.graph.node.map(\.opType) == ["Sub", "Mul", "Gemm", "Gelu", "Gemm", "Softmax"])
        #expect(try Self.floats("normalizer/shift", in: onnx) == model.normalizer.shift)
        #expect(try Self.floats("normalizer/scale", in: onnx) == model.normalizer.scale)
        for (index, layer) in model.layers.enumerated() {
            #expect(try Self.floats("layer\(index)/weight", in: onnx) == layer.weight)
            #expect(try Self.floats("layer\(index)/bias", in: onnx) == layer.bias)
        }
        let metadata = Self.metadata(onnx)
        #expect(metadata["architecture"] == model.architecture && model.architecture.hasSuffix("batch norm (folded)"))
        #expect(metadata["checkpoint_fingerprint"] == model.fingerprint && model.fingerprint.count == 8)
        #expect(metadata["class_names"] == "[" + FashionMNIST.classNames.map { "\"\($0)\"" }.joined(separator: ",") + "]")
    }

    /// A checkpoint's activation parameters come back from its config: a run with elu_alpha 0.5 and
    /// one with softplus's beta and threshold, read back by eval's, predict's and export's model, and
    /// selu's default init written into the checkpoint's config.
    @Test func aCheckpointCarriesItsActivationsParameters() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        for (index, (model, expected)) in [
            ("activation: elu, elu_alpha: 0.5", Activation.elu(alpha: 0.5)),
            ("activation: softplus, softplus_beta: 2, softplus_threshold: 3", .softplus(beta: 2, threshold: 3)),
            ("activation: selu", .selu),
        ].enumerated() {
            let config = try folder.write("""
                data: {path: \(folder.path), validation_split: 0.25}
                model: {hidden: [5], \(model)}
                training: {epochs: 1, batch_size: 30}
                output: {dir: \(folder.file("run\(index)")), plots: false}
                """, to: "config\(index).txt")
            _ = try TrainingRun.execute(configPath: config, overrides: [])
            let path = folder.file("run\(index)/checkpoints/last.bin")
            let inference = try InferenceModel(checkpointPath: path)
            #expect(inference.layers.map(\.activation) == [expected, .identity])
            let yaml = try #require(CheckpointFile.read(path: path).metadata["nntrain.config"])
            #expect(yaml.contains(expected == .selu ? "init: lecun_normal" : "init: default"))
        }
    }

    // MARK: Tables

    @Test func aTableIsEncodedInTheGraphAsTableSchemaEncodesIt() throws {
        let onnx = try Self.export(Self.tableModel())
        #expect(onnx.opsetImport.map { "\($0.domain):\($0.version)" } == [":17", "ai.onnx.ml:3"])
        #expect(onnx.graph.input.map { "\(Self.signature($0))" } == [
            "(\"size\", 1, [\"batch\", \"1\"])", "(\"colour\", 8, [\"batch\", \"1\"])", "(\"weight\", 1, [\"batch\", \"1\"])",
        ])
        #expect(onnx.graph.node.map(\.opType)
            == ["Imputer", "OneHotEncoder", "Flatten", "MatMul", "Concat", "Sub", "Mul", "Gemm", "Relu", "Gemm", "Softmax"])

        let imputer = try Self.node("column0/imputed", in: onnx)
        #expect(imputer.domain == "ai.onnx.ml" && imputer.input == ["size"])
        #expect(try Self.attribute("imputed_value_floats", of: imputer).floats == [2.5])
        #expect(try Self.attribute("replaced_value_float", of: imputer).f.isNaN)

        let oneHot = try Self.node("column1/one_hot", in: onnx)
        let texts = try Self.attribute("cats_strings", of: oneHot).strings.map { String(decoding: $0, as: UTF8.self) }
        #expect(oneHot.domain == "ai.onnx.ml" && oneHot.input == ["colour"] && texts == ["blue", "green", "red", "", "NA"])
        #expect(try Self.attribute("zeros", of: oneHot).i == 1)
        #expect(try Self.attribute("axis", of: Self.node("column1/one_hot_2d", in: onnx)).i == 1)
        #expect(try Self.initializer("column1/missing_to_fill", in: onnx).dims == [5, 3])
        let map = try Self.floats("column1/missing_to_fill", in: onnx)
        #expect(try Self.node("column1/encoded", in: onnx).input == ["column1/one_hot_2d", "column1/missing_to_fill"])
        let concat = try Self.node("features", in: onnx)
        #expect(concat.input == ["column0/imputed", "column1/encoded", "weight"])
        #expect(try Self.attribute("axis", of: concat).i == 1)

        // OneHotEncoder (zeros = 1) then the map, by hand, against TableSchema.encode for every text.
        for text in ["blue", "green", "red", "", "NA", "purple"] {
            let hot = texts.map { $0 == text ? Float(1) : 0 }
            let mapped = (0..<3).map { column in (0..<5).reduce(Float(0)) { $0 + hot[$1] * map[$1 * 3 + column] } }
            var encoded = [Float](repeating: -1, count: 5)
            var notes = TableSchema.RecordNotes()
            try encoded.withUnsafeMutableBufferPointer { row in
                try Self.table.encode(["1", text, "2"], into: row, place: "row", notes: &notes)
            }
            #expect(mapped == Array(encoded[1...3]), "\(text)")
        }
        let metadata = Self.metadata(onnx)
        #expect(metadata["feature_names"] == "[\"size\",\"colour\",\"weight\"]")
        let schema = try JSONDecoder().decode(InputSchema.self, from: Data(try #require(metadata["input_encoding"]).utf8))
        #expect(schema == .table(Self.table))
        let inputs = onnx.graph.input.map(\.docString)
        #expect(inputs == ["column 'size': a number; NaN when missing (filled with 2.5)",
                           "column 'colour': one of 3 categories, trimmed; a missing text is 'red'",
                           "column 'weight': a number; NaN when missing (no fill: the outputs are NaN)"])
    }

    /// Without a fill a missing text is just another unseen category (nntrain refuses the row); a
    /// missing text that is also a category is the fill, as TableSchema.encode tests missing first;
    /// a column named as an output, or with no name, is fed under `<name>_input`.
    static let edges = TableSchema(
        columns: [.init(name: "logits", encoding: .categorical(categories: ["?", "a", "b"], fill: "b")),
                  .init(name: "", encoding: .categorical(categories: ["x", "y"], fill: nil)),
                  .init(name: "logits_input", encoding: .numeric(fill: nil))],
        target: "t", task: .classification, missingValues: ["?", "NA", "?"])

    @Test func missingTextsNamesAndCategoriesAtTheirEdges() throws {
        let onnx = try Self.export(Self.tableModel(Self.edges, classes: ["p", "q"]), opset: 21)
        #expect(onnx.irVersion == 10 && onnx.opsetImport.map(\.version) == [21, 5])
        #expect(onnx.graph.input.map(\.name) == ["logits_input_input", "_input", "logits_input"])
        #expect(Self.metadata(onnx)["feature_names"] == "[\"logits\",\"\",\"logits_input\"]")
        let first = try Self.attribute("cats_strings", of: Self.node("column0/one_hot", in: onnx)).strings
        #expect(first.map { String(decoding: $0, as: UTF8.self) } == ["?", "a", "b", "NA"])
        #expect(try Self.floats("column0/missing_to_fill", in: onnx) == [0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1])
        let second = try Self.attribute("cats_strings", of: Self.node("column1/one_hot", in: onnx)).strings
        #expect(second.map { String(decoding: $0, as: UTF8.self) } == ["x", "y"])
        #expect(try Self.node("features", in: onnx).input == ["column0/encoded", "column1/one_hot_2d", "logits_input"])
    }

    // MARK: Regression

    @Test func aStandardisedRegressionTargetEndsInItsAffineAndTheOutputValue() throws {
        var model = Self.tableModel(classes: ["only"])
        model.classNames = []
        model.targetScaling = TargetScaling(shift: 50, scale: 4)
        let onnx = try Self.export(model, opset: 13)
        #expect(onnx.opsetImport.map { "\($0.domain):\($0.version)" } == [":13", "ai.onnx.ml:2"])
        #expect(onnx.graph.output.map { "\(Self.signature($0))" } == ["(\"value\", 1, [\"batch\", \"1\"])"])
        #expect(Array(onnx.graph.node.map(\.opType).suffix(3)) == ["Gemm", "Mul", "Add"])
        #expect(try Self.node("target/scaled", in: onnx).input == ["layer1/linear", "target/scale"])
        #expect(try Self.node("value", in: onnx).input == ["target/scaled", "target/shift"])
        #expect(try Self.floats("target/scale", in: onnx) == [4])
        #expect(try Self.initializer("target/scale", in: onnx).dims == [])
        #expect(try Self.floats("target/shift", in: onnx) == [50])
        #expect(Self.metadata(onnx)["class_names"] == "[]")

        model.targetScaling = nil
        let plain = try Self.export(model)
        #expect(plain.graph.node.last?.opType == "Gemm" && plain.graph.node.last?.output == ["value"])
    }

    // MARK: Quantized weights

    @Test func fp16StoresEveryWeightAndBiasAsBinary16CastToFloat() throws {
        var model = Self.imageModel(activation: .relu)
        // 1, 1/3, −2, 65504 (the largest half), 1 + 2⁻¹¹ (a tie: to even, 1), 1 + 3·2⁻¹¹ (a tie: up),
        // 10⁻⁸ (below half the smallest subnormal: 0), 0.1.
        let values: [Float] = [1, 1.0 / 3, -2, 65504, 1 + 0x1p-11, 1 + 3 * 0x1p-11, 1e-8, 0.1]
        model.layers[1].weight = values + Array(repeating: 0.5, count: 4)
        model.layers[1].bias = [100000, -0.0, 6.1035156e-05]
        let onnx = try Self.export(model, .fp16)
        #expect(onnx.graph.node.map(\.opType) == ["Mul", "Cast", "Cast", "Gemm", "Relu", "Cast", "Cast", "Gemm", "Softmax"])
        func halves(_ name: String) throws -> [UInt16] {
            let tensor = try Self.initializer(name, in: onnx)
            #expect(tensor.dataType == 10)
            let bytes = [UInt8](tensor.rawData)
            return stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        }
        #expect(try halves("layer1/weight_fp16")
            == [0x3C00, 0x3555, 0xC000, 0x7BFF, 0x3C00, 0x3C02, 0x0000, 0x2E66, 0x3800, 0x3800, 0x3800, 0x3800])
        #expect(try halves("layer1/bias_fp16") == [0x7C00, 0x8000, 0x0400])  // beyond 65504: infinity
        #expect(try Self.initializer("layer1/weight_fp16", in: onnx).dims == [3, 4])
        let cast = try Self.node("layer1/weight", in: onnx)
        #expect(cast.opType == "Cast" && cast.input == ["layer1/weight_fp16"])
        #expect(try Self.attribute("to", of: cast).i == 1)
        #expect(try Self.node("logits", in: onnx).input == ["layer0/relu", "layer1/weight", "layer1/bias"])
        #expect(!onnx.graph.initializer.contains { $0.name == "layer1/weight" })
        #expect(Self.metadata(onnx)["quantization"] == "fp16")
    }

    /// Layer k: input scale 0.05·k, zero point 120 + k; weight scales 0.01·(c + 1); W_q[c, i] = 10c − i.
    static func quantization(of model: InferenceModel) -> Int8Quantization {
        Int8Quantization(
            layers: model.layers.enumerated().map { index, layer in
                .init(inputScale: 0.05 * Float(index + 1), inputZeroPoint: UInt8(120 + index + 1),
                      weightScales: (0..<layer.outputs).map { 0.01 * Float($0 + 1) },
                      weights: (0..<layer.outputs * layer.inputs).map { Int8(10 * ($0 / layer.inputs) - $0 % layer.inputs) })
            }, calibrationRows: 64, method: .percentile(99.5))
    }

    @Test func int8IsTheQDQFormWithPerChannelWeightScalesOnAxis1() throws {
        let model = Self.imageModel(activation: .tanh)
        let quantization = Self.quantization(of: model)
        let onnx = try Self.export(model, .int8(quantization), opset: 21)
        let layer = ["QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "MatMul", "Sum"]
        #expect(onnx.graph.node.map(\.opType) == ["Mul"] + layer + ["Tanh"] + layer + ["Softmax"])

        #expect(try Self.node("layer0/input_quantized", in: onnx).input
            == ["normalized", "layer0/input_scale", "layer0/input_zero_point"])
        #expect(try Self.node("layer0/input_dequantized", in: onnx).input
            == ["layer0/input_quantized", "layer0/input_scale", "layer0/input_zero_point"])
        #expect(try Self.floats("layer1/input_scale", in: onnx) == [0.1])
        let zeroPoint = try Self.initializer("layer1/input_zero_point", in: onnx)
        #expect(zeroPoint.dataType == 2 && zeroPoint.dims == [] && [UInt8](zeroPoint.rawData) == [122])

        // W_q [3, 4] stored transposed [4, 3]: element (i, c) is 10c − i.
        let weight = try Self.initializer("layer1/weight_quantized", in: onnx)
        #expect(weight.dataType == 3 && weight.dims == [4, 3])
        #expect([UInt8](weight.rawData).map { Int8(bitPattern: $0) } == [0, 10, 20, -1, 9, 19, -2, 8, 18, -3, 7, 17])
        let dequantize = try Self.node("layer1/weight", in: onnx)
        #expect(dequantize.input == ["layer1/weight_quantized", "layer1/weight_scales", "layer1/weight_zero_points"])
        #expect(try Self.attribute("axis", of: dequantize).i == 1)
        #expect(try Self.floats("layer1/weight_scales", in: onnx) == [0.01, 0.02, 0.03])
        let zeros = try Self.initializer("layer1/weight_zero_points", in: onnx)
        #expect(zeros.dataType == 3 && zeros.dims == [3] && [UInt8](zeros.rawData) == [0, 0, 0])
        #expect(try Self.node("layer1/matmul", in: onnx).input == ["layer1/input_dequantized", "layer1/weight"])
        #expect(try Self.node("logits", in: onnx).input == ["layer1/matmul", "layer1/bias"])
        #expect(try Self.floats("layer1/bias", in: onnx) == model.layers[1].bias)

        let metadata = Self.metadata(onnx)
        #expect(metadata["quantization"] == "int8")
        struct Figures: Decodable, Equatable {
            struct Layer: Decodable, Equatable {
                var inputScale: Float, inputZeroPoint: UInt8, weightScales: [Float]
            }
            var calibrationRows: Int, method: String, percentile: Double?, layers: [Layer]
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let figures = try decoder.decode(Figures.self, from: Data(try #require(metadata["int8_quantization"]).utf8))
        #expect(figures == Figures(calibrationRows: 64, method: "percentile", percentile: 99.5, layers: [
            .init(inputScale: 0.05, inputZeroPoint: 121, weightScales: [0.01, 0.02, 0.03, 0.04]),
            .init(inputScale: 0.1, inputZeroPoint: 122, weightScales: [0.01, 0.02, 0.03]),
        ]))
    }

    // MARK: Metadata and refusals

    @Test func theMetadataSaysWhatTheModelIsAndWhereItCameFrom() throws {
        let onnx = try Self.export(Self.imageModel())
        #expect(Self.metadata(onnx) == [
            "class_names": "[\"a\",\"b\",\"c\"]", "feature_names": "[]",
            "input_encoding": "{\"images\":{\"columns\":3,\"rows\":2}}", "architecture": "6-4-3 gelu",
            "nntrain_version": "0.0.9", "exported_with": NNTrainVersion.string, "checkpoint_fingerprint": "0badf00d",
            "quantization": "none",
        ])
        #expect(onnx.docString.contains("Feed 'input': float [batch, 6]") && onnx.graph.docString == onnx.docString)
    }

    @Test func opsetsOutside13To21AndModelsTheGraphCannotHoldAreRefused() throws {
        for opset in [12, 22] {
            #expect(throws: NNTrainError(.usage, "--opset \(opset): ONNX export writes opsets 13 to 21")) {
                try ONNXExport.encode(Self.imageModel(), weights: .fp32, opset: opset)
            }
        }
        var model = Self.imageModel()
        let quantization = Self.quantization(of: model)
        var short = quantization
        short.layers.removeLast()
        var zeroScale = quantization
        zeroScale.layers[1].inputScale = 0
        var wrongNames = model
        wrongNames.classNames = ["a"]
        let refusals: [(InferenceModel, ExportedWeights, String)] = [
            (model, .int8(short), "the int8 quantization has 1 layers, the model 2"),
            (model, .int8(zeroScale), "the int8 quantization of layer 1 has a scale that is not positive and finite "
                + "(input scale 0.0); expected positive finite scales"),
            (wrongNames, .fp32, "1 class names for 3 outputs; expected one name per output"),
        ]
        for (model, weights, message) in refusals {
            #expect(throws: NNTrainError(.data, "ONNX export: " + message)) {
                try ONNXExport.encode(model, weights: weights, opset: 17)
            }
        }
        model.layers[1] = .init(inputs: 5, outputs: 3, weight: Array(repeating: 0, count: 15), bias: [0, 0, 0],
                                activation: .identity)
        #expect(throws: NNTrainError.self) { try ONNXExport.encode(model, weights: .fp32, opset: 17) }
        model.layers = []
        #expect(throws: NNTrainError.self) { try ONNXExport.encode(model, weights: .fp32, opset: 17) }
    }

    // MARK: Files for ONNX Runtime

    /// With NNTRAIN_ONNX_EXPORT_DIR set, writes every checkpoint `*.bin` there as ONNX files
    /// `<name>.<fp32|fp16|int8>.opset<N>.onnx` for opsets 13, 17, 20, 21, for a check with ONNX Runtime
    /// outside the suite, and the hand-built table models as `table-fills.onnx` and `table-edges.onnx`.
    /// Its int8 quantization is a plain one (weights per channel by their largest
    /// magnitude; every layer's input over [−8, 8]), enough to run the integer kernels.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["NNTRAIN_ONNX_EXPORT_DIR"] != nil))
    func writeExportsForONNXRuntime() throws {
        let folder = try #require(ProcessInfo.processInfo.environment["NNTRAIN_ONNX_EXPORT_DIR"])
        for (name, schema, classes) in [("fills", Self.table, ["cat", "dog", "eel"]), ("edges", Self.edges, ["p", "q"])] {
            let bytes = try ONNXExport.encode(Self.tableModel(schema, classes: classes), weights: .fp32, opset: 17)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/table-\(name).onnx"))
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".bin") {
            let model = try InferenceModel(checkpointPath: folder + "/" + file)
            let layers = model.layers.map { layer in
                let scales = (0..<layer.outputs).map { row in
                    max(layer.weight[row * layer.inputs..<(row + 1) * layer.inputs].map(abs).max() ?? 0, 1e-8) / 127
                }
                let weights = layer.weight.indices.map {
                    Int8((layer.weight[$0] / scales[$0 / layer.inputs]).rounded(.toNearestOrEven))
                }
                return Int8Quantization.Layer(inputScale: 16 / 255, inputZeroPoint: 128, weightScales: scales, weights: weights)
            }
            let variants: [(String, ExportedWeights)] = [
                ("fp32", .fp32), ("fp16", .fp16), ("int8", .int8(.init(layers: layers, calibrationRows: 0, method: .minMax))),
            ]
            for (name, weights) in variants {
                for opset in [13, 17, 20, 21] {
                    let bytes = try ONNXExport.encode(model, weights: weights, opset: opset)
                    try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/\(file.dropLast(4)).\(name).opset\(opset).onnx"))
                }
            }
        }
    }
}
