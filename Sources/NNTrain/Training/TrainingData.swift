import Foundation

/// The three splits of a run, the normalisation fitted on its training split, and for the bonus
/// dataset the true weights it was generated with.
///
/// - fashion-mnist, mnist, idx: the set's training images minus `validation_split` of them (drawn
///   with the seed) for training, those held-out images for validation, its test images for test.
/// - bonus: `test_split` of the CSV's rows held out as the test set (drawn with the seed), then
///   `validation_split` of the rest for validation (drawn with seed + 1).
public struct TrainingData: Sendable {
    public var train: Dataset
    public var validation: Dataset
    public var test: Dataset
    public var normalizer: Normalizer
    /// How raw input becomes a row of `train`'s features (carried by checkpoints).
    public var schema: InputSchema
    public var bonusTruth: BonusTruth?
    /// Seconds spent reading and decoding the files and building the splits.
    public var loadSeconds: Double

    public init(train: Dataset, validation: Dataset, test: Dataset, normalizer: Normalizer,
                schema: InputSchema? = nil, bonusTruth: BonusTruth? = nil, loadSeconds: Double = 0) {
        self.train = train
        self.validation = validation
        self.test = test
        self.normalizer = normalizer
        self.schema = schema ?? .columns(of: train)
        self.bonusTruth = bonusTruth
        self.loadSeconds = loadSeconds
    }

    /// Reads the dataset `configuration` names and splits it, then fills in the config's defaults
    /// that need the data read and checks it against them (`Configuration.resolveDataDefaults`);
    /// `file` (the config file) is where an error without a key's line is placed.
    public static func load(for configuration: inout Configuration, file: String) throws(NNTrainError) -> TrainingData {
        let data = try load(configuration.data, seed: configuration.seed)
        try configuration.resolveDataDefaults(task: data.task, inputWidth: data.schema.width, outputWidth: data.outputWidth,
                                              file: file)
        return data
    }

    /// Reads the dataset a config names and splits it.
    public static func load(_ section: Configuration.DataSection, seed: UInt64) throws(NNTrainError) -> TrainingData {
        let start = Date()
        let loaded = try section.dataset.load(section, seed: seed)
        let (train, validation) = loaded.trainAll.split(holdOut: section.validationSplit, seed: loaded.validationSeed)
        guard train.count > 0 else {
            throw NNTrainError(.config, "\(section.path): no training rows are left after holding out "
                + "validation_split \(section.validationSplit); expected a dataset with more rows or a smaller split")
        }
        return TrainingData(train: train, validation: validation, test: loaded.test,
                            normalizer: Normalizer(fitting: train, mode: section.normalize), schema: loaded.schema,
                            bonusTruth: loaded.bonusTruth, loadSeconds: Date().timeIntervalSince(start))
    }

    /// Width of the model's output: the number of classes, or 1 for a regression target.
    public var outputWidth: Int { train.classNames.isEmpty ? 1 : train.classNames.count }
    public var isClassification: Bool { !train.classNames.isEmpty }
    public var task: PredictionTask { isClassification ? .classification : .regression }
}
