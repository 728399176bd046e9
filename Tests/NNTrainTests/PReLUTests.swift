import Foundation
import Testing
@testable import NNTrain

/// The learned `prelu` (`PReLU`, nn.PReLU(num_parameters=width, init=0.25)): its forward and backward
/// against torch's rule written out in Double (ATen's `x > 0` test, x = 0 included), finite differences,
/// the slopes' exemption from weight decay in hand-computed SGD steps, He et al.'s initialisation,
/// mixed precision, resume, and the exports (state_dict names, ONNX's PRelu, neuron pruning's fold).
@Suite struct PReLUTests {
    /// A network 3 → [4] → 2 with prelu, its slopes set to `slopes` and its other parameters drawn.
    static func network(slopes: [Float] = [0.25, -0.5, 2, 0], batchNorm: Bool = false,
                        precision: Precision = .fp32) throws -> (Network, PReLU) {
        let network = Network.mlp(Network.MLPShape(inputWidth: 3, hidden: [4], outputWidth: 2, activation: .prelu(initial: 0.25),
                                                   batchNorm: batchNorm, precision: precision))
        var random = RandomGenerator(seed: 5)
        Initialization().apply(to: network, activation: .prelu(initial: 0.25), random: &random)
        let prelu = try #require(network.layers.compactMap { $0 as? PReLU }.first)
        for (j, a) in slopes.enumerated() { network.parameters.values.base[prelu.slope.offset + j] = a }
        return (network, prelu)
    }

    @Test func theNetworkHasAPReLULayerWithNamedSlopesAfterTheIdentityDenseOrNorm() throws {
        for batchNorm in [false, true] {
            let (network, _) = try Self.network(batchNorm: batchNorm)
            let slopes = try #require(network.parameters.tensor(named: "activations.0.weight"))
            #expect(slopes.shape == [4] && slopes.role == .slope)
            #expect(network.parameters.tensors.filter { $0.role == .slope }.count == 1)  // none after the output layer
            let kinds = network.layers.map { "\(type(of: $0))" }
            #expect(kinds == (batchNorm ? ["Dense", "BatchNorm", "PReLU", "Dense"] : ["Dense", "PReLU", "Dense"]))
            #expect(network.layers.compactMap { ($0 as? Dense)?.activation }.allSatisfy { $0 == .identity })
            #expect(network.layers.compactMap { ($0 as? BatchNorm)?.activation }.allSatisfy { $0 == .identity })
        }
    }

    /// y = x if x > 0 else a·x; dx = dy if x > 0 else a·dy; da = Σ_rows (0 if x > 0 else x·dy), in Double.
    @Test func forwardAndBackwardFollowATensRuleAtZeroToo() throws {
        let store = ParameterStore([("activations.0.weight", [3], .slope)])
        let slopes: [Float] = [0.25, -0.5, 2]
        for j in 0..<3 { store.values.base[j] = slopes[j] }
        let layer = PReLU(parameters: store, slope: store.tensors[0])
        let x: [Float] = [1.5, -2, 0, -0.75, 0, 3, 0, -1, -4]
        let dy: [Float] = [0.5, -1, 2, 3, 0.25, -2, -1.5, 4, 0.125]
        let xb = FloatBuffer(count: 9), yb = FloatBuffer(count: 9), gb = FloatBuffer(count: 9), dxb = FloatBuffer(count: 9)
        for i in 0..<9 { xb.base[i] = x[i]; gb.base[i] = dy[i] }
        layer.forward(xb.matrix(rows: 3, columns: 3), into: yb.matrix(rows: 3, columns: 3), training: true)
        layer.backward(input: xb.matrix(rows: 3, columns: 3), output: yb.matrix(rows: 3, columns: 3),
                       outputGradient: gb.matrix(rows: 3, columns: 3), inputGradient: dxb.matrix(rows: 3, columns: 3))
        var da = [Double](repeating: 0, count: 3)
        for i in 0..<9 {
            let a = Double(slopes[i % 3]), v = Double(x[i]), g = Double(dy[i])
            #expect(Double(yb.base[i]) == (v > 0 ? v : a * v), "y at \(i)")
            #expect(Double(dxb.base[i]) == (v > 0 ? g : a * g), "dx at \(i)")
            da[i % 3] += v > 0 ? 0 : v * g
        }
        // Hand-worked: column 0 has x = 1.5, −0.75, 0 → −0.75·3 = −2.25; column 1: −2·−1 + −1·4 = −2;
        // column 2: 0·2 + 3 (positive, nothing) + −4·0.125 = −0.5.
        #expect(da == [-2.25, -2, -0.5])
        #expect((0..<3).map { Double(store.gradients.base[$0]) } == da)
        #expect(yb.base[2] == 0 && dxb.base[2] == 2 * 2)  // x = 0: the left branch, a·dy, and no slope gradient
    }

