import Foundation
import Testing
@testable import NNTrain

/// Per-layer diagnostics (`logging.layer_stats`, `LayerStatistics`): the figures against hand
/// computations, the CSV columns, exact resumes, and the three warnings (`TrainingDiagnostics`).
@Suite struct LayerStatisticsTests {
    /// Records what each step and epoch shows: the per-layer norms, dead fractions and global norm of
    /// every step, the gradient buffer of each step taken, the warnings and where they came.
    final class Recorder: TrainingObserver {
        var stepNorms: [[Double]] = [], stepDead: [[Double?]] = [], globalNorms: [Double?] = []
        var gradients: [[Float]] = [], epochs: [EpochMetrics] = [], weights: [[Float]] = []
        var events: [String] = []

        func afterStep(_ step: StepReport, trainer: Trainer) {
            guard let statistics = trainer.layerStatistics else { return }
            globalNorms.append(step.gradientNorm)
            stepDead.append(statistics.lastBatchDeadFractions)
            if step.gradientNorm != nil {
                stepNorms.append(statistics.lastStepGradientNorms)
                let parameters = trainer.network.parameters
                gradients.append(Array(UnsafeBufferPointer(start: parameters.gradients.base, count: parameters.count)))
            }
        }

        func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) {
            epochs.append(metrics)
            weights.append(trainer.network.parameters.valuesArray(of: trainer.network.parameters.tensors[0]))
            events.append("epochFinished \(metrics.epoch)")
        }

