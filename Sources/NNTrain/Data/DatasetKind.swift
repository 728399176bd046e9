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
    /// The generated regression CSV (`BonusData`): five features, one real-valued target; a preset
    /// of `csv`.
    case bonus
    /// Any CSV with a header row (`CSVDataset`): the `data` keys name the target, features and task.
    case csv

    /// Where the dataset is unless `data.path` says otherwise; nil: `data.path` is required.
    public var defaultPath: String? {
        switch self {
        case .fashionMNIST: "data/fashion-mnist"
        case .mnist: "data/mnist"
        case .idx: nil
        case .bonus: "data/bonus.csv"
        case .csv: "data/train.csv"
        }
    }

    /// The task the kind fixes (nil: the data decide it, after reading).
    public var task: PredictionTask? {
        switch self {
        case .fashionMNIST, .mnist, .idx: .classification
        case .bonus: .regression
        case .csv: nil
        }
    }

    /// The model's input and output widths when the kind fixes them (nil: the data decide them):
    /// the presets' 28×28 pixels and 10 classes, the bonus CSV's five features and one value.
    public var knownWidths: (input: Int, output: Int)? {
        switch self {
        case .fashionMNIST, .mnist, .idx: imageSet?.knownWidths
        case .bonus: (BonusData.featureNames.count, 1)
        case .csv: nil
        }
    }

    /// Whether rows are one-channel images, which `data.augment` can change.
    public var isImages: Bool {
        switch self {
        case .fashionMNIST, .mnist, .idx: true
        case .bonus, .csv: false
        }
    }

    /// The IDX image set the kind reads, nil for a CSV kind.
    public var imageSet: IDXImageSet? {
        switch self {
        case .fashionMNIST: .fashionMNIST
        case .mnist: .mnist
        case .idx: .any
        case .bonus, .csv: nil
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

    /// Reads the dataset `configuration` names into the rows training and validation are drawn from
    /// and the test set, with the seed the validation split is drawn with and the schema of its
    /// input. An IDX set (its files `data.files`, its classes `data.class_names`) ships its own test
    /// set and splits validation with `seed`; a CSV (and the bonus preset) holds out `test_split` of
    /// its rows (drawn with `seed`) unless `test_path` gives a test file, then splits validation with
    /// seed + 1 so the two draws differ, and fits its encoding on the training split (see
    /// `CSVDataset`), or takes `trained`'s. `file` (the config file) places the error of a key that
    /// names a column the CSV does not have.
    func load(_ configuration: Configuration, file: String, trained: TrainedInput?) throws(NNTrainError) -> LoadedDataset {
        let (path, seed, section) = (configuration.data.path, configuration.seed, configuration.data)
        let configProblem = { (key: String, message: String) in
            configuration.keySources.problem(key, message, file: file)
        }
        switch self {
        case .fashionMNIST, .mnist, .idx:
            let set = imageSet ?? .any  // every image kind has its set
            let loaded = try set.load(folder: path, files: section.files, classNames: section.classNames)
            return LoadedDataset(trainAll: loaded.train, test: loaded.test, validationSeed: seed,
                                 schema: .images(rows: loaded.imageSize.rows, columns: loaded.imageSize.columns))
        case .bonus:
            var options = BonusData.options(testSplit: section.testFraction, validationSplit: section.validationSplit)
            options.folds = section.folds.flatMap { count in section.fold.map { (count, $0) } }
            return try CSVDataset.load(path: path, options: options, seed: seed, trained: nil, name: rawValue,
                                       configProblem: configProblem)
        case .csv:
            return try CSVDataset.load(path: path, options: CSVDataset.Options(section), seed: seed, trained: trained,
                                       name: rawValue, configProblem: configProblem)
        }
    }
}

/// A dataset as its kind's reader returns it: the rows training and validation are drawn from, the
/// test rows, the seed the validation split is drawn with, and how raw input becomes model input.
/// A reader that fits its encoding on the training split splits validation itself: `validation` is
/// then set and `trainAll` is the training split. `notes` and `warnings` are lines for the person
/// running it (`TrainingData.notes`).
struct LoadedDataset {
    var trainAll: Dataset
    var test: Dataset
    var validationSeed: UInt64
    var schema: InputSchema
    var bonusTruth: BonusTruth?
    var validation: Dataset? = nil
    var notes: [String] = []
    var warnings: [String] = []
}