    /// The fused kernel inference runs (`InferenceModel.Layer.activate`): each column's slope when given,
    /// else `initial` everywhere; its derivative tests z > 0, right for a negative slope too (y > 0 both sides).
    @Test func theFusedKernelTakesPerColumnSlopesOrTheInitialOne() {
        let y = FloatBuffer(count: 3), kept = FloatBuffer(count: 3), g = FloatBuffer(count: 3)
        var bias: [Float] = [-2, 0, 3], slopes: [Float] = [0.1, 0.2, 0.3]
        func apply(_ slopes: UnsafePointer<Float>?) -> [Float] {
            for j in 0..<3 { y.base[j] = 0 }
            bias.withUnsafeMutableBufferPointer { b in
                Activation.prelu(initial: -0.5).applyWithBias(y.matrix(rows: 1, columns: 3), bias: b.baseAddress!,
                                                              preActivation: kept.matrix(rows: 1, columns: 3),
                                                              precision: .fp32, slopes: slopes)
            }
            return (0..<3).map { y.base[$0] }
        }
        #expect(slopes.withUnsafeBufferPointer { apply($0.baseAddress) } == [-0.2, 0, 3])
        #expect(apply(nil) == [1, 0, 3])
        for j in 0..<3 { g.base[j] = 1 }
        Activation.prelu(initial: -0.5).backward(gradient: g.matrix(rows: 1, columns: 3), output: y.matrix(rows: 1, columns: 3),
                                                 preActivation: kept.matrix(rows: 1, columns: 3), precision: .fp32)
        #expect((0..<3).map { g.base[$0] } == [-0.5, -0.5, 1])
    }

    /// The layer's dL/dx against central differences of L = Σ c·y, away from the kink.
    @Test func inputGradientMatchesFiniteDifferences() throws {
        let store = ParameterStore([("activations.0.weight", [4], .slope)])
        let slopes: [Float] = [0.25, -0.5, 1.7, 0.01]
        for j in 0..<4 { store.values.base[j] = slopes[j] }
        let layer = PReLU(parameters: store, slope: store.tensors[0])
        var random = RandomGenerator(seed: 3)
        let x = (0..<12).map { _ in Float(random.nextGaussian()) }, c = (0..<12).map { _ in Float(random.nextGaussian()) }
        let xb = FloatBuffer(count: 12), yb = FloatBuffer(count: 12), gb = FloatBuffer(count: 12), dxb = FloatBuffer(count: 12)
        func loss() -> Double {
            layer.forward(xb.matrix(rows: 3, columns: 4), into: yb.matrix(rows: 3, columns: 4), training: true)
            return (0..<12).reduce(0) { $0 + Double(c[$1]) * Double(yb.base[$1]) }
        }
        for i in 0..<12 { xb.base[i] = x[i]; gb.base[i] = c[i] }
        _ = loss()
        layer.backward(input: xb.matrix(rows: 3, columns: 4), output: yb.matrix(rows: 3, columns: 4),
                       outputGradient: gb.matrix(rows: 3, columns: 4), inputGradient: dxb.matrix(rows: 3, columns: 4))
        let h: Float = 1e-3
        for i in 0..<12 {
            xb.base[i] = x[i] + h
            let plus = loss()
            xb.base[i] = x[i] - h
            let minus = loss()
            xb.base[i] = x[i]
            let numeric = (plus - minus) / (2 * Double(h))
            #expect(abs(Double(dxb.base[i]) - numeric) <= 1e-3, "dx[\(i)]: \(dxb.base[i]) vs \(numeric)")
        }
    }

    /// He et al. 2015's condition ½(1 + a²)·fan_in·Var[w] = 1: leaky_relu's gain with the initial slope,
    /// √(2/1.0625) for 0.25; the slopes start at their initial value and take no draw.
    @Test func initialisationUsesTheInitialSlopesGainAndSetsTheSlopes() throws {
        #expect(abs(Double(Initialization.gain(for: .prelu(initial: 0.25))) - (2 / 1.0625).squareRoot()) < 1e-6)
        func initialised(_ activation: Activation) -> Network {
            let network = Network.mlp(Network.MLPShape(inputWidth: 5, hidden: [6, 3], outputWidth: 2, activation: activation))
            var random = RandomGenerator(seed: 9)
            Initialization(scheme: .kaimingNormal).apply(to: network, activation: activation, random: &random)
            return network
        }
        let prelu = initialised(.prelu(initial: 0.1)), leaky = initialised(.leakyRelu(slope: 0.1))
        for name in ["layers.0.weight", "layers.1.bias", "layers.2.weight"] {
            let a = try #require(prelu.parameters.tensor(named: name)), b = try #require(leaky.parameters.tensor(named: name))
            #expect(prelu.parameters.valuesArray(of: a) == leaky.parameters.valuesArray(of: b), "\(name)")
        }
        let slopes = try #require(prelu.parameters.tensor(named: "activations.1.weight"))
        #expect(prelu.parameters.valuesArray(of: slopes) == [0.1, 0.1, 0.1])
    }

