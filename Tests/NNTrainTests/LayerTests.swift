import Foundation
import Testing
@testable import NNTrain

@Suite struct DropoutTests {
    @Test func trainingZeroesAboutPAndScalesTheRestEvalPassesThrough() {
        let rows = 200, width = 50, p: Float = 0.3
        let layer = Dropout(width: width, probability: p, random: RandomGenerator(seed: 1))
        layer.reserve(rows: rows)
        let x = FloatBuffer(count: rows * width), y = FloatBuffer(count: rows * width)
        for i in 0..<x.count { x.base[i] = Float(i % 7) + 1 }
        layer.forward(x.matrix(rows: rows, columns: width), into: y.matrix(rows: rows, columns: width), training: true)
        var zeros = 0
        for i in 0..<y.count {
            if y.base[i] == 0 { zeros += 1 } else { #expect(abs(y.base[i] - x.base[i] / (1 - p)) < 1e-5) }
        }
        // 10,000 Bernoulli(0.3) draws: mean 3000, standard deviation 46.
        #expect(abs(zeros - 3000) < 200)
        // Backward multiplies by the same mask.
        let dy = FloatBuffer(count: rows * width), dx = FloatBuffer(count: rows * width)
        for i in 0..<dy.count { dy.base[i] = 1 }
        layer.backward(input: x.matrix(rows: rows, columns: width), output: y.matrix(rows: rows, columns: width),
                       outputGradient: dy.matrix(rows: rows, columns: width),
                       inputGradient: dx.matrix(rows: rows, columns: width))
        for i in 0..<dx.count { #expect(dx.base[i] == (y.base[i] == 0 ? 0 : 1 / (1 - p))) }
        layer.forward(x.matrix(rows: rows, columns: width), into: y.matrix(rows: rows, columns: width), training: false)
        for i in 0..<y.count { #expect(y.base[i] == x.base[i]) }
    }
}

@Suite struct BatchNormTests {
    /// One feature, batch (1, 2, 3, 6): μ = 3, biased σ² = 3.5, unbiased 14/3.
    @Test func normalisesWithBatchStatisticsAndTracksRunningOnes() {
        let network = Network.mlp(Network.MLPShape(inputWidth: 1, hidden: [1], outputWidth: 1, activation: .relu,
                                                   batchNorm: true))
        network.reserve(rows: 4)
        let norm = network.layers.compactMap { $0 as? BatchNorm }[0]
        var random = RandomGenerator(seed: 0)
        Initialization().apply(to: network, activation: .relu, random: &random)
        let values = network.parameters.values.base
        values[network.parameters.tensor(named: "layers.0.weight")!.offset] = 1  // the product passes x through
        values[network.parameters.tensor(named: "layers.0.bias")!.offset] = 0
        values[network.parameters.tensor(named: "norms.0.weight")!.offset] = 2  // γ
        values[network.parameters.tensor(named: "norms.0.bias")!.offset] = 0.5  // β
        let x = FloatBuffer(count: 4)
        for (i, v) in [Float(1), 2, 3, 6].enumerated() { x.base[i] = v }
        _ = network.forward(x.matrix(rows: 4, columns: 1), training: true)
        let inverseStd = 1 / (3.5 + 1e-5).squareRoot()
        #expect(abs(Double(norm.runningMean[0]) - 0.3) < 1e-6)  // 0.9·0 + 0.1·3
        #expect(abs(Double(norm.runningVariance[0]) - (0.9 + 0.1 * 14.0 / 3)) < 1e-6)
        // The second layer's input is relu(γ·x̂ + β): for x = 6, 2·3·inverseStd + 0.5.
        let hidden = network.layers[1]
        let y = FloatBuffer(count: 4)
        hidden.forward(x.matrix(rows: 4, columns: 1), into: y.matrix(rows: 4, columns: 1), training: false)
        // Eval mode uses the running statistics instead: (6 − 0.3)/√(running var + ε)·2 + 0.5.
        let runningStd = (Double(norm.runningVariance[0]) + 1e-5).squareRoot()
        #expect(abs(Double(y.base[3]) - ((6 - 0.3) / runningStd * 2 + 0.5)) < 1e-5)
        hidden.forward(x.matrix(rows: 4, columns: 1), into: y.matrix(rows: 4, columns: 1), training: true)
        #expect(abs(Double(y.base[3]) - (2 * 3 * inverseStd + 0.5)) < 1e-5)
        #expect(y.base[0] == 0)  // 2·(−2)·inverseStd + 0.5 < 0, cut by relu
    }

    @Test func batchNormParametersTakeNoWeightDecayByDefault() {
        let network = Network.mlp(Network.MLPShape(inputWidth: 3, hidden: [4], outputWidth: 2, activation: .relu,
                                                   batchNorm: true))
        // layers.0.weight [4,3] = 0..<12, layers.0.bias 12..<16, norms.0.* 16..<24, layers.1.* 24..<34.
        #expect(network.parameters.groups(decayBatchNorm: false) == [
            ParameterGroup(range: 0..<16, weightDecay: true), ParameterGroup(range: 16..<24, weightDecay: false),
            ParameterGroup(range: 24..<34, weightDecay: true),
        ])
        #expect(network.parameters.groups(decayBatchNorm: true) == [ParameterGroup(range: 0..<34, weightDecay: true)])
    }
}

@Suite struct InitializationTests {
    /// The standard deviation of each scheme for a 300 → 200 layer with relu (gain √2):
    /// U(±b) has std b/√3, so default's is 1/√300/√3, xavier's √(2/500), kaiming's √2/√300.
    static let expectedStd: [(InitializationKind, Double)] = [
        (.default, 1 / 300.0.squareRoot() / 3.0.squareRoot()),
        (.xavierUniform, 0.004.squareRoot()),
        (.xavierNormal, 0.004.squareRoot()),
        (.kaimingUniform, (2.0 / 300).squareRoot()),
        (.kaimingNormal, (2.0 / 300).squareRoot()),
        (.lecunNormal, (1.0 / 300).squareRoot()),
        (.normal, 0.05),
    ]

