import Foundation
import NNTrain
import ReaderFuzzing
import Testing

/// `nntrain predict` through the executable: the same bytes to a file, to standard output and from
/// standard input (CSV, and IDX images raw or gzipped); the summary line; exit statuses and
/// one-line errors; no output file after an error part-way through the input.
@Suite struct PredictCommandTests {
    /// A bonus folder with a linear model trained for one epoch (run/checkpoints/last.bin).
    static func trainedBonus(rows: Int) throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: rows, seed: 4, config: """
            data: {dataset: bonus, path: b.csv, validation_split: 0}
            model: {hidden: []}
            loss: mse
            training: {epochs: 1}
            output: {dir: run, plots: false}
            """)
        let trained = try CommandLineTests.run(["run", "b.txt"], in: directory)
        #expect(trained.status == 0, "\(trained.standardError)")
        return directory
    }

    @Test func predictionsToAFileToStandardOutputAndFromStandardInputAreTheSame() throws {
        let directory = try Self.trainedBonus(rows: 200)
        let toFile = try CommandLineTests.run(["predict", "run/checkpoints/last.bin", "b.csv", "--out", "p/out.csv",
                                               "--keep-columns", "bonus"], in: directory)
        #expect(toFile.status == 0 && toFile.standardOutput.isEmpty)
        #expect(toFile.standardError.hasPrefix("MSE ") && toFile.standardError.hasSuffix("(200 of 200 rows with a target)\n"))
        let written = try String(contentsOf: directory.appendingPathComponent("p/out.csv"), encoding: .utf8)
        let lines = written.split(separator: "\n")
        #expect(lines.count == 201 && lines.first == "row,bonus,prediction" && lines[1].hasPrefix("0,"))

        let toStandardOutput = try CommandLineTests.run(["predict", "run/checkpoints/last.bin", "b.csv",
                                                         "--keep-columns", "bonus"], in: directory)
        #expect(toStandardOutput.status == 0 && toStandardOutput.standardOutput == written)

        let process = CommandLineTests.process(["predict", "run/checkpoints/last.bin", "-", "--keep-columns", "bonus"],
                                               in: directory)
        process.standardInput = try FileHandle(forReadingFrom: directory.appendingPathComponent("b.csv"))
        let fromStandardInput = try CommandLineTests.collect(process)
        #expect(fromStandardInput.status == 0 && fromStandardInput.standardOutput == written)
        #expect(fromStandardInput.standardError == toFile.standardError)
    }

    /// A folder holding m.bin, a classifier of 4×4-pixel images (two classes, untrained).
    static func imageModel() throws -> URL {
        let directory = try CommandLineTests.temporaryDirectory()
        let pixels = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let images = Dataset(name: "tiny", features: .bytes(pixels), featureCount: 16, targets: .classes([0, 1, 0, 1]),
                             classNames: ["no", "yes"])
        let data = TrainingData(train: images, validation: images.subset([]), test: images,
                                normalizer: Normalizer(fitting: images, mode: .scale), schema: .images(rows: 4, columns: 4))
        try Checkpoint(trainer: Trainer(configuration: Configuration(), data: data), bestRecord: nil, reason: .epoch)
            .write(to: directory.appendingPathComponent("m.bin").path)
        return directory
    }

    /// An IDX images file: magic 0x00000803, the big-endian sizes, the pixels.
    static func idxImages(count: Int, rows: Int, columns: Int, pixels: [UInt8]) -> [UInt8] {
        [0, 0, 8, 3] + [count, rows, columns].flatMap { size in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: size >> $0) } }
            + pixels
    }

    /// 1,500 images (two batches of 1,024) piped into `predict m.bin -`, raw and gzipped (told by
    /// its first bytes 1f 8b), give the bytes predicting the file gives; a stream that ends early
    /// or goes on after the last image is refused on one line, exit 65, naming standard input
    /// with the message a file gets.
    @Test func imagesFromStandardInputRawOrGzippedAreTheFilesPredictions() throws {
        let directory = try Self.imageModel()
        let pixels = (0..<1500 * 16).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 7) }
        let raw = Self.idxImages(count: 1500, rows: 4, columns: 4, pixels: pixels)
        try Data(raw).write(to: directory.appendingPathComponent("in"))
        let fromFile = try CommandLineTests.run(["predict", "m.bin", "in", "--top-k", "2"], in: directory)
        #expect(fromFile.status == 0 && fromFile.standardError.isEmpty, "\(fromFile.standardError)")
        let lines = fromFile.standardOutput.split(separator: "\n")
        #expect(lines.count == 1501 && lines.first == "row,prediction,probability,top1,p_top1,top2,p_top2")
        #expect(lines.last?.hasPrefix("1499,") == true)

        let gzipped = ReaderFuzzing.gzip(raw, level: 6)
        try #require(gzipped.starts(with: [0x1f, 0x8b]))
        for input in [raw, gzipped] {
            let piped = try CommandLineTests.run(["predict", "m.bin", "-", "--top-k", "2"], in: directory,
                                                 standardInput: input)
            #expect(piped.status == 0 && piped.standardError.isEmpty, "\(piped.standardError)")
            #expect(piped.standardOutput == fromFile.standardOutput)
        }

        let short = "standard input: truncated IDX data: dimensions 1500×4×4 need 24000 bytes after the 16-byte header, "
            + "but the file has 23995"
        let long = "standard input: byte 24016: trailing data after the 24000 bytes of data for dimensions 1500×4×4; "
            + "expected the file to end there"
        for (input, message) in [(Array(raw.dropLast(5)), short), (raw + [0], long),
                                 (ReaderFuzzing.gzip(Array(raw.dropLast(5)), level: 6), short),
                                 (ReaderFuzzing.gzip(raw + [0], level: 6), long)] {
            let refused = try CommandLineTests.run(["predict", "m.bin", "-", "--out", "out.csv"], in: directory,
                                                   standardInput: input)
            CommandLineTests.expectFailure(refused, status: 65, message: message)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out.csv").path))
        CommandLineTests.expectFailure(try CommandLineTests.run(["predict", "m.bin", "-"], in: directory, standardInput: []),
                                       status: 65, message: "standard input: the input is 0 bytes; an IDX file starts "
                                           + "with a 4-byte magic number")
        CommandLineTests.expectFailure(
            try CommandLineTests.run(["predict", "m.bin", "-"], in: directory, standardInput: Array("a,b\n1,2\n".utf8)),
            status: 65, message: "standard input: byte 0: magic number 0x612c620a is not an IDX file of unsigned bytes "
                + "with 3 dimensions; expected 0x00000803")
    }

    @Test func anErrorPartWayLeavesNoOutputFile() throws {
        let directory = try Self.trainedBonus(rows: 50)
        // 2,000 good rows (more than one batch of 1024), then a word on line 2,002.
        let header = (BonusData.featureNames + [BonusData.targetName]).joined(separator: ",")
        let rows = String(repeating: "1,2,3,4,5,6\n", count: 2000) + "1,2,three,4,5,6\n"
        try CommandLineTests.write(header + "\n" + rows, to: "new.csv", in: directory)
        let result = try CommandLineTests.run(["predict", "run/checkpoints/last.bin", "new.csv", "--out", "out.csv"],
                                              in: directory)
        CommandLineTests.expectFailure(result, status: 65, message: "new.csv:2002: column '\(BonusData.featureNames[2])': "
            + "'three' is not a number; expected a decimal number like -1.5 or 2e-3")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!left.contains { $0.hasPrefix("out.csv") }, "\(left)")
    }

    /// The lines after a classifier's predictions: the unseen categories (a warning), the filled
    /// values, the accuracy with the rows of a class the model does not know.
    @Test func aClassifiersSummaryCountsUnseenCategoriesFillsAndUnknownClasses() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let table = TableSchema(columns: [.init(name: "size", encoding: .numeric(fill: 0)),
                                          .init(name: "colour", encoding: .categorical(categories: ["blue", "red"], fill: nil))],
                                target: "kind", task: .classification, missingValues: ["NA"])
        let rows = Dataset(name: "t", features: .floats([1, 1, 0, 2, 0, 1, 3, 1, 0, 4, 0, 1]), featureCount: 3,
                           featureNames: table.encodedNames, targets: .classes([0, 1, 0, 1]), classNames: ["a", "b"],
                           targetName: "kind")
        let data = TrainingData(train: rows, validation: rows.subset([]), test: rows,
                                normalizer: Normalizer(fitting: rows, mode: .none), schema: .table(table))
        try Checkpoint(trainer: Trainer(configuration: Configuration(), data: data), bestRecord: nil, reason: .epoch)
            .write(to: directory.appendingPathComponent("m.bin").path)
        try CommandLineTests.write("kind,colour,size\na,green,1\nb,purple,NA\nzebra,red,2\nNA,blue,3\n", to: "new.csv",
                                   in: directory)
        let result = try CommandLineTests.run(["predict", "m.bin", "new.csv"], in: directory)
        #expect(result.status == 0)
        let predictions = result.standardOutput.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }
        let correct = zip(predictions, ["a", "b"]).filter { $0 == $1 }.count
        #expect(result.standardError == """
            warning: 2 categorical values not seen in training, encoded as all zeros (as OneHotEncoder(handle_unknown='ignore'))
            filled 1 missing value with the training split's fill
            accuracy \(correct == 0 ? "0.00" : correct == 1 ? "33.33" : "66.67")% (\(correct) right, 3 of 4 rows with a \
            target, 1 of them of a class the model does not know)

            """)
    }

    @Test func refusalsExitWithTheirKind() throws {
        let directory = try Self.trainedBonus(rows: 50)
        func predict(_ arguments: [String]) throws -> CommandLineTests.Result {
            try CommandLineTests.run(["predict"] + arguments, in: directory)
        }
        CommandLineTests.expectFailure(try predict(["run/checkpoints/last.bin", "none.csv"]), status: 66,
                                       message: "none.csv: no such file or folder (expected a CSV file with the model's "
                                           + "feature columns)")
        CommandLineTests.expectFailure(try predict(["b.csv", "b.csv"]), status: 65,
                                       message: "b.csv is not an nntrain checkpoint (it starts with text, not a safetensors "
                                           + "header); expected a checkpoint written by nntrain run, like "
                                           + "runs/NAME/checkpoints/last.bin")
        CommandLineTests.expectFailure(try predict(["run/checkpoints/last.bin", "b.csv", "--top-k", "2"]), status: 64,
                                       message: "--probabilities and --top-k rank the classes of a classifier; "
                                           + "run/checkpoints/last.bin is a regression model (see 'nntrain predict --help')")
        CommandLineTests.expectFailure(try predict(["run/checkpoints/last.bin", "b.csv", "--keep-columns", "id"]),
                                       status: 65, message: "b.csv:1: missing column 'id'; expected columns: "
                                           + (BonusData.featureNames + [BonusData.targetName]).joined(separator: ", ")
                                           + " (--keep-columns names columns of the input)")
        for rows in ["0", "65537"] {
            CommandLineTests.expectFailure(try predict(["run/checkpoints/last.bin", "b.csv", "--batch-size", rows]),
                                           status: 64, message: "--batch-size \(rows): expected a number of rows from 1 to "
                                               + "65536 (see 'nntrain predict --help')")
        }
    }
}
