import Foundation
import Testing
@testable import NNTrain

/// Pruning (`pruning:`): the schedule against Zhu & Gupta's formula, the masks of hand-made layers
/// (per layer, global, neurons), masks holding through training and resume, and the config's refusals.
@Suite struct PruningTests {
    // MARK: - The schedule

    /// s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ at t₀ = 10, Δt = 5, n = 4, written out by hand.
    @Test func gradualScheduleFollowsZhuAndGupta() {
        let schedule = PruningSchedule(initialSparsity: 0.1, finalSparsity: 0.9, firstStep: 10, interval: 5, count: 4)
        let expected: [Int: Double] = [
            10: 0.1,                           // (1 − 0)³ = 1
            15: 0.9 - 0.8 * 0.421875,          // (3/4)³
            20: 0.9 - 0.8 * 0.125,             // (1/2)³
            25: 0.9 - 0.8 * 0.015625,          // (1/4)³
            30: 0.9,
        ]
        for step in 0...40 {
            if let value = expected[step] {
                #expect(abs((schedule.sparsity(atStep: step) ?? -1) - value) < 1e-12, "step \(step)")
            } else {
                #expect(schedule.sparsity(atStep: step) == nil, "step \(step) is not a pruning step")
            }
        }
        #expect(schedule.target(atStep: 9) == 0)
        #expect(abs(schedule.target(atStep: 17) - (0.9 - 0.8 * 0.421875)) < 1e-12)  // held between pruning steps
        #expect(schedule.target(atStep: 1000) == 0.9)
    }

    /// From the config: start_epoch 2 and end_epoch 4 of 5-step epochs are steps 5...19, so
    /// t₀ = 5 and n = ⌊14/2⌋ = 7 with Δt = 2; the last pruning step, 19, is epoch 4's last.
    @Test func scheduleFromTheConfigSpansItsEpochs() {
        var section = Configuration.PruningSection()
        section.method = .magnitude
        section.startEpoch = 2
        section.endEpoch = 4
        section.everyNSteps = 2
        section.sparsity = 0.8
        let schedule = PruningSchedule(section, epochs: 6, stepsPerEpoch: 5)
        #expect(schedule == PruningSchedule(initialSparsity: 0, finalSparsity: 0.8, firstStep: 5, interval: 2, count: 7))
        #expect(schedule.lastStep == 19)
        section.schedule = .once
        let once = PruningSchedule(section, epochs: 6, stepsPerEpoch: 5)
        #expect((0...30).compactMap { once.sparsity(atStep: $0) == nil ? nil : $0 } == [5])
        #expect(once.sparsity(atStep: 5) == 0.8)
        // Epochs with no second pruning step prune once, to the final sparsity.
        section.schedule = .gradual
        section.everyNSteps = 100
        let single = PruningSchedule(section, epochs: 6, stepsPerEpoch: 5)
        #expect(single.sparsity(atStep: 5) == 0.8 && single.lastStep == 5)
    }

    /// Python's round (halves to even), as torch's `_compute_nparams_toprune`.
    @Test func prunedCountRoundsHalvesToEven() {
        #expect(PruningMasks.prunedCount(sparsity: 0.5, size: 5) == 2)  // 2.5
        #expect(PruningMasks.prunedCount(sparsity: 0.5, size: 7) == 4)  // 3.5
        #expect(PruningMasks.prunedCount(sparsity: 0.3, size: 10) == 3)
        #expect(PruningMasks.prunedCount(sparsity: 0, size: 10) == 0)
    }

    // MARK: - Masks of hand-made layers

    /// Three linear layers 2→2→2→1 in a flat store, their weights set by hand.
    static func store(_ w0: [Float], _ w1: [Float], _ w2: [Float] = [0.7, -0.01]) -> ParameterStore {
        let store = ParameterStore([
            ("layers.0.weight", [2, 2], .weight), ("layers.0.bias", [2], .bias),
            ("layers.1.weight", [2, 2], .weight), ("layers.1.bias", [2], .bias),
            ("layers.2.weight", [1, 2], .weight), ("layers.2.bias", [1], .bias),
        ])
        let values = w0 + [0.25, -0.25] + w1 + [0.5, 0.5] + w2 + [0.125]
        for (index, value) in values.enumerated() { store.values.storage[index] = value }
        return store
    }

