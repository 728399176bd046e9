import Foundation
import Testing

@testable import NNTrain

/// Ensembles (`Ensemble`, `EnsembleEvaluation`, `Predictor(checkpointPaths:)`): the average and the
/// ensemble's loss against hand computations; each member's figures beside the ensemble's, equal to
/// the member evaluated alone; members with different normalisers each using their own; the refusal
/// of members that differ, naming the first difference.
@Suite struct EnsembleTests {
    // MARK: The arithmetic

    /// softmax(0, 0) = (1/2, 1/2) and softmax(ln 3, 0) = (3/4, 1/4): their mean is (5/8, 3/8); a
    /// regression's mean of 1, 4 and 7 is 4.
    @Test func theAverageIsTheMeanOfTheMembersSoftmaxOrValues() {
        let a = DistillationTests.matrix([0, 0, 2, 2], rows: 2), b = DistillationTests.matrix([Float(log(3.0)), 0, 0, 0], rows: 2)
        let result = DistillationTests.matrix([.nan, .nan, .nan, .nan], rows: 2)
        Ensemble.average([a.view, b.view], classification: true, into: result.view)
        #expect(Array(result.view.elements) == [0.625, 0.375, 0.5, 0.5])

        let values = [1, 4, 7].map { DistillationTests.matrix([$0, -$0], rows: 2) }
        let mean = DistillationTests.matrix([.nan, .nan], rows: 2)
        Ensemble.average(values.map(\.view), classification: false, into: mean.view)
        #expect(Array(mean.view.elements) == [4, -4])
    }

