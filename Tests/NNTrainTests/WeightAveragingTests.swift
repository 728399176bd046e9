import Foundation
import Testing
@testable import NNTrain

/// EMA and SWA (torch.optim.swa_utils) against their formulas written out here: AveragedModel's
/// updates and counts, SWALR's lr, update_bn's statistics; then their checkpoints, resume, final
/// model and refusals.
@Suite struct WeightAveragingTests {
    /// Records the running weights after every batch and at every epoch's end.
    final class WeightRecorder: TrainingObserver {
        var afterBatch: [(batches: Int, weights: [Float], statistics: [[Float]])] = []
        var afterEpoch: [[Float]] = []

        func afterStep(_ step: StepReport, trainer: Trainer) throws(NNTrainError) {
            let snapshot = trainer.network.snapshot()
            afterBatch.append((trainer.batchesTrained, snapshot.parameters, snapshot.runningStatistics))
        }

        func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {
            afterEpoch.append(trainer.network.snapshot().parameters)
        }
    }

    /// SGD with momentum on the 48 training rows of `ResumeTests.classificationData` (5 batches an
    /// epoch), one hidden layer with batch norm.
    static func config(epochs: Int = 4) -> Configuration {
        var config = Configuration()
        config.model.hidden = [8]
        config.model.batchNorm = true
        config.optimizer.name = .sgd
        config.optimizer.lr = 0.1
        config.optimizer.momentum = 0.9
        config.training.epochs = epochs
        config.training.batchSize = .rows(10)
        return config
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    /// ema ← ema + (1 − d)·(w − ema), fused, after every 2nd batch, the first copying w; the same to
    /// 1e-6 as d·ema + (1 − d)·w in Double; n_averaged counts the updates; the batch-norm statistics
    /// are the model's at the last update.
    @Test func theEMAIsAveragedModelWithTheEMAFunctionEveryNBatches() throws {
        var config = Self.config(epochs: 3)
        config.ema.enabled = true
        config.ema.decay = 0.9
        config.ema.everyNSteps = 2
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let recorder = WeightRecorder()
        trainer.observers = [recorder]
        try trainer.train()
        let ema = try #require(trainer.ema)
        let updates = recorder.afterBatch.filter { $0.batches % 2 == 0 }
        #expect(updates.count == 7 && ema.count == 7)  // 15 batches
        let weight = Float(1 - 0.9)
        var expected = updates[0].weights, reference = updates[0].weights.map(Double.init)
        for update in updates.dropFirst() {
            for i in expected.indices {
                expected[i] = expected[i].addingProduct(weight, update.weights[i] - expected[i])
                reference[i] = 0.9 * reference[i] + 0.1 * Double(update.weights[i])
            }
        }
        #expect(Self.bits(ema.parameters) == Self.bits(expected))
        #expect(zip(ema.parameters, reference).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max(1, abs($1)) })
        #expect(ema.runningStatistics == updates.last?.statistics)
        #expect(ema.parameters != trainer.network.snapshot().parameters)
    }

    /// The SWA average of epochs 2 to 4 is the mean of the three epoch-end weights (exactly the lerp
    /// recurrence with t = 1/(n + 1), and to 1e-6 the mean in Double); n_averaged is 3.
    @Test func theSWAAverageIsTheMeanOfTheEpochEndWeights() throws {
        var config = Self.config(epochs: 4)
        config.model.batchNorm = false
        config.swa.startEpoch = 2
        config.swa.lr = 0.05
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let recorder = WeightRecorder()
        trainer.observers = [recorder]
        try trainer.train()
        let swa = try #require(trainer.swa)
        #expect(swa.count == 3)
        let averaged = Array(recorder.afterEpoch[1...])
        var expected = averaged[0]
        for (n, weights) in averaged.enumerated().dropFirst() {
            let t = 1 / Float(n + 1)
            for i in expected.indices {
                let difference = weights[i] - expected[i]
                expected[i] = t < 0.5 ? expected[i].addingProduct(t, difference) : weights[i].addingProduct(t - 1, difference)
            }
        }
        #expect(Self.bits(swa.parameters) == Self.bits(expected))
        for i in expected.indices {
            let mean = averaged.reduce(0.0) { $0 + Double($1[i]) } / 3
            #expect(abs(Double(swa.parameters[i]) - mean) <= 1e-6 * max(1, abs(mean)))
        }
        #expect(trainer.finalModel == .swa)
    }

    /// SWALR.get_lr from lr 0.1 to swa_lr 0.05 over 3 epochs: cos 0.0875, 0.0625, 0.05, 0.05 (α =
    /// 1/4, 3/4, 1), linear 0.1 − 0.05·k/3; anneal_epochs 0 jumps to swa_lr.
    @Test func swalrAnnealsAsTorchComputesIt() {
        func run(_ strategy: SWAAnnealStrategy, epochs: Int, steps: Int) -> [Double] {
            var lr = 0.1, rates: [Double] = []
            for step in 1...steps {
                lr = SWALR.learningRate(step: step, from: lr, swaLR: 0.05, annealEpochs: epochs, strategy: strategy)
                rates.append(lr)
            }
            return rates
        }
        func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-15 } && a.count == b.count }
        #expect(close(run(.cos, epochs: 3, steps: 4), [0.0875, 0.0625, 0.05, 0.05]))
        #expect(close(run(.linear, epochs: 3, steps: 4), [0.1 - 0.05 / 3, 0.1 - 0.1 / 3, 0.05, 0.05]))
        #expect(close(run(.cos, epochs: 0, steps: 2), [0.05, 0.05]))
    }

    /// In training: epochs up to start_epoch at the optimizer's lr, then SWALR's (linear over 2
    /// epochs: 0.05·0.5 + 0.1·0.5, which Python's doubles make 0.07500000000000001, then 0.05).
    @Test func theLearningRateFollowsSWALRAfterTheStartEpoch() throws {
        var config = Self.config(epochs: 5)
        config.swa.startEpoch = 2
        config.swa.lr = 0.05
        config.swa.annealEpochs = 2
        config.swa.annealStrategy = .linear
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        #expect(trainer.history.map(\.learningRate) == [0.1, 0.1, 0.05 * 0.5 + 0.1 * 0.5, 0.05, 0.05])
    }

    /// update_bn: the SWA model's batch-norm statistics at the end are the mean over the training
    /// batches (rows in order, batches of 10) of each batch's mean and unbiased variance of the
    /// averaged first layer's outputs, recomputed here in Double from the averaged weights.
    @Test func updateBNLeavesTheMeanOfTheBatchStatistics() throws {
        var config = Self.config(epochs: 3)
        config.swa.startEpoch = 2
        config.swa.lr = 0.05
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: config, data: data)
        try trainer.train()
        let swa = try #require(trainer.swa)
        let tensors = trainer.network.parameters.tensors
        let weight = try #require(tensors.first { $0.name == "layers.0.weight" })
        let bias = try #require(tensors.first { $0.name == "layers.0.bias" })
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        var meanSum = [Double](repeating: 0, count: outputs), varianceSum = meanSum
        let order = (0..<Int32(48)).map { $0 }
        var batches = 0
        for start in stride(from: 0, to: 48, by: 10) {
            let range = start..<min(start + 10, 48)
            let rows: [[Double]] = order.withUnsafeBufferPointer { order in
                trainer.trainLoader.withBatch(order: order, range: range) { x, _ in
                    (0..<x.rows).map { r in
                        (0..<outputs).map { o in
                            (0..<inputs).reduce(Double(swa.parameters[bias.offset + o])) {
                                $0 + Double(swa.parameters[weight.offset + o * inputs + $1]) * Double(x.base[r * inputs + $1])
                            }
                        }
                    }
                }
            }
            for o in 0..<outputs {
                let mean = rows.reduce(0) { $0 + $1[o] } / Double(rows.count)
                meanSum[o] += mean
                varianceSum[o] += rows.reduce(0) { $0 + ($1[o] - mean) * ($1[o] - mean) } / Double(rows.count - 1)
            }
            batches += 1
        }
        let runningMean = swa.runningStatistics[0], runningVariance = swa.runningStatistics[1]
        for o in 0..<outputs {
            #expect(abs(Double(runningMean[o]) - meanSum[o] / Double(batches)) <= 1e-4 * max(1, abs(meanSum[o])))
            #expect(abs(Double(runningVariance[o]) - varianceSum[o] / Double(batches)) <= 1e-4 * max(1, varianceSum[o]))
        }
        // The running model's statistics are its own (momentum 0.1), untouched by update_bn.
        #expect(trainer.network.snapshot().runningStatistics[0] != runningMean)
        // The test figures are the average's.
        let tested = try trainer.withFinalModel { trainer.evaluate(data.test) }
        #expect(tested != trainer.evaluate(data.test))
    }

    /// Under pruning the averages are zero where the masks prune (torch averages `weight_orig` and
    /// copies `weight_mask`), and equal to the lerp elsewhere.
    @Test func averagesOfAPrunedModelAreMasked() throws {
        var config = Self.config(epochs: 3)
        config.pruning.method = .magnitude
        config.pruning.schedule = .once
        config.pruning.startEpoch = 2
        config.pruning.sparsity = 0.5
        config.ema.enabled = true
        config.ema.decay = 0.9
        config.swa.startEpoch = 1
        config.swa.lr = 0.05
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        let pruner = try #require(trainer.pruner)
        let tensors = trainer.network.parameters.tensors
        var pruned = 0
        for (name, mask) in pruner.masks {
            let tensor = try #require(tensors.first { $0.name + "_mask" == name })
            for (k, keep) in mask.enumerated() where keep == 0 {
                pruned += 1
                #expect(trainer.ema?.parameters[tensor.offset + k] == 0 && trainer.swa?.parameters[tensor.offset + k] == 0)
            }
        }
        #expect(pruned > 0)
    }

    /// With ema.evaluate, validation is of the EMA weights: the epoch's figure equals evaluating a
    /// network holding them, and the running weights are back afterwards.
    @Test func emaEvaluateValidatesTheAverage() throws {
        var config = Self.config(epochs: 2)
        config.ema.enabled = true
        config.ema.evaluate = true
        config.ema.decay = 0.5
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: config, data: data)
        try trainer.train()
        let ema = try #require(trainer.ema)
        let running = trainer.network.snapshot()
        trainer.network.restore(ema.snapshot)
        let averaged = trainer.evaluate(data.validation)
        trainer.network.restore(running)
        let plain = trainer.evaluate(data.validation)
        #expect(trainer.history.last?.validation == averaged)
        #expect(averaged != plain)
        #expect(trainer.finalModel == .ema)
        #expect(trainer.network.snapshot() == running)
    }

    /// ASGD's averaged iterates ā are the model validated (torch users evaluate ASGD's average): the epoch's
    /// figure equals evaluating a network holding the optimizer's `ax` with the model's batch-norm statistics,
    /// which differs from the running weights' once averaging has begun (t0 = 3); the running weights are
    /// back afterwards, and the final model is `ax`.
    @Test func asgdValidatesItsAveragedIterates() throws {
        var config = Self.config(epochs: 2)
        config.optimizer.name = .asgd
        config.optimizer.lr = 0.05
        config.optimizer.t0 = 3
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: config, data: data)
        try trainer.train()
        let asgd = try #require(trainer.optimizer as? ASGD)
        let running = trainer.network.snapshot()
        #expect(asgd.averagedParameters != running.parameters)
        trainer.network.restore(Network.Snapshot(parameters: asgd.averagedParameters,
                                                 runningStatistics: running.runningStatistics))
        let averaged = trainer.evaluate(data.validation)
        trainer.network.restore(running)
        #expect(trainer.history.last?.validation == averaged)
        #expect(averaged != trainer.evaluate(data.validation))
        #expect(trainer.finalModel == .ax)
        #expect(trainer.network.snapshot() == running)
    }
}

