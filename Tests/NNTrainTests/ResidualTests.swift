import Testing
@testable import NNTrain

/// `model.residual`: the network's skip connections against hand-computed numbers, and the config's refusals.
@Suite struct ResidualTests {
    /// 2 inputs → hidden [2, 2, 3] → 1 output, relu: block 1 (2 → 2) has an identity shortcut, block 2 (2 → 3)
    /// a projection P [3, 2]; the first hidden layer and the output layer have none.
    static func tinyNetwork(precision: Precision = .fp32) -> Network {
        let network = Network.mlp(Network.MLPShape(inputWidth: 2, hidden: [2, 2, 3], outputWidth: 1, activation: .relu,
                                                   precision: precision, residual: true))
        let values: [String: [Float]] = [
            "layers.0.weight": [1, 0, 0, 1], "layers.0.bias": [0, 0],  // h1 = relu(x)
            "layers.1.weight": [1, 1, 0, -1], "layers.1.bias": [0.5, 0],  // f1 = relu([a + b + 0.5, −b])
            "layers.2.weight": [1, 0, 0, 1, 1, 1], "layers.2.bias": [0, 0, -10],  // f2 = relu([c, d, c + d − 10])
            "layers.3.weight": [1, 2, 3], "layers.3.bias": [0.25],
            "shortcuts.2.weight": [2, 0, 0, 3, 1, 1],  // P h2 = [2c, 3d, c + d]
        ]
        for tensor in network.parameters.tensors {
            let given = values[tensor.name] ?? []
            precondition(given.count == tensor.count, "no value for \(tensor.name)")
            for (k, value) in given.enumerated() { network.parameters.values.base[tensor.offset + k] = value }
        }
        return network
    }