    static func pruner(_ store: ParameterStore, _ method: PruningMethod, scope: PruningScope = .layer,
                       includeOutput: Bool = false) -> Pruner {
        var section = Configuration.PruningSection()
        section.method = method
        section.scope = scope
        section.includeOutput = includeOutput
        return Pruner(section, method: method, parameters: store, epochs: 1, stepsPerEpoch: 1)
    }

    /// Per layer, each layer loses its own two smallest |w|; globally, the four smallest of both
    /// go, which here are three of the second layer's and one of the first's.
    @Test func globalAndPerLayerThresholdsDiffer() {
        let w0: [Float] = [0.1, -0.5, 0.2, 0.9], w1: [Float] = [0.01, 0.02, -0.03, 0.6]
        let perLayer = Self.pruner(Self.store(w0, w1), .magnitude)
        perLayer.prune(to: 0.5)
        #expect(perLayer.layers.map(\.tensor.name) == ["layers.0.weight", "layers.1.weight"])
        #expect(perLayer.masks.map(\.mask) == [[0, 1, 0, 1], [0, 0, 1, 1]])
        let global = Self.pruner(Self.store(w0, w1), .magnitude, scope: .global)
        global.prune(to: 0.5)
        #expect(global.masks.map(\.mask) == [[0, 1, 1, 1], [0, 0, 0, 1]])
        #expect(global.sparsity(of: global.layers[0]) == 0.25 && global.sparsity(of: global.layers[1]) == 0.75)
        #expect(global.overallSparsity == 0.5)
    }

    /// Equal magnitudes: the smaller flat index is pruned first; biases and the output layer are
    /// never touched (unless include_output).
    @Test func tiesGoByIndexAndBiasesStay() {
        let store = Self.store([0.5, -0.5, 0.5, 1], [1, 2, 3, 4])
        let pruner = Self.pruner(store, .magnitude)
        pruner.prune(to: 0.5)
        pruner.maskWeights()
        #expect(Array(store.values.storage) == [0, 0, 0.5, 1, 0.25, -0.25, 0, 0, 3, 4, 0.5, 0.5, 0.7, -0.01, 0.125])
        let withOutput = Self.pruner(Self.store([1, 2, 3, 4], [1, 2, 3, 4]), .magnitude, includeOutput: true)
        withOutput.prune(to: 0.5)
        #expect(withOutput.masks.map(\.name).last == "layers.2.weight_mask")
        #expect(withOutput.masks.last?.mask == [1, 0])
    }

    /// What is pruned stays pruned: a weight that grew after pruning is not brought back, and the
    /// next sparsity counts the entries already pruned.
    @Test func masksAreCumulative() {
        let store = Self.store([0.1, 0.2, 0.3, 0.4], [1, 1, 1, 1])
        let pruner = Self.pruner(store, .magnitude)
        pruner.prune(to: 0.25)
        #expect(pruner.masks[0].mask == [0, 1, 1, 1])
        store.values.storage[0] = 9  // as an optimizer step before the mask pass could leave it
        pruner.prune(to: 0.5)
        #expect(pruner.masks[0].mask == [0, 0, 1, 1])
    }

    /// Neurons: layer 0's rows have L2 norms 5 and √0.02, so 50% prunes unit 1, and layer 1's input
    /// column 1 with it; layer 1's rows, masked, then have norms 1 and 3: its unit 0 goes, and the
    /// output layer's column 0 with it.
    @Test func neuronsPruneRowsByL2NormAndTheNextLayersColumns() {
        let store = Self.store([3, 4, 0.1, 0.1], [1, 100, 3, -100])
        let pruner = Self.pruner(store, .neurons)
        #expect(pruner.layers.count == 3)
        pruner.prune(to: 0.5)
        #expect(pruner.masks.map(\.mask) == [[1, 1, 0, 0], [0, 0, 1, 0], [0, 1]])
        #expect(pruner.prunedUnits == [0: [1], 1: [0]])
        // The norms are of the masked weights: unmasked, row 1 of layer 1 (norm 100.04) would outrank row 0.
        #expect(PruningMasks.rowNorms(weights: [1, 100, 3, -100], mask: [1, 0, 1, 0], rows: 2, columns: 2) == [1, 3])
    }

