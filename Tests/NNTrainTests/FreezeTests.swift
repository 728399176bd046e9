import Testing
@testable import NNTrain

/// `training.freeze`, `training.freeze_epochs` and `optimizer.layer_lr`: frozen layers bit-identical while the
/// others move; no gradient computed for them, and the gradients of the rest exactly those of the unfrozen network
/// (or, through a frozen batch norm in eval mode, central differences'); the thaw at the right step, the thawed
/// layers' Adam steps starting from step 1 as torch's per-parameter state does; layer_lr's multipliers against the
/// update rules written out; refusals; a resume bit for bit across the thaw.
@Suite struct FreezeTests {
    /// ResumeTests' SGD config (hidden [24, 12], batch norm, dropout, weight decay, L1, clipping) for 4 epochs.
    static func config(freeze: [Int]? = nil, freezeEpochs: Int? = nil) -> Configuration {
        var config = ResumeTests.sgdConfig()
        config.training.epochs = 4
        config.training.freeze = freeze
        config.training.freezeEpochs = freezeEpochs
        return config
    }

    static func bits(_ trainer: Trainer, _ name: String) throws -> [UInt32] {
        try InitialWeightsTests.bits(trainer.network, name)
    }

    // MARK: - Frozen layers

    /// Layer 0 frozen: its weight, bias, batch norm γ and β and running statistics end as they began (weight decay,
    /// L1 and momentum never reach them), while layers 1 and 2 and layer 1's statistics move; its gradients stay 0.
    @Test func frozenLayersStayBitIdenticalWhileTheOthersMove() throws {
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: Self.config(freeze: [0]), data: data)
        let before = try InitialWeightsTests.allTensors.map { try Self.bits(trainer, $0) }
        let statistics = trainer.network.snapshot().runningStatistics
        try trainer.train()
        let after = try InitialWeightsTests.allTensors.map { try Self.bits(trainer, $0) }
        for (i, name) in InitialWeightsTests.allTensors.enumerated() {
            if name.contains(".0.") {
                #expect(after[i] == before[i], "\(name) moved while frozen")
            } else {
                #expect(after[i] != before[i], "\(name) did not train")
            }
        }
        let nowStatistics = trainer.network.snapshot().runningStatistics
        #expect(nowStatistics[0] == statistics[0] && nowStatistics[1] == statistics[1])
        #expect(nowStatistics[2] != statistics[2])
        let parameters = trainer.network.parameters
        for tensor in parameters.tensors where tensor.layer == 0 {
            #expect((0..<tensor.count).allSatisfy { parameters.gradients.base[tensor.offset + $0] == 0 })
        }
        let sgd = try #require(trainer.optimizer as? SGD)
        let first = try #require(parameters.tensor(named: "layers.0.weight"))
        #expect(sgd.momentumBuffer[first.offset..<(first.offset + first.count)].allSatisfy { $0 == 0 })
    }

    /// One forward and backward pass of `network` on a fixed batch of 6 rows and 3 classes; returns the loss.
    static func lossAndGradients(_ network: Network, backward: Bool = true) -> Double {
        var random = RandomGenerator(seed: 5)
        var x = (0..<(6 * network.inputWidth)).map { _ in Float(random.nextGaussian()) }
        let classes: [Int32] = [0, 1, 2, 2, 1, 0]
        return x.withUnsafeMutableBufferPointer { xb in
            let input = MatrixView(base: xb.baseAddress!, rows: 6, columns: network.inputWidth)
            let output = network.forward(input, training: true)
            var sums = LossSums()
            classes.withUnsafeBufferPointer { cb in
                Loss.crossEntropy(labelSmoothing: 0).evaluate(
                    output: output, targets: .classes(cb.baseAddress!), gradient: backward ? network.outputGradient : nil,
                    into: &sums)
            }
            if backward { network.backward(input: input) }
            return sums.loss / Double(sums.rows)
        }
    }

    static func network(hidden: [Int], norm: NormKind = .none, activation: Activation = .tanh,
                        residual: Bool = false) -> Network {
        let network = Network.mlp(Network.MLPShape(inputWidth: 5, hidden: hidden, outputWidth: 3, activation: activation,
                                                   norm: norm, residual: residual))
        network.reserve(rows: 6)
        var random = RandomGenerator(seed: 11)
        Initialization().apply(to: network, activation: activation, random: &random)
        for tensor in network.parameters.tensors where tensor.role.isBatchNorm || tensor.role == .slope {
            for i in 0..<tensor.count { network.parameters.values.base[tensor.offset + i] += Float(random.nextGaussian()) * 0.3 }
        }
        return network
    }

    /// Without batch norm a frozen layer changes nothing in the forward pass, so the other layers' gradients are
    /// bit for bit those of the unfrozen network, and the frozen ones are 0 (none computed): for a frozen first
    /// layer (back-propagation stops above it), a frozen middle one (dL/dx passes through it to layer 0), with
    /// layer norm and prelu, and in a residual MLP with a projection (frozen with its block).
    @Test(arguments: [([0], NormKind.none, false), ([1], .none, false), ([1], .layer, false), ([0, 2], .layer, true),
                      ([2], .none, true)])
    func otherLayersGetTheUnfrozenNetworksGradients(frozen: [Int], norm: NormKind, residual: Bool) {
        for activation in [Activation.tanh, .prelu(initial: 0.25)] {
            let hidden = residual ? [6, 6, 4] : [6, 4]
            let plain = Self.network(hidden: hidden, norm: norm, activation: activation, residual: residual)
            let frozenNetwork = Self.network(hidden: hidden, norm: norm, activation: activation, residual: residual)
            frozenNetwork.freeze(layers: Set(frozen))
            #expect(Self.lossAndGradients(plain) == Self.lossAndGradients(frozenNetwork))
            let parameters = frozenNetwork.parameters
            for tensor in parameters.tensors {
                let got = Array(UnsafeBufferPointer(start: parameters.gradients.base + tensor.offset, count: tensor.count))
                let unfrozen = Array(UnsafeBufferPointer(start: plain.parameters.gradients.base + tensor.offset,
                                                         count: tensor.count))
                if frozen.contains(tensor.layer ?? -1) {
                    #expect(got.allSatisfy { $0 == 0 }, "\(tensor.name) has a gradient while frozen")
                } else {
                    #expect(got.map(\.bitPattern) == unfrozen.map(\.bitPattern), "\(tensor.name) differs")
                    #expect(got.contains { $0 != 0 }, "\(tensor.name) has no gradient")
                }
            }
        }
    }

    /// A frozen batch norm normalises with its running statistics (eval mode) while training, leaves them as they
    /// are, and back-propagates dz·γ/√(running_var + ε): layer 0's gradient below the frozen layer 1 against
    /// central differences of the loss (h = 1e-3, as GradientCheckTests).
    @Test func gradientsThroughAFrozenBatchNormMatchFiniteDifferences() {
        let network = Self.network(hidden: [6, 4], norm: .batch)
        for case let norm as BatchNorm in network.layers {  // statistics away from 0 and 1
            norm.runningMean = (0..<norm.inputWidth).map { Float($0) * 0.1 - 0.2 }
            norm.runningVariance = (0..<norm.inputWidth).map { 0.5 + Float($0) * 0.2 }
        }
        network.freeze(layers: [1])
        let statistics = network.snapshot().runningStatistics
        _ = Self.lossAndGradients(network)
        #expect(network.snapshot().runningStatistics[2...] == statistics[2...])
        #expect(network.snapshot().runningStatistics[0...1] != statistics[0...1])  // layer 0's norm trains
        let analytic = Array(network.parameters.gradients.storage.prefix(network.parameters.count))
        network.restore(Network.Snapshot(parameters: Array(network.parameters.values.storage.prefix(network.parameters.count)),
                                         runningStatistics: statistics))
        let theta = network.parameters.values.base, h: Float = 1e-3
        let first = network.parameters.tensors.filter { $0.layer == 0 && !$0.role.isBatchNorm }
        for tensor in first {
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                func loss(_ value: Float) -> Double {
                    theta[i] = value
                    defer { network.restore(Network.Snapshot(parameters: [], runningStatistics: statistics)) }
                    return Self.lossAndGradients(network, backward: false)
                }
                let saved = theta[i]
                let numeric = (loss(saved + h) - loss(saved - h)) / (2 * Double(h))
                theta[i] = saved
                #expect(abs(Double(analytic[i]) - numeric) <= 1e-3 + 1e-2 * abs(numeric),
                        "\(tensor.name)[\(i - tensor.offset)]: analytic \(analytic[i]), numeric \(numeric)")
            }
        }
    }

    /// SWA's batch-norm pass (update_bn) recomputes the norms that trained and leaves a frozen one's statistics, the
    /// pretrained ones it normalised with all along, in the final model.
    @Test func swasBatchNormPassLeavesAFrozenNormsStatistics() throws {
        let folder = try TemporaryFolder()
        let source = try InitialWeightsTests.writeSource(to: folder.file("source.bin"))
        var config = InitialWeightsTests.fineTuning(from: folder.file("source.bin"))
        config.training.freeze = [0]
        config.training.epochs = 3
        config.earlyStopping.restoreBest = false
        config.swa.startEpoch = 2
        config.swa.lr = 0.01
        let data = InitialWeightsTests.data()
        let trainer = Trainer(configuration: config, data: data, initialWeights: try InitialWeightsTests.load(config, data))
        try trainer.train()
        let swa = try #require(trainer.state.swa)
        #expect(swa.model.runningStatistics[0...1] == source.servedModel.runningStatistics[0...1])
        #expect(swa.model.runningStatistics[2] != source.servedModel.runningStatistics[2])
    }

    // MARK: - freeze_epochs

    /// `freeze_epochs: 2` of 4 without `freeze`: every layer but the head frozen (fastai's `freeze()`) through the
    /// last step of epoch 2, then training; the head trains from the first step.
    @Test func freezeEpochsThawsAtTheFirstStepOfTheNextEpoch() throws {
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: Self.config(freezeEpochs: 2), data: data)
        let steps = trainer.batchesPerEpoch
        let before = try InitialWeightsTests.allTensors.map { try Self.bits(trainer, $0) }
        func snapshotAfter(step: Int) throws -> [[UInt32]] {
            trainer.observers = [StopWhen { $0.stepCount == step }]
            try trainer.train()
            return try InitialWeightsTests.allTensors.map { try Self.bits(trainer, $0) }
        }
        let frozenEnd = try snapshotAfter(step: 2 * steps)
        #expect(trainer.network.frozenLayers == [0, 1])
        let thawed = try snapshotAfter(step: 2 * steps + 1)
        #expect(trainer.network.frozenLayers.isEmpty)
        for (i, name) in InitialWeightsTests.allTensors.enumerated() {
            let head = name.hasPrefix("layers.2")
            #expect((frozenEnd[i] == before[i]) != head, "\(name) after epoch 2")
            #expect(thawed[i] != frozenEnd[i], "\(name) did not train at the first step of epoch 3")
        }
    }

    /// The thawed layers' first Adam step is torch's step 1 for a parameter that gets its first gradient then:
    /// m̂ = g, v̂ = g², so Δθ = −lr·g/(|g| + ε), each element moving by lr (to float rounding) against its gradient;
    /// the head's counter goes on (step = steps so far), the thawed one's is 1 (`thawed.step` in the state).
    @Test func thawedLayersStartTheirAdamStepsFromOne() throws {
        var config = Self.config(freezeEpochs: 1)
        config.model.dropout = 0
        config.model.batchNorm = false
        config.optimizer.name = .adam
        config.optimizer.lr = 0.01
        config.optimizer.weightDecay = 0
        config.optimizer.nesterov = false
        config.optimizer.momentum = 0
        config.regularization.l1 = 0
        config.training.clip.norm = nil
        config.scheduler.name = .constant
        config.scheduler.factor = 1
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let steps = trainer.batchesPerEpoch
        trainer.observers = [StopWhen { $0.stepCount == steps }]
        try trainer.train()
        let weight = try #require(trainer.network.parameters.tensor(named: "layers.0.weight"))
        let before = trainer.network.parameters.valuesArray(of: weight)
        trainer.observers = [StopWhen { $0.stepCount == steps + 1 }]
        try trainer.train()
        let after = trainer.network.parameters.valuesArray(of: weight)
        let gradient = Array(UnsafeBufferPointer(start: trainer.network.parameters.gradients.base + weight.offset,
                                                 count: weight.count))
        var moved = 0
        for i in 0..<weight.count where abs(gradient[i]) > 1e-5 {
            let expected = -0.01 * Double(gradient[i]) / (abs(Double(gradient[i])) + 1e-8)
            #expect(abs(Double(after[i] - before[i]) - expected) <= 2e-6, "element \(i)")
            moved += 1
        }
        #expect(moved > weight.count / 2)
        #expect(trainer.optimizer.counters["step"] == Double(steps + 1))
        #expect(trainer.thawedCounters?["step"] == 1)
        #expect(trainer.state.optimizer.counters["thawed.step"] == 1)
    }

    /// A resume is bit for bit the run that never stopped: stops inside the frozen epochs, at the thaw and after
    /// it (Adam, batch norm, dropout, per-layer lr), and with a static freeze and SGD's momentum.
    @Test func aResumeAcrossTheThawIsBitForBit() throws {
        var config = Self.config(freezeEpochs: 2)
        config.optimizer.name = .adam
        config.optimizer.lr = 0.01
        config.optimizer.nesterov = false
        config.optimizer.momentum = 0
        config.optimizer.layerLR = [0.1, 0.5, 1]
        try ResumeTests.expectSameRun(config, ResumeTests.classificationData(), stops: [3, 10, 11, 14])
        try ResumeTests.expectSameRun(Self.config(freeze: [1]), ResumeTests.classificationData(), stops: [4, 12])
    }

    // MARK: - layer_lr

    /// SGD without momentum or decay: θ ← θ − lr·m_l·g, so after one step each layer has moved m_l times as far
    /// as in the same step without layer_lr (the same weights, batch and gradient); Adam's first step
    /// −lr·m_l·g/(|g| + ε) scales the same way.
    @Test(arguments: [OptimizerKind.sgd, .adam])
    func layerLRScalesEachLayersStep(optimizer: OptimizerKind) throws {
        var config = Self.config()
        config.model.dropout = 0
        config.optimizer.name = optimizer
        config.optimizer.momentum = 0
        config.optimizer.nesterov = false
        config.optimizer.weightDecay = 0
        config.regularization.l1 = 0
        config.training.clip.norm = nil
        let data = ResumeTests.classificationData()
        let scales = [0.1, 0.25, 2.0]
        func firstStep(_ layerLR: [Double]?) throws -> (before: [Float], after: [Float]) {
            var config = config
            config.optimizer.layerLR = layerLR
            let trainer = Trainer(configuration: config, data: data)
            let before = Array(trainer.network.parameters.values.storage.prefix(trainer.network.parameters.count))
            trainer.observers = [StopWhen { $0.stepCount == 1 }]
            try trainer.train()
            return (before, Array(trainer.network.parameters.values.storage.prefix(trainer.network.parameters.count)))
        }
        let plain = try firstStep(nil), scaled = try firstStep(scales)
        #expect(plain.before == scaled.before)
        let parameters = Trainer(configuration: config, data: data).network.parameters
        for tensor in parameters.tensors {
            let scale = scales[try #require(tensor.layer)]
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                let plainStep = Double(plain.after[i]) - Double(plain.before[i])
                let scaledStep = Double(scaled.after[i]) - Double(scaled.before[i])
                #expect(abs(scaledStep - scale * plainStep) <= 1e-6 + 1e-4 * abs(scale * plainStep),
                        "\(tensor.name): \(scaledStep) vs \(scale) × \(plainStep)")
            }
        }
    }

    /// The passes of a step set the optimizer's counters between them, which must not copy its buffers (a copy of
    /// every moment per step): the moments stay in the same storage across a step of three passes.
    @Test func layerPassesCopyNoOptimizerBuffer() throws {
        var config = Self.config(freeze: [0])
        config.optimizer.name = .adam
        config.optimizer.layerLR = [1, 0.5, 2]
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let adam = try #require(trainer.optimizer as? Adam)
        func address() -> Int { adam.firstMoment.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) } }
        trainer.observers = [StopWhen { $0.stepCount == 1 }]
        try trainer.train()
        let before = address()
        trainer.observers = [StopWhen { $0.stepCount == 2 }]
        try trainer.train()
        #expect(address() == before)
    }

    /// A run that diverges under a large multiplier says so beside the scheduled lr.
    @Test func aDivergenceNamesTheLargestMultiplier() {
        var config = Self.config()
        config.optimizer.layerLR = [1, 1e30, 1]
        config.training.clip.norm = nil
        config.scheduler.name = .constant
        config.scheduler.factor = 1
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        #expect {
            try trainer.train()
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return message.contains("the learning rate 0.05 (× 1e+30 by optimizer.layer_lr) is likely too high")
        }
    }

    // MARK: - The configuration

    static func parse(_ extra: String) throws -> Configuration {
        try Configuration.parse(yaml: "data:\n  dataset: fashion-mnist\nmodel:\n  hidden: [32, 16]\n" + extra,
                                source: "ft.txt")
    }

    static func message(_ extra: String) -> String {
        do {
            _ = try parse(extra)
            return "parsed"
        } catch let error as NNTrainError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func theKeysAreReadAndTheirMisusesRefusedAtTheirLines() throws {
        let config = try Self.parse("training:\n  epochs: 5\n  freeze: [0]\n  freeze_epochs: 2\n"
            + "optimizer:\n  layer_lr: [0.1, 0.3, 1]\n")
        #expect(config.training.freeze == [0] && config.training.freezeEpochs == 2 && config.optimizer.layerLR == [0.1, 0.3, 1])
        #expect(config.training.frozenLayers(epoch: 2, layerCount: 3) == [0])
        #expect(config.training.frozenLayers(epoch: 3, layerCount: 3).isEmpty)
        #expect(config.layerTrainingNote == "training.freeze: layer 0 frozen (no update, no gradient) for epochs 1-2, "
            + "then every layer trains; optimizer.layer_lr: lr × 0.1, 0.3, 1 for layers 0, 1, 2")
        var fastai = config
        fastai.training.freeze = nil
        #expect(fastai.training.frozenLayers(epoch: 1, layerCount: 3) == [0, 1])
        #expect(Self.message("training:\n  freeze: [3]\n")
            == "ft.txt:6: training.freeze: names layer 3, but model.hidden [32, 16] makes 3 linear layers (0 to 2, the last "
                + "the head); expected indices of them")
        #expect(Self.message("training:\n  freeze: [0, 1, 2]\n").hasPrefix("ft.txt:6: training.freeze: freezes every layer"))
        #expect(Self.message("training:\n  freeze: [0, 0]\n").hasPrefix("ft.txt:6: training.freeze: repeats a layer"))
        #expect(Self.message("training:\n  epochs: 3\n  freeze_epochs: 3\n")
            .hasPrefix("ft.txt:7: training.freeze_epochs: is 3 but training.epochs is 3, so the frozen layers would never"))
        #expect(Self.message("optimizer:\n  layer_lr: [1, 2]\n")
            == "ft.txt:6: optimizer.layer_lr: has 2 multipliers, but model.hidden [32, 16] makes 3 linear layers (0 to 2, "
                + "the last the head); expected one per layer")
        #expect(Self.message("optimizer:\n  layer_lr: [1, 0, 1]\n").hasPrefix("ft.txt:6: optimizer.layer_lr[1]:"))
        #expect(Self.message("training:\n  batch_size: full\n  freeze: [0]\noptimizer:\n  name: lbfgs\n")
            .hasPrefix("ft.txt:7: training.freeze: lbfgs steps every parameter"))
        #expect(Self.message("training:\n  freeze_epochs: 1\noptimizer:\n  name: asgd\n")
            .hasPrefix("ft.txt:6: training.freeze_epochs: asgd's averaged model"))
        #expect(Configuration.classifyForResume(["training.freeze", "training.freeze_epochs", "optimizer.layer_lr"])
            == (refused: ["training.freeze", "training.freeze_epochs"], allowed: ["optimizer.layer_lr"]))
    }
}
