import Foundation

/// The model's input as a trained model fixed it: its input schema and class names, which a
/// checkpoint carries. Data read with it are encoded as the model was trained, never refitted.
public struct TrainedInput: Sendable {
    public var schema: InputSchema
    public var classNames: [String]

    public init(schema: InputSchema, classNames: [String]) {
        self.schema = schema
        self.classNames = classNames
    }
}

/// Any CSV with a header row as a dataset (`data.dataset: csv`; `bonus` is a preset of it): which
/// columns are features and target, the task, the splits, and the encoding fitted on the training
/// split (`TableSchema`), in this order:
///
/// 1. Rows whose target is missing (a field in `missingValues`) are dropped and counted. A missing
///    feature value is refused (`missing: refuse`, naming the line and column), drops its row
///    (`drop_rows`), or is imputed in step 5 (`impute`).
/// 2. The task: `data.task`, or with `auto` a target holding any text that is not a number is
///    classification, one of integers with at most `maxClassesOfIntegers` (50) distinct values too,
///    anything else regression. Classes are `data.class_names` in that order, or the distinct
///    target values sorted (numerically when all are numbers, as scikit-learn's LabelEncoder sorts
///    them). Targets that are all numbers are classes by value, `1` and `1.0` one class (`ClassLookup`).
/// 3. The test rows: the file `testPath`, or `round(n · test_split)` rows held out with the seed
///    (refused when that is none: an empty test set would report a loss and accuracy of 0);
///    then `round(m · validation_split)` of the remaining m rows for validation, with seed + 1
///    (see `Dataset.heldOutRows`), or with `data.folds` fold `data.fold` of them (`Dataset.folds`,
///    also with seed + 1). For classification both draws are stratified, keeping each
///    class's share (`Dataset.heldOutRows(labels:...)` states the rounding).
/// 4. Column types: a feature column is categorical when `categorical` names it or any of its
///    values (in the kept rows of the training file) is not a number; numeric otherwise.
/// 5. Fitted on the training split only: a categorical column's categories are its values there,
///    sorted (`OneHotEncoder`); with `impute`, a numeric column's fill is its mean there and a
///    categorical one's its most frequent value there, ties going to the smallest (scikit-learn's
///    `SimpleImputer(strategy="mean")` and `"most_frequent"`).
/// 6. Every split encoded with that schema (`TableSchema.encode`): a category not seen in the
///    training split encodes as all zeros and is counted in a warning.
///
/// With a `TrainedInput` (eval), steps 2, 4 and 5 are skipped: the checkpoint's schema and class
/// names encode the rows, and a target class the model does not know is refused.
enum CSVDataset {
    /// What the `data` keys of a csv run say; the bonus preset fixes them (`BonusData.options`).
    struct Options {
        var target: String
        var task: TaskSetting
        /// nil: every column but the target and `drop`.
        var features: [String]?
        var drop: [String] = []
        var categorical: [String] = []
        var missingValues: [String]
        var missing: MissingPolicy
        var classNames: [String]?
        var testPath: String?
        var testSplit: Double
        var validationSplit: Double
        /// k-fold cross-validation (`data.folds`, `data.fold`): fold `fold` of `count` is the validation
        /// split instead of `validationSplit`; nil: off.
        var folds: (count: Int, fold: Int)? = nil
        /// Whether to print the task and class lines (csv), or nothing new (the bonus preset).
        var describesItself = true
        /// Whether a feature column holding text is categorical (csv), or every feature is numeric and
        /// text in one is refused as not a number (the bonus preset).
        var textIsCategorical = true

        init(target: String, task: TaskSetting, features: [String]?, drop: [String] = [], categorical: [String] = [],
             missingValues: [String], missing: MissingPolicy, classNames: [String]? = nil, testPath: String? = nil,
             testSplit: Double, validationSplit: Double, describesItself: Bool = true, textIsCategorical: Bool = true) {
            self.target = target
            self.task = task
            self.features = features
            self.drop = drop
            self.categorical = categorical
            self.missingValues = missingValues
            self.missing = missing
            self.classNames = classNames
            self.testPath = testPath
            self.testSplit = testSplit
            self.validationSplit = validationSplit
            self.describesItself = describesItself
            self.textIsCategorical = textIsCategorical
        }

