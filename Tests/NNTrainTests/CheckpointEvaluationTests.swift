import Foundation
import Testing
@testable import NNTrain

/// `nntrain eval`'s figures on a checkpoint written by a real (tiny) run, against a forward pass
/// and a confusion matrix computed here from the checkpoint's tensors alone.
@Suite struct CheckpointEvaluationTests {
    /// A Fashion-MNIST-shaped folder: 120 training and 40 test images whose class shows in the
    /// brightness of its own band of rows, with noise elsewhere, so a small model learns most of it.
    static func imageFolder() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        var random = RandomGenerator(seed: 5)
        func images(_ labels: [UInt8]) -> [UInt8] {
            labels.flatMap { label in
                (0..<784).map { pixel in
                    pixel / 78 == Int(label) ? UInt8(150 + random.next(upperBound: UInt64(100)))
                        : UInt8(random.next(upperBound: UInt64(120)))
                }
            }
        }
        let trainLabels = (0..<120).map { _ in UInt8(random.next(upperBound: UInt64(10))) }
        let testLabels = (0..<40).map { _ in UInt8(random.next(upperBound: UInt64(10))) }
        try folder.writeGzipped(idxFile(dimensions: [120, 28, 28], data: images(trainLabels)), to: "train-images-idx3-ubyte.gz")
        try folder.writeGzipped(idxFile(dimensions: [120], data: trainLabels), to: "train-labels-idx1-ubyte.gz")
        try folder.writeGzipped(idxFile(dimensions: [40, 28, 28], data: images(testLabels)), to: "t10k-images-idx3-ubyte.gz")
        try folder.writeGzipped(idxFile(dimensions: [40], data: testLabels), to: "t10k-labels-idx1-ubyte.gz")
        return folder
    }

    /// Trains the images for three epochs and returns the run directory and its summary.
    static func trainedRun(_ folder: TemporaryFolder) throws -> (run: String, summary: RunSummary) {
        let config = try folder.write("""
            data: {path: \(folder.path), validation_split: 0.25}
            model: {hidden: [12], batch_norm: true}
            training: {epochs: 3, batch_size: 15}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        let outcome = try TrainingRun.execute(configPath: config, overrides: [])
        return (folder.file("run"), try #require(outcome.summary))
    }

    /// The checkpoint's model evaluated here in Double: x = pixel/255, z = W₀x + b₀, batch norm
    /// with running statistics, relu, logits = W₁h + b₁; then argmax.
    static func predictions(checkpoint path: String, folder: String) throws -> (predicted: [Int], labels: [Int]) {
        let file = try CheckpointFile.read(path: path)
        func values(_ name: String) throws -> [Double] {
            try #require(file[name]).elements(as: Float.self).map(Double.init)
        }
        let w0 = try values("layers.0.weight"), b0 = try values("layers.0.bias")
        let w1 = try values("layers.1.weight"), b1 = try values("layers.1.bias")
        let mean = try values("norms.0.running_mean"), variance = try values("norms.0.running_var")
        let gamma = try values("norms.0.weight"), beta = try values("norms.0.bias")
        let (_, test) = try FashionMNIST.load(folder: folder)
        guard case .bytes(let pixels) = test.features, case .classes(let labels) = test.targets else { return ([], []) }
        var predicted: [Int] = []
        for row in 0..<test.count {
            let x = (0..<784).map { Double(pixels[row * 784 + $0]) / 255 }
            let hidden = (0..<12).map { j -> Double in
                let z = (0..<784).reduce(b0[j]) { $0 + w0[j * 784 + $1] * x[$1] }
                return max(0, (z - mean[j]) / (variance[j] + 1e-5).squareRoot() * gamma[j] + beta[j])
            }
            let logits = (0..<10).map { c in (0..<12).reduce(b1[c]) { $0 + w1[c * 12 + $1] * hidden[$1] } }
            predicted.append(logits.indices.max { logits[$0] < logits[$1] } ?? 0)
        }
        return (predicted, labels.map(Int.init))
    }

    @Test func testFiguresEqualTheRunsAndAnIndependentForwardPass() throws {
        let folder = try Self.imageFolder()
        let (run, summary) = try Self.trainedRun(folder)
        let evaluation = try CheckpointEvaluation.run(checkpointPath: run + "/checkpoints/last.bin", split: .test, topK: [2])
        let report = try #require(evaluation.classification)
        #expect(evaluation.rows == 40 && evaluation.architecture == "784-12-10 relu")
        #expect(report.accuracy == summary.test?.accuracy)
        #expect(abs(evaluation.loss - (summary.test?.loss ?? .nan)) < 1e-12)

        let (predicted, labels) = try Self.predictions(checkpoint: run + "/checkpoints/last.bin", folder: folder.path)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for (label, prediction) in zip(labels, predicted) { confusion[label][prediction] += 1 }
        #expect(report.confusionMatrix == confusion)
        for c in 0..<10 {
            let truePositives = Double(confusion[c][c])
            let predictedAs = Double(confusion.reduce(0) { $0 + $1[c] }), support = Double(confusion[c].reduce(0, +))
            let precision = predictedAs == 0 ? 0 : truePositives / predictedAs
            let recall = support == 0 ? 0 : truePositives / support
            #expect(abs(report.classes[c].precision - precision) < 1e-12)
            #expect(abs(report.classes[c].recall - recall) < 1e-12)
            #expect(report.classes[c].name == FashionMNIST.classNames[c])
        }
        #expect(report.accuracy > 0.5)  // the bands are learnable: the model is not guessing
        #expect(report.topK.first?.k == 2 && (report.topK.first?.accuracy ?? 0) >= report.accuracy)

        let validation = try CheckpointEvaluation.run(checkpointPath: run + "/checkpoints/last.bin", split: .val)
        #expect(validation.rows == 30)

        // The checkpoint carries its input schema; one written before nntrain.input existed gets its
        // dataset's, and evaluates to the same figures.
        let last = run + "/checkpoints/last.bin"
        #expect(try Checkpoint.read(path: last).inputSchema == .images(rows: 28, columns: 28))
        var contents = try CheckpointFile.read(path: last)
        #expect(contents.metadata.removeValue(forKey: "nntrain.input") != nil)
        let older = try folder.write(CheckpointFile.encode(contents), to: "older.bin")
        #expect(try Checkpoint.read(path: older).inputSchema == .images(rows: 28, columns: 28))
        #expect(try CheckpointEvaluation.run(checkpointPath: older, split: .val).loss == validation.loss)

        // An altered schema is refused in one line, never trusted: an image size whose pixel count
        // overflows, negative sizes, unsorted categories (the one-hot lookup searches them), a column twice.
        let table = #"{"table": {"columns": [COLUMNS], "target": "y", "task": "regression", "missing_values": []}}"#
        let altered = [
            (#"{"images": {"rows": 4611686018427387904, "columns": 4}}"#, "images of 4611686018427387904×4 pixels"),
            (#"{"images": {"rows": -28, "columns": -28}}"#, "images of -28×-28 pixels"),
            (table.replacing("COLUMNS", with: #"{"name": "c", "encoding": {"categorical": {"categories": ["b", "a"]}}}"#),
             "the categories of column 'c' are not sorted and distinct at 'a'"),
            (table.replacing("COLUMNS", with: #"{"name": "c", "encoding": {"numeric": {}}}, "#
                + #"{"name": "c", "encoding": {"numeric": {}}}"#), "column 'c' appears twice"),
        ]
        for (json, problem) in altered {
            var file = try CheckpointFile.read(path: last)
            file.metadata["nntrain.input"] = json
            let path = try folder.write(CheckpointFile.encode(file), to: "altered.bin")
            #expect {
                _ = try Checkpoint.read(path: path)
            } throws: { error in
                let error = error as? NNTrainError
                return error?.kind == .data && error?.message.contains(problem) == true
                    && error?.message.contains("\n") == false
            }
        }
    }

    @Test func dataThatDoNotFitTheModelAreRefused() throws {
        let folder = try TemporaryFolder()
        _ = try BonusData.write(rows: 300, seed: 2, to: folder.file("bonus.csv"))
        let config = try folder.write("""
            data: {dataset: bonus, path: \(folder.file("bonus.csv")), validation_split: 0}
            model: {hidden: []}
            loss: mse
            training: {epochs: 1}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let path = folder.file("run/checkpoints/last.bin")
        let linear = try CheckpointEvaluation.run(checkpointPath: path, split: .test)
        #expect(linear.weights?.count == 6 && linear.regression?.rows == 60)
        #expect {
            _ = try CheckpointEvaluation.run(checkpointPath: path, split: .val)
        } throws: { error in
            (error as? NNTrainError)?.message == "\(path): the val split is empty (validation_split 0.0 in the checkpoint's "
                + "config holds out no row of 240 training rows); expected --split test or --split train"
        }
        // The same checkpoint with a seventh input: its weights no longer fit five features.
        var contents = try CheckpointFile.read(path: path)
        for name in ["layers.0.weight", "normalizer.shift", "normalizer.scale"] {
            let index = try #require(contents.tensors.firstIndex { $0.name == name })
            let tensor = contents.tensors[index].tensor
            contents.tensors[index].tensor = SafeTensors.Tensor(tensor.elements(as: Float.self) + [0, 0],
                                                                shape: name == "layers.0.weight" ? [1, 7] : [7])
        }
        let wider = TableSchema(columns: BonusData.schema.columns + ["extra1", "extra2"].map {
            TableSchema.Column(name: $0, encoding: .numeric(fill: nil))
        }, target: "bonus", task: .regression, missingValues: [])
        contents.metadata["nntrain.input"] = String(decoding: try JSONEncoder().encode(InputSchema.table(wider)), as: UTF8.self)
        contents.tensors.removeAll { $0.name.hasPrefix("optimizer.") }  // eval reads no optimizer state
        let widened = try folder.write(CheckpointFile.encode(contents), to: "widened.bin")
        #expect {
            _ = try CheckpointEvaluation.run(checkpointPath: widened, split: .test)
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .data && error?.message == "\(widened): the model takes 7 inputs but "
                + "\(folder.file("bonus.csv")) has 5 features per row; expected data of the kind the checkpoint was trained on"
        }
    }
}

