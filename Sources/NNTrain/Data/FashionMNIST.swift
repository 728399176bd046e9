import Dispatch
import Foundation
import Synchronization

/// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017; https://github.com/zalandoresearch/fashion-mnist):
/// 60,000 training and 10,000 test grayscale images of 28×28 pixels in 10 classes, distributed as
/// four gzipped IDX files (see `IDXReader`).
public enum FashionMNIST {
    /// Class names by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    public static let imageRows = 28
    public static let imageColumns = 28
    /// The most images a file may hold (Fashion-MNIST has 60,000). It bounds the decoded size, so a
    /// corrupt or hostile .gz file cannot make the loader exhaust memory.
    public static let maxImages = 300_000
    /// The largest decoded images file accepted: `maxImages` images after the 16-byte header.
    public static let maxImagesFileBytes = 16 + maxImages * imageRows * imageColumns
    /// The largest decoded labels file accepted: `maxImages` labels after the 8-byte header.
    public static let maxLabelsFileBytes = 8 + maxImages

    /// The four standard file names, in the order `load` reads them.
    public static let fileNames = [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ]

    /// Reads the four files in `folder`, decoding them in parallel, into the training and test sets
    /// (features: 784 bytes per image, row by row; targets: class labels 0...9).
    public static func load(folder: String) throws(NNTrainError) -> (train: Dataset, test: Dataset) {
        try checkFolder(folder)
        let paths = fileNames.map { (folder as NSString).appendingPathComponent($0) }

        let results = Mutex([Result<IDXArray, NNTrainError>?](repeating: nil, count: paths.count))
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            let isImages = index % 2 == 0
            let result = Result { () throws(NNTrainError) -> IDXArray in
                try IDXReader.read(
                    path: paths[index], expectedDimensions: isImages ? 3 : 1,
                    maxBytes: isImages ? maxImagesFileBytes : maxLabelsFileBytes)
            }
            results.withLock { $0[index] = result }
        }
        var arrays: [IDXArray] = []
        for result in results.withLock({ $0 }) {
            guard let result else { throw NNTrainError(.internal, "\(folder): a Fashion-MNIST file was not decoded") }
            arrays.append(try result.get())
        }
        let train = try dataset(
            name: "fashion-mnist train", prefix: "train", images: arrays[0], labels: arrays[1], paths[0], paths[1], folder)
        let test = try dataset(
            name: "fashion-mnist test", prefix: "t10k", images: arrays[2], labels: arrays[3], paths[2], paths[3], folder)
        return (train, test)
    }

    /// Refuses a `folder` that is not one holding the four files, saying what it is instead: missing
    /// (the fetch script puts the files there), a file (one of the four: its folder is meant; a CSV:
    /// the bonus dataset is), or a folder without some of them (named; a subfolder that holds them
    /// is suggested). A download is suggested only into a folder that does not exist, is empty or
    /// holds some of the four already, so it never writes into a folder meant for something else.
    private static func checkFolder(_ folder: String) throws(NNTrainError) {
        let expected = "a folder holding \(fileNames.joined(separator: ", "))"
        let fetch = "data-scripts/fetch-fashion-mnist.sh \(ShellQuoting.quote(folder))"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw .missingFile(folder, expected: "\(expected); \(fetch) downloads them")
        }
        guard isFolder.boolValue else {
            let name = (folder as NSString).lastPathComponent
            let parent = (folder as NSString).deletingLastPathComponent
            let hint = fileNames.contains(name) ? " (give the folder that holds it, \(parent.isEmpty ? "." : parent))"
                : name.lowercased().hasSuffix(".csv") ? " (a CSV file is read with data.dataset: bonus)" : ""
            throw NNTrainError(.missingFile, "\(folder) is a file; expected \(expected)\(hint)")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let missing = fileNames.filter { !contents.contains($0) }
        guard !missing.isEmpty else { return }
        var message = missing.count == fileNames.count ? "\(folder) holds none of the four Fashion-MNIST files"
            : "\(folder) lacks \(missing.joined(separator: ", "))"
        message += "; expected \(expected)"
        if let holder = contents.sorted().map({ (folder as NSString).appendingPathComponent($0) }).first(where: { candidate in
            fileNames.allSatisfy { FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent($0)) }
        }) {
            message += " (\(holder) holds them)"
        } else if contents.isEmpty || missing.count < fileNames.count {
            message += " (\(fetch) fetches the missing ones)"
        }
        throw NNTrainError(.missingFile, message)
    }

    /// Checks one images/labels pair (files `prefix`-images and `prefix`-labels) and makes it a dataset.
    private static func dataset(
        name: String, prefix: String, images: IDXArray, labels: IDXArray,
        _ imagesPath: String, _ labelsPath: String, _ folder: String
    ) throws(NNTrainError) -> Dataset {
        let count = images.dimensions[0]
        guard images.dimensions[1] == imageRows, images.dimensions[2] == imageColumns else {
            let shape = images.dimensions.map(String.init).joined(separator: "×")
            throw .data(imagesPath, "images are \(shape) pixels; expected N×\(imageRows)×\(imageColumns)")
        }
        guard labels.dimensions[0] == count else {
            throw .data(folder, "\(prefix)-images has \(count) images but \(prefix)-labels has \(labels.dimensions[0]) labels")
        }
        if let item = labels.bytes.firstIndex(where: { Int($0) >= classNames.count }) {
            throw .data(
                labelsPath,
                "byte \(8 + item): label \(labels.bytes[item]) of item \(item) is out of range; "
                    + "expected 0...\(classNames.count - 1)")
        }
        return Dataset(
            name: name, features: .bytes(images.bytes), featureCount: imageRows * imageColumns,
            targets: .classes(labels.bytes.map { Int32($0) }), classNames: classNames)
    }
}
