import Foundation
import Testing

@testable import NNTrain

/// `nntrain predict`'s engine: its outputs against eval's on the same rows (to the last bit, in
/// every training precision), against a forward pass written out here in Double, its CSV encoding
/// of table rows (columns by name, one-hot, unknown categories, fills), and the chunked CSV reading
/// it streams with.
@Suite struct PredictionTests {
    /// Runs a prediction and returns the output CSV's records (header first), its text and the summary.
    static func predict(_ checkpoint: String, _ input: String, _ options: Prediction.Options = .init())
        throws -> (records: [[String]], text: String, summary: Prediction.Summary)
    {
        var bytes: [UInt8] = []
        let summary = try Prediction.run(checkpointPath: checkpoint, inputPath: input, options: options) { bytes += $0 }
        let folder = try TemporaryFolder()
        var records = CSVReader.Records(reading: try SequentialInput(path: try folder.write(bytes, to: "out.csv"),
                                                                     expected: "the output"))
        var parsed: [[String]] = []
        while let (_, fields) = try records.next() { parsed.append(fields) }
        return (parsed, String(decoding: bytes, as: UTF8.self), summary)
    }

    /// The softmax of `logits` written out in Double: exp(zᵢ − max) / Σ exp(zⱼ − max).
    static func softmax(_ logits: [Double]) -> [Double] {
        let largest = logits.max() ?? 0
        let exponentials = logits.map { exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    // MARK: Images, against eval

    @Test(arguments: [Precision.fp32, .fp16, .bf16])
    func imagePredictionsEqualEvalsToTheLastBit(precision: Precision) throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let config = try folder.write("""
            data: {path: \(folder.path), validation_split: 0.25}
            model: {hidden: [12], batch_norm: true}
            training: {epochs: 2, batch_size: 15, precision: \(precision.rawValue)}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let last = folder.file("run/checkpoints/last.bin")

        // eval's logits of the test split, computed as CheckpointEvaluation.run computes them.
        let checkpoint = try Checkpoint.read(path: last)
        var configuration = try checkpoint.configuration(path: last)
        let data = try TrainingData.load(for: &configuration, file: last)
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: configuration, path: last)
        let (logits, _) = CheckpointEvaluation.outputs(of: network, on: data.test, normalizer: checkpoint.normalizer,
                                                       loss: Loss(configuration.loss, huberDelta: configuration.huberDelta))
        let report = try #require(try CheckpointEvaluation.run(checkpointPath: last, split: .test).classification)
        guard case .classes(let labels) = data.test.targets else { throw NNTrainError(.internal, "classes expected") }

        let images = folder.file("t10k-images-idx3-ubyte.gz")
        let (records, text, summary) = try Self.predict(last, images, .init(probabilities: true, topK: 3))
        let names = FashionMNIST.classNames
        #expect(records.first == ["row", "prediction", "probability"] + names.map { "p_\($0)" }
            + ["top1", "p_top1", "top2", "p_top2", "top3", "p_top3"])
        #expect(records.count == 41 && summary.rows == 40 && summary.labelledRows == 0)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for (row, record) in records.dropFirst().enumerated() {
            let z = Array(logits[row * 10..<(row + 1) * 10])
            let predicted = ConfusionMatrix.prediction(z[...])
            let expected = Self.softmax(z.map(Double.init)).map { Float($0) }
            #expect(record[0] == "\(row)" && record[1] == names[predicted])
            #expect(Float(record[2]) == expected[predicted])
            #expect(record[3..<13].map { Float($0) } == expected.map { Optional($0) })
            let order = z.indices.sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }
            #expect(stride(from: 13, to: 19, by: 2).map { record[$0] } == order.prefix(3).map { names[$0] })
            confusion[Int(labels[row])][predicted] += 1
        }
        #expect(confusion == report.confusionMatrix)

        // Other batch sizes cut the same rows into other products, with the same outputs: the same classes, and
        // probabilities equal to float rounding (OpenBLAS's AVX-512 kernel gives the same bits at every batch size;
        // its Haswell/Zen kernel sums an edge row's products in another order, 1e-7 apart).
        for batchSize in [1, 7] {
            let other = try Self.predict(last, images, .init(probabilities: true, topK: 3, batchSize: batchSize)).records
            #expect(other.count == records.count)
            for (a, b) in zip(records, other) {
                #expect(a.count == b.count)
                for (x, y) in zip(a, b) where x != y {
                    let (u, v) = (try #require(Double(x)), try #require(Double(y)))
                    #expect(abs(u - v) <= 1e-6, "batch size \(batchSize): \(x) vs \(y)")
                }
            }
        }
        guard precision == .fp32 else { return }
        let (byHand, _) = try CheckpointEvaluationTests.predictions(checkpoint: last, folder: folder.path)
        #expect(records.dropFirst().map { $0[1] } == byHand.map { names[$0] })
    }

    // MARK: Tables

    /// The table of `tableData`: a numeric column with a fill, a categorical one with a fill, a
    /// numeric one without; classes whose names need quoting in CSV.
    static let table = TableSchema(
        columns: [.init(name: "size", encoding: .numeric(fill: 2.5)),
                  .init(name: "colour", encoding: .categorical(categories: ["blue", "green", "red"], fill: "red")),
                  .init(name: "weight", encoding: .numeric(fill: nil))],
        target: "kind", task: .classification, missingValues: ["", "NA"])
    static let classNames = ["cat", "dog, large", "eel \"e\""]

    /// 90 rows encoded through `table` whose class follows the colour (and the sign of size for
    /// blue), standardised but for the one-hot columns, as the CSV dataset does.
    static func tableData() throws -> TrainingData {
        var random = RandomGenerator(seed: 8)
        var features: [Float] = [], labels: [Int32] = []
        var notes = TableSchema.RecordNotes()
        for _ in 0..<90 {
            let colour = Int(random.next(upperBound: UInt64(3)))
            let size = Float(random.nextGaussian()) * 2 + 1, weight = Float(random.nextGaussian()) * 10
            var row = [Float](repeating: 0, count: 5)
            try row.withUnsafeMutableBufferPointer { buffer in
                try table.encode(["\(size)", ["blue", "green", "red"][colour], "\(weight)"], into: buffer, place: "row",
                                 notes: &notes)
            }
            features += row
            labels.append(colour == 0 && size < 1 ? 1 : Int32(colour))
        }
        let all = Dataset(name: "table", features: .floats(features), featureCount: 5, featureNames: table.encodedNames,
                          targets: .classes(labels), classNames: classNames, targetName: "kind")
        let train = all.subset(Array(0..<72)), test = all.subset(Array(72..<90))
        var normalizer = Normalizer(fitting: train, mode: .standardize)
        for (index, oneHot) in table.isOneHot.enumerated() where oneHot {
            normalizer.shift[index] = 0
            normalizer.scale[index] = 1
        }
        return TrainingData(train: train, validation: test.subset([]), test: test, normalizer: normalizer,
                            schema: .table(table))
    }

    /// A checkpoint of a 5-6-3 relu model trained on `tableData` for a few epochs.
    static func tableCheckpoint(in folder: TemporaryFolder) throws -> String {
        var config = Configuration()
        config.model.hidden = [6]
        config.optimizer.lr = 0.05
        config.training.epochs = 15
        config.training.batchSize = .rows(16)
        let trainer = Trainer(configuration: config, data: try tableData())
        _ = try trainer.train()
        let path = folder.file("table.bin")
        try Checkpoint(trainer: trainer, bestRecord: nil, reason: .epoch).write(to: path)
        return path
    }

    /// The model of `checkpoint` on one row written out in Double: the encoding of `table` by
    /// hand (fills 2.5 and red, unknown colours all zeros), x' = (x − shift)·scale, relu(W₀x' + b₀),
    /// W₁h + b₁, softmax.
    static func probabilitiesByHand(checkpoint: String, size: String, colour: String, weight: Double) throws -> [Double] {
        let file = try CheckpointFile.read(path: checkpoint)
        func values(_ name: String) throws -> [Double] { try #require(file[name]).elements(as: Float.self).map(Double.init) }
        let w0 = try values("layers.0.weight"), b0 = try values("layers.0.bias")
        let w1 = try values("layers.1.weight"), b1 = try values("layers.1.bias")
        let shift = try values("normalizer.shift"), scale = try values("normalizer.scale")
        let colourValue = colour == "NA" ? "red" : colour
        let raw = [size == "NA" ? 2.5 : Double(Float(size) ?? .nan)]
            + ["blue", "green", "red"].map { $0 == colourValue ? 1.0 : 0.0 } + [Double(Float(weight))]
        let x = raw.indices.map { (raw[$0] - shift[$0]) * scale[$0] }
        let hidden = (0..<6).map { j in max(0, (0..<5).reduce(b0[j]) { $0 + w0[j * 5 + $1] * x[$1] }) }
        return softmax((0..<3).map { c in (0..<6).reduce(b1[c]) { $0 + w1[c * 6 + $1] * hidden[$1] } })
    }

    @Test func tableRowsAreEncodedAsInTrainingAndPredictedAsAForwardPassInDouble() throws {
        let folder = try TemporaryFolder()
        let checkpoint = try Self.tableCheckpoint(in: folder)
        // Columns in another order, two not used by the model, the target; an unseen colour, a
        // missing size and a missing colour (filled), a class the model does not know.
        var rows: [(id: String, note: String, size: String, colour: String, weight: Double, kind: String)] = [
            ("a1", "hello, world", "1.25", "green", 0.5, "dog, large"),
            ("a2", "plain", "NA", "purple", -1, "eel \"e\""),
            ("a3", "say \"hi\"", "-0.5", "NA", 2, "cat"),
            ("a4", "x", "3", "blue", 4, "wolf"),
        ]
        var random = RandomGenerator(seed: 9)
        for index in 0..<30 {
            let size = Float(random.nextGaussian()) * 2 + 1
            let colour = Int(random.next(upperBound: UInt64(3)))
            rows.append(("r\(index)", "n", "\(size)", ["blue", "green", "red"][colour],
                         Double(Float(random.nextGaussian()) * 10), Self.classNames[colour == 0 && size < 1 ? 1 : colour]))
        }
        func quoted(_ text: String) -> String { "\"" + text.replacing("\"", with: "\"\"") + "\"" }
        let csv = "id,weight,note,colour,kind,size\n" + rows.map {
            "\($0.id),\(Float($0.weight)),\(quoted($0.note)),\($0.colour),\(quoted($0.kind)),\($0.size)\n"
        }.joined()
        let input = try folder.write(csv, to: "new.csv")

        let (records, text, summary) = try Self.predict(checkpoint, input,
                                                        .init(keptColumns: ["id", "note"], probabilities: true, topK: 2))
        #expect(text.hasPrefix("row,id,note,prediction,probability,p_cat,\"p_dog, large\",\"p_eel \"\"e\"\"\",top1,p_top1,"
            + "top2,p_top2\n0,a1,\"hello, world\","))
        #expect(records.count == rows.count + 1)
        var correct = 0
        for (index, (row, record)) in zip(rows, records.dropFirst()).enumerated() {
            let expected = try Self.probabilitiesByHand(checkpoint: checkpoint, size: row.size, colour: row.colour,
                                                        weight: row.weight)
            let best = try #require(expected.indices.max { expected[$0] < expected[$1] })
            #expect(record[0...2] == ["\(index)", row.id, row.note])
            #expect(record[3] == Self.classNames[best])
            for (field, probability) in zip(record[5...7], expected) {
                #expect(abs(Double(try #require(Float(field))) - probability) < 1e-5)
            }
            #expect(record[4] == record[5 + best] && record[8] == record[3] && record[9] == record[4])
            if Self.classNames[best] == row.kind { correct += 1 }
        }
        #expect(summary == Prediction.Summary(task: .classification, rows: rows.count, unknownCategories: 1, filledValues: 2,
                                              labelledRows: rows.count, correct: correct, unknownLabels: 1))
        #expect(correct > rows.count / 2)  // the model has learned the colours

        // Standard input's records go through the same reader: a batch of one row gives the same text.
        #expect(try Self.predict(checkpoint, input, .init(keptColumns: ["id", "note"], probabilities: true, topK: 2,
                                                          batchSize: 1)).text == text)
    }

    // MARK: Regression, against eval

    @Test func regressionPredictionsOfEvalsTestRowsGiveEvalsFigures() throws {
        let folder = try TemporaryFolder()
        _ = try BonusData.write(rows: 300, seed: 2, to: folder.file("bonus.csv"))
        let config = try folder.write("""
            data: {dataset: bonus, path: \(folder.file("bonus.csv")), validation_split: 0}
            model: {hidden: [4]}
            loss: mse
            training: {epochs: 2}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let last = folder.file("run/checkpoints/last.bin")
        let evaluation = try CheckpointEvaluation.run(checkpointPath: last, split: .test)
        let regression = try #require(evaluation.regression)

        // eval's test rows, written as CSV with the target first and the features reversed: each
        // number as its shortest text, which reads back as the same Float.
        var configuration = try Checkpoint.read(path: last).configuration(path: last)
        let test = try TrainingData.load(for: &configuration, file: last).test
        guard case .floats(let features) = test.features, case .values(let targets) = test.targets else {
            throw NNTrainError(.internal, "bonus has float features and values")
        }
        let columns = Array(test.featureNames.reversed())
        var csv = "bonus," + columns.joined(separator: ",") + "\n"
        for row in 0..<test.count {
            let values = (0..<test.featureCount).reversed().map { features[row * test.featureCount + $0].description }
            csv += "\(targets[row])," + values.joined(separator: ",") + "\n"
        }
        let (records, _, summary) = try Self.predict(last, try folder.write(csv, to: "test.csv"))
        #expect(records.first == ["row", "prediction"] && records.count == test.count + 1)
        #expect(summary.rows == 60 && summary.labelledRows == 60 && summary.accuracy == nil)
        #expect(summary.meanSquaredError == regression.meanSquaredError)
        #expect(abs((summary.r2 ?? .nan) - regression.r2) < 1e-9)
    }

    // MARK: Options

    /// Top-k by hand: largest first, equal logits by lower index, NaN last; k beyond the classes
    /// gives them all; 1,000 classes ranked whole stay fast (one sort, not k scans).
    @Test func theRankingIsLargestFirstTiesToTheLowerIndex() {
        var ranking: [Int] = []
        let logits: [Float] = [0.5, 2, .nan, 2, -1, 0.5]
        logits.withUnsafeBufferPointer { Predictor.ranking($0, first: 4, into: &ranking) }
        #expect(ranking == [1, 3, 0, 5])
        logits.withUnsafeBufferPointer { Predictor.ranking($0, first: 9, into: &ranking) }
        #expect(ranking == [1, 3, 0, 5, 4, 2])
        let many = (0..<1000).map { Float(($0 * 7919) % 1000) }
        many.withUnsafeBufferPointer { Predictor.ranking($0, first: 1000, into: &ranking) }
        #expect(ranking.map { many[$0] } == many.sorted(by: >))
    }

    @Test func optionsTheModelCannotHonourAreUsageErrors() throws {
        let folder = try TemporaryFolder()
        let images = try folder.write(MalformedInputTests.imageModel, to: "images.bin")
        let input = try folder.write(gzipped(idxFile(dimensions: [1, 4, 4], data: fixtureBytes(16))), to: "in.gz")
        func refusal(_ checkpoint: String, _ input: String, _ options: Prediction.Options) -> NNTrainError? {
            do {
                _ = try Prediction.run(checkpointPath: checkpoint, inputPath: input, options: options) { _ in }
                return nil
            } catch { return error }
        }
        #expect(refusal(images, input, .init(topK: 3)) == NNTrainError(.usage, "--top-k 3: expected an integer from 1 "
            + "to 2, the number of classes of \(images)"))
        #expect(refusal(images, input, .init(keptColumns: ["id"])) == NNTrainError(.usage, "--keep-columns copies "
            + "columns of a CSV input; \(images) predicts images"))
        #expect(try Self.predict(images, input, .init(topK: 2)).records.first
            == ["row", "prediction", "probability", "top1", "p_top1", "top2", "p_top2"])
        // A kept column may not take the name of one of the output's own: the header would hold it twice.
        #expect(refusal(images, input, .init(keptColumns: ["id", "p_top1"], topK: 1)) == NNTrainError(.usage,
            "--keep-columns p_top1: the output has a column of that name already (row, prediction, probability, top1, "
                + "p_top1); expected other columns of the input"))
    }

    // MARK: Streaming

    /// Records read from a file a chunk at a time, with records, quoted line breaks, CRLF and
    /// blank lines straddling the chunk boundaries at every offset, are the records written.
    @Test func recordsAcrossChunkBoundariesAreReadWhole() throws {
        var text = "\u{FEFF}a,b,c\r\n"
        var expected: [(line: Int, fields: [String])] = [(1, ["a", "b", "c"])]
        var line = 2
        while text.utf8.count < 3 * SequentialInput.chunkSize + 1000 {
            let row = expected.count, padding = String(repeating: "x", count: row % 37)
            if row % 5 == 0 {
                text += "\(row),\"two\r\nlines \"\"\(padding)\"\"\",\(row)\r\n"
                expected.append((line, ["\(row)", "two\r\nlines \"\(padding)\"", "\(row)"]))
                line += 2
            } else {
                text += "\(row), \(padding) ,\(row)\n"
                expected.append((line, ["\(row)", padding, "\(row)"]))
                line += 1
            }
            if row % 11 == 0 {
                text += "\n"
                line += 1
            }
        }
        let folder = try TemporaryFolder()
        var records = CSVReader.Records(reading: try SequentialInput(path: try folder.write(text, to: "long.csv"),
                                                                     expected: "a CSV file"))
        for (line, fields) in expected {
            let record = try #require(try records.next())
            #expect(record.line == line && record.fields == fields)
        }
        #expect(try records.next() == nil)
    }
}