        func warning(_ message: String) { events.append(message) }
    }

    /// sqrt(Σ x²) in Double, element by element.
    static func norm(_ values: some Sequence<Float>) -> Double {
        values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    static func config(clip: Double? = nil, residual: Bool = false) -> Configuration {
        var config = Configuration()
        config.model.hidden = [6, 5]
        config.model.residual = residual  // block 1 (6 → 5) then has a projection, shortcuts.1.weight
        config.optimizer.name = .sgd
        config.optimizer.lr = 0.1
        config.training.epochs = 2
        config.training.batchSize = .rows(10)
        config.training.clip.norm = clip
        config.logging.layerStats = true
        return config
    }

    /// Without clipping the gradient buffer after a step is what was measured: each layer's norm is
    /// sqrt(Σ g²) over its weight and bias, computed here element by element in double.
    @Test func perLayerNormsAreTheLayersGradientNorms() throws {
        let trainer = Trainer(configuration: Self.config(), data: ResumeTests.classificationData())
        let recorder = Recorder()
        trainer.observers = [recorder]
        try trainer.train()
        let tensors = trainer.network.parameters.tensors
        #expect(recorder.stepNorms.count == 10)
        for (norms, gradients) in zip(recorder.stepNorms, recorder.gradients) {
            #expect(norms.count == 3)
            for layer in 0..<3 {
                let parts = tensors.filter { $0.name.hasPrefix("layers.\(layer).") }
                #expect(parts.count == 2)
                let expected = Self.norm(parts.flatMap { gradients[$0.offset..<($0.offset + $0.count)] })
                #expect(expected > 0)
                #expect(abs(norms[layer] - expected) <= 1e-6 * expected, "layer \(layer): \(norms[layer]) vs \(expected)")
            }
        }
    }

    /// With clipping that bites (max_norm 0.01), the layer norms are still taken before it: their
    /// squares sum to the step's global grad_norm squared. The epoch's figures are the mean of the
    /// steps' and the weights' norms at its end. With `model.residual` the projection counts in its layer's norm,
    /// so the sum still holds.
    @Test(arguments: [false, true])
    func layerNormsAddUpToTheGlobalNormBeforeClippingAndAverageOverTheEpoch(residual: Bool) throws {
        let trainer = Trainer(configuration: Self.config(clip: 0.01, residual: residual),
                              data: ResumeTests.classificationData())
        #expect(trainer.network.parameters.tensor(named: "shortcuts.1.weight") != nil || !residual)
        let recorder = Recorder()
        trainer.observers = [recorder]
        try trainer.train()
        let global = recorder.globalNorms.compactMap { $0 }
        #expect(global.count == 10 && recorder.stepNorms.count == 10)
        for (norms, norm) in zip(recorder.stepNorms, global) {
            #expect(norm > 0.1)  // well above max_norm: clipping scaled these gradients down
            let total = norms.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(total - norm) <= 1e-6 * norm, "\(total) vs \(norm)")
        }
        for (epoch, metrics) in recorder.epochs.enumerated() {
            let layers = try #require(metrics.layers)
            let steps = recorder.stepNorms[(epoch * 5)..<(epoch * 5 + 5)]
            for layer in 0..<3 {
                let mean = steps.map { $0[layer] }.reduce(0, +) / 5
                #expect(abs(layers.gradientNorms[layer] - mean) <= 1e-12 * mean)
            }
            #expect(abs(layers.weightNorms[0] - Self.norm(recorder.weights[epoch])) <= 1e-6 * layers.weightNorms[0])
            #expect(layers.weightNorms.count == 3)
            // relu hidden layers have a dead fraction, the mean of their batches'; the output layer none.
            #expect(layers.deadFractions.count == 3 && layers.deadFractions[2] == nil)
            let batches = recorder.stepDead[(epoch * 5)..<(epoch * 5 + 5)]
            for layer in 0..<2 {
                let mean = batches.compactMap { $0[layer] }.reduce(0, +) / 5
                #expect(layers.deadFractions[layer] == mean)
            }
        }
    }

    /// A network whose hidden units are set by hand: unit 0 of the hidden layer has weights 0 and bias −1
    /// (relu output 0 for every row: dead), the others weights 1 on the first input and bias 0, alive in
    /// rows whose first input is positive.
    static func handBuiltNetwork(batchNorm: Bool, dropout: Float = 0, norm: NormKind = .none) -> Network {
        let network = Network.mlp(Network.MLPShape(inputWidth: 2, hidden: [4], outputWidth: 3, activation: .relu,
                                                   dropout: dropout, batchNorm: batchNorm, norm: norm))
        network.reserve(rows: 4)
        let parameters = network.parameters, values = parameters.values.base
        for tensor in parameters.tensors {
            for i in 0..<tensor.count { values[tensor.offset + i] = 0 }
            switch tensor.name {
            case "layers.0.weight": for unit in 1..<4 { values[tensor.offset + unit * 2] = 1 }
            case "layers.0.bias": values[tensor.offset] = -1
            case "norms.0.weight": for unit in 1..<4 { values[tensor.offset + unit] = 1 }  // γ of unit 0 stays 0
            case "norms.0.bias": values[tensor.offset] = -1  // β: relu(0·x̂ − 1) = 0
            default: break
            }
        }
        return network
    }

    static func forward(_ network: Network, rows: [[Float]]) {
        let buffer = FloatBuffer(count: rows.count * 2)
        for (r, row) in rows.enumerated() { for (c, value) in row.enumerated() { buffer.base[r * 2 + c] = value } }
        _ = network.forward(buffer.matrix(rows: rows.count, columns: 2), training: true)
    }

    @Test func aUnitZeroForEveryRowOfTheBatchIsDead() {
        let network = Self.handBuiltNetwork(batchNorm: false)
        let statistics = LayerStatistics(network: network)
        #expect(statistics.count == 2)
        Self.forward(network, rows: [[1, 0], [2, 5], [-1, 3]])
        statistics.measureDeadUnits(network)
        #expect(statistics.lastBatchDeadFractions == [0.25, nil])
        // All rows with a negative first input: units 1-3 are zero too, so all four are dead.
        Self.forward(network, rows: [[-1, 0], [-2, 5]])
        statistics.measureDeadUnits(network)
        #expect(statistics.lastBatchDeadFractions == [1, nil])
    }

    /// With batch norm relu is the BatchNorm's (the Dense's own output, with identity, is not 0);
    /// dropout after it would zero more units (p = 0.9 on one row) but is not looked at.
    @Test func withBatchNormTheNormsOutputIsMeasuredBeforeDropout() {
        let network = Self.handBuiltNetwork(batchNorm: true, dropout: 0.9)
        let statistics = LayerStatistics(network: network)
        Self.forward(network, rows: [[1, 0], [2, 5], [-1, 3]])
        statistics.measureDeadUnits(network)
        #expect(statistics.lastBatchDeadFractions == [0.25, nil])
        let other = LayerStatistics(network: Network.mlp(Network.MLPShape(
            inputWidth: 2, hidden: [4, 3], outputWidth: 1, activation: .leakyRelu(slope: 0.01))))
        #expect(other.lastBatchDeadFractions == [nil, nil, nil])
    }

    /// With `model.norm: layer` relu is the LayerNorm's: unit 0 (γ 0, β −1) is dead; units 1-3 are alive in
    /// row [1, 0] (z = [−1, 1, 1, 1], x̂ > 0 for them) though row [−1, 3] normalises to 0 (z all −1).
    @Test func withLayerNormTheNormsOutputIsMeasured() {
        let network = Self.handBuiltNetwork(batchNorm: false, norm: .layer)
        let statistics = LayerStatistics(network: network)
        Self.forward(network, rows: [[1, 0], [2, 5], [-1, 3]])
        statistics.measureDeadUnits(network)
        #expect(statistics.lastBatchDeadFractions == [0.25, nil])
    }

    @Test func theColumnsComeFromTheConfig() {
        var config = Self.config()
        let columns = LayerStatistics.columns(of: config)
        #expect(columns == MetricsLog.LayerColumns(count: 3, deadUnitLayers: [0, 1]))
        #expect(MetricsLog.header(MetricsLog.Columns(classification: true, layers: columns)) ==
            "epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second,"
            + "grad_norm_layer0,grad_norm_layer1,grad_norm_layer2,weight_norm_layer0,weight_norm_layer1,weight_norm_layer2,"
            + "dead_units_layer0,dead_units_layer1")
        config.model.activation = .gelu
        #expect(LayerStatistics.columns(of: config) == MetricsLog.LayerColumns(count: 3, deadUnitLayers: []))
        config.logging.layerStats = false
        #expect(LayerStatistics.columns(of: config) == nil)
        #expect(StepLog.header(layers: 2) == "step,epoch,lr,loss,grad_norm,seconds,grad_norm_layer0,grad_norm_layer1")
        #expect(StepLog.header(layers: 0) == StepLog.header)
        let row = MetricsLog.row(EpochMetrics(
            epoch: 1, learningRate: 0.1, trainLoss: 1, validation: nil, gradientNormMean: 2, gradientNormMax: 3,
            epochSeconds: 4, samplesPerSecond: 5,
            layers: LayerMetrics(gradientNorms: [0.5, 0.25], weightNorms: [1.5, 2.5], deadFractions: [0.75, nil])),
            MetricsLog.Columns(classification: false, layers: MetricsLog.LayerColumns(count: 2, deadUnitLayers: [0])))
        #expect(row == "1,0.1,1.0,,,,2.0,3.0,4.0,5.0,0.5,0.25,1.5,2.5,0.75")
    }

    /// steps.csv rows end with each layer's norm of the step; a resume that turned layer_stats on keeps
    /// the earlier rows with their layer fields empty.
    @Test func stepsCSVHasTheLayerNorms() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("layer-steps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("steps.csv").path
        let trainer = Trainer(configuration: Self.config(), data: ResumeTests.classificationData())
        let log = try StepLog(path: path, every: 1, layers: 3)
        let recorder = Recorder()
        trainer.observers = [log, recorder]
        try trainer.train()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "step,epoch,lr,loss,grad_norm,seconds,grad_norm_layer0,grad_norm_layer1,grad_norm_layer2")
        #expect(lines.count == 11)
        for (line, norms) in zip(lines.dropFirst(), recorder.stepNorms) {
            let fields = line.split(separator: ",")
            #expect(fields.count == 9)
            #expect(fields.suffix(3).compactMap { Double($0) } == norms)
        }
        try "step,epoch,lr,loss,grad_norm,seconds\n1,1,0.1,2.0,3.0,4.0\n2,1,0.1,2.0,3.0,4.0\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        _ = try StepLog(path: path, every: 1, layers: 2, continuingThrough: 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8)
            == "step,epoch,lr,loss,grad_norm,seconds,grad_norm_layer0,grad_norm_layer1\n1,1,0.1,2.0,3.0,4.0,,\n")
    }

    /// Interrupted mid-epoch and at an epoch's end, with layer statistics on: the same per-layer
    /// figures bit for bit (batch norm's relu, dropout, clipping, L1; and fp16 with skipped steps).
    @Test func layerStatisticsResumeBitForBit() throws {
        var config = ResumeTests.sgdConfig()
        config.logging.layerStats = true
        try ResumeTests.expectSameRun(config, ResumeTests.classificationData(), stops: [3, 7, 10, 27])
        var fp16 = ResumeTests.mixedPrecisionConfig()
        fp16.logging.layerStats = true
        try ResumeTests.expectSameRun(fp16, ResumeTests.imageData(), stops: [1, 6, 9])
        let history = try ResumeTests.train(config, ResumeTests.classificationData(), stoppingAfterSteps: [3]).history
        #expect(history.allSatisfy { $0.layers?.gradientNorms.count == 3 && $0.layers?.deadFractions[0] != nil })
    }

    /// A checkpoint of a run without layer statistics (as an older version wrote) resumes into one
    /// with them: the interrupted epoch's sums start at the resume (its figures are of its last two
    /// steps), and every epoch has its figures.
    @Test func aCheckpointWithoutLayerSumsResumes() throws {
        var plain = Self.config()
        plain.logging.layerStats = false
        let first = Trainer(configuration: plain, data: ResumeTests.classificationData())
        first.observers = [StopWhen { $0.stepCount == 3 }]
        try first.train()
        #expect(first.state.progress.layers == nil)
        let bytes = CheckpointFile.encode(try Checkpoint(trainer: first, bestRecord: nil, reason: .interrupted).contents())
        let checkpoint = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
        let resumed = Trainer(configuration: Self.config(), data: ResumeTests.classificationData())
        try checkpoint.restore(into: resumed, path: "last.bin")
        let history = try resumed.train()
        #expect(history.count == 2 && history.allSatisfy { $0.layers?.gradientNorms.count == 3 })
    }

    // MARK: - Warnings

    static func epoch(_ epoch: Int, train: Double, validation: Double?) -> EpochMetrics {
        EpochMetrics(epoch: epoch, learningRate: 0.1, trainLoss: train,
                     validation: validation.map { EvaluationMetrics(rows: 10, loss: $0) },
                     gradientNormMean: 1, gradientNormMax: 1, epochSeconds: 1, samplesPerSecond: 1)
    }

    @Test func overfittingIsThreeEpochsOfRisingValidationWhileTrainingFalls() {
        let rising = [(1.0, 0.9), (0.8, 0.7), (0.7, 0.8), (0.6, 0.85), (0.5, 0.9)]
            .enumerated().map { Self.epoch($0.offset + 1, train: $0.element.0, validation: $0.element.1) }
        #expect(TrainingDiagnostics.overfitting(rising) == "validation loss has risen for 3 epochs (epochs 3-5) while "
            + "training loss fell: overfitting; try early_stopping, dropout, weight_decay")
        #expect(TrainingDiagnostics.overfitting(Array(rising.prefix(4))) == nil)  // only two epochs of rising
        var flat = rising
        flat[3] = Self.epoch(4, train: 0.6, validation: 0.8)  // equal to epoch 3's: not a rise
        #expect(TrainingDiagnostics.overfitting(flat) == nil)
        var trainRises = rising
        trainRises[4] = Self.epoch(5, train: 0.65, validation: 0.9)
        #expect(TrainingDiagnostics.overfitting(trainRises) == nil)
        #expect(TrainingDiagnostics.overfitting(rising.map { Self.epoch($0.epoch, train: $0.trainLoss, validation: nil) })
            == nil)
    }

    @Test func vanishingIsBelow1e4OfTheLargestAtEveryStep() {
        var sums = LayerSums(layers: 3, deadUnitLayers: [])
        for _ in 0..<3 { sums.addStep([1e-6, 2, 0.5]) }
        let metrics = sums.metrics(weightNorms: [1, 1, 1])
        #expect(metrics.gradientNorms == [1e-6, 2, 0.5])
        #expect(TrainingDiagnostics.vanishingGradients(sums, metrics, epoch: 3) == "layer 0's gradient norm stayed below "
            + "1e-4 of layer 1's all epoch 3: vanishing gradients; try relu/gelu, kaiming init, batch norm")
        sums.addStep([3e-4, 2, 0.5])  // one step at 1.5e-4 of the largest: not the whole epoch
        #expect(TrainingDiagnostics.vanishingGradients(sums, sums.metrics(weightNorms: [1, 1, 1]), epoch: 3) == nil)
        let empty = LayerSums(layers: 2, deadUnitLayers: [])
        #expect(TrainingDiagnostics.vanishingGradients(empty, empty.metrics(weightNorms: [1, 1]), epoch: 1) == nil)
    }

    @Test func deadIsMoreThan90PercentOverTheEpoch() {
        var sums = LayerSums(layers: 3, deadUnitLayers: [0, 1])
        sums.addBatch([0.5, 1, nil])
        sums.addBatch([0.5, 0.875, nil])
        let metrics = sums.metrics(weightNorms: [1, 1, 1])
        #expect(metrics.deadFractions == [0.5, 0.9375, nil])
        #expect(TrainingDiagnostics.deadUnits(metrics, epoch: 4) == "94% of layer 1's ReLUs were dead in epoch 4 "
            + "(zero for every row of a batch): lower the lr, or use leaky_relu")
        let exactly = LayerMetrics(gradientNorms: [1, 1], weightNorms: [1, 1], deadFractions: [0.9, nil])
        #expect(TrainingDiagnostics.deadUnits(exactly, epoch: 1) == nil)
    }

    /// A run whose first hidden layer is dead from the start (weights 0, bias −1): the dead-unit and
    /// vanishing-gradient warnings come once, after epoch 1's `epochFinished`, and a resume from a later
    /// checkpoint does not repeat them.
    @Test func theWarningsComeOncePerRunAndSurviveAResume() throws {
        var config = Self.config()
        config.training.epochs = 4
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        let parameters = trainer.network.parameters
        for name in ["layers.0.weight", "layers.0.bias"] {
            guard let tensor = parameters.tensor(named: name) else { Issue.record("no \(name)"); return }
            for i in 0..<tensor.count { parameters.values.base[tensor.offset + i] = name.hasSuffix("bias") ? -1 : 0 }
        }
        let recorder = Recorder()
        trainer.observers = [recorder, StopWhen { $0.position.epoch == 3 && $0.position.batch == 0 }]
        try trainer.train()
        #expect(recorder.events == [
            "epochFinished 1",
            "layer 0's gradient norm stayed below 1e-4 of layer 2's all epoch 1: vanishing gradients; try relu/gelu, "
                + "kaiming init, batch norm",
            "100% of layer 0's ReLUs were dead in epoch 1 (zero for every row of a batch): lower the lr, or use leaky_relu",
            "epochFinished 2",
        ])
        #expect(trainer.warningsGiven == [.vanishingGradients, .deadUnits])
        let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted).contents())
        let checkpoint = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
        let resumed = Trainer(configuration: config, data: ResumeTests.classificationData())
        try checkpoint.restore(into: resumed, path: "last.bin")
        #expect(resumed.warningsGiven == [.vanishingGradients, .deadUnits])
        let after = Recorder()
        resumed.observers = [after]
        try resumed.train()
        #expect(after.events == ["epochFinished 3", "epochFinished 4"])
    }

    /// The overfitting warning needs no layer statistics, and is given once however long it lasts.
    @Test func theOverfittingWarningIsGivenOnce() {
        var config = Self.config()
        config.logging.layerStats = false
        let trainer = Trainer(configuration: config, data: ResumeTests.classificationData())
        #expect(trainer.layerStatistics == nil)
        let losses = [(1.0, 0.9), (0.8, 0.7), (0.7, 0.8), (0.6, 0.85), (0.5, 0.9), (0.4, 1.0)]
        var given: [[String]] = []
        for (e, (train, validation)) in losses.enumerated() {
            trainer.history.append(Self.epoch(e + 1, train: train, validation: validation))
            given.append(trainer.diagnosticWarnings(layerSums: nil))
        }
        #expect(given.map(\.count) == [0, 0, 0, 0, 1, 0])
        #expect(trainer.warningsGiven == [.overfitting])
    }
}
