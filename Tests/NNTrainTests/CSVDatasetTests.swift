import Foundation
import Testing

@testable import NNTrain

/// `data.dataset: csv` on small CSVs written here: the columns chosen, the task rule, one-hot
/// encoding fitted on the training split, the missing-value policies, stratified splits, a separate
/// test file, class names, eval with a checkpoint's schema, and an exact resume.
@Suite struct CSVDatasetTests {
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    /// Writes `csv` as train.csv (and `files`), and a config of `dataset: csv` on it with the data
    /// keys `data` (lines of the data section, in order after `dataset` and `path`, so the first is on
    /// line 4) and the top-level lines `rest`; loads it as `nntrain run` does.
    private func load(_ csv: String, _ data: [String], rest: String = "", files: [String: String] = [:]) throws
        -> (data: TrainingData, configuration: Configuration, path: String)
    {
        let path = try folder.write(csv, to: "train.csv")
        for (name, text) in files { try folder.write(text, to: name) }
        let config = try folder.write(configText(path: path, data) + rest, to: "c.yaml")
        var configuration = try Configuration.load(path: config)
        let loaded = try TrainingData.load(for: &configuration, file: config)
        return (loaded, configuration, path)
    }

    private func configText(path: String, _ data: [String]) -> String {
        "data:\n  dataset: csv\n  path: \(path)\n" + data.map { "  \($0)\n" }.joined()
    }

    private static func floats(_ dataset: Dataset) -> [Float] {
        guard case .floats(let values) = dataset.features else { return [] }
        return values
    }

    private static func labels(_ dataset: Dataset) -> [Int32] {
        guard case .classes(let labels) = dataset.targets else { return [] }
        return labels
    }

    // MARK: Columns, task, encoding

