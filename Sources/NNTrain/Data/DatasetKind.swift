/// The datasets `data.dataset` names, each with the facts the rest of nntrain asks of it: where it
/// is by default, the model's input and output widths, the losses its targets call for, its image
/// shape (augmentation needs one), and how it is read and split. A new dataset kind is a case here
/// with its facts in each property below, and its reader beside this file.
public enum DatasetKind: String, CaseIterable, Sendable {
    /// Fashion-MNIST's four IDX .gz files (`FashionMNIST`): 28×28 images in 10 classes.
    case fashionMNIST = "fashion-mnist"
    /// The generated regression CSV (`BonusData`): five features, one real-valued target.
    case bonus

    /// Where the dataset is unless `data.path` says otherwise.
    public var defaultPath: String {
        switch self {
        case .fashionMNIST: "data/fashion-mnist"
        case .bonus: "data/bonus.csv"
        }
    }

    /// The model's input width on this dataset: Fashion-MNIST's 28×28 pixels, the bonus CSV's feature columns.
    public var inputWidth: Int {
        switch self {
        case .fashionMNIST: FashionMNIST.imageRows * FashionMNIST.imageColumns
        case .bonus: BonusData.featureNames.count
        }
    }

    /// The model's output width: Fashion-MNIST's 10 classes, the bonus CSV's one value.
    public var outputWidth: Int {
        switch self {
        case .fashionMNIST: FashionMNIST.classNames.count
        case .bonus: 1
        }
    }

    /// Whether the targets are class labels (so accuracies exist), rather than real values.
    public var isClassification: Bool {
        switch self {
        case .fashionMNIST: true
        case .bonus: false
        }
    }

    /// The losses this dataset's targets call for, the usual one first.
    public var fittingLosses: [LossKind] {
        switch self {
        case .fashionMNIST: [.crossEntropy]
        case .bonus: [.mse, .mae, .huber]
        }
    }

    /// What kind of dataset it is, for messages: "a regression dataset".
    public var summary: String {
        switch self {
        case .fashionMNIST: "a 10-class dataset"
        case .bonus: "a regression dataset"
        }
    }

    /// (height, width) of one row as a one-channel image, row by row; nil for data that is not
    /// images, which `data.augment` refuses.
    public var imageShape: (rows: Int, columns: Int)? {
        switch self {
        case .fashionMNIST: (FashionMNIST.imageRows, FashionMNIST.imageColumns)
        case .bonus: nil
        }
    }

    /// Reads the dataset at `path` into the rows training and validation are drawn from and the test
    /// set, with the seed the validation split is drawn with. Fashion-MNIST ships its own test set
    /// and splits validation with `seed`; the bonus CSV holds out `testSplit` of its rows (drawn with
    /// `seed`), then splits validation with seed + 1 so the two draws differ.
    func load(path: String, testSplit: Double, seed: UInt64)
        throws(NNTrainError) -> (trainAll: Dataset, test: Dataset, validationSeed: UInt64, bonusTruth: BonusTruth?) {
        switch self {
        case .fashionMNIST:
            let (trainAll, test) = try FashionMNIST.load(folder: path)
            return (trainAll, test, seed, nil)
        case .bonus:
            let loaded = try BonusData.load(path: path)
            let (trainAll, test) = loaded.dataset.split(holdOut: testSplit, seed: seed)
            return (trainAll, test, seed &+ 1, loaded.truth)
        }
    }
}