        /// The options of a csv run's data section (`target` checked present by the rules between keys).
        init(_ section: Configuration.DataSection) {
            self.init(target: section.target ?? "", task: section.task, features: section.features, drop: section.drop,
                      categorical: section.categorical, missingValues: section.missingValues, missing: section.missing,
                      classNames: section.classNames, testPath: section.testPath, testSplit: section.testFraction,
                      validationSplit: section.validationSplit)
            folds = section.folds.flatMap { count in section.fold.map { (count, $0) } }
        }
    }

    /// Integer targets with at most this many distinct values are classes under `task: auto`.
    static let maxClassesOfIntegers = 50
    /// The class-count ratio above which the load warns of imbalance.
    static let imbalanceRatio = 10

    /// Reads the CSV at `path` (and `options.testPath`) into the splits, as the type's comment says.
    /// `name` names the data in datasets (`csv`, `bonus`); `configProblem(key, message)` makes the
    /// error of a config key (its file and line) for a column the file does not have.
    static func load(path: String, options: Options, seed: UInt64, trained: TrainedInput?, name: String,
                     configProblem: @escaping (String, String) -> NNTrainError) throws(NNTrainError) -> LoadedDataset {
        let table = try CSVTable(path: path)
        var trainedSchema: TableSchema?
        if let trained {
            guard case .table(let schema) = trained.schema else {
                throw .data(path, "the model was trained on images, not a CSV; expected its own kind of data")
            }
            trainedSchema = schema
        }
        let columns = try ColumnChoice(table: table, options: options, trained: trainedSchema, configProblem: configProblem)
        let missingValues = Set(trainedSchema?.missingValues ?? options.missingValues)
        var notes: [String] = [], warnings: [String] = []

        let source = try Source(table: table, columns: columns, missingValues: missingValues, missing: options.missing,
                                notes: &notes)
        let task: PredictionTask
        if let trainedSchema {
            task = trainedSchema.task
        } else {
            let (chosen, reason) = try choose(options.task, target: source)
            task = chosen
            if options.describesItself { notes.insert("task: \(task.rawValue) (\(reason))", at: 0) }
        }
        let classNames = task == .regression ? []
            : trained?.classNames ?? options.classNames ?? sortedClassNames(source.targetTexts)
        let classSource: Source.ClassSource = trained != nil ? .model
            : options.classNames != nil ? .config(configProblem) : .trainingFile(path)
        let targets = try source.targets(task: task, classNames: classNames, given: classSource)

        // The rows of each split, as positions into `source.rows`.
        let labels: [Int32]? = if case .classes(let labels) = targets { labels } else { nil }
        var trainRows = Array(0..<source.rows.count)
        var testSource: Source?
        var testRows: [Int] = []
        if let testPath = options.testPath {
            let testTable = try CSVTable(path: testPath)
            let testColumns = try ColumnChoice(table: testTable, matching: columns, trainingPath: path)
            testSource = try Source(table: testTable, columns: testColumns, missingValues: missingValues,
                                    missing: options.missing, notes: &notes)
        } else {
            let rowCount = trainRows.count
            (trainRows, testRows) = split(trainRows, labels: labels, classCount: classNames.count,
                                          fraction: options.testSplit, seed: seed)
            // Eval (`trained`) may read a small file for its training split; it refuses an empty split it is asked for.
            if trained == nil, options.testSplit > 0, testRows.isEmpty {
                throw configProblem("data.test_split", "\(options.testSplit) of the \(rowCount) rows of \(path) holds out no "
                    + "test row (round(\(rowCount) × \(options.testSplit)) = 0); expected a test_split of at least "
                    + "\(ConsoleFormat.significant(0.5 / Double(rowCount))), more rows, or data.test_path")
            }
        }
        let validationRows: [Int]
        if let (folds, fold) = options.folds {
            if trained == nil, folds > trainRows.count {
                throw configProblem("data.folds", tooManyFolds(folds, rows: trainRows.count, of: path))
            }
            (trainRows, validationRows) = split(trainRows, labels: labels, classCount: classNames.count, fold: fold,
                                                of: folds, seed: seed &+ 1)
        } else {
            (trainRows, validationRows) = split(trainRows, labels: labels, classCount: classNames.count,
                                                fraction: options.validationSplit, seed: seed &+ 1)
        }

        let schema: TableSchema
        if let trainedSchema {
            schema = trainedSchema
        } else {
            schema = try fit(columns: columns, source: source, trainRows: trainRows, task: task, options: options)
        }
        var filled = 0
        func dataset(_ rows: [Int], of source: Source, targets: Targets, split: String) throws(NNTrainError) -> Dataset {
            var recordNotes = TableSchema.RecordNotes()
            let features = try source.encode(rows, with: schema, notes: &recordNotes)
            filled += recordNotes.filled
            if recordNotes.unknownCategories > 0 {
                let count = recordNotes.unknownCategories
                warnings.append("\(split): \(count) value\(count == 1 ? "" : "s") "
                    + "of categorical columns not seen in the training split, encoded as all zeros")
            }
            let rowTargets: Targets = switch targets {
            case .classes(let labels): .classes(rows.map { labels[$0] })
            case .values(let values): .values(rows.map { values[$0] })
            }
            return Dataset(name: name, features: .floats(features), featureCount: schema.width, featureNames: schema.encodedNames,
                           targets: rowTargets, classNames: classNames, targetName: columns.target)
        }
        let train = try dataset(trainRows, of: source, targets: targets, split: "training split")
        let validation = try dataset(validationRows, of: source, targets: targets, split: "validation split")
        let test: Dataset
        if let testSource {
            let testTargets = try testSource.targets(task: task, classNames: classNames, given: classSource)
            test = try dataset(Array(0..<testSource.rows.count), of: testSource, targets: testTargets, split: "test file")
        } else {
            test = try dataset(testRows, of: source, targets: targets, split: "test split")
        }
        if filled > 0 {
            notes.append("imputed \(filled) missing feature value\(filled == 1 ? "" : "s") with the training split's means and "
                + "most frequent categories")
        }
        if options.describesItself, trained == nil, case .classes(let labels) = train.targets {
            var counts = [Int](repeating: 0, count: classNames.count)
            for label in labels { counts[Int(label)] += 1 }
            notes.append("classes of the training split: "
                + zip(classNames, counts).map { "\($0) \($1)" }.joined(separator: ", "))
            for (name, count) in zip(classNames, counts) where count == 0 {
                warnings.append("class \(quoted(name)) has no rows in the training split; the model cannot learn it")
            }
            let present = counts.indices.filter { counts[$0] > 0 }
            if let largest = present.max(by: { counts[$0] < counts[$1] }),
               let smallest = present.min(by: { counts[$0] < counts[$1] }),
               counts[largest] > imbalanceRatio * counts[smallest] {
                warnings.append("unequal classes: \(quoted(classNames[largest])) has \(counts[largest]) rows of the "
                    + "training split, more than \(imbalanceRatio)× the \(counts[smallest]) of "
                    + "\(quoted(classNames[smallest])); accuracy alone can hide a class the model never predicts "
                    + "(see the per-class recall of nntrain eval)")
            }
        }
        let truth = try BonusTruth.read(besideCSV: path, features: columns.features)
        return LoadedDataset(trainAll: train, test: test, validationSeed: seed &+ 1, schema: .table(schema), bonusTruth: truth,
                             validation: validation, notes: notes, warnings: warnings)
    }

