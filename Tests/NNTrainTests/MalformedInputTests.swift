import Foundation
import Testing

@testable import NNTrain

/// The corpus of malformed inputs: for every reader (config, gzip and IDX, the Fashion-MNIST
/// folder and any IDX set's, CSV, checkpoint), files built here byte by byte, each with the one-line message and
/// the exit kind its refusal must have. `{dir}` in a message stands for the case's folder.
@Suite struct MalformedInputTests {
    /// Which reader a case goes through, and on which file of its folder.
    enum Reader: Sendable {
        /// `Configuration.load` on `c.yaml`.
        case config
        /// `IDXReader.read` on `data.gz` as an IDX image set reads images (3 dimensions, its limit).
        case idxImages
        /// The same for labels (1 dimension, bytes or 16- or 32-bit integers).
        case idxLabels
        /// `IDXReader.read` on the raw (not gzipped) images file `images`.
        case rawIDXImages
        /// `FashionMNIST.load` on the folder holding the four files.
        case fashionMNIST
        /// `IDXImageSet.any.load` (`data.dataset: idx`) on the folder holding the four files.
        case idxSet
        /// `CSVReader.read` on `t.csv`, columns a and b.
        case csv
        /// `TrainingData.load` of the csv config `c.yaml` on `t.csv` (its `data.path`, and a
        /// `test_path` of `test.csv`, taken in the case's folder).
        case csvDataset
        /// `Checkpoint.read` on `last.bin` (format, version, checksum, then every tensor and entry).
        case checkpoint
        /// `Prediction.run` with `model.bin` (a model of `PredictionTests.table`) on `in.csv`.
        case predictTable
        /// `Prediction.run` with `model.bin` (a model of 4×4 images) on `in.gz`.
        case predictImages

        var fileName: String {
            switch self {
            case .config: "c.yaml"
            case .idxImages, .idxLabels: "data.gz"
            case .rawIDXImages: "images"
            case .fashionMNIST, .idxSet: ""
            case .csv, .csvDataset: "t.csv"
            case .checkpoint: "last.bin"
            case .predictTable: "in.csv"
            case .predictImages: "in.gz"
            }
        }

        /// Reads the case's file in `folder`.
        func read(in folder: String) throws(NNTrainError) {
            let path = (folder as NSString).appendingPathComponent(fileName)
            switch self {
            case .config: _ = try Configuration.load(path: path)
            case .idxImages, .rawIDXImages:
                _ = try IDXReader.read(path: path, expectedDimensions: 3, maxBytes: IDXImageSet.maxImagesFileBytes)
            case .idxLabels:
                _ = try IDXReader.read(path: path, expectedDimensions: 1, maxBytes: IDXImageSet.maxLabelsFileBytes,
                                       elementTypes: IDXElementType.allCases)
            case .fashionMNIST: _ = try FashionMNIST.load(folder: folder)
            case .idxSet: _ = try IDXImageSet.any.load(folder: folder)
            case .csv: _ = try CSVReader.read(path: path, requiredColumns: ["a", "b"])
            case .csvDataset:
                let config = (folder as NSString).appendingPathComponent("c.yaml")
                var configuration = try Configuration.load(path: config)
                configuration.data.path = path
                if configuration.data.testPath != nil {
                    configuration.data.testPath = (folder as NSString).appendingPathComponent("test.csv")
                }
                _ = try TrainingData.load(for: &configuration, file: config)
            case .checkpoint: _ = try Checkpoint.read(path: path)
            case .predictTable, .predictImages:
                let model = (folder as NSString).appendingPathComponent("model.bin")
                _ = try Prediction.run(checkpointPath: model, inputPath: path, options: .init()) { _ in }
            }
        }
    }

    /// What the message must be: all of it, or a distinctive part when the rest depends on the
    /// bytes (a JSON header's length, a CRC).
    enum Expected: Sendable {
        case exactly(String)
        case containing(String)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var reader: Reader
        /// The files to write: for most readers one, named after the reader.
        var files: [String: [UInt8]]
        var expected: Expected
        var kind: NNTrainError.Kind

        init(_ name: String, _ reader: Reader, _ bytes: [UInt8], _ expected: Expected, _ kind: NNTrainError.Kind = .data) {
            self.init(name, reader, files: [reader.fileName: bytes], expected, kind)
        }

        init(
            _ name: String, _ reader: Reader, files: [String: [UInt8]], _ expected: Expected, _ kind: NNTrainError.Kind = .data
        ) {
            self.name = name
            self.reader = reader
            self.files = files
            self.expected = expected
            self.kind = kind
        }

        var testDescription: String { name }
    }

