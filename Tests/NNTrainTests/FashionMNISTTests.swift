import Foundation
import Testing

@testable import NNTrain

@Suite struct FashionMNISTTests {
    /// Fixture files of one test; a suite instance lives exactly as long as its test.
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    /// Writes the four files to `folder`: `trainCount` and `testCount` images of 28×28 with labels;
    /// returns the pixels written.
    @discardableResult
    private func fixture(
        trainCount: Int = 5, testCount: Int = 3, trainLabels: [UInt8]? = nil, testImages: [UInt8]? = nil
    ) throws -> (trainPixels: [UInt8], testPixels: [UInt8]) {
        let trainPixels = fixtureBytes(trainCount * 784, seed: 3)
        let testPixels = fixtureBytes(testCount * 784, seed: 4)
        let labels = trainLabels ?? (0..<trainCount).map { UInt8($0 % 10) }
        try folder.writeGzipped(idxFile(dimensions: [trainCount, 28, 28], data: trainPixels), to: "train-images-idx3-ubyte.gz")
        try folder.writeGzipped(idxFile(dimensions: [labels.count], data: labels), to: "train-labels-idx1-ubyte.gz")
        try folder.writeGzipped(
            testImages ?? idxFile(dimensions: [testCount, 28, 28], data: testPixels), to: "t10k-images-idx3-ubyte.gz")
        try folder.writeGzipped(
            idxFile(dimensions: [testCount], data: (0..<testCount).map { UInt8(9 - $0) }), to: "t10k-labels-idx1-ubyte.gz")
        return (trainPixels, testPixels)
    }

    @Test func loadsBothSplitsToTheExactBytesAndLabels() throws {
        let (trainPixels, testPixels) = try fixture()
        let (train, test) = try FashionMNIST.load(folder: folder.path)
        guard case .bytes(let trainFeatures) = train.features, case .classes(let trainLabels) = train.targets,
            case .bytes(let testFeatures) = test.features, case .classes(let testLabels) = test.targets
        else {
            Issue.record("Fashion-MNIST must load as bytes with class targets")
            return
        }
        #expect(trainFeatures == trainPixels)
        #expect(trainLabels == [0, 1, 2, 3, 4])
        #expect(testFeatures == testPixels)
        #expect(testLabels == [9, 8, 7])
        #expect(train.name == "fashion-mnist train" && test.name == "fashion-mnist test")
        #expect(train.featureCount == 784 && train.featureNames.isEmpty && train.targetName == nil)
        #expect(train.classNames == [
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ])
    }

    @Test func missingFolder() throws {
        let path = folder.file("nowhere")
        #expect(
            throws: NNTrainError(
                .missingFile,
                "\(path): no such file or folder (expected a folder holding train-images-idx3-ubyte.gz, "
                    + "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; "
                    + "data-scripts/fetch-fashion-mnist.sh \(path) downloads them)")
        ) {
            try FashionMNIST.load(folder: path)
        }
    }

    @Test func missingFile() throws {
        try fixture()
        try FileManager.default.removeItem(atPath: folder.file("t10k-labels-idx1-ubyte.gz"))
        #expect(
            throws: NNTrainError(
                .missingFile,
                "\(folder.path) lacks t10k-labels-idx1-ubyte.gz; expected a folder holding train-images-idx3-ubyte.gz, "
                    + "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
                    + "(data-scripts/fetch-fashion-mnist.sh \(folder.path) fetches the missing ones)")
        ) {
            try FashionMNIST.load(folder: folder.path)
        }
    }

    @Test func imagesOfTheWrongSize() throws {
        try fixture(testImages: idxFile(dimensions: [3, 32, 32], data: fixtureBytes(3 * 32 * 32)))
        #expect(
            throws: NNTrainError.data(folder.file("t10k-images-idx3-ubyte.gz"), "images are 3×32×32 pixels; expected N×28×28")
        ) {
            try FashionMNIST.load(folder: folder.path)
        }
    }

    @Test func imageAndLabelCountsDiffer() throws {
        try fixture(trainLabels: [0, 1, 2, 3])
        #expect(throws: NNTrainError.data(folder.path, "train-images has 5 images but train-labels has 4 labels")) {
            try FashionMNIST.load(folder: folder.path)
        }
    }

    @Test func labelOutOfRange() throws {
        try fixture(trainLabels: [0, 1, 9, 12, 3])
        #expect(
            throws: NNTrainError.data(
                folder.file("train-labels-idx1-ubyte.gz"), "byte 11: label 12 of item 3 is out of range; expected 0...9")
        ) {
            try FashionMNIST.load(folder: folder.path)
        }
    }

    @Test func aFileErrorIsReportedAsItIs() throws {
        try fixture()
        let path = try folder.write(Array("not gzip".utf8), to: "train-labels-idx1-ubyte.gz")
        #expect(
            throws: NNTrainError.data(path, "not a gzip file (first bytes 0x6e 0x6f); expected a .gz file starting 1f 8b")
        ) {
            try FashionMNIST.load(folder: folder.path)
        }
    }
}