    // MARK: Columns

    /// Where the feature and target columns are in a file's header.
    struct ColumnChoice {
        var features: [String]
        var featurePositions: [Int]
        var target: String
        var targetPosition: Int

        /// The columns of the training file: the trained schema's, or those the options name; a name
        /// of the options absent from the header is refused as the key's config error.
        init(table: CSVTable, options: Options, trained: TableSchema?,
             configProblem: (String, String) -> NNTrainError) throws(NNTrainError) {
            if let trained {
                features = trained.columns.map(\.name)
                target = trained.target
                featurePositions = try table.positions(of: features, expected: "expected the columns the model was "
                    + "trained on: \(features.joined(separator: ", "))")
            } else {
                let header = Set(table.header)
                let named: [(key: String, names: [String])] = [
                    ("target", [options.target]), ("features", options.features ?? []), ("drop", options.drop),
                    ("categorical", options.categorical),
                ]
                for (key, names) in named {
                    if let absent = names.first(where: { !header.contains($0) }) {
                        throw configProblem("data.\(key)", "column \(quoted(absent)) is not in \(table.path), whose columns "
                            + "are: \(table.header.joined(separator: ", "))")
                    }
                }
                target = options.target
                var seen = Set<String>()
                features = (options.features ?? table.header).filter {
                    $0 != options.target && !options.drop.contains($0) && seen.insert($0).inserted
                }
                guard !features.isEmpty else {
                    throw configProblem(options.features == nil ? "data.drop" : "data.features", "leaves no feature column of "
                        + "\(table.path) besides the target; expected at least one")
                }
                featurePositions = try table.positions(of: features, expected: "")
            }
            targetPosition = try table.positions(of: [target], expected: "expected the target column '\(target)' "
                + "(data.target)")[0]
        }