    /// The optimizer's state of a pruned weight is zeroed (SGD's momentum buffer here), the rest kept.
    @Test func optimizerStateOfPrunedWeightsIsZeroed() throws {
        let store = Self.store([0.1, -0.5, 0.2, 0.9], [1, 2, 3, 4])
        let groups = store.groups(decayBatchNorm: false)
        let sgd = SGD(groups: groups, momentum: 0.9)
        let gradients = UnsafeMutableBufferPointer<Float>.allocate(capacity: store.count)
        defer { gradients.deallocate() }
        gradients.initialize(repeating: 1)
        sgd.step(parameters: store.values.storage, gradients: UnsafeBufferPointer(gradients), learningRate: 0, momentum: nil)
        #expect(sgd.state.buffers["momentum_buffer"]?.allSatisfy { $0 == 1 } == true)
        let pruner = Self.pruner(store, .magnitude)
        #expect(pruner.prepareStep(batchesBefore: 0, optimizer: sgd))
        let buffer = try #require(sgd.state.buffers["momentum_buffer"])
        #expect(buffer == [0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    }

    // MARK: - Training

    static func prunedConfig(_ method: PruningMethod, scope: PruningScope = .layer) -> Configuration {
        var config = ResumeTests.sgdConfig()
        config.pruning.method = method
        config.pruning.scope = scope
        config.pruning.sparsity = 0.6
        config.pruning.initialSparsity = 0.1
        config.pruning.startEpoch = 2
        config.pruning.endEpoch = 4
        config.pruning.everyNSteps = 2
        return config
    }

    /// After training, every pruned weight is exactly zero, the sparsity is the final one, and
    /// Adam's moments of pruned weights are zero.
    @Test(arguments: [PruningScope.layer, .global])
    func masksHoldThroughTraining(scope: PruningScope) throws {
        var config = Self.prunedConfig(.magnitude, scope: scope)
        config.optimizer.name = .adam
        config.optimizer.lr = 0.01
        config.optimizer.nesterov = false
        config.optimizer.momentum = 0
        config.scheduler.name = .constant
        config.earlyStopping.restoreBest = false  // the best epoch's weights may predate the last masks
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        let pruner = try #require(trainer.pruner)
        let values = trainer.network.parameters.values.storage
        let state = trainer.optimizer.state
        var pruned = 0
        for layer in pruner.layers {
            let mask = pruner.mask(of: layer)
            for (offset, kept) in mask.enumerated() where kept == 0 {
                let index = layer.tensor.offset + offset
                #expect(values[index] == 0 && state.buffers["exp_avg"]?[index] == 0 && state.buffers["exp_avg_sq"]?[index] == 0)
                pruned += 1
            }
            if scope == .layer {
                #expect(pruner.sparsity(of: layer)
                    == Double(PruningMasks.prunedCount(sparsity: 0.6, size: layer.range.count)) / Double(layer.range.count))
            }
        }
        let total = pruner.layers.reduce(0) { $0 + $1.range.count }
        if scope == .global { #expect(pruned == PruningMasks.prunedCount(sparsity: 0.6, size: total)) }
        #expect(abs(pruner.overallSparsity - 0.6) < 0.01)
    }

    /// A pruned run interrupted mid-schedule (steps 6, 8 and 13 of pruning steps 5...19) resumes bit
    /// for bit, masks included.
    @Test(arguments: [PruningMethod.magnitude, .neurons])
    func aPrunedRunResumesBitForBit(method: PruningMethod) throws {
        let config = Self.prunedConfig(method, scope: method == .magnitude ? .global : .layer)
        try ResumeTests.expectSameRun(config, ResumeTests.classificationData(), stops: [6, 8, 13, 22])
        let trainer = try ResumeTests.train(config, ResumeTests.classificationData(), stoppingAfterSteps: [8])
        #expect((trainer.pruner?.overallSparsity ?? 0) > 0.3)
    }

    /// A checkpoint whose mask is missing or not of zeros and ones is refused, naming the mask.
    @Test func aBadMaskIsRefused() throws {
        let config = Self.prunedConfig(.magnitude)
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: config, data: data)
        trainer.observers = [StopWhen { $0.stepCount == 8 }]
        try trainer.train()
        var state = trainer.state
        state.pruningMasks["layers.0.weight_mask"]?[0] = 0.5
        #expect(throws: TrainingStateMismatch.self) { try Trainer(configuration: config, data: data).restore(state) }
        state.pruningMasks["layers.0.weight_mask"] = nil
        do {
            try Trainer(configuration: config, data: data).restore(state)
            Issue.record("a missing mask was accepted")
        } catch {
            #expect(error.description.hasPrefix("pruning mask layers.0.weight_mask is missing"))
        }
    }