/// The range test's training loop: the lr of each step, reproducibility, and the stop when the
/// loss explodes (the arithmetic of the suggestions is in LRFinderTests).
@Suite struct LRRangeTestTests {
    @Test func stepsRunAtTheScheduleAndStopWhenTheLossExplodes() throws {
        var config = TrainerTests.memorisationConfig()
        config.optimizer.name = .sgd
        config.optimizer.momentum = 0.9
        let schedule = try LRFinderSchedule(startLearningRate: 1e-4, endLearningRate: 1e4, steps: 60)
        func run() throws -> LRFinderResult {
            try Trainer(configuration: config, data: TrainerTests.memorisationData()).findLearningRate(schedule: schedule)
        }
        let result = try run()
        #expect(result.stop == .diverged)
        #expect(result.points.count < 60)
        for (i, point) in result.points.enumerated() {
            #expect(point.learningRate == schedule.learningRate(at: i))
        }
        let smallest = try #require(result.points.map(\.smoothedLoss).min())
        #expect(try #require(result.points.last).smoothedLoss > 4 * smallest)
        #expect(try run() == result)
        // The first step runs on the initial model: its loss is the cross-entropy of a fresh
        // network on 16 of the 4-class rows, about ln 4.
        #expect(abs(result.points[0].loss - log(4.0)) < 0.5)
        let valley = try #require(result.suggestion(.valley))
        #expect(valley.learningRate > 1e-4 && valley.learningRate < 1e4)
    }
}
