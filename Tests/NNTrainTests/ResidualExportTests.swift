import Foundation
import Testing

@testable import NNTrain

/// Export of residual models (`model.residual`): the inference form carries each block's shortcut, and its
/// forward passes (`QuantizedInference`) compute what the network computes in evaluation mode.
@Suite struct ResidualExportTests {
    /// A 3-6-6-4-2 residual model (an identity shortcut around layer 1, a projection 6→4 around layer 2) with
    /// `norm`, gelu and dropout, trained 3 epochs on `LayerNormWiringTests.data()`, as a checkpoint.
    static func checkpoint(norm: NormKind = .none, activation: ActivationKind = .gelu) throws -> Checkpoint {
        var config = Configuration()
        config.model.hidden = [6, 6, 4]
        config.model.residual = true
        config.model.norm = norm
        config.model.activation = activation
        config.model.dropout = 0.1
        config.training.epochs = 3
        config.training.batchSize = .rows(8)
        let trainer = Trainer(configuration: config, data: LayerNormWiringTests.data())
        _ = try trainer.train()
        let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).contents())
        return try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
    }

    /// The residual forward pass written out in Double from the inference form: each layer
    /// h' = f(LN?(h Wᵀ + b)) (+ h, or + h Pᵀ), with `round` applied to every stored weight (fp16's binary16).
    static func reference(_ model: InferenceModel, _ x: [Double], round: (Float) -> Float = { $0 }) -> [Double] {
        var h = x
        for layer in model.layers {
            var z = (0..<layer.outputs).map { j in
                (0..<layer.inputs).reduce(Double(round(layer.bias[j]))) {
                    $0 + Double(round(layer.weight[j * layer.inputs + $1])) * h[$1]
                }
            }
            if let norm = layer.layerNorm {
                let mean = z.reduce(0, +) / Double(z.count)
                let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(z.count)
                z = z.indices.map { j in
                    Double(norm.scale[j]) * (z[j] - mean) / (variance + 1e-5).squareRoot() + Double(norm.shift[j])
                }
            }
            var y = z.map { Double(layer.activation.value(at: Float($0))) }
            switch layer.shortcut {
            case nil: break
            case .identity: y = y.indices.map { y[$0] + h[$0] }
            case .projection(let p):
                y = y.indices.map { j in
                    (0..<layer.inputs).reduce(y[j]) { $0 + Double(round(p[j * layer.inputs + $1])) * h[$1] }
                }
            }
            h = y
        }
        return h
    }

    /// The inference form has an identity shortcut on layer 1 and the projection `shortcuts.2.weight` on layer 2,
    /// and its float32 forward pass equals the network's in evaluation mode (to 1e-6) and the Double formula.
    @Test(arguments: [NormKind.none, .batch, .layer])
    func inferenceFormComputesTheResidualNetwork(norm: NormKind) throws {
        let checkpoint = try Self.checkpoint(norm: norm)
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: "last.bin")
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: checkpoint.configuration(path: "c"),
                                                     path: "c")
        let projection = network.parameters.valuesArray(of: try #require(network.parameters.tensor(named: "shortcuts.2.weight")))
        #expect(projection.count == 24)
        #expect(model.layers.map(\.shortcut) == [nil, .identity, .projection(projection), nil])
        #expect(model.layers.map { ExportReport.Layer($0).shortcut } == [nil, "identity", "projection", nil])
        let rows = 5
        var random = RandomGenerator(seed: 9)
        var x = (0..<(rows * 3)).map { _ in Float(random.nextGaussian()) }
        let inference = QuantizedInference(model: model, weights: .fp32, rowCapacity: rows)
        network.reserve(rows: rows)
        x.withUnsafeMutableBufferPointer { buffer in
            let input = MatrixView(base: buffer.baseAddress!, rows: rows, columns: 3)
            let exported = inference.forward(input)
            let exportedValues = Array(UnsafeBufferPointer(start: exported.base, count: exported.count))
            let trained = network.forward(input, training: false)
            let trainedValues = Array(UnsafeBufferPointer(start: trained.base, count: trained.count))
            for r in 0..<rows {
                let expected = Self.reference(model, (0..<3).map { Double(buffer[r * 3 + $0]) })
                // Without its shortcuts the model computes something else: the test can tell.
                var plain = model
                for k in plain.layers.indices { plain.layers[k].shortcut = nil }
                let unskipped = Self.reference(plain, (0..<3).map { Double(buffer[r * 3 + $0]) })
                #expect(zip(unskipped, expected).contains { abs($0 - $1) > 1e-3 })
                for c in 0..<2 {
                    let e = exportedValues[r * 2 + c], t = trainedValues[r * 2 + c]
                    #expect(abs(e - t) <= 1e-6 * max(1, abs(t)), "\(e) vs \(t)")
                    #expect(abs(Double(e) - expected[c]) <= 1e-5 * max(1, abs(expected[c])))
                }
            }
        }
    }

    /// fp16 rounds P as it rounds W and b (binary16 values), and counts it at 2 bytes a weight; int8 keeps P float32.
    @Test func fp16RoundsTheProjectionAndModelBytesCountIt() throws {
        let checkpoint = try Self.checkpoint()
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: "last.bin")
        var x: [Float] = [0.3, -1.2, 0.7]
        let inference = QuantizedInference(model: model, weights: .fp16, rowCapacity: 1)
        let output = x.withUnsafeMutableBufferPointer { buffer in
            let y = inference.forward(MatrixView(base: buffer.baseAddress!, rows: 1, columns: 3))
            return Array(UnsafeBufferPointer(start: y.base, count: y.count))
        }
        let expected = Self.reference(model, x.map(Double.init), round: Binary16.rounded)
        for c in 0..<2 { #expect(abs(Double(output[c]) - expected[c]) <= 1e-5 * max(1, abs(expected[c]))) }
        let weightsAndBiases = 3 * 6 + 6 + 6 * 6 + 6 + 6 * 4 + 4 + 4 * 2 + 2
        #expect(QuantizationMode.none.modelBytes(of: model) == 4 * (weightsAndBiases + 24))
        #expect(QuantizationMode.fp16.modelBytes(of: model) == 2 * (weightsAndBiases + 24))
        // The export report names each layer's shortcut.
        let text = ExportReport(checkpoint: "c.bin", out: "m.onnx", format: "onnx", quantization: .fp16, model: model).text()
        #expect(text.contains("\n  1  6 → 6  gelu, + input\n  2  6 → 4  gelu, + input · Pᵀ\n  3  4 → 2  none\n"), "\(text)")
    }

    /// A hand-built 2×3-pixel residual classifier 6 → 4 relu → 4 relu (+ h) → 2 relu (+ h Pᵀ, P [2, 4] = i/10) → 3.
    static func residualImageModel() -> InferenceModel {
        var model = ONNXExportTests.imageModel(activation: .relu)
        func layer(_ inputs: Int, _ outputs: Int, _ activation: Activation) -> InferenceModel.Layer {
            InferenceModel.Layer(inputs: inputs, outputs: outputs, weight: (0..<inputs * outputs).map { Float($0) / 10 - 1 },
                                 bias: (0..<outputs).map { Float($0) / 4 }, activation: activation)
        }
        model.layers = [layer(6, 4, .relu), layer(4, 4, .relu), layer(4, 2, .relu), layer(2, 3, .identity)]
        model.layers[1].shortcut = .identity
        model.layers[2].shortcut = .projection((0..<8).map { Float($0) / 10 })
        return model
    }

    /// ONNX: Add(activation, input) after layer 1, Add(activation, MatMul(input, Pᵀ)) after layer 2 with Pᵀ [4, 2]
    /// stored float32 (fp32, int8) or FLOAT16 and a Cast (fp16), in every opset; int8's next layer quantizes the sum.
    @Test(arguments: [13, 17, 21])
    func onnxAddsTheShortcutAfterTheActivation(opset: Int) throws {
        let model = Self.residualImageModel()
        let transposed: [Float] = [0, 0.4, 0.1, 0.5, 0.2, 0.6, 0.3, 0.7]  // P [2, 4] = k/10, as [4, 2]
        let fp32 = try ONNXExportTests.export(model, .fp32, opset: opset)
        #expect(fp32.graph.node.map(\.opType) == ["Mul", "Gemm", "Relu", "Gemm", "Relu", "Add", "Gemm", "Relu", "MatMul",
                                                  "Add", "Gemm", "Softmax"])
        #expect(try ONNXExportTests.node("layer1/residual", in: fp32).input == ["layer1/relu", "layer0/relu"])
        #expect(try ONNXExportTests.node("layer2/linear", in: fp32).input.first == "layer1/residual")
        #expect(try ONNXExportTests.node("layer2/shortcut", in: fp32).input == ["layer1/residual", "layer2/shortcut_weight"])
        #expect(try ONNXExportTests.node("layer2/residual", in: fp32).input == ["layer2/relu", "layer2/shortcut"])
        #expect(try ONNXExportTests.node("logits", in: fp32).input.first == "layer2/residual")
        let weight = try ONNXExportTests.initializer("layer2/shortcut_weight", in: fp32)
        #expect(weight.dataType == 1 && weight.dims == [4, 2] && ONNXExportTests.floats(weight) == transposed)

        let fp16 = try ONNXExportTests.export(model, .fp16, opset: opset)
        let stored = try ONNXExportTests.initializer("layer2/shortcut_weight_fp16", in: fp16)
        #expect(stored.dataType == 10 && stored.dims == [4, 2])
        let cast = try ONNXExportTests.node("layer2/shortcut_weight", in: fp16)
        #expect(cast.opType == "Cast" && cast.input == ["layer2/shortcut_weight_fp16"])
        #expect(try ONNXExportTests.node("layer2/shortcut", in: fp16).input == ["layer1/residual", "layer2/shortcut_weight"])

        let int8 = try ONNXExportTests.export(model, .int8(ONNXExportTests.quantization(of: model)), opset: opset)
        let int8Weight = try ONNXExportTests.initializer("layer2/shortcut_weight", in: int8)
        #expect(int8Weight.dataType == 1 && ONNXExportTests.floats(int8Weight) == transposed)
        #expect(try ONNXExportTests.node("layer1/residual", in: int8).input == ["layer1/relu", "layer0/relu"])
        #expect(try ONNXExportTests.node("layer2/input_quantized", in: int8).input.first == "layer1/residual")
        #expect(try ONNXExportTests.node("layer3/input_quantized", in: int8).input.first == "layer2/residual")
    }

    /// A shortcut of the wrong shape is refused in one line, not written.
    @Test func onnxRefusesAShortcutOfAnotherShape() throws {
        var model = Self.residualImageModel()
        model.layers[2].shortcut = .identity  // 4 → 2: widths differ
        model.layers[2].inputs = 4
        #expect(throws: NNTrainError(.data, "ONNX export: layer 2 (4→2) has a shortcut of another shape; expected an identity "
            + "of equal widths or a projection [2, 4]")) {
            try ONNXExport.encode(model, weights: .fp32, opset: 17)
        }
    }

    /// safetensors: a residual model's state_dict is ResidualMLP's, block i's modules under `layers.<i>.<position>`
    /// and the projection as `shortcuts.2.weight` [4, 6] (the checkpoint's values), and the printed Python defines
    /// that class, with block 1 in `identity` and block 2's nn.Linear(6, 4, bias=False).
    @Test func safetensorsHoldTheResidualMLPsStateDict() throws {
        let checkpoint = try Self.checkpoint(norm: .batch)
        let export = try StateDictExport(checkpoint: checkpoint, fingerprint: "", path: "last.bin", quantization: .none)
        #expect(export.shortcuts == [.init(block: 1, projected: false), .init(block: 2, projected: true)])
        let file = try SafeTensors.decode(export.encoded(), path: "m.safetensors", dtypes: SafeTensors.DType.allCases)
        func block(_ i: Int, _ inputs: Int, _ outputs: Int) -> [(String, [Int])] {
            [("layers.\(i).0.weight", [outputs, inputs]), ("layers.\(i).0.bias", [outputs]),
             ("layers.\(i).1.weight", [outputs]), ("layers.\(i).1.bias", [outputs]),
             ("layers.\(i).1.running_mean", [outputs]), ("layers.\(i).1.running_var", [outputs]),
             ("layers.\(i).1.num_batches_tracked", [])]
        }
        let expected = block(0, 3, 6) + block(1, 6, 6) + block(2, 6, 4)
            + [("layers.3.0.weight", [2, 4]), ("layers.3.0.bias", [2]), ("shortcuts.2.weight", [4, 6])]
        #expect(file.tensors.map(\.name) == expected.map(\.0))
        #expect(file.tensors.map(\.tensor.shape) == expected.map(\.1))
        let contents = try checkpoint.contents()
        for (name, source) in [("shortcuts.2.weight", "shortcuts.2.weight"), ("layers.2.0.weight", "layers.2.weight"),
                               ("layers.1.1.running_var", "norms.1.running_var")] {
            let expected = try #require(contents[source]).elements(as: Float.self)
            #expect(try #require(file[name]).elements(as: Float.self) == expected, "\(name)")
        }
        let python = export.python(path: "m.safetensors", schema: checkpoint.inputSchema)
        for line in [
            "class ResidualMLP(nn.Module):",
            "            nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.GELU(), nn.Dropout(p=0.1)),",
            "            nn.Sequential(nn.Linear(4, 2)),",
            "        self.identity = {1}",
            "        self.shortcuts = nn.ModuleDict({\"2\": nn.Linear(6, 4, bias=False)})",
            "                y = y + self.shortcuts[str(i)](x)",
            "model = ResidualMLP()",
        ] {
            #expect(python.contains(line + "\n"), "\(line)")
        }
        #expect(!python.contains("nn.Sequential(\n"))
    }
}