    // MARK: - Config

    private static func configError(_ yaml: String) -> String? {
        do {
            _ = try Configuration.parse(yaml: yaml, source: "p.yaml")
            return nil
        } catch {
            #expect(error.exitStatus == 78)
            return error.message
        }
    }

    @Test func theConfigRefusesWhatCannotRun() {
        #expect(Self.configError("pruning:\n  method: magnitude\n  schedule: once\n  every_n_steps: 5\n")
            == "p.yaml:4: pruning.every_n_steps: applies only to gradual, not once")
        // A key of a choice within a section that is off is refused for the section being off.
        #expect(Self.configError("pruning:\n  every_n_steps: 5\n")
            == "p.yaml:2: pruning.every_n_steps: applies only to magnitude, neurons of pruning.method, which is not set")
        #expect(Self.configError("pruning:\n  method: magnitude\n  sparsity: 0.5\n  initial_sparsity: 0.6\n")
            == "p.yaml:4: pruning.initial_sparsity 0.6 exceeds pruning.sparsity 0.5; expected at most 0.5")
        #expect(Self.configError("training: {epochs: 3}\npruning:\n  method: neurons\n  end_epoch: 4\n")
            == "p.yaml:4: pruning.end_epoch is 4; expected from start_epoch (1) to training.epochs (3)")
        #expect(Self.configError("pruning:\n  method: neurons\n  scope: global\n")
            == "p.yaml:3: pruning.scope: applies only to magnitude, not neurons, which uses sparsity, schedule, "
                + "start_epoch")
        #expect(Self.configError("pruning:\n  sparsity: 1\n")?.hasPrefix("p.yaml:2: pruning.sparsity") == true)
        #expect(Self.configError("pruning:\n  method: magnitude\n  sparsity: 0.9\n  scope: global\n") == nil)
        // Nothing to prune, or a hidden layer pruned away whole.
        #expect(Self.configError("model: {hidden: []}\npruning:\n  method: magnitude\n")
            == "p.yaml:3: pruning.method magnitude prunes the hidden layers' weights but model.hidden is [] and "
                + "include_output is false; expected hidden layers or include_output: true")
        #expect(Self.configError("model: {hidden: []}\npruning: {method: magnitude, include_output: true}\n") == nil)
        #expect(Self.configError("model: {hidden: [8, 2]}\npruning:\n  method: neurons\n  sparsity: 0.75\n")
            == "p.yaml:4: pruning.sparsity 0.75 prunes every unit of a hidden layer of 2 (round(0.75 · 2) = 2); "
                + "expected a sparsity that keeps at least one unit of each hidden layer")
        #expect(Self.configError("model: {hidden: [8, 2]}\npruning:\n  method: neurons\n  sparsity: 0.7\n") == nil)
    }

    /// The resolved YAML (config.yaml, and the copy in every checkpoint, which resume, eval and export
    /// read) of each schedule reads back as the same configuration: once's resolved YAML comments out
    /// gradual's keys rather than giving them to a schedule that refuses them.
    @Test(arguments: ["once", "gradual"])
    func theResolvedConfigReadsBack(schedule: String) throws {
        let configuration = try Configuration.parse(
            yaml: "pruning:\n  method: neurons\n  schedule: \(schedule)\n", source: "p.yaml")
        let yaml = configuration.resolvedYAML()
        #expect(yaml.contains("  # every_n_steps: 100 (applies only to gradual)\n") == (schedule == "once"))
        #expect(try Configuration.parse(yaml: yaml, source: "resolved.yaml") == configuration)
    }

    /// A resume may move the schedule (as it may the learning rate) but not change which weights are masked.
    @Test func aResumeKeepsWhatIsMasked() {
        let (refused, allowed) = Configuration.classifyForResume(
            ["pruning.method", "pruning.scope", "pruning.include_output", "pruning.sparsity", "pruning.end_epoch"])
        #expect(refused == ["pruning.method", "pruning.scope", "pruning.include_output"])
        #expect(allowed == ["pruning.sparsity", "pruning.end_epoch"])
    }
}