    /// Weight decay and L1 reach the linear layers, never the slopes, even with decay_batch_norm. Two SGD
    /// steps (lr 0.1, weight_decay 0.5) with every gradient 1: w ← w − 0.1·(1 + 0.5·w); a ← a − 0.1.
    @Test func sgdWithWeightDecayLeavesTheSlopesUndecayed() throws {
        let (network, prelu) = try Self.network(slopes: [0.25, 0.25, 0.25, 0.25], batchNorm: true)
        let store = network.parameters
        for decayBatchNorm in [false, true] {
            let groups = store.groups(decayBatchNorm: decayBatchNorm)
            let slopeRange = prelu.slope.offset..<(prelu.slope.offset + prelu.slope.count)
            // (merged with batch norm's no-decay run when decay_batch_norm is off)
            #expect(groups.contains { $0.range.contains(slopeRange.lowerBound) && $0.range.contains(slopeRange.upperBound - 1)
                && !$0.weightDecay })
            #expect(groups.filter(\.weightDecay).allSatisfy { !$0.range.overlaps(slopeRange) })
        }
        let sgd = SGD(groups: store.groups(decayBatchNorm: true), weightDecay: 0.5)
        let before = Array(store.values.storage.prefix(store.count))
        var expected = before.map(Double.init)
        for _ in 0..<2 {
            for i in 0..<store.count { store.gradients.base[i] = 1 }
            sgd.step(parameters: UnsafeMutableBufferPointer(start: store.values.base, count: store.count),
                     gradients: UnsafeBufferPointer(start: store.gradients.base, count: store.count), learningRate: 0.1,
                     momentum: nil)
            for tensor in store.tensors {
                for i in tensor.offset..<(tensor.offset + tensor.count) {
                    let decay = tensor.role == .slope ? 0 : 0.5 * Float(expected[i])
                    expected[i] = Double(Float(expected[i]) - 0.1 * (1 + decay))
                }
            }
        }
        let slopes = store.valuesArray(of: prelu.slope)
        #expect(slopes.allSatisfy { abs(Double($0) - 0.05) < 1e-6 })  // 0.25 − 2·0.1, no decay
        for i in 0..<store.count {
            #expect(abs(Double(store.values.base[i]) - expected[i]) < 1e-6, "parameter \(i)")
        }
    }

    /// fp16 as autocast's lower_precision_fp prelu: a rounded to binary16, y = round(a·x) below zero,
    /// da rounded by finishGradients as a linear layer's (batch norm's stay fp32).
    @Test func mixedPrecisionRoundsTheSlopeTheOutputAndItsGradient() throws {
        let store = ParameterStore([("activations.0.weight", [2], .slope)])
        store.values.base[0] = 0.1
        store.values.base[1] = 0.3
        let layer = PReLU(parameters: store, slope: store.tensors[0], precision: .fp16)
        let xb = FloatBuffer(count: 2), yb = FloatBuffer(count: 2)
        xb.base[0] = Binary16.rounded(-0.7)
        xb.base[1] = Binary16.rounded(-1.9)
        layer.forward(xb.matrix(rows: 1, columns: 2), into: yb.matrix(rows: 1, columns: 2), training: true)
        for j in 0..<2 {
            let a = Binary16.rounded(store.values.base[j])
            #expect(a != store.values.base[j])
            #expect(yb.base[j] == Binary16.rounded(a * xb.base[j]))
        }
        #expect(store.values.base[0] == 0.1)  // the master value is untouched
        let (network, prelu) = try Self.network(batchNorm: true, precision: .fp16)
        for i in 0..<network.parameters.count { network.parameters.gradients.base[i] = 0.1 }
        #expect(network.finishGradients(inverseScale: 0.5))
        #expect(network.parameters.gradients.base[prelu.slope.offset] == Float(Float16(0.1)) * 0.5)
    }

    /// The trained slopes go through the checkpoint and a resume bit for bit, with SGD's weight decay,
    /// L1, batch norm and dropout; they leave 0.25, and weight decay did not pull them all to one value.
    @Test func sgdWithBatchNormAndPReLUResumesBitForBit() throws {
        var config = ResumeTests.sgdConfig()
        config.model.activation = .prelu
        config.model.preluInit = 0.2
        try ResumeTests.expectSameRun(config, ResumeTests.classificationData(), stops: [3, 7, 12])
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        let slopes = try #require(trainer.network.parameters.tensor(named: "activations.1.weight"))
        let values = trainer.network.parameters.valuesArray(of: slopes)
        #expect(values.count == 12 && Set(values).count > 1 && !values.contains(0.2))
    }
}