    @Test func layoutNamesTheProjectionsAfterEveryOtherTensor() {
        let network = Self.tinyNetwork()
        #expect(network.parameters.tensors.map(\.name) == [
            "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
            "layers.3.weight", "layers.3.bias", "shortcuts.2.weight",
        ])
        #expect(network.parameters.tensor(named: "shortcuts.2.weight")?.shape == [3, 2])
        #expect(network.parameters.tensor(named: "shortcuts.2.weight")?.role == .shortcut)
        #expect(network.skips.map(\.from) == [0, 1] && network.skips.map(\.to) == [1, 2])
        #expect(network.skips.map { $0.projection == nil } == [true, false])
        // A weight for the optimizer: decayed with the layers' weights.
        #expect(network.parameters.groups(decayBatchNorm: false).allSatisfy { $0.weightDecay })
    }

    /// Row x = (1, 2):  h1 = relu(x) = (1, 2);  f1 = relu(1 + 2 + 0.5, −2) = (3.5, 0);  h2 = h1 + f1 = (4.5, 2);
    /// f2 = relu(4.5, 2, 6.5 − 10) = (4.5, 2, 0);  P h2 = (9, 6, 6.5);  h3 = (13.5, 8, 6.5);
    /// y = 13.5 + 16 + 19.5 + 0.25 = 49.25.
    /// Row x = (−1, 3): h1 = (0, 3); f1 = relu(3.5, −3) = (3.5, 0); h2 = (3.5, 3); f2 = (3.5, 3, 0);
    /// P h2 = (7, 9, 6.5); h3 = (10.5, 12, 6.5); y = 10.5 + 24 + 19.5 + 0.25 = 54.25.
    @Test(arguments: [Precision.fp32, .bf16])
    func forwardAddsTheBlocksInputOrItsProjection(precision: Precision) {
        let network = Self.tinyNetwork(precision: precision)
        network.reserve(rows: 2)
        var x: [Float] = [1, 2, -1, 3]
        let y = x.withUnsafeMutableBufferPointer { buffer in
            Array(network.forward(MatrixView(base: buffer.baseAddress!, rows: 2, columns: 2), training: false).elements)
        }
        // Every value is exact in bf16 (8 significant bits) too, so both precisions give the same numbers.
        #expect(y == [49.25, 54.25])
        // The block's own output stays what its last layer wrote (the dead-unit statistics read it).
        #expect(Array(network.lastOutput(ofLayer: 1).elements) == [3.5, 0, 3.5, 0])
    }

    /// A bf16 sum is rounded as every stored activation: 1 + 2⁻⁹ is not a bf16 number (8 significant bits),
    /// so h + f(h) with h = 1 and f(h) = 2⁻⁹ stores 1.
    @Test func mixedPrecisionRoundsTheSum() {
        let network = Network.mlp(Network.MLPShape(inputWidth: 1, hidden: [1, 1], outputWidth: 1, activation: .identity,
                                                   precision: .bf16, residual: true))
        let v = network.parameters.values.base
        for (name, value) in [("layers.0.weight", Float(1)), ("layers.1.weight", 0x1p-9), ("layers.2.weight", 1)] {
            v[network.parameters.tensor(named: name)!.offset] = value
        }
        network.reserve(rows: 1)
        var x: [Float] = [1]
        let y = x.withUnsafeMutableBufferPointer { buffer in
            network.forward(MatrixView(base: buffer.baseAddress!, rows: 1, columns: 1), training: false).base[0]
        }
        #expect(y == 1)
        let fp32 = Network.mlp(Network.MLPShape(inputWidth: 1, hidden: [1, 1], outputWidth: 1, activation: .identity,
                                                residual: true))
        fp32.parameters.values.base.update(from: v, count: fp32.parameters.count)
        fp32.reserve(rows: 1)
        let exact = x.withUnsafeMutableBufferPointer { buffer in
            fp32.forward(MatrixView(base: buffer.baseAddress!, rows: 1, columns: 1), training: false).base[0]
        }
        #expect(exact == 1 + 0x1p-9)
    }

    @Test func theConfigBuildsTheResidualNetwork() throws {
        let configuration = try Configuration.parse(yaml: "model:\n  hidden: [8, 8, 4]\n  residual: true\n", source: "c.yaml")
        #expect(configuration.model.residual && configuration.model.residualProjection == .linear)
        let network = configuration.makeNetwork(inputWidth: 5, outputWidth: 3, targetScaling: nil)
        #expect(network.skips.count == 2)
        #expect(network.parameters.tensors.last?.name == "shortcuts.2.weight")
        let plain = try Configuration.parse(yaml: "model:\n  hidden: [8, 4]\n", source: "c.yaml")
        #expect(plain.makeNetwork(inputWidth: 5, outputWidth: 3, targetScaling: nil).skips.isEmpty)
    }

    @Test(arguments: [
        ("model:\n  hidden: [8, 4]\n  residual: true\n  residual_projection: none\n",
         "c.yaml:2: model.hidden: hidden layer 1 goes from width 8 to 4, which x + f(x) cannot add with "
            + "model.residual_projection none; expected equal hidden widths or residual_projection: linear"),
        ("model:\n  hidden: [8]\n  residual: true\n",
         "c.yaml:3: model.residual adds a skip connection to each hidden layer after the first, but model.hidden is [8]; "
            + "expected at least two hidden layers"),
        ("model:\n  hidden: [8, 8]\n  residual: true\npruning:\n  method: neurons\n  sparsity: 0.5\n",
         "c.yaml:5: pruning.method neurons removes hidden units, but model.residual adds each block's input to its "
            + "output unit by unit, so a removed unit would still carry its input; expected method: magnitude or "
            + "model.residual: false"),
        ("model:\n  hidden: [8, 8]\n  residual_projection: none\n",
         "c.yaml:3: model.residual_projection: applies only with model.residual: true, not false (the default)"),
    ])
    func refusals(yaml: String, message: String) {
        #expect(throws: NNTrainError.self) { try Configuration.parse(yaml: yaml, source: "c.yaml") }
        do {
            _ = try Configuration.parse(yaml: yaml, source: "c.yaml")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    /// A residual run end to end: its checkpoint says so, `nntrain eval` rebuilds the network with its skips (the
    /// validation loss of the last epoch again, to float summation: eval sums in batches of its own), and
    /// export's inference form and state_dict carry the skips (ResidualExportTests checks their numbers).
    @Test func aResidualCheckpointEvaluatesAndExports() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let config = try folder.write("""
            data: {path: \(folder.path), validation_split: 0.25}
            model: {hidden: [6, 6, 4], residual: true}
            training: {epochs: 2, batch_size: 30}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let path = folder.file("run/checkpoints/last.bin")
        let checkpoint = try Checkpoint.read(path: path)
        #expect(checkpoint.architecture == "784-6-6-4-10 relu, residual")
        #expect(checkpoint.parameterLayout.last?.name == "shortcuts.2.weight" && checkpoint.parameterLayout.last?.shape == [4, 6])
        let evaluation = try CheckpointEvaluation.run(checkpointPath: path, split: .val)
        let trained = try #require(checkpoint.state.history.last?.validation?.loss)
        #expect(abs(evaluation.loss - trained) <= 1e-6 * trained, "\(evaluation.loss) vs \(trained)")
        #expect(try InferenceModel(checkpointPath: path).layers.map(\.shortcut).map { $0 == nil } == [true, false, false, true])
        #expect(try StateDictExport(checkpoint: checkpoint, fingerprint: "", path: path, quantization: .none).isResidual)
    }
}