/// neurons pruning's smaller network at inference (`InferenceModel.droppingPrunedUnits`).
@Suite struct PrunedInferenceTests {
    /// y = f(Wx + b) layer by layer, in Double: the written formula, independent of the kernels.
    static func outputs(_ layers: [InferenceModel.Layer], _ x: [Double]) -> [Double] {
        var values = x
        for layer in layers {
            values = (0..<layer.outputs).map { j in
                var z = Double(layer.bias[j])
                for i in 0..<layer.inputs { z += Double(layer.weight[j * layer.inputs + i]) * values[i] }
                switch layer.activation {
                case .relu: return max(z, 0)
                case .prelu: return z > 0 ? z : Double(layer.slopes[j]) * z
                case .tanh: return Foundation.tanh(z)
                default: return z
                }
            }
        }
        return values
    }

    /// 2→3→2→1: unit 1 of the first layer (a zero row, bias 0.7, relu: constant 0.7) and unit 0 of
    /// the second (tanh of its bias −0.4) are dropped. The next layers' columns are left non-zero,
    /// so the fold into their biases is what keeps the outputs equal.
    @Test func theShrunkModelComputesTheMaskedNetwork() {
        let layers = [
            InferenceModel.Layer(inputs: 2, outputs: 3, weight: [1, -2, 0, 0, 0.5, 0.25], bias: [0.1, 0.7, -0.3],
                                 activation: .relu),
            InferenceModel.Layer(inputs: 3, outputs: 2, weight: [0, 0, 0, 0.3, -1.5, 2], bias: [-0.4, 0.2],
                                 activation: .tanh),
            InferenceModel.Layer(inputs: 2, outputs: 1, weight: [0.9, -1.1], bias: [0.05], activation: .identity),
        ]
        let shrunk = InferenceModel.droppingPrunedUnits(layers, pruned: [0: [1], 1: [0]])
        #expect(shrunk.map(\.outputs) == [2, 1, 1])
        #expect(shrunk.map(\.inputs) == [2, 2, 1])
        #expect(shrunk[1].weight == [0.3, 2])
        // Layer 1's bias gains −1.5 · relu(0.7); layer 2's gains 0.9 · tanh(−0.4).
        #expect(abs(Double(shrunk[1].bias[0]) - (0.2 - 1.5 * 0.7)) < 1e-6)
        #expect(abs(Double(shrunk[2].bias[0]) - (0.05 + 0.9 * Foundation.tanh(-0.4))) < 1e-6)
        for x in [[0.0, 0.0], [1.0, -1.0], [-2.5, 0.75], [3.0, 4.0]] {
            let full = Self.outputs(layers, x)[0], small = Self.outputs(shrunk, x)[0]
            #expect(abs(full - small) < 1e-6, "x = \(x)")
        }
        #expect(InferenceModel.prunedUnits(layers, masks: ["layers.0.weight_mask": [1, 1, 0, 0, 1, 1],
                                                           "layers.1.weight_mask": [0, 0, 0, 1, 0, 1]]) == [0: [1], 1: [0]])
    }

    /// prelu: a dropped unit's constant is its own slope times its negative bias (unit 1: −0.5·−0.7 =
    /// 0.35), and its slope leaves with it.
    @Test func theShrunkModelKeepsEachUnitsOwnSlope() {
        let layers = [
            InferenceModel.Layer(inputs: 2, outputs: 3, weight: [1, -2, 0, 0, 0.5, 0.25], bias: [0.1, -0.7, -0.3],
                                 activation: .prelu(initial: 0.25), slopes: [0.25, -0.5, 2]),
            InferenceModel.Layer(inputs: 3, outputs: 1, weight: [0.3, -1.5, 2], bias: [-0.4], activation: .identity),
        ]
        let shrunk = InferenceModel.droppingPrunedUnits(layers, pruned: [0: [1]])
        #expect(shrunk[0].slopes == [0.25, 2])
        #expect(abs(Double(shrunk[1].bias[0]) - (-0.4 - 1.5 * 0.35)) < 1e-6)
        for x in [[0.0, 0.0], [1.0, -1.0], [-2.5, 0.75], [3.0, 4.0]] {
            #expect(abs(Self.outputs(layers, x)[0] - Self.outputs(shrunk, x)[0]) < 1e-6, "x = \(x)")
        }
    }

    /// A trained neurons-pruned checkpoint exports a smaller model whose outputs are the network's (prelu:
    /// with each kept unit's learned slope).
    @Test(arguments: [ActivationKind.relu, .prelu])
    func aPrunedCheckpointExportsReducedWidths(activation: ActivationKind) throws {
        var config = PruningTests.prunedConfig(.neurons)
        config.model.activation = activation
        config.model.dropout = 0
        config.earlyStopping.restoreBest = false
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: config, data: data)
        try trainer.train()
        let checkpoint = try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final)
        let bytes = CheckpointFile.encode(try checkpoint.contents())
        let model = try InferenceModel(checkpoint: try Checkpoint(contents: CheckpointFile.verify(bytes, path: "c"),
                                                                  path: "c"), fingerprint: "0", path: "c")
        // 60% of 24 and 12 units: round(14.4) = 14 and round(7.2) = 7 pruned.
        #expect(model.layers.map(\.outputs) == [10, 5, 4])
        #expect(model.architecture.hasSuffix("(pruned: 16-10-5-4)"))
        let network = trainer.network
        let x = (0..<(3 * 16)).map { Float($0 % 7) * 0.25 - 0.5 }
        let input = FloatBuffer(count: x.count)
        for (index, value) in x.enumerated() { input.storage[index] = value }
        let output = network.forward(input.matrix(rows: 3, columns: 16), training: false)
        for row in 0..<3 {
            let small = Self.outputs(model.layers, (0..<16).map { Double(x[row * 16 + $0]) })
            for column in 0..<4 {
                #expect(abs(small[column] - Double(output[row, column])) < 1e-4, "row \(row), output \(column)")
            }
        }
    }
}

