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
        let hint = "run data-scripts/fetch-fashion-mnist.sh \(folder)"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw .missingFile(folder, expected: "a folder holding the four Fashion-MNIST .gz files; \(hint)")
        }
        let paths = fileNames.map { (folder as NSString).appendingPathComponent($0) }
        for (name, path) in zip(fileNames, paths) where !FileManager.default.fileExists(atPath: path) {
            throw .missingFile(path, expected: "the Fashion-MNIST file \(name); \(hint)")
        }

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

    /// Checks one images/labels pair (files `prefix`-images and `prefix`-labels) and makes it a dataset.
    private static func dataset(
        name: String, prefix: String, images: IDXArray, labels: IDXArray, _ imagesPath: String, _ labelsPath: String, _ folder: String
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
                "byte \(8 + item): label \(labels.bytes[item]) of item \(item) is out of range; expected 0...\(classNames.count - 1)")
        }
        return Dataset(
            name: name, features: .bytes(images.bytes), featureCount: imageRows * imageColumns,
            targets: .classes(labels.bytes.map { Int32($0) }), classNames: classNames)
    }
}