        /// The same columns by name in another file (a test file): any order, other columns ignored.
        init(table: CSVTable, matching training: ColumnChoice, trainingPath: String) throws(NNTrainError) {
            features = training.features
            target = training.target
            let expected = "expected the columns of \(trainingPath): \((features + [target]).joined(separator: ", "))"
            featurePositions = try table.positions(of: features, expected: expected)
            targetPosition = try table.positions(of: [target], expected: expected)[0]
        }
    }

    // MARK: Rows

    /// A file's rows that are kept (target present; no missing feature value unless imputed).
    struct Source {
        let table: CSVTable
        let columns: ColumnChoice
        /// The table rows kept, in file order.
        let rows: [Int]
        /// Whether each distinct text of each feature column (by feature index) and of the target is missing.
        private let featureMissing: [[Bool]]

        init(table: CSVTable, columns: ColumnChoice, missingValues: Set<String>, missing: MissingPolicy,
             notes: inout [String]) throws(NNTrainError) {
            self.table = table
            self.columns = columns
            featureMissing = columns.featurePositions.map { table.texts[$0].map(missingValues.contains) }
            let targetMissing = table.texts[columns.targetPosition].map(missingValues.contains)
            var rows: [Int] = []
            var missingTargets = 0, droppedForFeatures = 0
            rows: for row in 0..<table.rowCount {
                if targetMissing[Int(table.codes[columns.targetPosition][row])] {
                    missingTargets += 1
                    continue
                }
                if missing != .impute {
                    for (index, position) in columns.featurePositions.enumerated()
                    where featureMissing[index][Int(table.codes[position][row])] {
                        if missing == .dropRows {
                            droppedForFeatures += 1
                            continue rows
                        }
                        throw .data(table.place(ofRow: row), "column '\(columns.features[index])': the value is missing "
                            + "('\(table.text(row: row, column: position))'); expected a value, or data.missing: drop_rows "
                            + "or impute")
                    }
                }
                rows.append(row)
            }
            if missingTargets > 0 {
                notes.append("dropped \(missingTargets) row\(missingTargets == 1 ? "" : "s") of \(table.path) whose target "
                    + "'\(columns.target)' is missing")
            }
            if droppedForFeatures > 0 {
                notes.append("dropped \(droppedForFeatures) row\(droppedForFeatures == 1 ? "" : "s") of \(table.path) with a "
                    + "missing feature value (data.missing: drop_rows)")
            }
            guard !rows.isEmpty else {
                throw .data(table.path, "no rows are left once rows with a missing target"
                    + (missing == .dropRows ? " or feature" : "") + " are dropped; expected at least one")
            }
            self.rows = rows
        }

        /// The target text of each kept row.
        var targetTexts: [String] { rows.map { table.text(row: $0, column: columns.targetPosition) } }

        /// Whether `row` (a table row) misses its value of feature `index`.
        func isMissing(row: Int, feature index: Int) -> Bool {
            featureMissing[index][Int(table.codes[columns.featurePositions[index]][row])]
        }

        /// Who fixed the classes, for the error of a target outside them: `data.class_names`, the
        /// model (eval), or the values of the training file at this path.
        enum ClassSource {
            case config((String, String) -> NNTrainError)
            case model
            case trainingFile(String)
        }