    /// Sample statistics of one 200×300 weight against each scheme's distribution.
    @Test(arguments: expectedStd)
    func weightsHaveTheSchemesStandardDeviation(scheme: InitializationKind, std: Double) throws {
        let network = Network.mlp(Network.MLPShape(inputWidth: 300, hidden: [], outputWidth: 200, activation: .relu))
        var random = RandomGenerator(seed: 9)
        Initialization(scheme: scheme, bias: .zero, std: 0.05).apply(to: network, activation: .relu, random: &random)
        let weight = try #require(network.parameters.tensor(named: "layers.0.weight"))
        let values = network.parameters.valuesArray(of: weight).map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let sampleStd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        // 60,000 draws: the sample std is within 1% of the true one with overwhelming probability.
        #expect(abs(sampleStd / std - 1) < 0.01, "\(scheme): std \(sampleStd), expected \(std)")
        #expect(abs(mean) < 4 * std / 60_000.0.squareRoot())
        let bias = try #require(network.parameters.tensor(named: "layers.0.bias"))
        #expect(network.parameters.valuesArray(of: bias).allSatisfy { $0 == 0 })
    }

    @Test func uniformRangeAndGains() throws {
        let network = Network.mlp(Network.MLPShape(inputWidth: 10, hidden: [], outputWidth: 10, activation: .tanh))
        var random = RandomGenerator(seed: 2)
        Initialization(scheme: .uniform, range: (-0.2, 0.3)).apply(to: network, activation: .tanh, random: &random)
        let weight = try #require(network.parameters.tensor(named: "layers.0.weight"))
        #expect(network.parameters.valuesArray(of: weight).allSatisfy { $0 >= -0.2 && $0 < 0.3 })
        #expect(Initialization.gain(for: .tanh) == 5.0 / 3)
        #expect(abs(Initialization.gain(for: .leakyRelu(slope: 0.01)) - (2 / 1.0001).squareRoot()) < 1e-6)
        #expect(Initialization.gain(for: .sigmoid) == 1)
        // torch.nn.init.calculate_gain('selu') is 3/4; the rectifier-like ones calculate_gain refuses take relu's.
        #expect(Initialization.gain(for: .selu) == 0.75)
        for activation: Activation in [.elu(alpha: 1), .mish, .softplus(beta: 1, threshold: 20), .hardswish] {
            #expect(Initialization.gain(for: activation) == Float(2).squareRoot())
        }
    }

