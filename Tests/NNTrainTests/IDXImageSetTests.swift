import Foundation
import Testing
@testable import NNTrain

/// `data.dataset: idx` and the MNIST-format presets on tiny generated sets: images of any size,
/// any number of classes, raw or gzipped files under standard or given names, class names, the
/// checks on sizes, counts and labels, augmentation, checkpoints, exact resume and eval.
@Suite struct IDXImageSetTests {
    /// Fixture files of one test; a suite instance lives exactly as long as its test.
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    /// `labels.count` images of `rows` × `columns` pixels whose class shows in the brightness of its
    /// own band of pixels (noise elsewhere), so that a small model learns it.
    static func images(_ labels: [Int], rows: Int, columns: Int, classes: Int, seed: UInt64 = 5) -> [UInt8] {
        var random = RandomGenerator(seed: seed)
        let size = rows * columns
        return labels.flatMap { label in
            (0..<size).map { pixel in
                pixel * classes / size == label ? UInt8(150 + random.next(upperBound: UInt64(100)))
                    : UInt8(random.next(upperBound: UInt64(120)))
            }
        }
    }

    /// Writes an IDX set of `rows` × `columns` images with `trainLabels` and `testLabels` (unsigned
    /// bytes) into `folder` (a subfolder of the test's, created): the training files gzipped under
    /// the standard names, the test files raw under their standard names without .gz.
    @discardableResult
    func writeSet(_ subfolder: String = "set", trainLabels: [Int], testLabels: [Int], rows: Int = 5, columns: Int = 7,
                  classes: Int = 3) throws -> String {
        let path = folder.file(subfolder)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let train = Self.images(trainLabels, rows: rows, columns: columns, classes: classes)
        let test = Self.images(testLabels, rows: rows, columns: columns, classes: classes, seed: 6)
        try folder.writeGzipped(idxFile(dimensions: [trainLabels.count, rows, columns], data: train),
                                to: "\(subfolder)/train-images-idx3-ubyte.gz")
        try folder.writeGzipped(idxFile(dimensions: [trainLabels.count], data: trainLabels.map(UInt8.init)),
                                to: "\(subfolder)/train-labels-idx1-ubyte.gz")
        try folder.write(idxFile(dimensions: [testLabels.count, rows, columns], data: test),
                         to: "\(subfolder)/t10k-images-idx3-ubyte")
        try folder.write(idxFile(dimensions: [testLabels.count], data: testLabels.map(UInt8.init)),
                         to: "\(subfolder)/t10k-labels-idx1-ubyte")
        return path
    }

    /// A config file `c.yaml` with `text`, loaded, and its data read.
    func load(_ text: String) throws -> (Configuration, TrainingData) {
        let path = try folder.write(text, to: "c.yaml")
        var configuration = try Configuration.load(path: path)
        let data = try TrainingData.load(for: &configuration, file: path)
        return (configuration, data)
    }

