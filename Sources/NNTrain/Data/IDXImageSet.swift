import Dispatch
import Foundation
import Synchronization

/// The names of an IDX image set's four files in its folder (`data.files`), each a path relative to
/// the folder (or absolute); nil: the standard name, `train-images-idx3-ubyte` and so on, gzipped
/// (`.gz`) or raw.
public struct IDXFileNames: Equatable, Sendable {
    public var trainImages: String?
    public var trainLabels: String?
    public var testImages: String?
    public var testLabels: String?

    public init(trainImages: String? = nil, trainLabels: String? = nil, testImages: String? = nil, testLabels: String? = nil) {
        self.trainImages = trainImages
        self.trainLabels = trainLabels
        self.testImages = testImages
        self.testLabels = testLabels
    }

    /// The name given for `part`, nil for its standard name.
    func given(_ part: IDXImageSet.Part) -> String? {
        switch part {
        case .trainImages: trainImages
        case .trainLabels: trainLabels
        case .testImages: testImages
        case .testLabels: testLabels
        }
    }
}

/// A set of images in classes stored as four IDX files (see `IDXReader`), as MNIST (LeCun, Cortes
/// & Burges, http://yann.lecun.com/exdb/mnist/) distributes it: training images and labels, test
/// images and labels. Images are one-channel, unsigned bytes, of any height and width (the same in
/// both splits); labels are 0...K−1, unsigned bytes or, for more than 256 classes, 16- or 32-bit
/// integers, one per image. K is the number of class names when they are given (by the preset or
/// `data.class_names`), else the largest label of both splits plus one, at most `maxClasses`.
///
/// `idx` reads any such set; `fashionMNIST` and `mnist` are presets that fix the image size
/// (28×28) and the class names.
public struct IDXImageSet: Sendable {
    /// One of the four files.
    public enum Part: Int, CaseIterable, Sendable {
        case trainImages, trainLabels, testImages, testLabels

        /// MNIST's name for the file, without `.gz`.
        public var standardName: String {
            switch self {
            case .trainImages: "train-images-idx3-ubyte"
            case .trainLabels: "train-labels-idx1-ubyte"
            case .testImages: "t10k-images-idx3-ubyte"
            case .testLabels: "t10k-labels-idx1-ubyte"
            }
        }

        /// Its key in `data.files`.
        public var key: String {
            switch self {
            case .trainImages: "train_images"
            case .trainLabels: "train_labels"
            case .testImages: "test_images"
            case .testLabels: "test_labels"
            }
        }

        var isImages: Bool { self == .trainImages || self == .testImages }
    }

    /// The set's name in messages and dataset names: "fashion-mnist", "mnist", "idx".
    public var name: String
    /// The set's name in prose: "Fashion-MNIST".
    public var title: String
    /// The class names by label, when the set fixes them.
    public var classNames: [String]?
    /// The image height and width, when the set fixes them.
    public var imageSize: ImageSize?
    /// The script that downloads the set into a folder, suggested when files are missing.
    public var fetchScript: String?

    /// An image's height (`rows`) and width (`columns`) in pixels.
    public struct ImageSize: Equatable, Sendable, CustomStringConvertible {
        public var rows: Int
        public var columns: Int
        public init(rows: Int, columns: Int) {
            self.rows = rows
            self.columns = columns
        }

        /// "28×28" (height × width).
        public var description: String { "\(rows)×\(columns)" }
    }

    /// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017; https://github.com/zalandoresearch/fashion-mnist):
    /// 60,000 training and 10,000 test images of 28×28 pixels in 10 classes of clothing.
    public static let fashionMNIST = IDXImageSet(
        name: "fashion-mnist", title: "Fashion-MNIST", classNames: FashionMNIST.classNames,
        imageSize: ImageSize(rows: 28, columns: 28), fetchScript: "data-scripts/fetch-fashion-mnist.sh")
    /// MNIST: 60,000 training and 10,000 test images of handwritten digits, 28×28 pixels, classes "0"..."9".
    public static let mnist = IDXImageSet(
        name: "mnist", title: "MNIST", classNames: (0...9).map(String.init), imageSize: ImageSize(rows: 28, columns: 28))
    /// Any IDX image set.
    public static let any = IDXImageSet(name: "idx", title: "IDX")

    /// The model's input and output widths when the set fixes them (image size and class names).
    public var knownWidths: (input: Int, output: Int)? {
        guard let imageSize, let classNames else { return nil }
        return (imageSize.rows * imageSize.columns, classNames.count)
    }

    /// The most classes a set may have.
    public static let maxClasses = 1000
    /// The most images a labels file may label (Fashion-MNIST has 60,000). It bounds the decoded
    /// size of a labels file, so a corrupt or hostile .gz file cannot make the loader exhaust memory.
    public static let maxImages = 300_000
    /// The largest decoded images file accepted: `maxImages` images of 28×28 after the 16-byte
    /// header (more images of a smaller size fit).
    public static let maxImagesFileBytes = 16 + maxImages * 28 * 28
    /// The largest decoded labels file accepted: `maxImages` labels of up to 4 bytes after the
    /// 8-byte header.
    public static let maxLabelsFileBytes = 8 + maxImages * 4