/// Averages in checkpoints: their tensors and counts read back equal, eval serves the final model,
/// a resumed run ends bit for bit as one that never stopped, and damaged records are refused.
@Suite struct WeightAveragingCheckpointTests {
    static func emaConfig() -> Configuration {
        var config = ResumeTests.sgdConfig()
        config.ema.enabled = true
        config.ema.decay = 0.8
        config.ema.everyNSteps = 3
        config.ema.evaluate = true
        return config
    }

    static func swaConfig() -> Configuration {
        var config = ResumeTests.sgdConfig()
        config.earlyStopping.patience = nil
        config.earlyStopping.restoreBest = false
        config.scheduler.name = .constant
        config.swa.startEpoch = 3
        config.swa.lr = 0.02
        config.swa.annealEpochs = 2
        config.swa.evaluate = true
        return config
    }

    @Test func emaRunsResumeBitForBit() throws {
        try ResumeTests.expectSameRun(Self.emaConfig(), ResumeTests.classificationData(), stops: [2, 7, 10, 21])
    }

    @Test func swaRunsResumeBitForBit() throws {
        try ResumeTests.expectSameRun(Self.swaConfig(), ResumeTests.classificationData(), stops: [4, 10, 16, 23])
    }

    /// fp16 with dynamic loss scaling (skipped steps still count as batches) and one_cycle.
    @Test func emaInMixedPrecisionResumesBitForBit() throws {
        var config = ResumeTests.mixedPrecisionConfig()
        config.ema.enabled = true
        config.ema.everyNSteps = 2
        config.ema.evaluate = true
        try ResumeTests.expectSameRun(config, ResumeTests.imageData(), stops: [1, 6, 9])
    }

