import Foundation

/// The three splits of a run, the normalisation fitted on its training split, and for the bonus
/// dataset the true weights it was generated with.
///
/// - fashion-mnist, mnist, idx: the set's training images minus `validation_split` of them (drawn
///   with the seed) for training, those held-out images for validation, its test images for test;
///   with `data.folds`, fold `data.fold` of the training images is the validation split instead
///   (`Dataset.folds`, stratified by class, drawn with the seed).
/// - csv, and its preset bonus: `test_split` of the CSV's rows held out as the test set (drawn with
///   the seed; or the file `test_path`), then `validation_split` of the rest for validation (drawn
///   with seed + 1; or with `data.folds` fold `data.fold` of the rest, drawn with seed + 1), all
///   stratified for classification; the encoding fitted on the training split (see `CSVDataset`).
public struct TrainingData: Sendable {
    public var train: Dataset
    public var validation: Dataset
    public var test: Dataset
    public var normalizer: Normalizer
    /// μ and σ of the training split's targets when the target is standardised (`data.standardize_target`,
    /// regression only; the network ends in y = σ·z + μ); nil otherwise.
    public var targetScaling: TargetScaling?
    /// How raw input becomes a row of `train`'s features (carried by checkpoints).
    public var schema: InputSchema
    public var bonusTruth: BonusTruth?
    /// Seconds spent reading and decoding the files and building the splits.
    public var loadSeconds: Double
    /// What reading found, for the person running it, first line first: the task chosen and why,
    /// rows dropped, values imputed, the training split's class counts (csv). `nntrain run` prints
    /// them before its plan, `eval` and `lr-find` before their figures.
    public var notes: [String] = []
    /// What reading found that may be a mistake: categories unseen in training, unequal classes.
    /// Printed as warnings on standard error, `--quiet` or not.
    public var warnings: [String] = []

    public init(train: Dataset, validation: Dataset, test: Dataset, normalizer: Normalizer,
                targetScaling: TargetScaling? = nil, schema: InputSchema? = nil, bonusTruth: BonusTruth? = nil,
                loadSeconds: Double = 0) {
        self.train = train
        self.validation = validation
        self.test = test
        self.normalizer = normalizer
        self.targetScaling = targetScaling
        self.schema = schema ?? .columns(of: train)
        self.bonusTruth = bonusTruth
        self.loadSeconds = loadSeconds
    }

    /// Reads the dataset `configuration` names and splits it, then fills in the config's defaults
    /// that need the data read and checks it against them (`Configuration.resolveDataDefaults`);
    /// `file` (the config file) is where an error without a key's line is placed.
    /// With `trained` (a checkpoint's schema and class names), the rows are encoded as the model was
    /// trained (eval), nothing refitted.
    public static func load(for configuration: inout Configuration, file: String, trained: TrainedInput? = nil)
        throws(NNTrainError) -> TrainingData
    {
        let data = try read(configuration, file: file, trained: trained)
        try configuration.resolveDataDefaults(task: data.task, inputWidth: data.schema.width, outputWidth: data.outputWidth,
                                              file: file)
        if let lossWeights = configuration.lossWeights, case .classes(let labels) = data.train.targets,
           case .failure(let empty) = lossWeights.weights(labels: labels, classCount: data.outputWidth) {
            let name = data.train.classNames.indices.contains(empty.index) ? data.train.classNames[empty.index] : "\(empty.index)"
            throw configuration.keySources.problem("loss_weights", "balanced weighs each class by n / (classes · its rows), "
                + "but class \(quoted(name)) has no training rows; expected given weights, or data with every class", file: file)
        }
        return data
    }

    /// Reads the dataset a config section names and splits it.
    public static func load(_ section: Configuration.DataSection, seed: UInt64) throws(NNTrainError) -> TrainingData {
        var configuration = Configuration()
        configuration.data = section
        configuration.seed = seed
        return try read(configuration, file: section.path, trained: nil)
    }

    /// Reads and splits the data of `configuration`; the normaliser is fitted on the training split,
    /// leaving one-hot inputs as 0/1 (`Normalizer.leavingAsIs`), and so is the target scaling of a
    /// standardised regression target (`DataSection.standardizesTarget`).
    private static func read(_ configuration: Configuration, file: String, trained: TrainedInput?)
        throws(NNTrainError) -> TrainingData
    {
        let start = Date()
        let section = configuration.data
        let loaded = try section.dataset.load(configuration, file: file, trained: trained)
        let train: Dataset, validation: Dataset
        if let loadedValidation = loaded.validation {
            (train, validation) = (loaded.trainAll, loadedValidation)
        } else if let folds = section.folds, let fold = section.fold {
            if trained == nil, folds > loaded.trainAll.count {
                throw configuration.keySources.problem("data.folds", CSVDataset.tooManyFolds(folds, rows: loaded.trainAll.count,
                                                                                            of: section.path), file: file)
            }
            (train, validation) = loaded.trainAll.split(fold: fold, of: folds, seed: loaded.validationSeed)
        } else {
            (train, validation) = loaded.trainAll.split(holdOut: section.validationSplit, seed: loaded.validationSeed)
        }
        guard train.count > 0 else {
            throw NNTrainError(.config, "\(section.path): no training rows are left after holding out "
                + "validation_split \(section.validationSplit); expected a dataset with more rows or a smaller split")
        }
        var normalizer = Normalizer(fitting: train, mode: section.normalize)
        if case .table(let table) = loaded.schema { normalizer = normalizer.leavingAsIs(table.isOneHot) }
        var targetScaling: TargetScaling?
        if case .values(let targets) = train.targets, section.standardizesTarget(task: .regression) {
            targetScaling = TargetScaling(fitting: targets)
        }
        var data = TrainingData(train: train, validation: validation, test: loaded.test, normalizer: normalizer,
                                targetScaling: targetScaling, schema: loaded.schema, bonusTruth: loaded.bonusTruth,
                                loadSeconds: Date().timeIntervalSince(start))
        data.notes = loaded.notes
        data.warnings = loaded.warnings
        return data
    }

    /// Width of the model's output: the number of classes, or 1 for a regression target.
    public var outputWidth: Int { train.classNames.isEmpty ? 1 : train.classNames.count }
    public var isClassification: Bool { !train.classNames.isEmpty }
    public var task: PredictionTask { isClassification ? .classification : .regression }
}