        /// The kept rows' targets: class indices into `classNames`, or numbers.
        func targets(task: PredictionTask, classNames: [String], given: ClassSource) throws(NNTrainError) -> Targets {
            let position = columns.targetPosition
            if task == .regression {
                var values: [Float] = []
                values.reserveCapacity(rows.count)
                for row in rows {
                    values.append(try CSVReader.number(table.text(row: row, column: position), column: columns.target,
                                                       at: table.place(ofRow: row)))
                }
                return .values(values)
            }
            let lookup = ClassLookup(classNames: classNames)
            var labels: [Int32] = []
            labels.reserveCapacity(rows.count)
            for row in rows {
                let text = table.text(row: row, column: position)
                guard let label = lookup.label(of: text) else {
                    let known = classNames.joined(separator: ", ")
                    switch given {
                    case .config(let problem):
                        throw problem("data.class_names", "does not list \(quoted(text)), the target of "
                            + "\(table.place(ofRow: row)); "
                            + "expected every class of column '\(columns.target)'")
                    case .model:
                        throw .data(table.place(ofRow: row), "column '\(columns.target)': class \(quoted(text)) is not one the "
                            + "model was trained on; expected one of: \(known)")
                    case .trainingFile(let path):
                        throw .data(table.place(ofRow: row), "column '\(columns.target)': class \(quoted(text)) does not occur "
                            + "in \(path); expected one of: \(known)")
                    }
                }
                labels.append(label)
            }
            return .classes(labels)
        }

        /// The model inputs of `rows` (positions into `self.rows`), row-major, encoded with `schema`.
        func encode(_ rows: [Int], with schema: TableSchema, notes: inout TableSchema.RecordNotes) throws(NNTrainError)
            -> [Float]
        {
            let width = schema.width
            var features = [Float](repeating: 0, count: rows.count * width)
            var fields = [String](repeating: "", count: columns.featurePositions.count)
            try features.withUnsafeMutableBufferPointer { buffer throws(NNTrainError) in
                for (index, row) in rows.enumerated() {
                    let tableRow = self.rows[row]
                    for (column, position) in columns.featurePositions.enumerated() {
                        fields[column] = table.text(row: tableRow, column: position)
                    }
                    let destination = UnsafeMutableBufferPointer(rebasing: buffer[(index * width)..<(index * width + width)])
                    try schema.encode(fields, into: destination, place: table.place(ofRow: tableRow), notes: &notes)
                }
            }
            return features
        }
    }

    // MARK: Task, classes, splits, fitting

    /// The task `setting` fixes, or under `auto` the one the target column's values call for, with
    /// the reason in words.
    static func choose(_ setting: TaskSetting, target source: Source) throws(NNTrainError)
        -> (PredictionTask, String)
    {
        if let task = setting.task { return (task, "data.task") }
        let name = source.columns.target
        var distinct = Set<String>()
        var nonInteger: String?
        for text in source.targetTexts where distinct.insert(ClassLookup.canonical(text)).inserted {
            guard let value = number(text) else {
                return (.classification, "data.task auto: target '\(name)' holds text such as \(quoted(text))")
            }
            if nonInteger == nil, value != value.rounded() { nonInteger = text }
        }
        if let nonInteger {
            return (.regression, "data.task auto: target '\(name)' holds numbers that are not integers, such as \(nonInteger)")
        }
        if distinct.count <= maxClassesOfIntegers {
            return (.classification, "data.task auto: target '\(name)' holds \(distinct.count) distinct integers, "
                + "at most \(maxClassesOfIntegers)")
        }
        return (.regression, "data.task auto: target '\(name)' holds \(distinct.count) distinct integers, "
            + "more than \(maxClassesOfIntegers)")
    }

    /// `text` as a number when it is a finite decimal one (`CSVReader.number`'s rule).
    static func number(_ text: String) -> Double? {
        (try? CSVReader.number(text, column: "", at: "")).flatMap { _ in Double(text) }
    }

    /// The distinct values, sorted: when every one is a number, the distinct values (each by its
    /// `ClassLookup.canonical` text, so `1` and `1.0` are one class) in numeric order; else the
    /// distinct texts in text order.
    static func sortedClassNames(_ texts: [String]) -> [String] {
        let distinct = Set(texts)
        guard distinct.allSatisfy({ number($0) != nil }) else { return distinct.sorted() }
        return Set(distinct.map(ClassLookup.canonical)).sorted { (number($0) ?? 0, $0) < (number($1) ?? 0, $1) }
    }