/// prelu's exports: nn.PReLU in the state_dict's Sequential, PRelu in ONNX, its slopes in the inference model.
extension PReLUTests {
    static func trained() throws -> (checkpoint: Checkpoint, fingerprint: String) {
        try StateDictExportTests.checkpoint(batchNorm: false, dropout: 0, activation: .prelu)
    }

    @Test func theStateDictHasAnNNPReLUWithTheSlopesAsItsWeight() throws {
        let saved = try Self.trained()
        let export = try StateDictExportTests.export(saved)
        #expect(export.modules == [
            .linear(inputs: 3, outputs: 4), .prelu(features: 4), .linear(inputs: 4, outputs: 3), .prelu(features: 3),
            .linear(inputs: 3, outputs: 2),
        ])
        let file = try SafeTensors.decode(export.encoded(), path: "m.safetensors", dtypes: SafeTensors.DType.allCases)
        #expect(file.tensors.map(\.name) == ["0.weight", "0.bias", "1.weight", "2.weight", "2.bias", "3.weight",
                                             "4.weight", "4.bias"])
        for (position, name) in [("1", "activations.0.weight"), ("3", "activations.1.weight")] {
            let slopes = try StateDictExportTests.floats(saved, name)
            #expect(slopes.count == (position == "1" ? 4 : 3) && !slopes.allSatisfy { $0 == 0.25 })  // trained
            #expect(try #require(file[position + ".weight"]).elements(as: Float.self) == slopes)
            #expect(try #require(file[position + ".weight"]).shape == [slopes.count])
        }
        let python = export.python(path: "m.safetensors", schema: saved.checkpoint.inputSchema)
        #expect(python.contains("    nn.Linear(3, 4), nn.PReLU(num_parameters=4),\n"
            + "    nn.Linear(4, 3), nn.PReLU(num_parameters=3),\n"))
    }

    /// The inference model carries the slopes; its fp32 outputs are the network's in evaluation mode; the
    /// ONNX graph applies PRelu(z, slope [width]) after each hidden Gemm, fp16 through a Cast of binary16.
    @Test func theInferenceModelAndONNXApplyTheLearnedSlopes() throws {
        let saved = try Self.trained()
        let model = try InferenceModel(checkpoint: saved.checkpoint, fingerprint: saved.fingerprint, path: "last.bin")
        #expect(model.layers.map(\.slopes.count) == [4, 3, 0])
        #expect(model.layers[0].slopes == (try StateDictExportTests.floats(saved, "activations.0.weight")))
        #expect(ExportReport.Layer(model.layers[0]).activation == "prelu")
        let configuration = try saved.checkpoint.configuration(path: "last.bin")
        let network = try CheckpointEvaluation.model(of: saved.checkpoint, configuration: configuration, path: "last.bin")
        network.reserve(rows: 5)
        let x = FloatBuffer(count: 15)
        for i in 0..<15 { x.base[i] = Float(i % 7) * 0.6 - 2 }
        let expected = network.forward(x.matrix(rows: 5, columns: 3), training: false)
        let inference = QuantizedInference(model: model, weights: .fp32, rowCapacity: 5)
        let output = inference.forward(x.matrix(rows: 5, columns: 3))
        for i in 0..<10 { #expect(abs(output.base[i] - expected.base[i]) < 1e-5, "output \(i)") }

        let onnx = try ONNXExportTests.export(model)
        for (k, width) in [(0, 4), (1, 3)] {
            let node = try ONNXExportTests.node("layer\(k)/prelu", in: onnx)
            #expect(node.opType == "PRelu" && node.input == ["layer\(k)/linear", "layer\(k)/slope"])
            #expect(try ONNXExportTests.initializer("layer\(k)/slope", in: onnx).dims == [Int64(width)])
            #expect(try ONNXExportTests.floats("layer\(k)/slope", in: onnx) == model.layers[k].slopes)
        }
        #expect(try ONNXExportTests.node("layer1/linear", in: onnx).input.first == "layer0/prelu")
        #expect(!onnx.graph.node.contains { $0.output.first == "layer2/prelu" })
        let half = try ONNXExportTests.export(model, .fp16)
        let cast = try ONNXExportTests.node("layer0/slope", in: half)
        #expect(cast.opType == "Cast" && cast.input == ["layer0/slope_fp16"])
        #expect(try ONNXExportTests.initializer("layer0/slope_fp16", in: half).dataType == 10)  // FLOAT16
        #expect(QuantizationMode.none.modelBytes(of: model) == 4 * (3 * 4 + 4 + 4 + 4 * 3 + 3 + 3 + 3 * 2 + 2))
    }
}