    /// The big-endian bytes of `values` as 16- or 32-bit integers.
    static func bigEndian(_ values: [Int32], bytes: Int) -> [UInt8] {
        values.flatMap { value in (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }

    // MARK: Reading

    @Test func imagesOfAnySizeInAnyNumberOfClassesRawOrGzipped() throws {
        // The largest label (2) is in the test split only: K counts both splits.
        let path = try writeSet(trainLabels: [0, 1, 1, 0], testLabels: [2, 0])
        let loaded = try IDXImageSet.any.load(folder: path)
        #expect(loaded.imageSize == IDXImageSet.ImageSize(rows: 5, columns: 7))
        guard case .bytes(let trainPixels) = loaded.train.features, case .classes(let trainLabels) = loaded.train.targets,
              case .bytes(let testPixels) = loaded.test.features, case .classes(let testLabels) = loaded.test.targets else {
            Issue.record("an IDX set loads as bytes with class targets")
            return
        }
        #expect(trainPixels == Self.images([0, 1, 1, 0], rows: 5, columns: 7, classes: 3))
        #expect(testPixels == Self.images([2, 0], rows: 5, columns: 7, classes: 3, seed: 6))
        #expect(trainLabels == [0, 1, 1, 0] && testLabels == [2, 0])
        #expect(loaded.train.featureCount == 35 && loaded.train.classNames == ["0", "1", "2"])
        #expect(loaded.test.classNames == ["0", "1", "2"])
        #expect(loaded.train.name == "idx train" && loaded.test.name == "idx test")
    }

    /// A gzipped file is known by its first bytes, not its name: raw bytes named .gz and gzip
    /// bytes named without it both read.
    /// With data.folds, an IDX set's validation split is fold data.fold of its training images
    /// (`Dataset.folds` drawn with the seed, stratified), the rest its training split, its test images
    /// the test split; more folds than training images are refused at data.folds' line.
    @Test func aFoldOfTheTrainingImagesIsTheValidationSplit() throws {
        let labels = (0..<12).map { $0 % 3 }
        let path = try writeSet(trainLabels: labels, testLabels: [2, 0])
        let all = try IDXImageSet.any.load(folder: path).train
        let assigned = Dataset.folds(count: 12, labels: labels.map(Int32.init), classCount: 3, folds: 3, seed: 5)
        let (_, data) = try load("seed: 5\ndata: {dataset: idx, path: \(path), folds: 3, fold: 2}\n")
        guard case .bytes(let pixels) = all.features, case .bytes(let validation) = data.validation.features,
              case .bytes(let train) = data.train.features else {
            Issue.record("an IDX set loads as bytes")
            return
        }
        func rows(_ indices: [Int]) -> [UInt8] { indices.flatMap { pixels[($0 * 35)..<($0 * 35 + 35)] } }
        #expect(validation == rows((0..<12).filter { assigned[$0] == 2 }) && data.validation.count == 4)
        #expect(train == rows((0..<12).filter { assigned[$0] != 2 }) && data.test.count == 2)
        let refusal = #expect(throws: NNTrainError.self) {
            try load("data:\n  dataset: idx\n  path: \(path)\n  folds: 13\n  fold: 1\n")
        }
        #expect(refusal?.message == "\(folder.file("c.yaml")):4: data.folds: 13 folds of the 12 training rows of \(path) "
            + "leave a fold empty; expected at most 12 folds")
    }

    @Test func gzipIsDetectedByItsMagicBytesNotTheName() throws {
        let bytes = idxFile(dimensions: [2, 3, 2], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let expected = IDXArray(dimensions: [2, 3, 2], bytes: Array(1...12))
        let rawNamedGz = try folder.write(bytes, to: "raw.gz")
        let gzipNamedRaw = try folder.writeGzipped(bytes, to: "packed")
        #expect(try IDXReader.read(path: rawNamedGz, expectedDimensions: 3) == expected)
        #expect(try IDXReader.read(path: gzipNamedRaw, expectedDimensions: 3) == expected)
    }

    /// Labels of 16 and 32 bits are big-endian two's complement (the IDX format's short and int).
    @Test func wideLabelsAreBigEndianSignedIntegers() throws {
        let shorts = try folder.write(idxFile(dimensions: [3], data: [0x01, 0x2B, 0xFF, 0xFE, 0x7F, 0xFF], magic: 0x0B01),
                                      to: "shorts")
        let ints = try folder.writeGzipped(idxFile(dimensions: [2], data: [0x00, 0x01, 0x00, 0x02, 0x80, 0, 0, 0],
                                                   magic: 0x0C01), to: "ints.gz")
        let read16 = try IDXReader.read(path: shorts, expectedDimensions: 1, elementTypes: IDXElementType.allCases)
        let read32 = try IDXReader.read(path: ints, expectedDimensions: 1, elementTypes: IDXElementType.allCases)
        #expect(read16.elementType == .int16 && read16.integers == [299, -2, 32767])
        #expect(read32.elementType == .int32 && read32.integers == [65538, Int32.min])
    }

    /// More than 256 classes: 16-bit training labels and 32-bit test labels; K = 300 from the
    /// largest label, 299.
    @Test func moreThan256ClassesWithSixteenAndThirtyTwoBitLabels() throws {
        try folder.writeGzipped(idxFile(dimensions: [3, 2, 3], data: fixtureBytes(18)), to: "train-images-idx3-ubyte.gz")
        try folder.writeGzipped(idxFile(dimensions: [3], data: Self.bigEndian([0, 299, 7], bytes: 2), magic: 0x0B01),
                                to: "train-labels-idx1-ubyte.gz")
        try folder.write(idxFile(dimensions: [2, 2, 3], data: fixtureBytes(12, seed: 2)), to: "t10k-images-idx3-ubyte")
        try folder.write(idxFile(dimensions: [2], data: Self.bigEndian([298, 256], bytes: 4), magic: 0x0C01),
                         to: "t10k-labels-idx1-ubyte")
        let loaded = try IDXImageSet.any.load(folder: folder.path)
        guard case .classes(let train) = loaded.train.targets, case .classes(let test) = loaded.test.targets else {
            Issue.record("class targets expected")
            return
        }
        #expect(train == [0, 299, 7] && test == [298, 256])
        #expect(loaded.train.classNames == (0..<300).map(String.init))
        #expect(loaded.imageSize == IDXImageSet.ImageSize(rows: 2, columns: 3))
    }

    @Test func classNamesNameTheLabelsAndBoundThem() throws {
        let path = try writeSet(trainLabels: [0, 2, 1], testLabels: [1])
        // Four names for labels up to 2: the fourth class simply has no examples.
        let named = try IDXImageSet.any.load(folder: path, classNames: ["cat", "dog", "bird", "fish"])
        #expect(named.train.classNames == ["cat", "dog", "bird", "fish"])
        #expect {
            _ = try IDXImageSet.any.load(folder: path, classNames: ["cat", "dog"])
        } throws: { error in
            (error as? NNTrainError) == .data(path + "/train-labels-idx1-ubyte.gz",
                                               "byte 9: label 2 of item 1 is out of range; expected 0...1")
        }
    }