    /// `rows` split into kept and held out (each in order) by `Dataset.heldOutRows`, stratified by
    /// the rows' `labels` (indexed by row) when given.
    static func split(_ rows: [Int], labels: [Int32]?, classCount: Int, fraction: Double, seed: UInt64)
        -> (kept: [Int], heldOut: [Int])
    {
        let heldOut = if let labels {
            Dataset.heldOutRows(labels: rows.map { labels[$0] }, classCount: classCount, fraction: fraction, seed: seed)
        } else {
            Dataset.heldOutRows(count: rows.count, fraction: fraction, seed: seed)
        }
        return (rows.indices.filter { !heldOut[$0] }.map { rows[$0] }, rows.indices.filter { heldOut[$0] }.map { rows[$0] })
    }

    /// `rows` split into the other folds and fold `fold` of `folds` (each in order) by `Dataset.folds`,
    /// stratified by the rows' `labels` (indexed by row) when given.
    static func split(_ rows: [Int], labels: [Int32]?, classCount: Int, fold: Int, of folds: Int, seed: UInt64)
        -> (kept: [Int], heldOut: [Int])
    {
        let assigned = Dataset.folds(count: rows.count, labels: labels.map { labels in rows.map { labels[$0] } },
                                     classCount: classCount, folds: folds, seed: seed)
        return (rows.indices.filter { assigned[$0] != fold }.map { rows[$0] },
                rows.indices.filter { assigned[$0] == fold }.map { rows[$0] })
    }

    /// The refusal of more folds than training rows (a fold would be empty).
    static func tooManyFolds(_ folds: Int, rows: Int, of path: String) -> String {
        "\(folds) folds of the \(rows) training rows of \(path) leave a fold empty; expected at most \(rows) folds"
    }

    /// The schema fitted on `trainRows` (positions into `source.rows`), as steps 4 and 5 of the
    /// type's comment say.
    static func fit(columns: ColumnChoice, source: Source, trainRows: [Int], task: PredictionTask, options: Options)
        throws(NNTrainError) -> TableSchema
    {
        let table = source.table
        var fitted: [TableSchema.Column] = []
        for (index, (name, position)) in zip(columns.features, columns.featurePositions).enumerated() {
            let texts = table.texts[position]
            let codes = table.codes[position]
            var used = [Bool](repeating: false, count: texts.count)
            for row in source.rows where !source.isMissing(row: row, feature: index) { used[Int(codes[row])] = true }
            let values = texts.map(number)
            let categorical = options.categorical.contains(name)
                || (options.textIsCategorical && texts.indices.contains { used[$0] && values[$0] == nil })
            var counts = [Int](repeating: 0, count: texts.count)
            var sum = 0.0, present = 0
            for kept in trainRows {
                let row = source.rows[kept]
                guard !source.isMissing(row: row, feature: index) else { continue }
                let code = Int(codes[row])
                counts[code] += 1
                if !categorical, let value = values[code] {
                    sum += value
                    present += 1
                }
            }
            if options.missing == .impute, !counts.contains(where: { $0 > 0 }) {
                throw .data(table.path, "column '\(name)' has no value in the training split to impute its missing ones "
                    + "from; expected some values, or the column in data.drop")
            }
            let impute = options.missing == .impute
            if categorical {
                let categories = texts.indices.filter { counts[$0] > 0 }.map { texts[$0] }.sorted()
                let mostFrequent = texts.indices.filter { counts[$0] > 0 }
                    .min { (-counts[$0], texts[$0]) < (-counts[$1], texts[$1]) }.map { texts[$0] }
                fitted.append(.init(name: name,
                                    encoding: .categorical(categories: categories, fill: impute ? mostFrequent : nil)))
            } else {
                fitted.append(.init(name: name, encoding: .numeric(fill: impute ? Float(sum / Double(max(present, 1))) : nil)))
            }
        }
        return TableSchema(columns: fitted, target: columns.target, task: task, missingValues: options.missingValues)
    }
}
