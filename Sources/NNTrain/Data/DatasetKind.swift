/// The datasets `data.dataset` names, each with the facts the rest of nntrain asks of it before
/// reading it: where it is by default, its task when the kind fixes one, whether its rows are images
/// (augmentation needs them), and how it is read and split. The model's widths come from the data
/// read (`TrainingData.schema`, `TrainingData.outputWidth`). A new dataset kind is a case here with
/// its facts in each property below, and its reader beside this file.
public enum DatasetKind: String, CaseIterable, Sendable {
    /// Fashion-MNIST's four IDX .gz files (`IDXImageSet.fashionMNIST`): 28×28 images in 10 classes.
    case fashionMNIST = "fashion-mnist"
    /// MNIST's four IDX files (`IDXImageSet.mnist`): 28×28 images of the digits 0...9.
    case mnist
    /// Any IDX image set (`IDXImageSet.any`): images of any size, K classes.
    case idx
    /// The generated regression CSV (`BonusData`): five features, one real-valued target.
    case bonus

    /// Where the dataset is unless `data.path` says otherwise; nil: `data.path` is required.
    public var defaultPath: String? {
        switch self {
        case .fashionMNIST: "data/fashion-mnist"
        case .mnist: "data/mnist"
        case .idx: nil
        case .bonus: "data/bonus.csv"
        }
    }

    /// The task the kind fixes (nil: the data decide it, after reading).
    public var task: PredictionTask? {
        switch self {
        case .fashionMNIST, .mnist, .idx: .classification
        case .bonus: .regression
        }
    }

    /// The model's input and output widths when the kind fixes them (nil: the data decide them):
    /// the presets' 28×28 pixels and 10 classes, the bonus CSV's five features and one value.
    public var knownWidths: (input: Int, output: Int)? {
        switch self {
        case .fashionMNIST, .mnist, .idx: imageSet?.knownWidths
        case .bonus: (BonusData.featureNames.count, 1)
        }
    }

    /// Whether rows are one-channel images, which `data.augment` can change.
    public var isImages: Bool {
        switch self {
        case .fashionMNIST, .mnist, .idx: true
        case .bonus: false
        }
    }

    /// The IDX image set the kind reads, nil for a CSV kind.
    public var imageSet: IDXImageSet? {
        switch self {
        case .fashionMNIST: .fashionMNIST
        case .mnist: .mnist
        case .idx: .any
        case .bonus: nil
        }
    }

    /// What kind of dataset it is, for messages: "a regression dataset".
    public var summary: String {
        switch task {
        case .classification: "a classification dataset"
        case .regression: "a regression dataset"
        case nil: "a dataset"
        }
    }

    /// Reads the dataset `section` describes (at `section.path`) into the rows training and
    /// validation are drawn from and the test set, with the seed the validation split is drawn with
    /// and the schema of its input. An IDX set (its files `section.files`, its classes
    /// `section.classNames`) ships its own test set and splits validation with `seed`; the bonus CSV
    /// holds out `section.testSplit` of its rows (drawn with `seed`), then splits validation with
    /// seed + 1 so the two draws differ.
    func load(_ section: Configuration.DataSection, seed: UInt64) throws(NNTrainError) -> LoadedDataset {
        switch self {
        case .fashionMNIST, .mnist, .idx:
            let set = imageSet ?? .any  // every image kind has its set
            let loaded = try set.load(folder: section.path, files: section.files, classNames: section.classNames)
            return LoadedDataset(trainAll: loaded.train, test: loaded.test, validationSeed: seed,
                                 schema: .images(rows: loaded.imageSize.rows, columns: loaded.imageSize.columns))
        case .bonus:
            let loaded = try BonusData.load(path: section.path)
            let (trainAll, test) = loaded.dataset.split(holdOut: section.testSplit, seed: seed)
            return LoadedDataset(trainAll: trainAll, test: test, validationSeed: seed &+ 1, schema: .table(BonusData.schema),
                                 bonusTruth: loaded.truth)
        }
    }
}

/// A dataset as its kind's reader returns it: the rows training and validation are drawn from, the
/// test rows, the seed the validation split is drawn with, and how raw input becomes model input.
struct LoadedDataset {
    var trainAll: Dataset
    var test: Dataset
    var validationSeed: UInt64
    var schema: InputSchema
    var bonusTruth: BonusTruth?
}