extension PrunedInferenceTests {
    /// `nntrain inspect` of a neurons-pruned checkpoint: each mask's fraction of zeros and the widths
    /// left at inference, counted by hand: layer 0 loses 14 of 24 rows of 16 (and nothing else),
    /// layer 1 7 of 12 rows of 24 plus the 14 pruned input columns in the 5 rows kept, layer 2 the
    /// 7 columns in its 4 rows.
    @Test func inspectShowsSparsityAndWidths() throws {
        var config = PruningTests.prunedConfig(.neurons)
        config.earlyStopping.restoreBest = false
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        let checkpoint = try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final)
        let figures = try #require(PruningFigures(method: .neurons, weights: checkpoint.parameterLayout,
                                                   masks: checkpoint.state.pruningMasks))
        #expect(figures.layers.map(\.name) == ["layers.0.weight", "layers.1.weight", "layers.2.weight"])
        let zeros = [14 * 16, 7 * 24 + 5 * 14, 4 * 7], sizes = [24 * 16, 12 * 24, 4 * 12]
        #expect(figures.layers.map(\.sparsity) == zip(zeros, sizes).map { Double($0) / Double($1) })
        #expect(figures.sparsity == Double(zeros.reduce(0, +)) / Double(sizes.reduce(0, +)))
        #expect(figures.hiddenWidths == [10, 5])
        #expect(PruningFigures(method: nil, weights: checkpoint.parameterLayout, masks: checkpoint.state.pruningMasks) == nil)
        #expect(trainer.pruner?.figures == figures)
        let text = CheckpointDescription(checkpoint: checkpoint, configuration: trainer.configuration, path: "c.bin",
                                         fileBytes: 0, formatVersion: 1).text()
        #expect(text.contains("\npruning: neurons, 68.1% of the masked weights pruned (layers.0.weight 58.3%, "
            + "layers.1.weight 82.6%, layers.2.weight 58.3%); hidden widths at inference 10-5\n"))
    }
}

