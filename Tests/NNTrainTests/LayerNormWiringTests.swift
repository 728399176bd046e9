import Foundation
import Testing
@testable import NNTrain

/// `model.norm: layer` through everything a model goes through (issue 20): the config and its alias
/// `batch_norm`, the network's tensors and weight decay, a mixed-precision run, the inference form
/// (against nn.LayerNorm's formula in Double), ONNX (LayerNormalization from opset 17, written out below
/// it) and the state_dict. `LayerNormTests` checks the layer itself; resume is in `ResumeTests`, the
/// whole network's gradient in `GradientCheckTests`.
@Suite struct LayerNormWiringTests {
    static let file = "configs/x.txt"

    static func parse(_ yaml: String) throws(NNTrainError) -> Configuration {
        try Configuration.parse(yaml: yaml, source: file)
    }

    static func configError(_ yaml: String) -> String? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            #expect(error.kind == .config)
            return error.message
        }
    }

    // MARK: Config

    @Test func normTakesNoneBatchOrLayerAndBatchNormIsItsAlias() throws {
        #expect(try Self.parse("seed: 1\n").model.norm == NormKind.none)
        #expect(try Self.parse("model: {norm: layer}\n").model.norm == .layer)
        #expect(try Self.parse("model: {norm: batch}\n").model.norm == .batch)
        #expect(try Self.parse("model: {batch_norm: true}\n").model.norm == .batch)
        #expect(try Self.parse("model: {batch_norm: false}\n").model.norm == NormKind.none)
        // Agreeing values, in either order.
        for yaml in ["model: {norm: batch, batch_norm: true}\n", "model: {batch_norm: true, norm: batch}\n"] {
            #expect(try Self.parse(yaml).model.norm == .batch, "\(yaml)")
        }
        for yaml in ["model: {norm: layer, batch_norm: false}\n", "model: {batch_norm: false, norm: layer}\n"] {
            #expect(try Self.parse(yaml).model.norm == .layer, "\(yaml)")
        }
        #expect(Self.configError("model: {norm: group}\n")
            == "configs/x.txt:1: model.norm: 'group' is not one of: none, batch, layer")
    }

    /// The two keys disagreeing is refused at the alias's line, with what would agree.
    @Test func conflictingNormAndBatchNormAreRefusedAtTheAliasLine() {
        #expect(Self.configError("model:\n  norm: layer\n  batch_norm: true\n") == "configs/x.txt:3: model.batch_norm: "
            + "is true, the older name of model.norm: batch, but model.norm is layer; expected batch_norm: false or "
            + "model.norm alone")
        #expect(Self.configError("model:\n  batch_norm: false\n  norm: batch\n") == "configs/x.txt:2: model.batch_norm: "
            + "is false, the older name of model.norm: none, but model.norm is batch; expected batch_norm: true or "
            + "model.norm alone")
        #expect(Self.configError("model:\n  batch_norm: true\n  norm: none\n") == "configs/x.txt:2: model.batch_norm: "
            + "is true, the older name of model.norm: batch, but model.norm is none; expected batch_norm: false or "
            + "model.norm alone")
    }

    /// The resolved YAML (a checkpoint's config) writes `norm` alone; an older one with `batch_norm: true`
    /// reads as `norm: batch`, and a resume from it sees no changed key.
    @Test func resolvedYAMLWritesNormAndOlderCheckpointsConfigsStillRead() throws {
        let layer = try Self.parse("model: {hidden: [8], norm: layer}\n")
        let yaml = layer.resolvedYAML()
        #expect(yaml.contains("\n  norm: layer\n") && !yaml.contains("\n  batch_norm:"))
        #expect(try Self.parse(yaml) == layer)
        let older = try Self.parse("model: {hidden: [8], batch_norm: true}\n")
        let newer = try Self.parse("model: {hidden: [8], norm: batch}\n")
        #expect(older == newer && newer.changedKeys(from: older).isEmpty)
        #expect(newer.changedKeys(from: layer) == ["model.norm"])
        #expect(Configuration.classifyForResume(["model.norm"]).refused == ["model.norm"])
        #expect(Configuration.defaultsYAML().contains("# batch_norm:"))
    }

    /// Neuron pruning removes units, which a layer norm's row statistics still count: refused at its line.
    @Test func neuronPruningWithLayerNormIsRefused() throws {
        #expect(Self.configError("model: {hidden: [8], norm: layer}\npruning:\n  method: neurons\n  sparsity: 0.5\n")
            == "configs/x.txt:3: pruning.method neurons removes hidden units, but with model.norm layer a removed unit "
            + "still counts in its row's mean and variance, so the smaller model would compute another function; "
            + "expected method: magnitude, or norm: batch or none")
        #expect(try Self.parse("model: {hidden: [8], norm: layer}\npruning: {method: magnitude, sparsity: 0.5}\n")
            .pruning.method == .magnitude)
        #expect(try Self.parse("model: {hidden: [8], norm: batch}\npruning: {method: neurons, sparsity: 0.5}\n")
            .pruning.method == .neurons)
    }

    // MARK: The network

    /// Dense → LayerNorm (the activation fused) per hidden layer; γ and β are `norms.<i>`, take no weight
    /// decay by default (as batch norm's) and do with decay_batch_norm.
    @Test func layerNormTensorsAndTheirWeightDecay() {
        let network = Network.mlp(Network.MLPShape(inputWidth: 3, hidden: [4, 2], outputWidth: 2, activation: .relu,
                                                   norm: .layer))
        #expect(network.layers.map { "\(type(of: $0))" } == ["Dense", "LayerNorm", "Dense", "LayerNorm", "Dense"])
        #expect(network.layers.compactMap { ($0 as? Dense)?.activation } == [.identity, .identity, .identity])
        #expect(network.layers.compactMap { ($0 as? LayerNorm)?.activation } == [.relu, .relu])
        #expect(network.parameters.tensors.map(\.name) == [
            "layers.0.weight", "layers.0.bias", "norms.0.weight", "norms.0.bias",
            "layers.1.weight", "layers.1.bias", "norms.1.weight", "norms.1.bias", "layers.2.weight", "layers.2.bias",
        ])
        // 12 + 4 | 4 + 4 | 8 + 2 | 2 + 2 | 4 + 2
        #expect(network.parameters.groups(decayBatchNorm: false).map { [$0.range.lowerBound, $0.range.upperBound] }
            == [[0, 16], [16, 24], [24, 34], [34, 38], [38, 44]])
        #expect(network.parameters.groups(decayBatchNorm: false).map(\.weightDecay) == [true, false, true, false, true])
        #expect(network.parameters.groups(decayBatchNorm: true).map(\.weightDecay) == [true])
        var random = RandomGenerator(seed: 1)
        Initialization().apply(to: network, activation: .relu, random: &random)
        let gamma = network.parameters.tensor(named: "norms.1.weight")!, beta = network.parameters.tensor(named: "norms.1.bias")!
        #expect(network.parameters.valuesArray(of: gamma) == [1, 1] && network.parameters.valuesArray(of: beta) == [0, 0])
    }

    /// 40 rows of 3 features in two classes (x0 > 0), a table.
    static func data() -> TrainingData {
        var random = RandomGenerator(seed: 5)
        let features = (0..<120).map { _ in Float(random.nextGaussian()) }
        let dataset = Dataset(name: "t", features: .floats(features), featureCount: 3, featureNames: ["x0", "x1", "x2"],
                              targets: .classes((0..<40).map { features[3 * $0] > 0 ? 1 : 0 }), classNames: ["no", "yes"],
                              targetName: "y")
        return TrainingData(train: dataset, validation: dataset.subset([]), test: dataset,
                            normalizer: Normalizer(fitting: dataset, mode: .standardize), schema: .columns(of: dataset))
    }

    /// A 3-6-4-2 model with layer norm and `activation`, trained 3 epochs, as a checkpoint.
    static func checkpoint(activation: ActivationKind = .gelu, precision: Precision = .fp32, norm: NormKind = .layer)
        throws -> Checkpoint
    {
        var config = Configuration()
        config.model.hidden = [6, 4]
        config.model.norm = norm
        config.model.activation = activation
        config.training.precision = precision
        config.training.lossScale = precision.defaultLossScaling
        config.training.epochs = 3
        config.training.batchSize = .rows(8)
        let trainer = Trainer(configuration: config, data: data())
        _ = try trainer.train()
        #expect(trainer.state.history.allSatisfy { $0.trainLoss.isFinite })
        let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).contents())
        return try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
    }

    /// nn.LayerNorm then the activation, in Double, from the inference form's arrays.
    static func reference(_ model: InferenceModel, _ x: [Double]) -> [Double] {
        var h = x
        for layer in model.layers {
            var z = (0..<layer.outputs).map { j in
                Double(layer.bias[j]) + (0..<layer.inputs).reduce(0) { $0 + Double(layer.weight[j * layer.inputs + $1]) * h[$1] }
            }
            if let norm = layer.layerNorm {
                let mean = z.reduce(0, +) / Double(z.count)
                let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(z.count)
                z = z.indices.map { j in
                    Double(norm.scale[j]) * (z[j] - mean) / (variance + 1e-5).squareRoot() + Double(norm.shift[j])
                }
            }
            h = z.map { Double(layer.activation.value(at: Float($0))) }
        }
        return h
    }

    /// The inference form keeps the layer norm (it cannot fold), and computes, in float32, what the network
    /// computes and what the formula gives in Double; fp16 mixed precision trains it with finite losses.
    @Test(arguments: [Precision.fp32, .fp16, .bf16])
    func inferenceFormComputesTheFormula(precision: Precision) throws {
        let checkpoint = try Self.checkpoint(activation: .gelu, precision: precision)
        #expect(checkpoint.architecture == "3-6-4-2 gelu, layer norm" && checkpoint.batchNormNames.isEmpty)
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: "last.bin")
        #expect(model.layers.map { $0.layerNorm != nil } == [true, true, false])
        #expect(model.layers.map(\.activation) == [.gelu, .gelu, .identity])
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: checkpoint.configuration(path: "c"),
                                                     path: "c")
        #expect(model.layers[0].layerNorm?.scale
            == network.parameters.valuesArray(of: network.parameters.tensor(named: "norms.0.weight")!))
        #expect(model.layers[1].layerNorm?.shift
            == network.parameters.valuesArray(of: network.parameters.tensor(named: "norms.1.bias")!))
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
                for c in 0..<2 {
                    #expect(abs(Double(exportedValues[r * 2 + c]) - expected[c]) <= 1e-5 * max(1, abs(expected[c])))
                    // mixed precision's network rounds its activations; the exported file computes in float32
                    let tolerance = precision == .fp32 ? 1e-5 : 5e-2
                    #expect(abs(Double(trainedValues[r * 2 + c]) - expected[c]) <= tolerance * max(1, abs(expected[c])))
                }
            }
        }
        // A layer norm's γ and β: float32 in every format.
        let bytes = QuantizationMode.none.modelBytes(of: model)
        #expect(bytes == 4 * (3 * 6 + 6 + 6 * 4 + 4 + 4 * 2 + 2) + 8 * (6 + 4))
    }

    /// A checkpoint written before `model.norm` has `batch_norm: true` in its config: eval, predict and
    /// resume read it as `norm: batch` (the same network, and no changed key against today's config).
    @Test func aCheckpointWithTheOlderBatchNormKeyStillReads() throws {
        let current = try Self.checkpoint(activation: .relu, norm: .batch)
        var contents = try current.contents()
        let yaml = try #require(contents.metadata["nntrain.config"])
        #expect(yaml.contains("\n  norm: batch\n") && !yaml.contains("\n  batch_norm:"))
        contents.metadata["nntrain.config"] = yaml.replacingOccurrences(of: "\n  norm: batch\n", with: "\n  batch_norm: true\n")
        let older = try Checkpoint(contents: contents, path: "old.bin")
        let configuration = try older.configuration(path: "old.bin")
        #expect(configuration.model.norm == .batch)
        #expect(try current.configuration(path: "c").changedKeys(from: configuration).isEmpty)
        let network = try CheckpointEvaluation.model(of: older, configuration: configuration, path: "old.bin")
        #expect(network.layers.map { "\(type(of: $0))" } == ["Dense", "BatchNorm", "Dense", "BatchNorm", "Dense"])
        #expect(try InferenceModel(checkpoint: older, fingerprint: "", path: "old.bin").architecture
            == "3-6-4-2 relu, batch norm (folded)")
    }

    // MARK: Export

    static func nodes(_ onnx: Onnx_ModelProto) -> [String] { onnx.graph.node.map(\.opType) }

    /// Opset 17: LayerNormalization (axis −1, ε 1e-5, Scale γ, B β) between Gemm and the activation;
    /// below 17 its arithmetic written out, with ReduceMean's axes an attribute.
    @Test func onnxUsesLayerNormalizationFromOpset17AndWritesItOutBelow() throws {
        let checkpoint = try Self.checkpoint(activation: .relu)
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: "last.bin")
        let onnx = try ONNXExportTests.export(model, opset: 17)
        let gemmToRelu = ["Gemm", "LayerNormalization", "Relu"]
        let operators = Self.nodes(onnx)
        #expect(Array(operators.suffix(8)) == gemmToRelu + gemmToRelu + ["Gemm", "Softmax"])
        let norm = try #require(onnx.graph.node.first { $0.opType == "LayerNormalization" })
        #expect(norm.input.count == 3 && norm.input[1] == "layer0/norm/scale" && norm.input[2] == "layer0/norm/shift")
        #expect(norm.attribute.first { $0.name == "axis" }?.i == -1)
        #expect(norm.attribute.first { $0.name == "epsilon" }?.f == 1e-5)
        #expect(try ONNXExportTests.floats("layer0/norm/scale", in: onnx) == model.layers[0].layerNorm?.scale)
        #expect(try ONNXExportTests.floats("layer1/norm/shift", in: onnx) == model.layers[1].layerNorm?.shift)
        #expect(ONNXExportTests.metadata(onnx)["architecture"] == "3-6-4-2 relu, layer norm")

        let old = try ONNXExportTests.export(model, opset: 13)
        #expect(!Self.nodes(old).contains("LayerNormalization"))
        let written = ["ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"]
        #expect(Self.nodes(old).filter { $0 != "Gemm" && $0 != "Relu" }.suffix(2 * written.count + 1)
            == ArraySlice(written + written + ["Softmax"]))
        let mean = try #require(old.graph.node.first { $0.opType == "ReduceMean" })
        #expect(mean.attribute.first { $0.name == "axes" }?.ints == [-1])
        #expect(mean.attribute.first { $0.name == "keepdims" }?.i == 1)
        #expect(try ONNXExportTests.floats("layer0/norm/epsilon", in: old) == [1e-5])
        // int8: the layer norm stays a float operation after the QDQ product.
        let int8 = try ONNXExportTests.export(model, .int8(ONNXExportTests.quantization(of: model)), opset: 17)
        #expect(Self.nodes(int8).filter { $0 == "LayerNormalization" }.count == 2)
    }

    /// nn.LayerNorm(h) at the batch norm's position, with weight and bias only (no running statistics).
    @Test func stateDictHasNNLayerNormWithWeightAndBias() throws {
        let checkpoint = try Self.checkpoint(activation: .tanh)
        let export = try StateDictExport(checkpoint: checkpoint, fingerprint: "0", path: "last.bin", quantization: .none)
        #expect(export.modules == [
            .linear(inputs: 3, outputs: 6), .layerNorm(features: 6), .activation(.tanh),
            .linear(inputs: 6, outputs: 4), .layerNorm(features: 4), .activation(.tanh), .linear(inputs: 4, outputs: 2),
        ])
        #expect(export.contents.tensors.map(\.name) == [
            "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias", "6.weight", "6.bias",
        ])
        #expect(try export.contents["4.weight"]?.elements(as: Float.self)
            == checkpoint.contents()["norms.1.weight"]?.elements(as: Float.self))
        let python = export.python(path: "m.safetensors", schema: checkpoint.inputSchema)
        #expect(python.contains("    nn.Linear(3, 6), nn.LayerNorm(6), nn.Tanh(),\n"))
        #expect(export.contents.metadata["nntrain.architecture"] == "3-6-4-2 tanh, layer norm")
    }
}