    @Test(arguments: configCases + gzipAndIDXCases + rawIDXCases + fashionMNISTCases + idxSetCases + csvCases + csvDatasetCases
                     + checkpointCases + predictCases)
    func refusedWithItsMessage(_ corpusCase: Case) throws {
        let folder = try TemporaryFolder()
        for (name, bytes) in corpusCase.files {
            try FileManager.default.createDirectory(
                atPath: (folder.file(name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try folder.write(bytes, to: name)
        }
        do {
            try corpusCase.reader.read(in: folder.path)
            Issue.record("\(corpusCase.name): read without an error")
        } catch {
            #expect(error.kind == corpusCase.kind)
            #expect(!error.message.contains("\n"), "the message must be one line")
            switch corpusCase.expected {
            case .exactly(let message):
                #expect(error.message == message.replacing("{dir}", with: folder.path))
            case .containing(let part):
                #expect(error.message.contains(part.replacing("{dir}", with: folder.path)), "\(error.message)")
            }
        }
    }

    /// The streaming images reader (`IDXImageStream`, for predict) refuses every malformed images
    /// file of the corpus with the message `IDXReader.read` gives, but for the size limits of a
    /// whole file, which a stream holding one batch does not need: a header claiming more than the
    /// file holds is refused when the missing bytes are reached. So it does reading the file as
    /// standard input is read (a descriptor of unknown size, read once from its start, gzip told by
    /// the first bytes looked at ahead), but that a raw stream too short for the header is "the input".
    @Test(arguments: (gzipAndIDXCases + rawIDXCases).filter {
        [.idxImages, .rawIDXImages].contains($0.reader) && !"\($0.expected)".contains("more than the limit")
    })
    func theImageStreamRefusesAsTheReaderDoes(_ corpusCase: Case) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(try #require(corpusCase.files.values.first), to: corpusCase.reader.fileName)
        for asStandardInput in [false, true] {
            let descriptor = asStandardInput ? open(path, O_RDONLY) : -1
            defer { if descriptor >= 0 { close(descriptor) } }
            do {
                let stream = try asStandardInput
                    ? IDXImageStream(stream: descriptor, named: path) : IDXImageStream(path: path)
                while try !stream.next(maxImages: 1).isEmpty {}
                Issue.record("\(corpusCase.name): read without an error")
            } catch {
                #expect(error.kind == corpusCase.kind)
                let shortRaw = asStandardInput && corpusCase.reader == .rawIDXImages
                let message = { (text: String) in
                    let inFolder = text.replacing("{dir}", with: folder.path)
                    return shortRaw ? inFolder.replacing(": the file is ", with: ": the input is ") : inFolder
                }
                switch corpusCase.expected {
                case .exactly(let text): #expect(error.message == message(text), "standard input: \(asStandardInput)")
                case .containing(let part): #expect(error.message.contains(message(part)), "\(error.message)")
                }
            }
        }
    }

    // MARK: Config

    static let configCases: [Case] = [
        Case("config: empty file", .config, [],
             .exactly("{dir}/c.yaml: the config is empty; "
                 + "expected a YAML mapping with sections like data:, model:, optimizer:, training:"),
             .config),
        Case("config: a tab in the indentation", .config, Array("optimizer:\n\tlr: 0.1\n".utf8),
             .exactly("{dir}/c.yaml:2: invalid YAML: this line is indented with a tab; "
                 + "expected spaces (YAML forbids tabs in indentation)"),
             .config),
        Case("config: a duplicate key", .config, Array("optimizer:\n  lr: 0.1\n  name: sgd\n  lr: 0.2\n".utf8),
             .exactly("{dir}/c.yaml:4: duplicate key 'lr' (first at line 2)"), .config),
        Case("config: 4900 copies of two keys", .config, Array((0..<4900).map { "seed\($0 % 2): 1\n" }.joined().utf8),
             .exactly("{dir}/c.yaml:3: duplicate key 'seed0' (first at line 1)"), .config),
        Case("config: a duplicate key inside a list", .config, Array("seed: 1\nmodel:\n  hidden: [{a: 1,\n    a: 2}]\n".utf8),
             .exactly("{dir}/c.yaml:4: duplicate key 'a' (first at line 3)"), .config),
        Case("config: a list where a number belongs", .config, Array("optimizer:\n  lr: [0.1, 0.2]\n".utf8),
             .exactly("{dir}/c.yaml:2: optimizer.lr: expected a number > 0, not a list"), .config),
        Case("config: a mapping where a list belongs", .config, Array("model:\n  hidden: {a: 1}\n".utf8),
             .exactly("{dir}/c.yaml:2: model.hidden: expected a list of integers >= 1, like [256, 128], not a mapping"), .config),
        Case("config: a list at the top", .config, Array("- seed\n- 3\n".utf8),
             .exactly("{dir}/c.yaml:1: the config is a list; "
                 + "expected a YAML mapping with sections like data:, model:, optimizer:, training:"),
             .config),
        Case("config: cut inside a flow list", .config, Array("model:\n  hidden: [64,".utf8),
             .containing("{dir}/c.yaml:2: invalid YAML: "), .config),
        Case("config: not UTF-8", .config, Array("seed: 1\nloss: mse\n# caf".utf8) + [0xE9, 0x0A],
             .exactly("{dir}/c.yaml:3: byte 23 (0xe9) is not UTF-8; expected a YAML config file in UTF-8"), .config),
        Case("config: a control character", .config, Array("seed: 1\u{1}\n".utf8),
             .containing("{dir}/c.yaml:1: invalid YAML: control characters are not allowed"), .config),
        Case("config: aliases that expand to a billion values", .config, Array(billionLaughs.utf8),
             .exactly("{dir}/c.yaml:4: the aliases (*name) here expand the config to more than 10000 values; "
                 + "expected a config of at most 10000 values"),
             .config),
        Case("config: 5000 nested lists", .config,
             Array(("model:\n  hidden: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)).utf8),
             .exactly("{dir}/c.yaml:2: invalid YAML: lists or mappings nested more than 1000 levels deep; "
                 + "expected a config a few levels deep"),
             .config),
        Case("config: a hidden width of 2^63 - 1", .config, Array("model:\n  hidden: [9223372036854775807]\n".utf8),
             .exactly("{dir}/c.yaml:2: model.hidden: makes a model of at least 2^63 parameters with fashion-mnist's 784 inputs "
                 + "and 10 outputs; expected at most 268435456 (1 GiB of float32)"), .config),
        Case("config: 10 billion parameters", .config, Array("model: {hidden: [100000, 100000], batch_norm: true}\n".utf8),
             .exactly("{dir}/c.yaml:1: model.hidden: makes a model of 10080000010 parameters with fashion-mnist's 784 inputs "
                 + "and 10 outputs; expected at most 268435456 (1 GiB of float32)"), .config),
        Case("config: larger than 1 MiB", .config, Array(("seed: 1\n" + String(repeating: "#\n", count: 600_000)).utf8),
             .exactly("{dir}/c.yaml: is larger than 1048576 bytes; expected a YAML config file (a few hundred bytes)"), .config),
        Case("config: missing", .config, files: [:],
             .exactly("{dir}/c.yaml: no such file or folder (expected a YAML config file)"), .missingFile),
    ]

    /// Nine levels of ten aliases each: 10^9 values once expanded; refused on line 4, where the
    /// expansion first passes 10,000 (11 values on line 1, 111 on line 2, 1111, then 11111).
    static let billionLaughs = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        + (1..<9).map { level in
            let previous = level == 1 ? "a" : "a\(level - 1)"
            return "a\(level): &a\(level) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }.joined()

    // MARK: Gzip and IDX

    /// A valid labels file: 5 labels, gzipped.
    static let labels = idxFile(dimensions: [5], data: [3, 1, 4, 1, 5])
    static let images = idxFile(dimensions: [2, 28, 28], data: fixtureBytes(2 * 784))

    static func gz(_ bytes: [UInt8]) -> [UInt8] { (try? gzipped(bytes)) ?? [] }

    static let gzipAndIDXCases: [Case] = {
        let member = gz(images)
        var cases = [
            Case("gz: empty file", .idxImages, [],
                 .exactly("{dir}/data.gz: not a gzip file (the file is empty); expected a .gz file starting 1f 8b")),
            Case("gz: zip bytes with a .gz name", .idxImages, [0x50, 0x4B, 0x03, 0x04] + fixtureBytes(40),
                 .exactly("{dir}/data.gz: not a gzip file (first bytes 0x50 0x4b); expected a .gz file starting 1f 8b")),
            Case("gz: not deflate (method 7)", .idxImages, { var bytes = member; bytes[2] = 7; return bytes }(),
                 .exactly("{dir}/data.gz: corrupt gzip data: unknown compression method (detected after 4 compressed bytes)")),
            Case("gz: a wrong CRC-32 in the trailer", .idxImages,
                 { var bytes = member; bytes[bytes.count - 8] ^= 1; return bytes }(),
                 .exactly("{dir}/data.gz: corrupt gzip data: incorrect data check "
                     + "(detected after \(member.count - 4) compressed bytes)")),
            // The trailer's ISIZE says 1 byte more than the member decodes to: zlib checks it.
            Case("gz: decodes to another size than its trailer says", .idxImages,
                 { var bytes = member; bytes[bytes.count - 4] &+= 1; return bytes }(),
                 .exactly("{dir}/data.gz: corrupt gzip data: incorrect length check "
                     + "(detected after \(member.count) compressed bytes)")),
            Case("gz: junk after the member", .idxImages, member + Array("junk".utf8),
                 .exactly("{dir}/data.gz: corrupt gzip data: incorrect header check "
                     + "(detected after \(member.count + 2) compressed bytes)")),
            // The IDX inside.
            Case("idx: decodes to nothing", .idxImages, gz([]),
                 .exactly("{dir}/data.gz: decoded data is 0 bytes; an IDX file starts with a 4-byte magic number")),
            Case("idx: wrong magic (a zip inside)", .idxImages, gz([0x50, 0x4B, 0x03, 0x04] + fixtureBytes(100)),
                 .exactly("{dir}/data.gz: byte 0: magic number 0x504b0304 is not an IDX file of unsigned bytes "
                     + "with 3 dimensions; expected 0x00000803")),
            Case("idx: labels where images belong", .idxImages, gz(labels),
                 .exactly("{dir}/data.gz: byte 0: magic number 0x00000801 is not an IDX file of unsigned bytes "
                     + "with 3 dimensions; expected 0x00000803")),
            Case("idx: wrong dimension count (2 for images)", .idxImages,
                 gz(idxFile(dimensions: [2, 784], data: fixtureBytes(1568))),
                 .exactly("{dir}/data.gz: byte 0: magic number 0x00000802 is not an IDX file of unsigned bytes "
                     + "with 3 dimensions; expected 0x00000803")),
            Case("idx: wrong dimension count (2 for labels)", .idxLabels, gz(idxFile(dimensions: [5, 1], data: [1, 2, 3, 4, 5])),
                 .exactly("{dir}/data.gz: byte 0: magic number 0x00000802 is not an IDX file of \(labelTypes) with 1 dimension; "
                     + "expected 0x00000801, 0x00000b01 or 0x00000c01")),
            Case("idx: floats instead of integers", .idxLabels, gz(idxFile(dimensions: [1], data: [0, 0, 0, 0], magic: 0x0D01)),
                 .exactly("{dir}/data.gz: byte 0: magic number 0x00000d01 is not an IDX file of \(labelTypes) with 1 dimension; "
                     + "expected 0x00000801, 0x00000b01 or 0x00000c01")),
            Case("idx: 16-bit pixels", .idxImages, gz(idxFile(dimensions: [1, 1, 1], data: [0, 0], magic: 0x0B03)),
                 .exactly("{dir}/data.gz: byte 0: magic number 0x00000b03 is not an IDX file of unsigned bytes "
                     + "with 3 dimensions; expected 0x00000803")),
            Case("idx: 32-bit labels, one short", .idxLabels,
                 gz(idxFile(dimensions: [2], data: [0, 0, 0, 1, 0, 0, 0], magic: 0x0C01)),
                 .exactly("{dir}/data.gz: truncated IDX data: dimensions 2 need 8 bytes after the 8-byte header, "
                     + "but the file has 7")),
            Case("idx: a header claiming 2^32 - 1 images", .idxImages,
                 gz(idxFile(dimensions: [Int(UInt32.max), 28, 28], data: fixtureBytes(784))),
                 .exactly("{dir}/data.gz: bytes 4-15: dimensions 4294967295×28×28 describe 3367254359280 bytes of data, "
                     + "more than the limit of \(IDXImageSet.maxImagesFileBytes) bytes for a decoded file (header included); "
                     + "refusing before decoding them")),
            Case("idx: dimensions whose product overflows", .idxImages,
                 gz(idxFile(dimensions: [Int(UInt32.max), Int(UInt32.max), Int(UInt32.max)], data: [])),
                 .exactly("{dir}/data.gz: bytes 4-15: dimensions 4294967295×4294967295×4294967295 "
                     + "describe more bytes than any file can hold")),
            Case("idx: 300,001 32-bit labels, one over the limit", .idxLabels,
                 gz(idxFile(dimensions: [300_001], data: [], magic: 0x0C01)),
                 .exactly("{dir}/data.gz: bytes 4-7: dimensions 300001 describe 1200004 bytes of data, "
                     + "more than the limit of 1200008 bytes for a decoded file (header included); "
                     + "refusing before decoding them")),
            // A gz bomb: a 784-byte image, then 20 MB of zeros that compress to 20 KB. Inflating
            // stops at the first byte past the 800 the header gives.
            Case("idx: a gz bomb behind a valid header", .idxImages,
                 gz(idxFile(dimensions: [1, 28, 28], data: fixtureBytes(784) + [UInt8](repeating: 0, count: 20_000_000))),
                 .exactly("{dir}/data.gz: byte 800: trailing data after the 784 bytes of data for dimensions 1×28×28; "
                     + "expected the file to end there")),
            Case("idx: one image short of its header (a gz that decodes to the wrong size)", .idxImages,
                 gz(idxFile(dimensions: [3, 28, 28], data: fixtureBytes(2 * 784))),
                 .exactly("{dir}/data.gz: truncated IDX data: dimensions 3×28×28 need 2352 bytes after the 16-byte header, "
                     + "but the file has 1568")),
        ]
        // The gzip member cut at each section boundary: inside the magic, after the 10-byte
        // header, inside the deflate data, before the 8-byte trailer, inside it, one byte short.
        for kept in [1, 10, member.count / 2, member.count - 8, member.count - 4, member.count - 1] {
            cases.append(Case("gz: cut after \(kept) of \(member.count) bytes", .idxImages, Array(member.prefix(kept)),
                              .exactly("{dir}/data.gz: truncated gzip data: the stream ends after \(kept) compressed bytes "
                                  + "without its end marker")))
        }
        // The IDX data cut at each boundary and gzipped whole: inside the magic, after it, inside
        // the sizes, after the header, inside the data, one byte short.
        for kept in [2, 4, 10, 16, 800, images.count - 1] {
            let message = switch kept {
            case ..<4: "decoded data is \(kept) bytes; an IDX file starts with a 4-byte magic number"
            case ..<16: "decoded data is \(kept) bytes; the header of an IDX file with 3 dimensions is 16 bytes"
            default:
                "truncated IDX data: dimensions 2×28×28 need 1568 bytes after the 16-byte header, but the file has \(kept - 16)"
            }
            cases.append(Case("idx: cut after \(kept) of \(images.count) decoded bytes", .idxImages,
                              gz(Array(images.prefix(kept))), .exactly("{dir}/data.gz: \(message)")))
        }
        return cases
    }()

    static let labelTypes = "unsigned bytes, 16-bit integers or 32-bit integers"

    /// Raw (not gzipped) IDX files: judged by their size against the header before the data are read.
    static let rawIDXCases: [Case] = {
        var cases = [
            Case("raw idx: empty file", .rawIDXImages, [],
                 .exactly("{dir}/images: the file is 0 bytes; an IDX file starts with a 4-byte magic number")),
            Case("raw idx: text", .rawIDXImages, Array("<html>".utf8),
                 .exactly("{dir}/images: byte 0: magic number 0x3c68746d is not an IDX file of unsigned bytes "
                     + "with 3 dimensions; expected 0x00000803")),
            Case("raw idx: a header claiming 2^32 - 1 images", .rawIDXImages,
                 idxFile(dimensions: [Int(UInt32.max), 28, 28], data: fixtureBytes(784)),
                 .exactly("{dir}/images: bytes 4-15: dimensions 4294967295×28×28 describe 3367254359280 bytes of data, "
                     + "more than the limit of \(IDXImageSet.maxImagesFileBytes) bytes for a decoded file (header included); "
                     + "refusing before decoding them")),
            Case("raw idx: a byte after the data", .rawIDXImages, images + [0],
                 .exactly("{dir}/images: byte 1584: trailing data after the 1568 bytes of data for dimensions 2×28×28; "
                     + "expected the file to end there")),
        ]
        // Cut inside the magic, after it, inside the sizes, after the header, inside the data, one byte short.
        for kept in [2, 4, 10, 16, 800, images.count - 1] {
            let message = switch kept {
            case ..<4: "the file is \(kept) bytes; an IDX file starts with a 4-byte magic number"
            case ..<16: "the file is \(kept) bytes; the header of an IDX file with 3 dimensions is 16 bytes"
            default:
                "truncated IDX data: dimensions 2×28×28 need 1568 bytes after the 16-byte header, but the file has \(kept - 16)"
            }
            cases.append(Case("raw idx: cut after \(kept) of \(images.count) bytes", .rawIDXImages,
                              Array(images.prefix(kept)), .exactly("{dir}/images: \(message)")))
        }
        return cases
    }()

    // MARK: The Fashion-MNIST folder

    static func fashionFiles(
        trainImages: Int = 2, trainLabels: [UInt8] = [0, 1], testImages: [UInt8]? = nil
    ) -> [String: [UInt8]] {
        [
            "train-images-idx3-ubyte.gz": gz(idxFile(dimensions: [trainImages, 28, 28], data: fixtureBytes(trainImages * 784))),
            "train-labels-idx1-ubyte.gz": gz(idxFile(dimensions: [trainLabels.count], data: trainLabels)),
            "t10k-images-idx3-ubyte.gz": testImages ?? gz(idxFile(dimensions: [1, 28, 28], data: fixtureBytes(784))),
            "t10k-labels-idx1-ubyte.gz": gz(idxFile(dimensions: [1], data: [7])),
        ]
    }

    static let fashionMNISTCases: [Case] = [
        Case("fashion-mnist: more images than labels", .fashionMNIST, files: fashionFiles(trainImages: 3),
             .exactly("{dir}: train-images has 3 images but train-labels has 2 labels")),
        Case("fashion-mnist: a label out of range", .fashionMNIST, files: fashionFiles(trainLabels: [0, 10]),
             .exactly("{dir}/train-labels-idx1-ubyte.gz: byte 9: label 10 of item 1 is out of range; expected 0...9")),
        Case("fashion-mnist: 32×32 images", .fashionMNIST,
             files: fashionFiles(testImages: gz(idxFile(dimensions: [1, 32, 32], data: fixtureBytes(1024)))),
             .exactly("{dir}/t10k-images-idx3-ubyte.gz: images are 1×32×32 pixels; expected N×28×28")),
        Case("fashion-mnist: text in a .gz file", .fashionMNIST, files: fashionFiles(testImages: Array("<html>".utf8)),
             .exactly("{dir}/t10k-images-idx3-ubyte.gz: not a gzip file (first bytes 0x3c 0x68); "
                 + "expected a .gz file starting 1f 8b")),
        Case("fashion-mnist: a file missing", .fashionMNIST,
             files: fashionFiles().filter { $0.key != "t10k-labels-idx1-ubyte.gz" },
             .exactly("{dir} lacks t10k-labels-idx1-ubyte.gz; expected a folder holding train-images-idx3-ubyte.gz, "
                 + "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
                 + "(data-scripts/fetch-fashion-mnist.sh {dir} fetches the missing ones)"), .missingFile),
    ]

    // MARK: Any IDX image set

    /// An IDX set of 5×7 images in the standard names, the training files gzipped and the test files raw.
    static func idxSetFiles(
        trainImages: [UInt8] = idxFile(dimensions: [2, 5, 7], data: fixtureBytes(70)),
        trainLabels: [UInt8] = idxFile(dimensions: [2], data: [0, 2]),
        testImages: [UInt8] = idxFile(dimensions: [1, 5, 7], data: fixtureBytes(35)),
        testLabels: [UInt8] = idxFile(dimensions: [1], data: [1])
    ) -> [String: [UInt8]] {
        ["train-images-idx3-ubyte.gz": gz(trainImages), "train-labels-idx1-ubyte.gz": gz(trainLabels),
         "t10k-images-idx3-ubyte": testImages, "t10k-labels-idx1-ubyte": testLabels]
    }

    static let idxSetCases: [Case] = [
        Case("idx set: test images of another size", .idxSet,
             files: idxSetFiles(testImages: idxFile(dimensions: [1, 5, 8], data: fixtureBytes(40))),
             .exactly("{dir}/t10k-images-idx3-ubyte: images are 1×5×8 pixels; expected N×5×7 as in train-images-idx3-ubyte.gz")),
        Case("idx set: images of no columns", .idxSet, files: idxSetFiles(trainImages: idxFile(dimensions: [2, 5, 0], data: [])),
             .exactly("{dir}/train-images-idx3-ubyte.gz: images are 2×5×0 pixels; expected images of at least 1×1 pixels")),
        Case("idx set: a 16-bit label of 1000", .idxSet,
             files: idxSetFiles(testLabels: idxFile(dimensions: [1], data: [0x03, 0xE8], magic: 0x0B01)),
             .exactly("{dir}/t10k-labels-idx1-ubyte: byte 8: label 1000 of item 0 is out of range; "
                 + "expected 0...999 (nntrain reads at most 1000 classes)")),
        Case("idx set: a negative 32-bit label", .idxSet,
             files: idxSetFiles(trainLabels: idxFile(dimensions: [2], data: [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF], magic: 0x0C01)),
             .exactly("{dir}/train-labels-idx1-ubyte.gz: byte 12: label -1 of item 1 is out of range; "
                 + "expected 0...999 (nntrain reads at most 1000 classes)")),
        Case("idx set: no images of 2^32 - 1 × 2^32 - 1 pixels", .idxSet,
             files: idxSetFiles(trainImages: idxFile(dimensions: [0, Int(UInt32.max), Int(UInt32.max)], data: []),
                                trainLabels: idxFile(dimensions: [0], data: [])),
             .exactly("{dir}/train-images-idx3-ubyte.gz: images are 0×4294967295×4294967295 pixels; "
                 + "expected images of at most 235200000 pixels")),
        Case("idx set: more test labels than images", .idxSet,
             files: idxSetFiles(testLabels: idxFile(dimensions: [2], data: [1, 0])),
             .exactly("{dir}: t10k-images has 1 images but t10k-labels has 2 labels")),
        Case("idx set: a file missing", .idxSet, files: idxSetFiles().filter { $0.key != "t10k-labels-idx1-ubyte" },
             .exactly("{dir} lacks t10k-labels-idx1-ubyte.gz; expected a folder holding train-images-idx3-ubyte.gz, "
                 + "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
                 + "(or the same names without .gz, raw)"), .missingFile),
    ]

    // MARK: CSV

    static func csv(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let notANumber = "expected a decimal number like -1.5 or 2e-3"
    static let notFinite = "expected a finite decimal number (NaN and infinities are refused)"

    static let csvCases: [Case] = [
        Case("csv: empty file", .csv, [], .exactly("{dir}/t.csv: empty file; expected a header row naming the columns")),
        Case("csv: only a byte-order mark and blank lines", .csv, [0xEF, 0xBB, 0xBF] + csv("\n  \n"),
             .exactly("{dir}/t.csv: empty file; expected a header row naming the columns")),
        Case("csv: a header and no rows", .csv, csv("a,b\n"),
             .exactly("{dir}/t.csv: no data rows after the header; expected at least one")),
        Case("csv: a missing column", .csv, csv("a,c\n1,2\n"),
             .exactly("{dir}/t.csv:1: missing column 'b'; expected columns: a, b")),
        Case("csv: a column twice", .csv, csv("a,b,a\n1,2,3\n"),
             .exactly("{dir}/t.csv:1: column 'a' appears 2 times; expected once")),
        Case("csv: a ragged row (short)", .csv, csv("a,b,c\n1,2,3\n4,5\n"),
             .exactly("{dir}/t.csv:3: 2 fields; expected 3 as in the header")),
        Case("csv: a ragged row (long)", .csv, csv("a,b\n1,2\n3,4,5\n"),
             .exactly("{dir}/t.csv:3: 3 fields; expected 2 as in the header")),
        Case("csv: a ragged row after a byte-order mark and a quoted line break", .csv,
             [0xEF, 0xBB, 0xBF] + csv("a,note,b\n1,\"two\nlines\",2\n3,4\n"),
             .exactly("{dir}/t.csv:4: 2 fields; expected 3 as in the header")),
        Case("csv: a quote never closed", .csv, csv("a,b\n1,2\n3,\"4\n5,6\n"),
             .exactly("{dir}/t.csv:3: field 2: the quoted field that starts on this line is never closed; "
                 + "expected a closing \" (a quote inside a quoted field is written \"\")")),
        Case("csv: text after a closing quote", .csv, csv("a,b\n\"1\"x,2\n"),
             .exactly("{dir}/t.csv:2: field 1: 'x' after the closing quote of a quoted field; "
                 + "expected a comma or the end of the line (a quote inside a quoted field is written \"\")")),
        Case("csv: NaN", .csv, csv("a,b\n1,2\n3,NaN\n"),
             .exactly("{dir}/t.csv:3: column 'b': 'NaN' is not a finite number; \(notFinite)")),
        Case("csv: quoted -inf", .csv, csv("a,b\n\"-inf\",2\n"),
             .exactly("{dir}/t.csv:2: column 'a': '-inf' is not a finite number; \(notFinite)")),
        Case("csv: Infinity", .csv, csv("a,b\n1,Infinity\n"),
             .exactly("{dir}/t.csv:2: column 'b': 'Infinity' is not a finite number; \(notFinite)")),
        Case("csv: beyond a double", .csv, csv("a,b\n1e999,2\n"),
             .exactly("{dir}/t.csv:2: column 'a': 1e999 is too large for a 32-bit float; expected a magnitude below 3.4e38")),
        Case("csv: beyond a float", .csv, csv("a,b\n1,-4e38\n"),
             .exactly("{dir}/t.csv:2: column 'b': -4e38 is too large for a 32-bit float; expected a magnitude below 3.4e38")),
        Case("csv: an empty field", .csv, csv("a,b\n1,\n"),
             .exactly("{dir}/t.csv:2: column 'b': the field is empty; \(notANumber)")),
        Case("csv: a word", .csv, csv("a,b\r\n1,2\r\nthree,4\r\n"),
             .exactly("{dir}/t.csv:3: column 'a': 'three' is not a number; \(notANumber)")),
        Case("csv: a decimal comma", .csv, csv("a,b\n\"1,5\",2\n"),
             .exactly("{dir}/t.csv:2: column 'a': '1,5' is not a number; \(notANumber)")),
        Case("csv: hexadecimal", .csv, csv("a,b\n0x10,2\n"),
             .exactly("{dir}/t.csv:2: column 'a': '0x10' is not a number; \(notANumber)")),
        Case("csv: a folder", .csv, files: ["t.csv/x": []],
             .exactly("{dir}/t.csv is a folder; expected a CSV file with a header row"), .missingFile),
    ]

    // MARK: CSV datasets

    /// A csv config on `t.csv` with the data keys `keys` (the first on line 3) and the CSV `text`.
    static func csvDataset(_ name: String, _ keys: [String], _ text: String, test: String? = nil, _ expected: Expected,
                           _ kind: NNTrainError.Kind = .data) -> Case {
        let yaml = "data:\n  dataset: csv\n" + keys.map { "  \($0)\n" }.joined()
        var files = ["c.yaml": Array(yaml.utf8), "t.csv": csv(text)]
        if let test { files["test.csv"] = csv(test) }
        return Case("csv dataset: \(name)", .csvDataset, files: files, expected, kind)
    }

    static let csvDatasetCases: [Case] = [
        csvDataset("a missing feature value, refused by default", ["target: y"], "a,y\n1,p\nNA,q\n",
                   .exactly("{dir}/t.csv:3: column 'a': the value is missing ('NA'); expected a value, or data.missing: "
                       + "drop_rows or impute")),
        csvDataset("every target missing", ["target: y"], "a,y\n1,\n2,?\n",
                   .exactly("{dir}/t.csv: no rows are left once rows with a missing target are dropped; expected at least one")),
        csvDataset("every row with a gap, dropped", ["target: y", "missing: drop_rows"], "a,b,y\n1,,p\nnull,2,q\n",
                   .exactly("{dir}/t.csv: no rows are left once rows with a missing target or feature are dropped; "
                       + "expected at least one")),
        csvDataset("a target column the header lacks", ["target: z"], "a,y\n1,p\n",
                   .exactly("{dir}/c.yaml:3: data.target: column 'z' is not in {dir}/t.csv, whose columns are: a, y"), .config),
        csvDataset("the target column twice", ["target: y"], "a,y,y\n1,p,q\n",
                   .exactly("{dir}/t.csv:1: column 'y' appears 2 times; expected once")),
        csvDataset("a feature column twice", ["target: y"], "a,a,y\n1,2,p\n",
                   .exactly("{dir}/t.csv:1: column 'a' appears 2 times; expected once")),
        csvDataset("no feature column left", ["target: y", "drop: [a]"], "a,y\n1,p\n",
                   .exactly("{dir}/c.yaml:4: data.drop: leaves no feature column of {dir}/t.csv besides the target; "
                       + "expected at least one"), .config),
        csvDataset("a ragged row", ["target: y"], "a,y\n1,p\n2\n",
                   .exactly("{dir}/t.csv:3: 1 fields; expected 2 as in the header")),
        csvDataset("a text target forced to regression", ["target: y", "task: regression"], "a,y\n1,p\n",
                   .exactly("{dir}/t.csv:2: column 'y': 'p' is not a number; \(notANumber)")),
        csvDataset("a column with nothing to impute from", ["target: y", "missing: impute"], "a,b,y\n1,NA,p\n2,,q\n3,NA,p\n",
                   .exactly("{dir}/t.csv: column 'b' has no value in the training split to impute its missing ones from; "
                       + "expected some values, or the column in data.drop")),
        csvDataset("a test file without a feature column", ["target: y", "test_path: test.csv"], "a,b,y\n1,2,p\n",
                   test: "b,y\n1,p\n",
                   .exactly("{dir}/test.csv:1: missing column 'a'; expected the columns of {dir}/t.csv: a, b, y")),
        csvDataset("a test file with a class the training file lacks", ["target: y", "test_path: test.csv"],
                   "a,y\n1,p\n2,q\n", test: "a,y\n1,r\n",
                   .exactly("{dir}/test.csv:2: column 'y': class 'r' does not occur in {dir}/t.csv; expected one of: p, q")),
        csvDataset("a test file with text in a numeric column", ["target: y", "test_path: test.csv"],
                   "a,y\n1,p\n2,q\n", test: "a,y\nmany,p\n",
                   .exactly("{dir}/test.csv:2: column 'a': 'many' is not a number; \(notANumber)")),
        csvDataset("a quote never closed", ["target: y"], "a,y\n1,\"p\n",
                   .containing("{dir}/t.csv:2: field 2: the quoted field that starts on this line is never closed")),
        csvDataset("an empty file", ["target: y"], "",
                   .exactly("{dir}/t.csv: empty file; expected a header row naming the columns")),
    ]

    // MARK: Checkpoints

    /// A checkpoint of an untrained 16-24-12-4 network with batch norm and dropout (SGD with momentum).
    static let checkpoint: Checkpoint = {
        let trainer = Trainer(configuration: ResumeTests.sgdConfig(), data: ResumeTests.classificationData())
        return Checkpoint(trainer: trainer, bestRecord: nil, reason: .epoch)
    }()

    /// The checkpoint's safetensors contents (without the format entries CheckpointFile adds).
    static let contents: SafeTensors = (try? checkpoint.contents()) ?? SafeTensors()
    static let checkpointBytes = CheckpointFile.encode(contents)

    /// The checkpoint's header length (bytes 0-7).
    static let headerLength = Int(checkpointBytes[0]) | Int(checkpointBytes[1]) << 8 | Int(checkpointBytes[2]) << 16

    /// `contents` changed by `change`, encoded with a correct checksum.
    static func checkpoint(_ change: (inout SafeTensors) -> Void) -> [UInt8] {
        var changed = contents
        change(&changed)
        return CheckpointFile.encode(changed)
    }

    /// A safetensors file whose header is `json` (format, version and a checksum of `data` in its
    /// metadata, so that only what the case is about is wrong) and whose data is `data`.
    static func safetensors(tensors json: String, data: [UInt8]) -> [UInt8] {
        let metadata = #""__metadata__": {"nntrain.format": "nntrain-checkpoint", "nntrain.format_version": "1"}"#
        return SafeTensorsTests.file(header: "{\(metadata)\(json.isEmpty ? "" : ", ")\(json)}", data: data)
    }

    static func setMetadata(_ key: String, _ value: String) -> [UInt8] {
        checkpoint { $0.metadata[key] = value }
    }

    static let checkpointCases: [Case] = {
        let total = checkpointBytes.count, dataLength = total - 8 - headerLength
        var cases = [
            Case("checkpoint: empty file", .checkpoint, [],
                 .exactly("{dir}/last.bin: 0 bytes; a safetensors file starts with an 8-byte header length")),
            Case("checkpoint: a header length of 2^60", .checkpoint,
                 [0, 0, 0, 0, 0, 0, 0, 0x10] + Array(checkpointBytes.dropFirst(8)),
                 .exactly("{dir}/last.bin: bytes 0-7: header length 1152921504606846976 "
                     + "runs past the end of the \(total)-byte file; expected at most \(total - 8)")),
            Case("checkpoint: a header that is not JSON", .checkpoint, SafeTensorsTests.file(header: "{\"a\": ", data: []),
                 .exactly("{dir}/last.bin: bytes 8-13: the header is not a JSON object; expected safetensors' JSON header")),
            Case("checkpoint: an unknown dtype", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}"#, data: [0, 0, 0, 0]),
                 .exactly("{dir}/last.bin: tensor 'w': dtype 'BF16' is not one of: F32, F64, I32, I64, U64, U8")),
            Case("checkpoint: a shape that disagrees with its byte count", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}"#,
                             data: [UInt8](repeating: 0, count: 20)),
                 .exactly("{dir}/last.bin: tensor 'w': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20")),
            Case("checkpoint: a fractional dimension", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "U8", "shape": [2.5], "data_offsets": [0, 2]}"#, data: [0, 0]),
                 .exactly("{dir}/last.bin: tensor 'w': shape is missing or not a list of integers >= 0")),
            Case("checkpoint: true as a dimension", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "U8", "shape": [true], "data_offsets": [0, 1]}"#, data: [0]),
                 .exactly("{dir}/last.bin: tensor 'w': shape is missing or not a list of integers >= 0")),
            Case("checkpoint: a dimension of 2^64 - 1", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "U8", "shape": [18446744073709551615], "data_offsets": [0, 1]}"#,
                             data: [0]),
                 .exactly("{dir}/last.bin: tensor 'w': shape is missing or not a list of integers >= 0")),
            Case("checkpoint: a shape whose product overflows", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}"#,
                             data: [UInt8](repeating: 0, count: 8)),
                 .exactly("{dir}/last.bin: tensor 'w': shape [4294967296, 4294967296] is too large")),
            Case("checkpoint: a 100 GB tensor", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "F32", "shape": [25000000000], "data_offsets": [0, 100000000000]}"#,
                             data: [0, 0, 0, 0]),
                 .exactly("{dir}/last.bin: tensor 'w': data_offsets end at 100000000000, past the 4 bytes of data "
                     + "(the file is truncated or the header is wrong)")),
            Case("checkpoint: negative offsets", .checkpoint,
                 safetensors(tensors: #""w": {"dtype": "U8", "shape": [1], "data_offsets": [-1, 0]}"#, data: [0]),
                 .exactly("{dir}/last.bin: tensor 'w': data_offsets is not [begin, end] with 0 <= begin <= end")),
            Case("checkpoint: overlapping offsets", .checkpoint,
                 safetensors(tensors: #""a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "#
                                 + #""b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}"#,
                             data: [UInt8](repeating: 0, count: 6)),
                 .exactly("{dir}/last.bin: tensor 'b': data_offsets start at 2; expected 4 (it overlaps the tensor before it)")),
            Case("checkpoint: a gap between tensors", .checkpoint,
                 safetensors(tensors: #""a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "#
                                 + #""b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}"#,
                             data: [UInt8](repeating: 0, count: 6)),
                 .exactly("{dir}/last.bin: tensor 'b': data_offsets start at 4; expected 2 (a gap before it)")),
            Case("checkpoint: a wrong checksum", .checkpoint,
                 { var bytes = checkpointBytes; bytes[total - 1] ^= 0x40; return bytes }(),
                 .containing("{dir}/last.bin: checksum mismatch: the data's CRC-32 is ")),
            Case("checkpoint: another format", .checkpoint, SafeTensorsTests.sample.encoded(),
                 .exactly("{dir}/last.bin is not an nntrain checkpoint (it is a safetensors file without nntrain's metadata: no "
                     + "nntrain.format: nntrain-checkpoint); expected a checkpoint written by nntrain run, "
                     + "like runs/NAME/checkpoints/last.bin")),
            Case("checkpoint: a later format version", .checkpoint,
                 { () -> [UInt8] in
                     // Encoded with the checksum, then the version changed: the data and its CRC stay right.
                     var file = (try? SafeTensors.decode(checkpointBytes, path: "")) ?? SafeTensors()
                     file.metadata["nntrain.format_version"] = "2"
                     return file.encoded()
                 }(),
                 .exactly("{dir}/last.bin: checkpoint format version 2 is not one this nntrain \(NNTrainVersion.string) reads; "
                     + "expected version 1")),
            Case("checkpoint: a tensor missing", .checkpoint, checkpoint { $0.tensors.removeAll { $0.name == "rng.shuffle" } },
                 .exactly("{dir}/last.bin: tensor 'rng.shuffle' is missing")),
            Case("checkpoint: a tensor of another dtype", .checkpoint,
                 checkpoint { file in
                     if let index = file.tensors.firstIndex(where: { $0.name == "data.order" }) {
                         file.tensors[index].tensor = SafeTensors.Tensor([Float](repeating: 0, count: 48))
                     }
                 },
                 .exactly("{dir}/last.bin: tensor 'data.order' is F32; expected I32")),
            Case("checkpoint: running statistics of the wrong width", .checkpoint,
                 checkpoint { file in
                     if let index = file.tensors.firstIndex(where: { $0.name == "norms.0.running_var" }) {
                         file.tensors[index].tensor = SafeTensors.Tensor([Float](repeating: 1, count: 5))
                     }
                 },
                 .exactly("{dir}/last.bin: tensor 'norms.0.running_var' holds 5 values; expected 24")),
            Case("checkpoint: a batch norm that is not among the parameters", .checkpoint,
                 setMetadata("nntrain.batch_norms", #"["norms.0","x"]"#),
                 .exactly("{dir}/last.bin: metadata nntrain.batch_norms names 'x' but nntrain.parameters has no 'x.weight'; "
                     + "expected the batch norms of the model's parameters")),
            Case("checkpoint: metadata that is not JSON", .checkpoint, setMetadata("nntrain.parameters", "[\"layers.0.weight\""),
                 .containing("{dir}/last.bin: metadata nntrain.parameters is not valid (")),
            Case("checkpoint: a step count near Int.max", .checkpoint,
                 setMetadata("nntrain.state", stateJSON.replacing("\"stepCount\":0", with: "\"stepCount\":9223372036854775807")),
                 .exactly("{dir}/last.bin: metadata nntrain.state holds the count 9223372036854775807; "
                     + "expected counts from -2^53 to 2^53")),
            Case("checkpoint: a negative step count", .checkpoint,
                 setMetadata("nntrain.state", stateJSON.replacing("\"stepCount\":0", with: "\"stepCount\":-1")),
                 .exactly("{dir}/last.bin: metadata nntrain.state: step -1, epoch 1, batch 0; expected counts >= 0")),
            Case("checkpoint: an optimizer step count of NaN", .checkpoint,
                 setMetadata("nntrain.state",
                             stateJSON.replacing("\"optimizerCounters\":{", with: "\"optimizerCounters\":{\"step\":\"nan\",")),
                 .exactly("{dir}/last.bin: metadata nntrain.state: optimizer counter step is nan; expected a finite count")),
            Case("checkpoint: an unknown reason", .checkpoint, setMetadata("nntrain.reason", "crash"),
                 .exactly("{dir}/last.bin: metadata nntrain.reason is 'crash'; expected epoch, interrupted or final")),
            Case("checkpoint: a folder", .checkpoint, files: ["last.bin/x": []],
                 .exactly("{dir}/last.bin is a folder; expected an nntrain checkpoint (.bin)"), .missingFile),
        ]
        // Cut at each section boundary: inside the length, after it, inside the header, after the
        // header, inside the data, one byte short.
        let cuts: [(Int, String)] = [
            (4, "4 bytes; a safetensors file starts with an 8-byte header length"),
            (8, "bytes 0-7: header length \(headerLength) runs past the end of the 8-byte file; expected at most 0"),
            (8 + headerLength / 2,
             "bytes 0-7: header length \(headerLength) runs past the end of the \(8 + headerLength / 2)-byte file; "
                + "expected at most \(headerLength / 2)"),
            (8 + headerLength, "past the 0 bytes of data (the file is truncated or the header is wrong)"),
            (8 + headerLength + dataLength / 2,
             "past the \(dataLength / 2) bytes of data (the file is truncated or the header is wrong)"),
            (total - 1, "past the \(dataLength - 1) bytes of data (the file is truncated or the header is wrong)"),
        ]
        for (kept, message) in cuts {
            cases.append(Case("checkpoint: cut after \(kept) of \(total) bytes", .checkpoint, Array(checkpointBytes.prefix(kept)),
                              kept <= 8 + headerLength / 2 ? .exactly("{dir}/last.bin: \(message)") : .containing(message)))
        }
        return cases
    }()

    /// The checkpoint's `nntrain.state` JSON.
    static var stateJSON: String { contents.metadata["nntrain.state"] ?? "" }

    // MARK: Predict

    /// An untrained checkpoint of `PredictionTests.table` (size, colour, weight; three classes).
    static let tableModel: [UInt8] = {
        guard let data = try? PredictionTests.tableData() else { return [] }
        var config = Configuration()
        config.model.hidden = [3]
        let trainer = Trainer(configuration: config, data: data)
        return (try? Checkpoint(trainer: trainer, bestRecord: nil, reason: .epoch).contents()).map(CheckpointFile.encode) ?? []
    }()

    /// An untrained checkpoint of a model of 4×4 images in two classes.
    static let imageModel: [UInt8] = {
        let images = Dataset(name: "tiny", features: .bytes(fixtureBytes(4 * 16)), featureCount: 16,
                             targets: .classes([0, 1, 0, 1]), classNames: ["no", "yes"])
        let data = TrainingData(train: images, validation: images.subset([]), test: images,
                                normalizer: Normalizer(fitting: images, mode: .scale), schema: .images(rows: 4, columns: 4))
        let trainer = Trainer(configuration: Configuration(), data: data)
        return (try? Checkpoint(trainer: trainer, bestRecord: nil, reason: .epoch).contents()).map(CheckpointFile.encode) ?? []
    }()

    static func predictTable(_ input: [UInt8]?, model: [UInt8] = tableModel) -> [String: [UInt8]] {
        var files = ["model.bin": model]
        if let input { files["in.csv"] = input }
        return files
    }

    static let predictCases: [Case] = [
        Case("predict: a feature column missing", .predictTable, files: predictTable(csv("size,colour\n1,red\n")),
             .exactly("{dir}/in.csv:1: missing column 'weight'; expected columns: size, colour, weight")),
        Case("predict: a word in a numeric column", .predictTable,
             files: predictTable(csv("colour,weight,size\nred,1,2\nblue,x,3\n")),
             .exactly("{dir}/in.csv:3: column 'weight': 'x' is not a number; \(notANumber)")),
        Case("predict: a missing value the model has no fill for", .predictTable,
             files: predictTable(csv("size,colour,weight\n1,red,NA\n")),
             .exactly("{dir}/in.csv:2: column 'weight': the value is missing ('NA'); expected a value (the model was "
                 + "trained with data.missing: refuse or drop_rows, so it has no fill for this column)")),
        Case("predict: an empty input", .predictTable, files: predictTable([]),
             .exactly("{dir}/in.csv: empty file; expected a header row naming the columns")),
        Case("predict: a header alone", .predictTable, files: predictTable(csv("size,colour,weight\n")),
             .exactly("{dir}/in.csv: no data rows after the header; expected at least one")),
        Case("predict: a ragged row", .predictTable, files: predictTable(csv("size,colour,weight\n1,red,2\n1,red\n")),
             .exactly("{dir}/in.csv:3: 2 fields; expected 3 as in the header")),
        Case("predict: a quote never closed", .predictTable, files: predictTable(csv("size,colour,weight\n1,\"red,2\n")),
             .exactly("{dir}/in.csv:2: field 2: the quoted field that starts on this line is never closed; "
                 + "expected a closing \" (a quote inside a quoted field is written \"\")")),
        Case("predict: no input file", .predictTable, files: predictTable(nil),
             .exactly("{dir}/in.csv: no such file or folder (expected a CSV file with the model's feature columns)"),
             .missingFile),
        Case("predict: a checkpoint that is not one", .predictTable,
             files: predictTable(csv("size,colour,weight\n1,red,2\n"), model: csv("size,colour,weight\n1,red,2\n")),
             .containing("{dir}/model.bin is not an nntrain checkpoint (it starts with text, not a safetensors header)")),
        Case("predict: images of another size", .predictImages,
             files: ["model.bin": imageModel, "in.gz": gz(idxFile(dimensions: [2, 5, 4], data: fixtureBytes(40)))],
             .exactly("{dir}/in.gz: images of 5×4 pixels; the model takes images of 4×4")),
        Case("predict: no images", .predictImages,
             files: ["model.bin": imageModel, "in.gz": gz(idxFile(dimensions: [0, 4, 4], data: []))],
             .exactly("{dir}/in.gz: no images; expected at least one")),
        Case("predict: a CSV for a model of images", .predictImages,
             files: ["model.bin": imageModel, "in.gz": csv("a,b\n1,2\n")],
             .exactly("{dir}/in.gz: not a gzip file (first bytes 0x61 0x2c); expected a .gz file starting 1f 8b")),
    ]

    // MARK: What is accepted

    /// The tolerances: a config and a CSV with a byte-order mark and CRLF line ends, quoted fields
    /// spanning lines, and a checkpoint exactly as written.
    @Test func wellFormedInputsWithTheTolerancesAreRead() throws {
        let folder = try TemporaryFolder()
        let config = try folder.write([0xEF, 0xBB, 0xBF] + Array("optimizer:\r\n  lr: 0.5\r\n".utf8), to: "c.yaml")
        #expect(try Configuration.load(path: config).optimizer.lr == 0.5)
        let table = try folder.write([0xEF, 0xBB, 0xBF] + Array("b,\"a\"\r\n\"2\",\"one\r\nand \"\"two\"\"\"\r\n".utf8),
                                     to: "t.csv")
        #expect {
            try CSVReader.read(path: table, requiredColumns: ["b", "a"])
        } throws: { error in
            // The quoted a spans two lines: the record starts on line 2, where the error is named.
            (error as? NNTrainError)?.message == "\(table):2: column 'a': 'one\\nand \"two\"' is not a number; "
                + "expected a decimal number like -1.5 or 2e-3"
        }
        let numbers = try folder.write([0xEF, 0xBB, 0xBF] + Array("b,\"a\"\r\n\"2\",\"-1.5e1\"\r\n".utf8), to: "n.csv")
        #expect(try CSVReader.read(path: numbers, requiredColumns: ["a", "b"])
            == NumericCSV(columns: ["a", "b"], rows: 1, values: [-15, 2]))
        let bin = try folder.write(Self.checkpointBytes, to: "last.bin")
        #expect(try Checkpoint.read(path: bin) == Self.checkpoint)
    }

    /// A sparse file of 16 GiB named as a checkpoint is refused from its size, before it is read.
    @Test func aCheckpointFileBeyond8GiBIsRefusedUnread() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("huge.bin")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(16) << 30) == 0)
        #expect(
            throws: NNTrainError.data(path, "the file is 17179869184 bytes; expected at most 8589934592 "
                + "(a checkpoint of the largest model nntrain trains)")
        ) {
            _ = try Checkpoint.read(path: path)
        }
    }

    /// safetensors' own bound on the header's length, with a smaller bound so no test allocates 100 MB.
    @Test func headerLengthIsBoundedBySafetensorsLimit() {
        #expect(SafeTensors.maxHeaderLength == 100_000_000)
        #expect(throws: NNTrainError.data("x.bin", "bytes 0-7: header length 2 is over safetensors' limit; expected at most 1")) {
            _ = try SafeTensors.decode(SafeTensorsTests.file(header: "{}", data: []), path: "x.bin", maxHeaderLength: 1)
        }
    }
}