    /// A text target and a text feature: the id dropped, the feature one-hot over the training
    /// split's sorted categories, the numeric column as its value; the test file's columns found by
    /// name, its unseen category all zeros and counted; one-hot inputs left 0/1 by the normaliser,
    /// the numeric one standardised with the training split's mean and population std.
    @Test func aTextFeatureIsOneHotOverTheTrainingCategoriesAndAnUnseenOneIsAllZeros() throws {
        let csv = "id,color,size,label\n1,red,1.0,cat\n2,blue,2.0,dog\n3,red,3.0,cat\n4,green,4.0,dog\n"
        let (data, configuration, _) = try load(csv, ["target: label", "drop: [id]", "test_path: \(folder.file("test.csv"))",
                                                      "validation_split: 0"],
                                                files: ["test.csv": "label,extra,size,color\ndog,x,2.5,purple\ncat,y,1.5,red\n"])
        let missing = ["", "NA", "NaN", "nan", "null", "?"]
        #expect(data.schema == .table(TableSchema(columns: [
            .init(name: "color", encoding: .categorical(categories: ["blue", "green", "red"], fill: nil)),
            .init(name: "size", encoding: .numeric(fill: nil)),
        ], target: "label", task: .classification, missingValues: missing)))
        #expect(data.train.featureNames == ["color=blue", "color=green", "color=red", "size"])
        #expect(data.train.classNames == ["cat", "dog"])
        #expect(Self.floats(data.train) == [0, 0, 1, 1, 1, 0, 0, 2, 0, 0, 1, 3, 0, 1, 0, 4])
        #expect(Self.labels(data.train) == [0, 1, 0, 1])
        #expect(data.validation.count == 0)
        #expect(Self.floats(data.test) == [0, 0, 0, 2.5, 0, 0, 1, 1.5])
        #expect(Self.labels(data.test) == [1, 0])
        #expect(data.warnings == ["test file: 1 value of categorical columns not seen in the training split, "
            + "encoded as all zeros"])
        #expect(data.notes == ["task: classification (data.task auto: target 'label' holds text such as 'cat')",
                               "classes of the training split: cat 2, dog 2"])
        // Standardised by default for csv: size has mean 2.5 and population std sqrt(1.25).
        #expect(data.normalizer.shift == [0, 0, 0, 2.5])
        #expect(Array(data.normalizer.scale.prefix(3)) == [1, 1, 1])
        #expect(abs(Double(data.normalizer.scale[3]) - 1 / 1.25.squareRoot()) < 1e-6)
        #expect(configuration.loss == .crossEntropy && configuration.model.hidden == [100])
        #expect(configuration.training.epochs == 200 && configuration.training.batchSize == .rows(64))
        #expect(configuration.checkpoint.everyNEpochs == 25)
        #expect(configuration.earlyStopping.patience == nil)  // no validation split to watch
    }

    /// The auto rule: text or at most 50 distinct integers are classes (sorted as numbers), more
    /// integers or any fraction a regression (loss mse); data.task overrides it.
    @Test func theAutoRuleClassifiesFewIntegersAndRegressesTheRest() throws {
        let few = "x,y\n" + (0..<30).map { "\($0),\([1, 2, 10][$0 % 3])" }.joined(separator: "\n") + "\n"
        let classified = try load(few, ["target: y"])
        #expect(classified.data.task == .classification && classified.data.train.classNames == ["1", "2", "10"])
        #expect(classified.data.notes.first == "task: classification (data.task auto: target 'y' holds 3 distinct integers, "
            + "at most 50)")
        #expect(classified.configuration.earlyStopping.patience == 10 && classified.configuration.earlyStopping.restoreBest)

        let many = "x,y\n" + (0..<51).map { "\($0),\($0 * 2)" }.joined(separator: "\n") + "\n"
        let regressed = try load(many, ["target: y"])
        #expect(regressed.data.task == .regression && regressed.configuration.loss == .mse)
        #expect(regressed.data.notes.first == "task: regression (data.task auto: target 'y' holds 51 distinct integers, "
            + "more than 50)")

        let fraction = "x,y\n1,1\n2,2\n3,2.5\n4,1\n5,2\n"
        #expect(try load(fraction, ["target: y", "validation_split: 0"]).data.notes.first
            == "task: regression (data.task auto: target 'y' holds numbers that are not integers, such as 2.5)")

        let forced = try load(few, ["target: y", "task: regression"])
        #expect(forced.data.task == .regression && forced.data.notes.first == "task: regression (data.task)")
    }

    /// data.class_names fixes the label order; a target value it does not list is the key's error.
    @Test func classNamesFixTheOrderAndMustListEveryClass() throws {
        let csv = "x,label\n1,cat\n2,dog\n3,cat\n4,bird\n"
        let test = ["test_path: \(folder.file("test.csv"))", "validation_split: 0"]
        let ordered = try load(csv, ["target: label", "class_names: [dog, cat, bird]"] + test,
                               files: ["test.csv": "x,label\n5,bird\n"])
        #expect(ordered.data.train.classNames == ["dog", "cat", "bird"])
        #expect(Self.labels(ordered.data.train) == [1, 0, 1, 2] && Self.labels(ordered.data.test) == [2])
        #expect(throws: NNTrainError(.config, "\(folder.file("c.yaml")):5: data.class_names: does not list 'bird', the "
            + "target of \(folder.file("train.csv")):5; expected every class of column 'label'")) {
            try load(csv, ["target: label", "class_names: [dog, cat]"] + test)
        }
    }

    /// A column a key names that the header lacks is that key's error, listing the header.
    @Test func aColumnNotInTheHeaderIsTheKeysErrorListingTheColumns() throws {
        let csv = "id,size,label\n1,2,a\n"
        for (line, expected) in [("features: [size, nope]", "data.features: column 'nope'"),
                                 ("drop: [ID]", "data.drop: column 'ID'"),
                                 ("categorical: [colour]", "data.categorical: column 'colour'")] {
            #expect(throws: NNTrainError(.config, "\(folder.file("c.yaml")):5: \(expected) is not in "
                + "\(folder.file("train.csv")), whose columns are: id, size, label")) {
                try load(csv, ["target: label", line])
            }
        }
        #expect(throws: NNTrainError(.config, "\(folder.file("c.yaml")):4: data.target: column 'species' is not in "
            + "\(folder.file("train.csv")), whose columns are: id, size, label")) {
            try load(csv, ["target: species"])
        }
    }

    /// csv needs a target; a test file and test_split exclude each other; csv's keys are refused elsewhere.
    @Test func csvKeysAreCheckedBeforeReading() throws {
        #expect(throws: NNTrainError(.config, "c.yaml:2: data.dataset: csv needs the column to predict; expected "
            + "data.target: NAME as well")) {
            try Configuration.parse(yaml: "data:\n  dataset: csv\n", source: "c.yaml")
        }
        #expect(throws: NNTrainError(.config, "c.yaml:5: data.test_split: given together with data.test_path, which is "
            + "the test set; expected one of the two")) {
            try Configuration.parse(yaml: "data:\n  dataset: csv\n  target: y\n  test_path: t.csv\n  test_split: 0.3\n",
                                    source: "c.yaml")
        }
        // The resolved config of a run with a test file reads back (eval parses it from the checkpoint):
        // test_split stays unset beside test_path, and is 0.2 without it.
        let withTestFile = try Configuration.parse(yaml: "data:\n  dataset: csv\n  target: y\n  test_path: t.csv\n",
                                                   source: "c.yaml")
        #expect(withTestFile.data.testSplit == nil)
        #expect(try Configuration.parse(yaml: withTestFile.resolvedYAML(), source: "config.yaml") == withTestFile)
        #expect(try Configuration.parse(yaml: "data:\n  dataset: csv\n  target: y\n", source: "c.yaml").data.testSplit == 0.2)
        #expect(throws: NNTrainError(.config, "c.yaml:3: data.target: applies only to csv, not bonus, "
            + "which uses standardize_target")) {
            try Configuration.parse(yaml: "data:\n  dataset: bonus\n  target: y\nloss: mse\n", source: "c.yaml")
        }
    }

    // MARK: Missing values

    private static let withGaps = "a,b,y\n1,x,p\nNA,y,q\n3,,p\n4,x,\n5,y,q\n6,x,p\n"

    /// refuse (the default) names the first row with a missing feature (line 3: line 5's missing
    /// target only drops its row); drop_rows drops rows 3 and 4 and says so; impute fills the
    /// training split's mean of a (1, 3, 5, 6: 3.75) and most frequent b (x and y twice each: x).
    @Test func eachMissingPolicy() throws {
        let test = ["test_path: \(folder.file("test.csv"))", "validation_split: 0"]
        let files = ["test.csv": "a,b,y\n2,z,p\n"]
        let train = folder.file("train.csv")
        #expect(throws: NNTrainError.data("\(train):3", "column 'a': the value is missing ('NA'); expected a value, or "
            + "data.missing: drop_rows or impute")) {
            try load(Self.withGaps, ["target: y"] + test, files: files)
        }

        let dropped = try load(Self.withGaps, ["target: y", "missing: drop_rows"] + test, files: files).data
        #expect(Self.floats(dropped.train) == [1, 1, 0, 5, 0, 1, 6, 1, 0])
        #expect(dropped.notes.contains("dropped 1 row of \(train) whose target 'y' is missing"))
        #expect(dropped.notes.contains("dropped 2 rows of \(train) with a missing feature value (data.missing: drop_rows)"))

        let imputed = try load(Self.withGaps, ["target: y", "missing: impute"] + test, files: files).data
        guard case .table(let schema) = imputed.schema else { Issue.record("a CSV has a table schema"); return }
        #expect(schema.columns.map(\.encoding) == [.numeric(fill: 3.75), .categorical(categories: ["x", "y"], fill: "x")])
        #expect(Self.floats(imputed.train) == [1, 1, 0, 3.75, 0, 1, 3, 1, 0, 5, 0, 1, 6, 1, 0])
        #expect(imputed.notes.contains("imputed 2 missing feature values with the training split's means and most frequent "
            + "categories"))
        #expect(Self.floats(imputed.test) == [2, 0, 0])
    }

    // MARK: Splits

    /// 100 rows of classes a, b, c (50, 30, 20): test_split 0.2 holds out 10, 6 and 4, validation
    /// 0.25 of the 80 left 10, 6 and 4 again, leaving 30, 18 and 12; every row in exactly one split;
    /// the same seed the same rows, another seed others.
    @Test func stratifiedSplitsKeepEachClassShareExactly() throws {
        let csv = "x,label\n" + (0..<100).map { "\($0),\($0 < 50 ? "a" : $0 < 80 ? "b" : "c")" }.joined(separator: "\n") + "\n"
        let keys = ["target: label", "test_split: 0.2", "validation_split: 0.25"]
        func counts(_ dataset: Dataset) -> [Int] {
            (0..<3).map { label in Self.labels(dataset).filter { $0 == label }.count }
        }
        let data = try load(csv, keys).data
        #expect(counts(data.test) == [10, 6, 4] && counts(data.validation) == [10, 6, 4] && counts(data.train) == [30, 18, 12])
        let all = (Self.floats(data.train) + Self.floats(data.validation) + Self.floats(data.test)).sorted()
        #expect(all == (0..<100).map(Float.init))
        #expect(Self.floats(try load(csv, keys).data.test) == Self.floats(data.test))
        #expect(Self.floats(try load(csv, keys, rest: "seed: 7\n").data.test) != Self.floats(data.test))
    }

    /// 30 rows of a and 2 of b: the test split takes 6 a (round(32 × 0.2) = 6, the left-over row to a,
    /// remainder 20 of 32 against 12), validation 3 more a (remainders 20 and 6 of 26), leaving 21 a and
    /// 2 b: more than 10 to 1, a warning.
    @Test func unequalClassesOfTheTrainingSplitAreCountedAndWarnedOf() throws {
        let csv = "x,label\n" + (0..<32).map { "\($0),\($0 < 30 ? "a" : "b")" }.joined(separator: "\n") + "\n"
        let data = try load(csv, ["target: label"]).data
        #expect(data.notes.last == "classes of the training split: a 21, b 2")
        #expect(data.warnings == ["unequal classes: 'a' has 21 rows of the training split, more than 10× the 2 of 'b'; "
            + "accuracy alone can hide a class the model never predicts (see the per-class recall of nntrain eval)"])
        let balanced = "x,label\n" + (0..<32).map { "\($0),\($0 < 28 ? "a" : "b")" }.joined(separator: "\n") + "\n"
        #expect(try load(balanced, ["target: label"]).data.warnings.isEmpty)
    }

    /// The largest-remainder rule: half of classes of 5, 3 and 2 rows is 5 rows, ⌊2.5⌋, ⌊1.5⌋ and
    /// 1, the one left over to the lower of the two classes with remainder one half.
    @Test func stratifiedRoundingGivesLeftOverRowsByLargestRemainder() {
        let labels: [Int32] = [0, 1, 2, 0, 1, 2, 0, 1, 0, 0]
        let heldOut = Dataset.heldOutRows(labels: labels, classCount: 3, fraction: 0.5, seed: 3)
        let counts = (0..<3).map { label in zip(labels, heldOut).filter { $0.0 == label && $0.1 }.count }
        #expect(counts == [3, 1, 1])
    }

    // MARK: Eval and resume

    /// A run's checkpoint evaluates other data with its own encoding: a category it never saw is
    /// counted in a warning, a class it does not know is refused.
    @Test func evalEncodesOtherDataWithTheCheckpointsSchema() throws {
        let rows = (0..<40).map { "\(["red", "blue"][$0 % 2]),\($0 % 5),\(["cat", "dog"][$0 % 2])" }
        _ = try load("color,size,label\n" + rows.joined(separator: "\n") + "\n", ["target: label"],
                     rest: "model:\n  hidden: [4]\ntraining:\n  epochs: 2\noutput:\n  dir: \(folder.file("run"))\n")
        _ = try TrainingRun.execute(configPath: folder.file("c.yaml"), overrides: [])
        let checkpoint = folder.file("run/checkpoints/last.bin")
        let other = try folder.write("size,label,color\n1,cat,red\n2,dog,green\n3,cat,red\n4,dog,blue\n5,cat,red\n",
                                     to: "other.csv")
        // Stratified, test_split 0.2 holds out round(5 × 0.2) = 1 row, a cat (3 of the 5 rows): the
        // green dog stays in the training split of other.csv.
        let evaluation = try CheckpointEvaluation.run(checkpointPath: checkpoint, dataPath: other, split: .train)
        #expect(evaluation.classification?.classes.map(\.name) == ["cat", "dog"])
        #expect(evaluation.rows == 4)
        #expect(evaluation.warnings == ["training split: 1 value of categorical columns not seen in the training split, "
            + "encoded as all zeros"])
        let unknown = try folder.write("size,label,color\n1,cat,red\n2,bird,red\n", to: "unknown.csv")
        #expect(throws: NNTrainError.data("\(unknown):3", "column 'label': class 'bird' is not one the model was trained on; "
            + "expected one of: cat, dog")) {
            try CheckpointEvaluation.run(checkpointPath: checkpoint, dataPath: unknown, split: .test)
        }
    }

    /// A csv regression run with loss and target standardisation left to the data, interrupted
    /// mid-epoch and resumed, ends with the tensors of the run that never stopped, and the resume sees
    /// no changed key; so does a fold of k-fold cross-validation (its folds drawn again alike), whose
    /// resume with another fold is refused.
    @Test(arguments: [[], ["data.folds=3", "data.fold=2"]])
    func aCSVRunInterruptedAndResumedEndsBitIdentical(folds: [String]) throws {
        var random = RandomGenerator(seed: 5)
        let rows = (0..<60).map { _ in
            let (a, b) = (random.nextUnitDouble(), random.nextUnitDouble())
            return "\(a),\(["u", "v", "w"][Int(random.next() % 3)]),\(2 * a - b + 0.1)"
        }
        _ = try load("a,kind,y\n" + rows.joined(separator: "\n") + "\n", ["target: y"],
                     rest: "model:\n  hidden: [6]\ntraining:\n  epochs: 3\n  batch_size: 10\n")
        let config = folder.file("c.yaml")
        let straight = folder.file("straight"), resumed = folder.file("resumed")
        _ = try TrainingRun.execute(configPath: config, overrides: folds + ["output.dir=\(straight)"])
        var steps = 0
        let stopped = try TrainingRun.execute(configPath: config, overrides: folds + ["output.dir=\(resumed)"],
                                              observers: [StopWhen { _ in steps += 1; return steps == 7 }])
        #expect(stopped.interruption != nil)
        if !folds.isEmpty {
            let otherFold = #expect(throws: NNTrainError.self) {
                try TrainingRun.execute(configPath: config, overrides: folds + ["data.fold=1", "output.dir=\(resumed)"],
                                        start: .resumeLast)
            }
            #expect(otherFold?.message.contains("data.fold") == true)
        }
        let outcome = try TrainingRun.execute(configPath: config, overrides: folds + ["output.dir=\(resumed)"],
                                              start: .resumeLast)
        #expect(outcome.interruption == nil && outcome.changedKeys.isEmpty)
        #expect(try RunDirectoryTests.model(resumed + "/checkpoints/last.bin")
            == RunDirectoryTests.model(straight + "/checkpoints/last.bin"))
        #expect(try Checkpoint.read(path: resumed + "/checkpoints/last.bin").inputSchema
            == Checkpoint.read(path: straight + "/checkpoints/last.bin").inputSchema)
        // The target is standardised (csv's default), with the same μ and σ after the resume.
        let scaling = try Checkpoint.read(path: straight + "/checkpoints/last.bin").targetScaling
        #expect(try scaling != nil && Checkpoint.read(path: resumed + "/checkpoints/last.bin").targetScaling == scaling)
    }
}