    /// −log p̄_y: −log(3/8) for the case above; members that give the label probability e^−1000 each
    /// (p̄ rounds to 0 in Float and in Double) still have the finite loss 1000 + log(1 + e^−1000) ≈ 1000.
    @Test func theEnsemblesLossIsTheNegativeLogOfTheMeanProbabilityComputedInLogSpace() {
        let a: [Float] = [0, 0], b: [Float] = [Float(log(3.0)), 0]
        let loss = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                Ensemble.negativeLogLikelihood([a.baseAddress!, b.baseAddress!], width: 2, label: 1)
            }
        }
        #expect(abs(loss - -log(0.375)) < 1e-7)
        let sure: [Float] = [0, -1000]
        let far = sure.withUnsafeBufferPointer { z in
            Ensemble.negativeLogLikelihood([z.baseAddress!, z.baseAddress!, z.baseAddress!], width: 2, label: 1)
        }
        #expect(abs(far - 1000) < 1e-9)
    }

    // MARK: Refusals

    /// A checkpoint of an untrained model of `data` written to `name` in `folder`.
    static func write(_ data: TrainingData, to name: String, in folder: TemporaryFolder) throws -> String {
        var config = Configuration()
        config.model.hidden = [4]
        let path = folder.file(name)
        try Checkpoint(trainer: Trainer(configuration: config, data: data), bestRecord: nil, reason: .final).write(to: path)
        return path
    }

    /// `ResumeTests.classificationData()` with its 16 columns encoded as `schema` says.
    static func data(schema: TableSchema? = nil, classes: [String]? = nil, values: Bool = false,
                     normalize: Normalization = .standardize) -> TrainingData {
        var data = ResumeTests.classificationData()
        if let classes { data.train.classNames = classes }
        if values {
            data.train.targets = .values((0..<data.train.count).map { Float($0) })
            data.train.classNames = []
        }
        data.normalizer = Normalizer(fitting: data.train, mode: normalize)
        if let schema { data.schema = .table(schema) }
        return data
    }

    static func schema(fill: Float? = nil, lastName: String = "x15", target: String = "target") -> TableSchema {
        TableSchema(columns: (0..<16).map {
            TableSchema.Column(name: $0 == 15 ? lastName : "x\($0)", encoding: .numeric(fill: $0 == 3 ? fill : nil))
        }, target: target, task: .classification, missingValues: ["NA"])
    }

    /// Expects `Ensemble.members` of `paths` to throw `.data` with exactly `message`.
    static func expectRefusal(_ paths: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try Ensemble.members(paths: paths)
        } throws: { error in
            let error = error as? NNTrainError
            #expect(error?.message == message, sourceLocation: sourceLocation)
            return error?.kind == .data
        }
    }

    @Test func membersThatDifferAreRefusedNamingTheFirstDifference() throws {
        let folder = try TemporaryFolder()
        let first = try Self.write(Self.data(schema: Self.schema(fill: 1.5)), to: "a.bin", in: folder)
        let expected = "; expected ensemble members trained on the same inputs, task and classes (for a CSV: the same data, "
            + "seed and splits)"
        // The task first, though the classes differ too.
        let regression = try Self.write(Self.data(values: true), to: "r.bin", in: folder)
        Self.expectRefusal([first, regression], "\(regression): is a regression model but \(first) is a classification model"
            + expected)
        // Inputs: a column's name, its fill, then the target column.
        let renamed = try Self.write(Self.data(schema: Self.schema(fill: 1.5, lastName: "y")), to: "n.bin", in: folder)
        Self.expectRefusal([first, renamed],
                           "\(renamed): has the column 'y' at input column 16 but \(first) has 'x15'" + expected)
        let filled = try Self.write(Self.data(schema: Self.schema(fill: 2)), to: "f.bin", in: folder)
        Self.expectRefusal([first, first, filled], "\(filled): encodes the column 'x3' as a number (missing values filled "
            + "with 2.0) but \(first) as a number (missing values filled with 1.5)" + expected)
        let target = try Self.write(Self.data(schema: Self.schema(fill: 1.5, target: "label")), to: "t.bin", in: folder)
        Self.expectRefusal([first, target], "\(target): predicts the column 'label' but \(first) predicts 'target'" + expected)
        // Classes: the same names in another order.
        let classes = try Self.write(Self.data(schema: Self.schema(fill: 1.5), classes: ["b", "a", "c", "d"]), to: "c.bin",
                                     in: folder)
        Self.expectRefusal([first, classes], "\(classes): has the classes [b, a, c, d] but \(first) has [a, b, c, d]" + expected)
        // Images against a table.
        var imageData = ResumeTests.imageData()
        imageData.schema = .images(rows: 28, columns: 28)
        let pictures = try Self.write(imageData, to: "p.bin", in: folder)
        Self.expectRefusal([pictures, first], "\(first): takes table columns but \(pictures) takes images" + expected)
        // Normalisation is not compared: each member keeps its own.
        let unscaled = try Self.write(Self.data(schema: Self.schema(fill: 1.5), normalize: .none), to: "u.bin", in: folder)
        let members = try Ensemble.members(paths: [first, unscaled])
        #expect(members.map(\.checkpoint.normalizer) != [members[0].checkpoint.normalizer, members[0].checkpoint.normalizer])
    }

    // MARK: Predict

    /// The 60 rows of `ResumeTests.classificationData()` as CSV: x0…x15, then `target` with the class
    /// names a…d; and the labels in order.
    static func blobs(target: String) throws -> (csv: String, labels: [Int32]) {
        let data = ResumeTests.classificationData()
        guard case .floats(let x) = data.train.features, case .classes(let trainLabels) = data.train.targets,
              case .floats(let xv) = data.validation.features, case .classes(let validationLabels) = data.validation.targets
        else { throw NNTrainError(.internal, "floats expected") }
        let features = x + xv, labels = trainLabels + validationLabels
        var csv = (0..<16).map { "x\($0)" }.joined(separator: ",") + ",\(target)\n"
        for row in 0..<labels.count {
            csv += (0..<16).map { "\(features[row * 16 + $0])" }.joined(separator: ",")
                + ",\(data.train.classNames[Int(labels[row])])\n"
        }
        return (csv, labels)
    }

    /// Two members with different normalisers (standardised, and none), one trained two epochs longer:
    /// the ensemble's probabilities are the mean of each member's own `predict` probabilities (computed
    /// here in Double), its class their arg-max, and each member's column its own prediction.
    @Test func predictAveragesTheMembersOwnPredictionsEachWithItsNormaliser() throws {
        let folder = try TemporaryFolder()
        let a = folder.file("a.bin"), b = folder.file("b.bin")
        try DistillationTests.writeTeacher(to: a)
        try DistillationTests.writeTeacher(to: b, seed: 9, data: Self.data(normalize: .none))
        #expect(try Checkpoint.read(path: a).normalizer != Checkpoint.read(path: b).normalizer)

        let data = ResumeTests.classificationData()
        let (csv, labels) = try Self.blobs(target: "target")
        let input = try folder.write(csv, to: "rows.csv")
        let options = Prediction.Options(probabilities: true, batchSize: 7)
        let alone = try [a, b].map { try PredictionTests.predict($0, input, options) }
        var bytes: [UInt8] = []
        let summary = try Prediction.run(checkpointPaths: [a, b], inputPath: input, options: options) { bytes += $0 }
        let text = String(decoding: bytes, as: UTF8.self)
        let records = text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(records.first == ["row", "prediction", "probability", "p_a", "p_b", "p_c", "p_d", "prediction_1", "prediction_2"])
        #expect(records.count == 61)
        for (row, record) in records.dropFirst().enumerated() {
            let pa = alone[0].records[row + 1][3..<7].compactMap(Double.init)
            let pb = alone[1].records[row + 1][3..<7].compactMap(Double.init)
            let mean = zip(pa, pb).map { ($0 + $1) / 2 }
            let p = record[3..<7].compactMap(Double.init)
            #expect(p.count == 4 && zip(p, mean).allSatisfy { abs($0 - $1) < 1e-6 }, "row \(row): \(p) vs \(mean)")
            let best = mean.indices.max { mean[$0] < mean[$1] } ?? -1
            #expect(record[1] == data.train.classNames[best] && Double(record[2]) == p[best])
            #expect(record[7] == alone[0].records[row + 1][1] && record[8] == alone[1].records[row + 1][1])
        }
        #expect(summary.labelledRows == 60 && summary.members.map(\.path) == [a, b])
        #expect(summary.members.map(\.correct) == alone.map(\.summary.correct))
        let right = records.dropFirst().enumerated().filter { $0.element[1] == data.train.classNames[Int(labels[$0.offset])] }
        #expect(summary.correct == right.count)

        #expect { _ = try Predictor(checkpointPaths: [a, b], batchCapacity: 4, quantization: QuantizationSettings(mode: .fp16)) }
            throws: { ($0 as? NNTrainError) == NNTrainError(.usage, Ensemble.quantizationRefusal) }
    }

    // MARK: Eval

    /// A CSV of the 60 rows of `ResumeTests.classificationData()` (x0…x15, class), and configs training
    /// on it with `hidden` and `normalize`, seed 42 (so the same splits).
    static func trainedOnCSV(_ folder: TemporaryFolder, runs: [(hidden: Int, normalize: String, epochs: Int)])
        throws -> [String]
    {
        let path = try folder.write(try Self.blobs(target: "class").csv, to: "blobs.csv")
        return try runs.enumerated().map { index, run in
            let config = try folder.write("""
                data: {dataset: csv, path: \(path), target: class, test_split: 0.3, validation_split: 0.2,
                       normalize: \(run.normalize)}
                model: {hidden: [\(run.hidden)]}
                training: {epochs: \(run.epochs), batch_size: 8}
                output: {dir: \(folder.file("run\(index)")), plots: false}
                """, to: "c\(index).txt")
            _ = try TrainingRun.execute(configPath: config, overrides: [])
            return folder.file("run\(index)/checkpoints/last.bin")
        }
    }

    /// Each member's figures are its own `nntrain eval`'s; the ensemble's accuracy, confusion matrix and
    /// loss are those of the members' softmax probabilities averaged here in Double (members of other
    /// normalisers each normalising the rows itself).
    @Test func evalReportsEachMemberBesideTheEnsembleComputedByHand() throws {
        let folder = try TemporaryFolder()
        let paths = try Self.trainedOnCSV(folder, runs: [(8, "standardize", 3), (16, "none", 5), (4, "scale", 2)])
        let result = try EnsembleEvaluation.run(checkpointPaths: paths, split: .test, topK: [2])
        #expect(result.members.count == 3 && result.ensemble.rows == 18)
        var logits: [[Float]] = []
        var labels: [Int32] = []
        for (path, member) in zip(paths, result.members) {
            let alone = try CheckpointEvaluation.run(checkpointPath: path, split: .test, topK: [2])
            #expect(member.checkpoint == path && member.rows == alone.rows)
            #expect(member.loss == alone.loss && member.classification == alone.classification)
            // The member's logits, as a single eval computes them.
            let checkpoint = try Checkpoint.read(path: path)
            let (data, configuration) = try CheckpointEvaluation.data(of: checkpoint, path: path, dataPath: nil)
            let network = try CheckpointEvaluation.model(of: checkpoint, configuration: configuration, path: path)
            logits.append(CheckpointEvaluation.outputs(of: network, on: data.test, normalizer: checkpoint.normalizer,
                                                       loss: Loss(.crossEntropy)).outputs)
            guard case .classes(let testLabels) = data.test.targets else { throw NNTrainError(.internal, "classes expected") }
            labels = testLabels
        }
        var correct = 0, loss = 0.0
        var confusion = [[Int]](repeating: [0, 0, 0, 0], count: 4)
        for (row, label) in labels.enumerated() {
            var mean = [Double](repeating: 0, count: 4)
            for z in logits {
                let p = PredictionTests.softmax(z[(row * 4)..<(row * 4 + 4)].map(Double.init))
                for k in 0..<4 { mean[k] += p[k] / 3 }
            }
            let predicted = mean.indices.max { mean[$0] < mean[$1] } ?? -1
            confusion[Int(label)][predicted] += 1
            if predicted == Int(label) { correct += 1 }
            loss -= log(mean[Int(label)])
        }
        let report = try #require(result.ensemble.classification)
        #expect(report.confusionMatrix == confusion)
        #expect(report.accuracy == Double(correct) / 18)
        #expect(abs(result.ensemble.loss - loss / 18) < 1e-9)
        #expect(result.ensemble.architecture == "ensemble of 3 (mean of the members' probabilities)")
        #expect(result.ensemble.checkpoint == paths.joined(separator: " + "))
        #expect(result.ensemble.warnings.isEmpty)
    }

    /// A regression ensemble: the mean of the members' values, its MSE against one computed here; the
    /// members' figures their own evals'.
    @Test func aRegressionEnsembleAveragesTheValues() throws {
        let folder = try TemporaryFolder()
        let csv = try folder.write("x,y\n" + (0..<40).map { "\(Double($0) / 10),\(Double($0 * $0) / 100 + 1)" }
            .joined(separator: "\n") + "\n", to: "r.csv")
        let paths = try [(4, 42), (6, 7)].enumerated().map { index, run in
            let config = try folder.write("""
                seed: \(run.1)
                data: {dataset: csv, path: \(csv), target: y, test_split: 0.25, validation_split: 0}
                model: {hidden: [\(run.0)]}
                loss: mse
                training: {epochs: 3, batch_size: 8}
                output: {dir: \(folder.file("run\(index)")), plots: false}
                """, to: "c\(index).txt")
            _ = try TrainingRun.execute(configPath: config, overrides: [])
            return folder.file("run\(index)/checkpoints/last.bin")
        }
        let result = try EnsembleEvaluation.run(checkpointPaths: paths, split: .train)
        var values: [[Float]] = []
        var targets: [Float] = []
        // The rows of the first member's split, each member normalising them itself.
        let (data, configuration) = try CheckpointEvaluation.data(of: try Checkpoint.read(path: paths[0]), path: paths[0],
                                                                  dataPath: nil)
        for path in paths {
            let member = try Checkpoint.read(path: path)
            let network = try CheckpointEvaluation.model(of: member, configuration: member.configuration(path: path), path: path)
            values.append(CheckpointEvaluation.outputs(of: network, on: data.train, normalizer: member.normalizer,
                                                       loss: Loss(configuration.loss)).outputs)
            guard case .values(let y) = data.train.targets else { throw NNTrainError(.internal, "values expected") }
            targets = y
        }
        let squared = targets.indices.reduce(0.0) { sum, row in
            let mean = (Double(values[0][row]) + Double(values[1][row])) / 2
            return sum + (mean - Double(targets[row])) * (mean - Double(targets[row]))
        }
        let report = try #require(result.ensemble.regression)
        #expect(abs(report.meanSquaredError - squared / Double(targets.count)) < 1e-5 * max(1, report.meanSquaredError))
        #expect(abs(result.ensemble.loss - report.meanSquaredError) < 1e-5 * max(1, report.meanSquaredError))
        // The second member drew another training split (seed 7): said, since its figures may be on rows it trained on.
        #expect(result.ensemble.warnings.contains { $0.contains("another seed (7, not 42)") })
        #expect(result.members.map(\.checkpoint) == paths)
    }

    /// Image members trained with other seeds (other validation splits, other normalisers' statistics)
    /// combine; on the test images, which no member trained on, nothing is said; on the validation split,
    /// drawn with the first member's seed, the second member is warned about.
    @Test func imageMembersOfOtherSeedsCombineWithAWarningOnlyWhereTheirRowsDiffer() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let paths = try [42, 7].map { seed in
            let config = try folder.write("""
                seed: \(seed)
                data: {path: \(folder.path), validation_split: 0.25, normalize: standardize}
                model: {hidden: [8]}
                training: {epochs: 1, batch_size: 15}
                output: {dir: \(folder.file("run\(seed)")), plots: false}
                """, to: "c\(seed).txt")
            _ = try TrainingRun.execute(configPath: config, overrides: [])
            return folder.file("run\(seed)/checkpoints/last.bin")
        }
        #expect(try Checkpoint.read(path: paths[0]).normalizer != Checkpoint.read(path: paths[1]).normalizer)
        let test = try EnsembleEvaluation.run(checkpointPaths: paths, split: .test)
        #expect(test.ensemble.rows == 40 && test.ensemble.warnings.isEmpty)
        let validation = try EnsembleEvaluation.run(checkpointPaths: paths, split: .val)
        #expect(validation.ensemble.rows == 30)
        #expect(validation.ensemble.warnings == ["\(paths[1]) was trained with another seed (7, not 42) than \(paths[0]): "
            + "its figures are on \(paths[0])'s val split, which may hold rows it was trained on"])
    }
}