extension PruningTests {
    /// metrics.csv's sparsity columns: the overall figure, then one per pruned layer, from each epoch's
    /// masks; epochs before the first pruning step show 0.
    @Test func metricsCarryTheSparsity() throws {
        let config = Self.prunedConfig(.magnitude)
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let history = try trainer.train()
        let pruner = try #require(trainer.pruner)
        let columns = MetricsLog.Columns(classification: true, prunedLayers: pruner.layers.map(\.index))
        #expect(MetricsLog.header(columns).hasSuffix(",samples_per_second,sparsity,sparsity_0,sparsity_1"))
        #expect(history.first?.pruning == PruningMetrics(sparsity: 0, layers: [0, 0]))
        #expect(history.last?.pruning == pruner.metrics)
        let row = MetricsLog.row(try #require(history.last), columns).split(separator: ",").suffix(3).map(String.init)
        #expect(row == ["\(pruner.overallSparsity)"] + pruner.layers.map { "\(pruner.sparsity(of: $0))" })
        #expect(pruner.overallSparsity > 0.5)
    }
}

extension PruningTests {
    /// In fp16 with a loss scale so large that every gradient overflows, every step is skipped (no
    /// optimizer step is taken), yet pruning follows the batches: the masks reach their final sparsity
    /// within end_epoch and the best model is chosen after it, as in a run without skipped steps.
    @Test func skippedStepsDoNotDelayPruning() throws {
        var config = Self.prunedConfig(.magnitude)
        config.training.precision = .fp16
        config.training.lossScale = .fixed(1e30)
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        #expect(trainer.stepCount == 0 && (trainer.gradScaler?.skippedSteps ?? 0) > 0)
        let pruner = try #require(trainer.pruner)
        for layer in pruner.layers {
            #expect(pruner.sparsity(of: layer)
                == Double(PruningMasks.prunedCount(sparsity: 0.6, size: layer.range.count)) / Double(layer.range.count))
        }
        #expect(trainer.pruningSettled)
    }

    /// Tells a checkpoint policy of each epoch, as a run's session does.
    private final class PolicyObserver: TrainingObserver {
        let policy: CheckpointPolicy
        init(_ policy: CheckpointPolicy) { self.policy = policy }
        func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {
            try policy.epochFinished(metrics, trainer: trainer)
        }
    }

    /// Until the schedule's last pruning step (within epoch 4 here) no epoch is a candidate for the best
    /// model: pruning to 99% raises the validation loss, so without the rule epoch 3 (at 92% sparsity)
    /// is the best, restore_best puts its denser weights back and best.bin holds them. With it the best
    /// is an epoch from 4 on, the restored weights keep the final masks' zeros, and best.bin is written then.
    @Test func theBestModelIsChosenOnlyAtTheFinalSparsity() throws {
        var config = Self.prunedConfig(.magnitude)
        config.pruning.sparsity = 0.99
        config.checkpoint.saveBest = true
        config.checkpoint.monitor = .valLoss
        config.checkpoint.mode = .min
        let folder = try TemporaryFolder()
        let policy = CheckpointPolicy(runDirectory: folder.path, section: config.checkpoint)
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        trainer.observers.append(PolicyObserver(policy))
        let history = try trainer.train()
        // The rule matters here: an epoch before the final sparsity has the lowest validation loss of all.
        let losses = history.compactMap { $0.validation?.loss }
        let lowest = try #require(losses.indices.min { losses[$0] < losses[$1] })
        #expect(losses.count == 6 && lowest + 1 < 4)
        let restored = try #require(trainer.restoredEpoch)
        #expect(restored >= 4 && policy.best.map(\.epoch) == restored)
        #expect(trainer.earlyStopping?.bestEpoch == restored)
        let pruner = try #require(trainer.pruner)
        let values = trainer.network.parameters.values.storage
        for layer in pruner.layers {
            for (offset, kept) in pruner.mask(of: layer).enumerated() where kept == 0 {
                #expect(values[layer.tensor.offset + offset] == 0)
            }
        }
        let best = try Checkpoint.read(path: policy.bestPath)
        #expect(best.state.position.epoch == restored + 1)
    }
}

extension PruningTests {
    /// end_epoch left out follows training.epochs: a resume with more epochs stretches the ramp, and
    /// its warning names pruning.end_epoch beside training.epochs (given in the config, it stays).
    @Test func aResumeWithMoreEpochsNamesTheStretchedRamp() throws {
        var saved = Self.prunedConfig(.magnitude)
        saved.pruning.endEpoch = nil
        saved.scheduler.name = .constant
        var resumed = saved
        resumed.training.epochs = 9
        let state = try ResumeChangesTests.finishedState(saved)
        let allowed = try #require(resumed.resumeChanges(from: saved, state: state).allowed)
        #expect(allowed.changes == [
            ResumeChanges.Change(key: "training.epochs", saved: "6", new: "9", defaultFollows: nil),
            ResumeChanges.Change(key: "pruning.end_epoch", saved: "6", new: "9", defaultFollows: "training.epochs"),
        ])
        resumed.pruning.endEpoch = 6
        #expect(try #require(resumed.resumeChanges(from: saved, state: state).allowed).keys == ["training.epochs"])
    }
}