    /// SELU's weights are LeCun normal unless `model.init` says otherwise (nn.SELU's advice:
    /// kaiming_normal_ with nonlinearity='linear'); kaiming_normal with selu takes calculate_gain's 3/4.
    @Test func seluDefaultsToLeCunNormal() throws {
        func initialization(_ yaml: String) throws -> InitializationKind {
            try Configuration.parse(yaml: yaml, source: "c.txt").model.initialization
        }
        #expect(try initialization("model: {activation: selu}") == .lecunNormal)
        #expect(try initialization("model: {activation: selu, init: default}") == .default)
        #expect(try initialization("model: {activation: selu, init: kaiming_normal}") == .kaimingNormal)
        #expect(try initialization("model: {activation: elu}") == .default)
        let network = Network.mlp(Network.MLPShape(inputWidth: 400, hidden: [], outputWidth: 200, activation: .selu))
        for (scheme, std) in [(InitializationKind.lecunNormal, 0.05), (.kaimingNormal, 0.75 * 0.05)] {
            var random = RandomGenerator(seed: 4)
            Initialization(scheme: scheme, bias: .zero).apply(to: network, activation: .selu, random: &random)
            let weight = try #require(network.parameters.tensor(named: "layers.0.weight"))
            let values = network.parameters.valuesArray(of: weight).map(Double.init)
            let sampleStd = (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot()
            #expect(abs(sampleStd / std - 1) < 0.01, "\(scheme): std \(sampleStd), expected \(std) = 1/sqrt(400)")
        }
    }
}

@Suite struct GradientClippingTests {
    @Test func normClippingRescalesToMaxNormAndReportsThePreClipNorm() {
        var g: [Float] = [3, 4, 0]  // ‖g‖ = 5
        let norm = g.withUnsafeMutableBufferPointer { GradientClipping(maxNorm: 1).clip($0) }
        #expect(norm == 5)
        let coefficient = Float(1 / (5 + 1e-6))
        #expect(g == [3 * coefficient, 4 * coefficient, 0])
        var small: [Float] = [0.3, 0.4]  // ‖g‖ = 0.5 < 1: unchanged
        _ = small.withUnsafeMutableBufferPointer { GradientClipping(maxNorm: 1).clip($0) }
        #expect(small == [0.3, 0.4])
    }

    @Test(arguments: [0, 1, 15, 17, 4096, 4097, 10_003])
    func theNormMatchesADoublePrecisionSumAtEveryLength(count: Int) {
        var random = RandomGenerator(seed: UInt64(count))
        var g = (0..<count).map { _ in Float(random.nextGaussian()) }
        let expected = g.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        let norm = g.withUnsafeMutableBufferPointer { GradientClipping.norm($0) }
        #expect(abs(norm - expected) <= 1e-6 * max(expected, 1))
    }

    @Test func valueClippingClampsEachElement() {
        var g: [Float] = [-3, 0.5, 2, -0.1]
        _ = g.withUnsafeMutableBufferPointer { GradientClipping(maxValue: 1).clip($0) }
        #expect(g == [-1, 0.5, 1, -0.1])
    }

    @Test func l1AddsLambdaTimesSignOnlyToDecayedGroups() {
        let theta: [Float] = [2, -3, 0, 5, -1]
        var g: [Float] = [0, 0, 0, 0, 0]
        theta.withUnsafeBufferPointer { t in
            g.withUnsafeMutableBufferPointer { gb in
                L1Penalty.addGradient(lambda: 0.1, parameters: t.baseAddress!, gradients: gb.baseAddress!,
                                      groups: [ParameterGroup(range: 0..<3, weightDecay: true),
                                               ParameterGroup(range: 3..<5, weightDecay: false)])
            }
        }
        #expect(g == [0.1, -0.1, 0, 0, 0])
    }
}

/// Layers in mixed precision against hand computations with operands rounded by the references.
@Suite struct MixedPrecisionLayerTests {
    /// A value rounded by the independent references: Float16 for fp16, the Double rounding for bf16.
    static func reference(_ x: Float, _ precision: Precision) -> Float {
        precision == .fp16 ? Float(Float16(x)) : RoundingTests.bfloat16Reference(x)
    }

    /// x [2, 3], W [2, 3], b [2]; with the operands rounded, every sum below is exact in Float, so
    /// the GEMM's order of accumulation cannot matter (checked by `exactSum`).
    static let x: [Float] = [0.35, 1.37, 1.88, 1.27, -0.67, -1.71]
    static let w: [Float] = [1.57, -0.88, 1.03, 1.46, -1.33, -1.22]
    static let b: [Float] = [-0.15, 0.69]

    /// A Double sum of products of rounded Floats, which must be a Float exactly.
    static func exactSum(_ terms: [Double]) -> Float {
        let sum = terms.reduce(0, +)
        #expect(Double(Float(sum)) == sum, "the fixture's sum \(sum) is not exact in Float")
        return Float(sum)
    }