    /// SWA from the first epoch with a cycled momentum, which SWALR freezes.
    @Test func swaAfterOneCycleResumesBitForBit() throws {
        var config = ResumeTests.mixedPrecisionConfig()
        config.swa.startEpoch = 1
        config.swa.lr = 0.001
        config.swa.annealEpochs = 0
        try ResumeTests.expectSameRun(config, ResumeTests.imageData(), stops: [3, 4, 11])
    }

    @Test func theAveragesTensorsAndCountsReadBackEqual() throws {
        var config = Self.swaConfig()
        config.ema.enabled = true
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        trainer.observers = [StopWhen { $0.stepCount == 21 }]
        try trainer.train()
        let checkpoint = Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted)
        let contents = try checkpoint.contents()
        for name in ["ema.layers.0.weight", "ema.norms.0.running_var", "swa.layers.2.bias", "swa.norms.1.running_mean"] {
            #expect(contents[name] != nil, "\(name)")
        }
        #expect(contents.metadata["nntrain.final_model"] == "swa")
        let read = try CheckpointTests.read(CheckpointTests.bytes(checkpoint))
        #expect(read == checkpoint)
        #expect(read.state.ema?.count == 21)  // every step
        #expect(read.state.swa?.count == 2)
        #expect(read.state.swaSchedule != nil)
        #expect(read.servedModel == trainer.swa?.snapshot)
        let text = CheckpointDescription(checkpoint: read, configuration: trainer.configuration, path: "c.bin",
                                         fileBytes: 0, formatVersion: 1).text()
        #expect(text.contains("\naveraged weights: ema 21 updates, swa 2 updates; final model: swa.*\n"))
    }

    /// The final last.bin of an EMA run with ema.evaluate holds the running weights as the model
    /// (resume goes on from them) and the EMA as `ema.*`; eval rebuilds the EMA.
    @Test func evalRebuildsTheFinalModel() throws {
        var config = Self.emaConfig()
        config.earlyStopping.restoreBest = false
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        try trainer.train()
        let checkpoint = try CheckpointTests.read(CheckpointTests.bytes(
            Checkpoint(trainer: trainer, bestRecord: nil, reason: .final)))
        #expect(checkpoint.finalModel == .ema)
        #expect(checkpoint.state.model == trainer.network.snapshot())
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: checkpoint.configuration(path: "c"),
                                                     path: "c")
        #expect(network.snapshot() == trainer.ema?.snapshot)
    }

    /// restore_best wins: the restored epoch's model (validated, so the EMA of that epoch) is final.
    @Test func restoreBestWinsOverTheAverage() throws {
        let trainer = Trainer(configuration: Self.emaConfig(), data: ResumeTests.classificationData())
        try trainer.train()
        #expect(trainer.restoredEpoch != nil)
        #expect(trainer.finalModel == .model)
        #expect(Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).servedModel == trainer.network.snapshot())
    }

    @Test func damagedAverageRecordsAreRefused() throws {
        let trainer = Trainer(configuration: Self.emaConfig(), data: ResumeTests.classificationData())
        trainer.observers = [StopWhen { $0.stepCount == 7 }]
        try trainer.train()
        let contents = try Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted).contents()
        func message(_ change: (inout SafeTensors) -> Void) -> String? {
            var file = contents
            change(&file)
            do { _ = try Checkpoint(contents: file, path: "c.bin"); return nil } catch { return error.message }
        }
        #expect(message { $0.tensors.removeAll { $0.name == "ema.layers.1.bias" } }
            == "c.bin: tensor 'ema.layers.1.bias' is missing")
        for name in ["swa", "ax"] {  // SGD keeps no optimizer.ax
            #expect(message { $0.metadata["nntrain.final_model"] = name }
                == "c.bin: metadata nntrain.final_model is '\(name)'; expected model, ema or swa with its average's tensors, "
                    + "or ax with optimizer.ax")
        }
        #expect(message {
            let index = $0.tensors.firstIndex { $0.name == "ema.layers.0.weight" }!
            $0.tensors[index].tensor = SafeTensors.Tensor([Float](repeating: 0, count: 3))
        } == "c.bin: the ema.* tensors hold \(trainer.network.parameters.count - 16 * 24 + 3) parameters; expected "
            + "\(trainer.network.parameters.count), as the model's")
        #expect(message {
            let scalars = $0.metadata["nntrain.state"] ?? ""
            $0.metadata["nntrain.state"] = String(scalars.dropLast()) + ",\"swaSchedule\":{\"learningRate\":\"nan\"}}"
        } == "c.bin: metadata nntrain.state: swaSchedule holds lr nan, momentum none; expected a finite lr >= 0 and a "
            + "finite momentum")
        // A state without the EMA the config keeps is refused, naming it.
        var state = trainer.state
        state.ema = nil
        #expect(throws: TrainingStateMismatch.self) { try Trainer(configuration: Self.emaConfig(),
                                                                  data: ResumeTests.classificationData()).restore(state) }
    }

    @Test func configRefusals() {
        func error(_ yaml: String) -> String? {
            do { _ = try Configuration.parse(yaml: yaml, source: "x.yaml"); return nil } catch { return error.message }
        }
        #expect(error("swa:\n  start_epoch: 2\n")
            == "x.yaml:2: swa.start_epoch is given but swa.lr is not; expected swa.lr, the lr SWALR anneals to "
                + "(swa_lr, e.g. 0.05)")
        #expect(error("training:\n  epochs: 3\nswa:\n  start_epoch: 4\n  lr: 0.1\n")
            == "x.yaml:4: swa.start_epoch is 4 but training.epochs is 3; expected at most 3")
        #expect(error("ema:\n  enabled: true\n  evaluate: true\nswa:\n  start_epoch: 2\n  lr: 0.1\n")?
            .hasPrefix("x.yaml:3: ema.evaluate is true with swa.start_epoch") == true)
        #expect(error("ema:\n  decay: 0.9\n")
            == "x.yaml:2: ema.decay: applies only with ema.enabled: true, not false (the default)")
        #expect(error("ema:\n  enabled: true\n  decay: 1\n")?.contains("expected a number > 0 and < 1") == true)
        #expect(Configuration.classifyForResume(["ema.enabled", "ema.decay", "swa.start_epoch", "swa.lr"]).refused
            == ["ema.enabled", "swa.start_epoch"])
    }
}