    /// The images and labels of both splits, and the images' size.
    public struct Loaded: Sendable {
        public var train: Dataset
        public var test: Dataset
        public var imageSize: ImageSize
    }

    /// Reads the four files of the set in `folder` (named by `files`, or their standard names with
    /// or without `.gz`), decoding them in parallel, into the training and test sets (features:
    /// the pixels of each image, row by row; targets: class labels). `classNames` (data.class_names)
    /// names the classes instead of the set's own names or "0"..."K-1".
    public func load(folder: String, files: IDXFileNames = IDXFileNames(), classNames: [String]? = nil)
        throws(NNTrainError) -> Loaded
    {
        let fileNames = try checkFolder(folder, files: files)
        let paths = fileNames.map { Self.path(of: $0, in: folder) }
        let results = Mutex([Result<IDXArray, NNTrainError>?](repeating: nil, count: paths.count))
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            let isImages = Part.allCases[index].isImages
            let result = Result { () throws(NNTrainError) -> IDXArray in
                try IDXReader.read(
                    path: paths[index], expectedDimensions: isImages ? 3 : 1,
                    maxBytes: isImages ? Self.maxImagesFileBytes : Self.maxLabelsFileBytes,
                    elementTypes: isImages ? [.unsignedByte] : IDXElementType.allCases)
            }
            results.withLock { $0[index] = result }
        }
        var arrays: [IDXArray] = []
        for result in results.withLock({ $0 }) {
            guard let result else { throw NNTrainError(.internal, "\(folder): an IDX file was not decoded") }
            arrays.append(try result.get())
        }
        // The images' sizes first, then the counts, then the labels (whose range needs both splits).
        let size = try Self.imageSize(dimensions: arrays[0].dimensions, path: paths[0], expected: imageSize)
        let testSize = try Self.imageSize(dimensions: arrays[2].dimensions, path: paths[2], expected: imageSize)
        guard testSize == size else {
            throw .data(paths[2], "images are \(arrays[2].dimensions[0])×\(testSize) pixels; expected N×\(size) "
                + "as in \(fileNames[0])")
        }
        for (images, labels) in [(Part.trainImages, Part.trainLabels), (.testImages, .testLabels)] {
            let imageCount = arrays[images.rawValue].dimensions[0], labelCount = arrays[labels.rawValue].dimensions[0]
            guard imageCount == labelCount else {
                throw .data(folder, "\(label(images, fileNames)) has \(imageCount) images but \(label(labels, fileNames)) has "
                    + "\(labelCount) labels")
            }
            // An empty test set would report a loss and accuracy of 0 as if measured.
            guard imageCount > 0 else {
                throw .data(paths[images.rawValue], "holds no images; expected at least one "
                    + (images == .trainImages ? "training" : "test") + " image")
            }
        }
        let trainLabels = arrays[1].integers, testLabels = arrays[3].integers
        let names = try self.classNames(given: classNames, labels: [(trainLabels, arrays[1], paths[1]),
                                                                     (testLabels, arrays[3], paths[3])])
        func dataset(_ split: String, _ images: IDXArray, _ labels: [Int32]) -> Dataset {
            Dataset(name: "\(name) \(split)", features: .bytes(images.bytes), featureCount: size.rows * size.columns,
                    targets: .classes(labels), classNames: names)
        }
        return Loaded(train: dataset("train", arrays[0], trainLabels), test: dataset("test", arrays[2], testLabels),
                      imageSize: size)
    }

    /// The size of images of `dimensions` (count, rows, columns) read from `path`, refused when it
    /// is not `expected` (if given) or has no pixels.
    static func imageSize(dimensions: [Int], path: String, expected: ImageSize?) throws(NNTrainError) -> ImageSize {
        let size = ImageSize(rows: dimensions[1], columns: dimensions[2])
        let shape = dimensions.map(String.init).joined(separator: "×")
        if let expected, size != expected {
            throw .data(path, "images are \(shape) pixels; expected N×\(expected)")
        }
        guard size.rows > 0, size.columns > 0 else {
            throw .data(path, "images are \(shape) pixels; expected images of at least 1×1 pixels")
        }
        // With no images, the header's product says nothing of rows × columns, which could overflow.
        let (pixels, overflow) = size.rows.multipliedReportingOverflow(by: size.columns)
        guard !overflow, pixels <= maxImagesFileBytes - 16 else {
            throw .data(path, "images are \(shape) pixels; expected images of at most \(maxImagesFileBytes - 16) pixels")
        }
        return size
    }

    /// The class names by label: `given`, or the set's own, or "0"..."K−1" with K the largest label
    /// plus one; every label must be below their count (`labels`: each labels file's labels, its
    /// array and path, for the message, which names the label's byte).
    private func classNames(given: [String]?, labels: [([Int32], IDXArray, String)]) throws(NNTrainError) -> [String] {
        let known = given ?? classNames
        let limit = known?.count ?? Self.maxClasses
        var largest: Int32 = 0
        for (values, array, path) in labels {
            if let item = values.firstIndex(where: { $0 < 0 || Int($0) >= limit }) {
                let bound = known == nil ? " (nntrain reads at most \(Self.maxClasses) classes)" : ""
                throw .data(path, "byte \(8 + item * array.elementType.size): label \(values[item]) of item \(item) is out "
                    + "of range; expected 0...\(limit - 1)\(bound)")
            }
            largest = max(largest, values.max() ?? 0)
        }
        return known ?? (0...Int(largest)).map(String.init)
    }

    /// The path of the file `name` of a set in `folder`: `name` itself when absolute.
    private static func path(of name: String, in folder: String) -> String {
        name.hasPrefix("/") ? name : (folder as NSString).appendingPathComponent(name)
    }

    /// How messages call a file: "train-images" for a standard name, else the name given.
    private func label(_ part: Part, _ names: [String]) -> String {
        let name = names[part.rawValue]
        guard name.hasPrefix(part.standardName) else { return name }
        return String(part.standardName.prefix { $0 != "-" }) + "-" + (part.isImages ? "images" : "labels")
    }

    /// The names of the four files in `folder`, in `Part` order: each given one, or the standard
    /// name with `.gz` if present, else without. Refuses a `folder` that is not one holding them,
    /// saying what it is instead: missing (the fetch script, if any, puts the files there), a file
    /// (one of the four: its folder is meant; a CSV: the bonus dataset is), or a folder without
    /// some of them (named; a subfolder that holds them is suggested). A download is suggested only
    /// into a folder that does not exist, is empty or holds some of the four already, so it never
    /// writes into a folder meant for something else.
    private func checkFolder(_ folder: String, files: IDXFileNames) throws(NNTrainError) -> [String] {
        let candidates = Part.allCases.map { part in
            files.given(part).map { [$0] } ?? [part.standardName + ".gz", part.standardName]
        }
        let listedNames = candidates.map { $0[0] }
        let rawToo = files == IDXFileNames() && fetchScript == nil ? " (or the same names without .gz, raw)" : ""
        let expected = "a folder holding \(listedNames.joined(separator: ", "))\(rawToo)"
        let fetch = fetchScript.map { "\($0) \(ShellQuoting.quote(folder))" }
        func found(in folder: String) -> [String?] {
            candidates.map { names in
                names.first { FileManager.default.fileExists(atPath: Self.path(of: $0, in: folder)) }
            }
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw .missingFile(folder, expected: expected + (fetch.map { "; \($0) downloads them" } ?? ""))
        }
        guard isFolder.boolValue else {
            let name = (folder as NSString).lastPathComponent
            let parent = (folder as NSString).deletingLastPathComponent
            let hint = candidates.joined().contains(name) ? " (give the folder that holds it, \(parent.isEmpty ? "." : parent))"
                : name.lowercased().hasSuffix(".csv") ? " (a CSV file is read with data.dataset: csv)" : ""
            throw NNTrainError(.missingFile, "\(folder) is a file; expected \(expected)\(hint)")
        }
        let present = found(in: folder)
        let missing = zip(listedNames, present).filter { $0.1 == nil }.map(\.0)
        guard !missing.isEmpty else { return present.compactMap { $0 } }
        var message = missing.count == Part.allCases.count ? "\(folder) holds none of the four \(title) files"
            : "\(folder) lacks \(missing.joined(separator: ", "))"
        message += "; expected \(expected)"
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        if let holder = contents.sorted().map({ (folder as NSString).appendingPathComponent($0) }).first(where: {
            !found(in: $0).contains(nil)
        }) {
            message += " (\(holder) holds them)"
        } else if let fetch, contents.isEmpty || missing.count < Part.allCases.count {
            message += " (\(fetch) fetches the missing ones)"
        }
        throw NNTrainError(.missingFile, message)
    }
}

/// Fashion-MNIST's facts (`IDXImageSet.fashionMNIST` reads it).
public enum FashionMNIST {
    /// Class names by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    public static let imageRows = 28
    public static let imageColumns = 28

    /// Reads the four files in `folder` into the training and test sets (features: 784 bytes per
    /// image, row by row; targets: class labels 0...9).
    public static func load(folder: String) throws(NNTrainError) -> (train: Dataset, test: Dataset) {
        let loaded = try IDXImageSet.fashionMNIST.load(folder: folder)
        return (loaded.train, loaded.test)
    }
}