    /// z_ij = round(Σ_k round(x_ik)·round(W_jk) + round(b_j)), row-major [2, 2]; `round` is the
    /// identity for fp32.
    static func expectedOutput(_ precision: Precision) -> [Float] {
        func r(_ value: Float) -> Float { precision == .fp32 ? value : reference(value, precision) }
        var z: [Float] = []
        for i in 0..<2 {
            for j in 0..<2 {
                let products: [Double] = (0..<3).map { k in Double(r(x[i * 3 + k])) * Double(r(w[j * 3 + k])) }
                let sum = products.reduce(Double(r(b[j])), +)
                z.append(r(precision == .fp32 ? Float(sum) : exactSum([sum])))
            }
        }
        return z
    }

    static func linearNetwork(_ precision: Precision) -> Network {
        let network = Network.mlp(Network.MLPShape(inputWidth: 3, hidden: [], outputWidth: 2, activation: .relu,
                                                   precision: precision))
        network.reserve(rows: 2)
        for (i, v) in (w + b).enumerated() { network.parameters.values.base[i] = v }
        return network
    }

    @Test(arguments: [Precision.fp16, .bf16])
    func aLinearLayerRoundsItsOperandsAndItsOutput(precision: Precision) {
        let network = Self.linearNetwork(precision)
        var input = Self.x
        let output = input.withUnsafeMutableBufferPointer {
            Array(network.forward(MatrixView(base: $0.baseAddress!, rows: 2, columns: 3), training: true).elements)
        }
        let expected = Self.expectedOutput(precision)
        #expect(output == expected)
        // Without rounding every output differs: the test sees the rounding.
        for (rounded, plain) in zip(output, Self.expectedOutput(.fp32)) { #expect(rounded != plain) }
        // The master weights and the caller's input stay as they were.
        #expect(Array(network.parameters.values.storage.prefix(8)) == Self.w + Self.b)
        #expect(input == Self.x)
    }

    @Test(arguments: [Precision.fp16, .bf16])
    func reluFollowsTheRoundedLinearOutput(precision: Precision) {
        let store = ParameterStore([("w", [2, 3], .weight), ("b", [2], .bias)])
        for (i, v) in (Self.w + Self.b).enumerated() { store.values.base[i] = v }
        let dense = Dense(parameters: store, weight: store.tensors[0], bias: store.tensors[1], activation: .relu,
                          precision: precision)
        var input = Self.x.map { Self.reference($0, precision) }  // a layer's input arrives rounded
        var output = [Float](repeating: 0, count: 4)
        input.withUnsafeMutableBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                dense.forward(MatrixView(base: x.baseAddress!, rows: 2, columns: 3),
                              into: MatrixView(base: y.baseAddress!, rows: 2, columns: 2), training: true)
            }
        }
        let expected = Self.expectedOutput(precision).map { max($0, 0) }
        #expect(expected.contains(0) && expected.contains { $0 > 0 })
        #expect(output == expected)
    }

    /// Backward of the linear network: dL/dy is rounded as it enters (1e-9 underflows in fp16, not
    /// in bf16), dW = round(dyᵀ·x) and db = round(Σ_rows dy) from rounded operands once
    /// `finishGradients` has run.
    @Test(arguments: [Precision.fp16, .bf16])
    func backwardRoundsTheOutputGradientAndTheParameterGradients(precision: Precision) {
        let network = Self.linearNetwork(precision)
        var input = Self.x
        let dy: [Float] = [0.71, 1e-9, -0.83, 0]  // [2 rows, 2 outputs]
        input.withUnsafeMutableBufferPointer { x in
            let view = MatrixView(base: x.baseAddress!, rows: 2, columns: 3)
            _ = network.forward(view, training: true)
            for (i, g) in dy.enumerated() { network.outputGradient.base[i] = g }
            network.backward(input: view)
            #expect(network.finishGradients(inverseScale: 1))
        }
        let r = { Self.reference($0, precision) }
        #expect(Array(network.outputGradient.elements) == dy.map(r))
        let dW = (0..<2).flatMap { j in
            (0..<3).map { k in r(Self.exactSum((0..<2).map { i in Double(r(dy[i * 2 + j])) * Double(r(Self.x[i * 3 + k])) })) }
        }
        let db = (0..<2).map { j in r(Self.exactSum((0..<2).map { i in Double(r(dy[i * 2 + j])) })) }
        #expect(Array(network.parameters.gradients.storage.prefix(8)) == dW + db)
        #expect((dW[3] == 0) == (precision == .fp16))
    }
}