/// A whole run (`nntrain run` on a tiny image folder): summary.json names the weights tested, and
/// `nntrain eval` on last.bin gives the same test figures, from the average.
@Suite struct WeightAveragingRunTests {
    @Test(arguments: [("swa: {start_epoch: 2, lr: 0.05}", "swa"), ("ema: {enabled: true, evaluate: true, decay: 0.9}", "ema"),
                      ("ema: {enabled: true, decay: 0.9}", "running"), ("optimizer: {name: asgd, lr: 0.05, t0: 2}", "ax")])
    func evalOfLastBinReproducesTheTestedWeights(section: String, tested: String) throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let config = try folder.write("""
            data: {path: \(folder.path), validation_split: 0.25}
            model: {hidden: [12], batch_norm: true}
            training: {epochs: 3, batch_size: 15}
            \(section)
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        let summary = try #require(try TrainingRun.execute(configPath: config, overrides: []).summary)
        #expect(summary.testedWeights == tested)
        let last = folder.file("run") + "/checkpoints/last.bin"
        let evaluation = try CheckpointEvaluation.run(checkpointPath: last, split: .test)
        #expect(abs(evaluation.loss - (summary.test?.loss ?? .nan)) < 1e-12)
        let checkpoint = try Checkpoint.read(path: last)
        #expect(checkpoint.finalModel.rawValue == (tested == "running" ? "model" : tested))
        if tested == "ax" {  // ASGD's average, not the running weights, is what eval rebuilt
            #expect(checkpoint.servedModel.parameters == checkpoint.state.optimizer.buffers["ax"])
            #expect(checkpoint.servedModel.parameters != checkpoint.state.model.parameters)
            let text = CheckpointDescription(checkpoint: checkpoint, configuration: try checkpoint.configuration(path: last),
                                             path: last, fileBytes: 0, formatVersion: 1).text()
            #expect(text.contains("averaged weights: asgd's ax; final model: optimizer.ax"))
        }
        #expect(try String(decoding: summary.json(), as: UTF8.self).contains("\"tested_weights\" : \"\(tested)\""))
    }
}