    @Test func thePresetsFixTheImageSizeAndTheClassNames() throws {
        let small = try writeSet(trainLabels: [0, 1], testLabels: [1])
        #expect(throws: NNTrainError.data(small + "/train-images-idx3-ubyte.gz",
                                          "images are 2×5×7 pixels; expected N×28×28")) {
            try IDXImageSet.mnist.load(folder: small)
        }
        let digits = try writeSet("digits", trainLabels: [3, 9, 0], testLabels: [7], rows: 28, columns: 28, classes: 10)
        let mnist = try IDXImageSet.mnist.load(folder: digits)
        #expect(mnist.train.classNames == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
        #expect(mnist.train.name == "mnist train" && mnist.imageSize == IDXImageSet.ImageSize(rows: 28, columns: 28))
        #expect(try IDXImageSet.fashionMNIST.load(folder: digits).train.classNames == FashionMNIST.classNames)
        // The preset's missing files are named with the raw alternative, no download is offered,
        // and the subfolder holding them (raw or gzipped) is named.
        #expect(throws: NNTrainError(.missingFile, "\(folder.path) holds none of the four MNIST files; expected a folder "
            + "holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            + "t10k-labels-idx1-ubyte.gz (or the same names without .gz, raw) (\(digits) holds them)")) {
            try IDXImageSet.mnist.load(folder: folder.path)
        }
    }

    // MARK: One images file a batch at a time

    /// 7 images of 3×4 read 3 at a time, gzipped and raw, from the file and as standard input is
    /// read (a descriptor of unknown size under another name, gzip told by its first bytes): the
    /// batches are the file's images in order; images of another size than expected are refused
    /// naming both.
    @Test func theImageStreamReadsBatchesOfRawAndGzippedFiles() throws {
        let pixels = fixtureBytes(7 * 12)
        let file = idxFile(dimensions: [7, 3, 4], data: pixels)
        for path in [try folder.writeGzipped(file, to: "images.gz"), try folder.write(file, to: "images")] {
            for asStandardInput in [false, true] {
                let descriptor = asStandardInput ? open(path, O_RDONLY) : -1
                defer { if descriptor >= 0 { close(descriptor) } }
                let name = asStandardInput ? "standard input" : path
                func openStream(_ expectedSize: IDXImageSet.ImageSize? = nil) throws(NNTrainError) -> IDXImageStream {
                    try asStandardInput ? IDXImageStream(stream: descriptor, named: name, expectedSize: expectedSize)
                        : IDXImageStream(path: path, expectedSize: expectedSize)
                }
                let stream = try openStream()
                #expect(stream.count == 7 && stream.imageSize == IDXImageSet.ImageSize(rows: 3, columns: 4))
                #expect(stream.path == name)
                #expect(try stream.next(maxImages: 3) == Array(pixels[0..<36]))
                #expect(try stream.next(maxImages: 3) == Array(pixels[36..<72]))
                #expect(try stream.next(maxImages: 3) == Array(pixels[72..<84]))
                #expect(try stream.next(maxImages: 3) == [] && stream.imagesRead == 7)
                if asStandardInput { lseek(descriptor, 0, SEEK_SET) }
                #expect(throws: NNTrainError.data(name, "images are 7×3×4 pixels; expected N×4×3")) {
                    try openStream(IDXImageSet.ImageSize(rows: 4, columns: 3))
                }
            }
        }
        // A gzipped header claiming 2^31 images of 1000×1000 pixels costs only the bytes it holds.
        let claim = try folder.writeGzipped(idxFile(dimensions: [1 << 31, 1000, 1000], data: fixtureBytes(10)), to: "claim.gz")
        let stream = try IDXImageStream(path: claim)
        #expect(throws: NNTrainError.data(claim, "truncated IDX data: dimensions 2147483648×1000×1000 need "
            + "2147483648000000 bytes after the 16-byte header, but the file has 10")) {
            try stream.next(maxImages: 1024)
        }
    }

    // MARK: The config

    @Test func aConfigNamesTheFilesAndTheClasses() throws {
        try writeSet("originals", trainLabels: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], testLabels: [2, 1])
        let set = folder.file("renamed")
        try FileManager.default.createDirectory(atPath: set + "/test", withIntermediateDirectories: true)
        for (from, to) in [("train-images-idx3-ubyte.gz", "images.gz"), ("train-labels-idx1-ubyte.gz", "labels"),
                           ("t10k-images-idx3-ubyte", "test/images.idx"), ("t10k-labels-idx1-ubyte", "test/labels.idx")] {
            try FileManager.default.moveItem(atPath: folder.file("originals/" + from), toPath: set + "/" + to)
        }
        let (configuration, data) = try load("""
            data:
              dataset: idx
              path: \(set)
              validation_split: 0.2
              class_names: [circle, square, star]
              files:
                train_images: images.gz
                train_labels: labels
                test_images: test/images.idx
                test_labels: \(set)/test/labels.idx
            """)
        #expect(data.schema == .images(rows: 5, columns: 7))
        #expect(data.train.count == 8 && data.validation.count == 2 && data.test.count == 2)
        #expect(data.train.classNames == ["circle", "square", "star"] && data.outputWidth == 3)
        #expect(configuration.loss == .crossEntropy)
        // The resolved config names the files, so that it reads back as the same config.
        let yaml = configuration.resolvedYAML()
        #expect(yaml.contains("train_images: \"images.gz\"") && yaml.contains("test_labels: \"\(set)/test/labels.idx\""))
        // A missing given file is named as given (an absolute path as it is).
        try FileManager.default.removeItem(atPath: set + "/test/images.idx")
        #expect(throws: NNTrainError(.missingFile, "\(set) lacks test/images.idx; expected a folder holding images.gz, "
            + "labels, test/images.idx, \(set)/test/labels.idx")) {
            try IDXImageSet.any.load(folder: set, files: configuration.data.files)
        }
    }

    @Test func theConfigRefusesWhatDoesNotFitAnIDXSet() throws {
        let path = folder.file("c.yaml")
        func refusal(_ text: String) throws -> String {
            try folder.write(text, to: "c.yaml")
            do {
                _ = try Configuration.load(path: path)
                return "accepted"
            } catch {
                #expect(error.kind == .config)
                return error.message
            }
        }
        #expect(try refusal("seed: 1\ndata: {dataset: idx}\n")
            == "\(path):2: data.path is required for data.dataset idx; expected e.g. data.path: data/my-set")
        #expect(try refusal("data:\n  dataset: mnist\n  class_names: [a, b, c]\n")
            == "\(path):3: data.class_names: 3 names for the 10 classes of mnist; expected 10 names, or none for its own")
        let manyNames = (0...1000).map { "c\($0)" }.joined(separator: ", ")
        #expect(try refusal("data:\n  dataset: idx\n  path: x\n  class_names: [\(manyNames)]\n")
            == "\(path):4: data.class_names: 1001 names; expected at most 1000 classes")
        #expect(try refusal("data:\n  dataset: mnist\n  files: {train_images: a}\n")
            == "\(path):3: data.files.train_images: applies only to idx, not mnist")
        // The presets' default folders.
        try folder.write("data: {dataset: mnist}\n", to: "c.yaml")
        #expect(try Configuration.load(path: path).data.path == "data/mnist")
    }

    // MARK: Training on it

    /// The 5×7 images with augmentation as the config builds it: each image is flipped, shifted
    /// and erased exactly as the documented draws say, checked against the definitions pixel by pixel.
    @Test func augmentationUsesTheImagesOwnSize() throws {
        var configuration = Configuration()
        configuration.data.augment.hflip = true
        configuration.data.augment.shift = 2
        configuration.data.augment.erasing = 0.5
        let (height, width, rows) = (5, 7, 200)
        let augmenter = try #require(configuration.makeAugmenter(
            schema: .images(rows: height, columns: width), normalizer: Normalizer(shift: [0], scale: [1]), batchCapacity: rows))
        #expect(augmenter.imageHeight == 5 && augmenter.imageWidth == 7 && augmenter.fill == 0)
        let pixels = (0..<(rows * height * width)).map { Float($0 % 251 + 1) }
        var batch = pixels
        var random = RandomGenerator(seed: 8)
        batch.withUnsafeMutableBufferPointer { buffer in
            _ = augmenter.apply(to: MatrixView(base: buffer.baseAddress!, rows: rows, columns: height * width), labels: nil,
                                random: &random)
        }
        var replay = RandomGenerator(seed: 8)
        var (flipped, erased, offsets) = (0, 0, Set<[Int]>())
        for row in 0..<rows {
            var image = Array(pixels[(row * 35)..<((row + 1) * 35)])
            if replay.nextUnitDouble() < 0.5 {  // out(y, x) = in(y, width - 1 - x)
                image = (0..<35).map { image[$0 / width * width + width - 1 - $0 % width] }
                flipped += 1
            }
            let dy = 2 - Int(replay.next(upperBound: UInt64(5))), dx = 2 - Int(replay.next(upperBound: UInt64(5)))
            offsets.insert([dy, dx])
            image = (0..<35).map { index in  // out(y, x) = in(y - dy, x - dx), 0 outside
                let (y, x) = (index / width - dy, index % width - dx)
                return (0..<height).contains(y) && (0..<width).contains(x) ? image[y * width + x] : 0
            }
            if replay.nextUnitDouble() < 0.5, let r = RandomErasing.rectangle(height: height, width: width, random: &replay) {
                #expect(r.top + r.height <= height && r.left + r.width <= width)
                for index in 0..<35 where (r.top..<(r.top + r.height)).contains(index / width)
                    && (r.left..<(r.left + r.width)).contains(index % width) {
                    image[index] = 0
                }
                erased += 1
            }
            #expect(Array(batch[(row * 35)..<((row + 1) * 35)]) == image, "image \(row)")
        }
        #expect(random == replay)
        #expect(flipped > 50 && erased > 20 && offsets.count == 25)
    }

    /// A run on the 5×7 set with augmentation, interrupted mid-epoch and at an epoch's end and
    /// resumed from checkpoint bytes, ends with the same tensors bit for bit; the checkpoint
    /// carries the image size and the classes.
    @Test func checkpointsCarryTheSetAndResumeExactly() throws {
        let labels = (0..<40).map { $0 % 3 }
        try writeSet(trainLabels: labels, testLabels: [0, 1, 2])
        let (configuration, data) = try load("""
            data:
              dataset: idx
              path: \(folder.file("set"))
              validation_split: 0.25
              augment: {hflip: true, shift: 1, erasing: 0.3}
            model: {hidden: [6], dropout: 0.1}
            training: {epochs: 3, batch_size: 8}
            """)
        try ResumeTests.expectSameRun(configuration, data, stops: [2, 4, 7])

        let trainer = Trainer(configuration: configuration, data: data)
        trainer.observers = [StopWhen { $0.stepCount == 2 }]
        try trainer.train()
        let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted).contents())
        let checkpoint = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
        #expect(checkpoint.inputSchema == .images(rows: 5, columns: 7))
        #expect(checkpoint.classNames == ["0", "1", "2"])
        #expect(try checkpoint.configuration(path: "last.bin").data.dataset == .idx)
        #expect(checkpoint.normalizer.shift.count == 35)
    }

    /// eval on a run of the 5×7 set: its figures against a forward pass of the linear model in
    /// Double; on another folder of the same size (whose labels do not reach the model's last
    /// class) with the checkpoint's classes; images of another size and labels beyond the model's
    /// classes refused with both sides named.
    @Test func evalUsesTheCheckpointsImageSizeAndClasses() throws {
        let trainLabels = (0..<60).map { $0 % 3 }, testLabels = (0..<15).map { ($0 * 7) % 3 }
        try writeSet(trainLabels: trainLabels, testLabels: testLabels)
        let config = try folder.write("""
            data: {dataset: idx, path: \(folder.file("set")), validation_split: 0}
            model: {hidden: []}
            optimizer: {lr: 0.01}
            training: {epochs: 4, batch_size: 10}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "c.yaml")
        let outcome = try TrainingRun.execute(configPath: config, overrides: [])
        let last = folder.file("run/checkpoints/last.bin")
        let evaluation = try CheckpointEvaluation.run(checkpointPath: last, split: .test)
        let report = try #require(evaluation.classification)
        #expect(evaluation.rows == 15 && evaluation.architecture == "35-3 linear")
        #expect(report.accuracy == outcome.summary?.test?.accuracy)

        // logits = W·(pixels / 255) + b, in Double, from the checkpoint's tensors.
        let file = try CheckpointFile.read(path: last)
        let weight = try #require(file["layers.0.weight"]).elements(as: Float.self).map(Double.init)
        let bias = try #require(file["layers.0.bias"]).elements(as: Float.self).map(Double.init)
        let pixels = Self.images(testLabels, rows: 5, columns: 7, classes: 3, seed: 6)
        var confusion = [[Int]](repeating: [0, 0, 0], count: 3)
        for (row, label) in testLabels.enumerated() {
            let logits = (0..<3).map { c in
                (0..<35).reduce(bias[c]) { $0 + weight[c * 35 + $1] * Double(pixels[row * 35 + $1]) / 255 }
            }
            confusion[label][logits.indices.max { logits[$0] < logits[$1] } ?? 0] += 1
        }
        #expect(report.confusionMatrix == confusion)
        #expect(report.accuracy > 0.6)  // the bands are learnable

        // Another folder of 5×7 images labelled 0 and 1 only: evaluated with the model's 3 classes.
        let other = try writeSet("other", trainLabels: [0, 1], testLabels: [1, 0, 1])
        let elsewhere = try CheckpointEvaluation.run(checkpointPath: last, dataPath: other, split: .test)
        #expect(elsewhere.rows == 3 && elsewhere.classification?.classes.map(\.name) == ["0", "1", "2"])

        let wider = try writeSet("wider", trainLabels: [0, 1], testLabels: [1], rows: 5, columns: 8)
        #expect(throws: NNTrainError.data(last, "the model takes images of 5×7 pixels but \(wider) holds images of 5×8; "
            + "expected images of the size the checkpoint was trained on")) {
            try CheckpointEvaluation.run(checkpointPath: last, dataPath: wider, split: .test)
        }
        let moreClasses = try writeSet("more", trainLabels: [0, 1], testLabels: [3])
        #expect(throws: NNTrainError.data(moreClasses + "/t10k-labels-idx1-ubyte",
                                          "byte 8: label 3 of item 0 is out of range; expected 0...2")) {
            try CheckpointEvaluation.run(checkpointPath: last, dataPath: moreClasses, split: .test)
        }
    }
}
