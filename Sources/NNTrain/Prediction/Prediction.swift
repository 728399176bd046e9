import Foundation

/// What `nntrain predict` computes: a checkpoint's predictions for every row of an input file, as
/// CSV, written batch by batch, with figures against the target when the input holds it.
///
/// Input: for a model of a CSV dataset (`InputSchema.table`), a CSV file (or standard input, `-`)
/// holding the model's feature columns by name, in any order, other columns ignored and the target
/// column optional; each record is encoded as in training (`TableSchema.encode`: one-hot
/// categories, a category not seen in training as all zeros and counted, missing values filled as
/// the checkpoint says). For a model of images (`InputSchema.images`), an IDX images file (or
/// standard input, `-`; raw or gzipped either way) of the model's image size.
///
/// Output, one CSV record per input row (RFC 4180: a field holding a comma, a quote or a line break
/// is quoted, its quotes doubled):
///
///     row               0-based position of the row in the input
///     <kept columns>    the input fields named by keptColumns, as read
///     prediction        the class name of the largest logit (the first of equal ones, as eval's
///                       confusion matrix), or the predicted value of a regression
///     probability       the softmax probability of that class (classification)
///     p_<class>         with `probabilities`, each class's probability, in the model's class order
///     top1, p_top1, …   with `topK` = k, the k most probable classes and their probabilities
///     prediction_1, …   an ensemble (several checkpoints, `Ensemble`): each member's own prediction,
///                       in the order the checkpoints were given; `prediction` and the
///                       probabilities are then the ensemble's (the mean of the members' softmax
///                       probabilities, or of their values)
///
/// Numbers are Swift's shortest text that reads back as the same Float (`Float.description`), so
/// files compare exactly. Rows go through the network in batches of `batchSize` (memory is bounded
/// by the batch, not the file); with the default of 1024, eval's, the outputs of the rows of an
/// eval split equal eval's to the last bit.
public enum Prediction {
    /// Rows per batch unless asked otherwise: eval's (`Trainer.evaluationRows`).
    public static let defaultBatchSize = Trainer.evaluationRows
    /// The largest batch: its buffers (inputs, and each layer's outputs) stay within a few hundred
    /// MB for the models a config allows of Fashion-MNIST's size (65,536 × 784 floats is 205 MB).
    public static let maxBatchSize = 65_536

    public struct Options: Sendable {
        /// Input columns copied to the output after `row` (CSV input only).
        public var keptColumns: [String] = []
        /// One `p_<class>` column per class.
        public var probabilities = false
        /// The k most probable classes with their probabilities (0: none).
        public var topK = 0
        public var batchSize = Prediction.defaultBatchSize
        /// The model's weights quantized (`--quantize`); nil: as trained.
        public var quantization: QuantizationSettings?

        public init(keptColumns: [String] = [], probabilities: Bool = false, topK: Int = 0,
                    batchSize: Int = Prediction.defaultBatchSize, quantization: QuantizationSettings? = nil) {
            self.keptColumns = keptColumns
            self.probabilities = probabilities
            self.topK = topK
            self.batchSize = batchSize
            self.quantization = quantization
        }
    }

    /// What a prediction run found, for the lines on standard error.
    public struct Summary: Equatable, Sendable {
        public var task: PredictionTask
        public var rows = 0
        /// Categorical fields whose category the model did not see in training (encoded as zeros).
        public var unknownCategories = 0
        /// Missing fields replaced by their column's training fill.
        public var filledValues = 0
        /// With a target column: the rows whose target is present (not a missing-value token).
        public var labelledRows = 0
        /// Classification with a target: rows predicted right, and rows whose class the model does
        /// not know (counted as wrong).
        public var correct = 0
        public var unknownLabels = 0
        /// Regression with a target: MSE and R² (1 − SS_res/SS_tot, SS_tot = Σy² − (Σy)²/n).
        public var meanSquaredError: Double?
        public var r2: Double?
        /// With `Options.quantization`: what it made of the model.
        public var quantization: QuantizationReport?
        /// An ensemble's members' own figures against the target (`rows` … `r2` of each alone; their
        /// `members` empty), in the order given; empty for a single checkpoint.
        public var members: [Member] = []

        /// One member of an ensemble and its figures.
        public struct Member: Equatable, Sendable {
            public var path: String
            public var correct = 0
            public var meanSquaredError: Double?
            public var r2: Double?
        }

        /// Rows predicted right over the labelled rows; nil without labels or for a regression.
        public var accuracy: Double? {
            task == .classification && labelledRows > 0 ? Double(correct) / Double(labelledRows) : nil
        }
    }

    /// Predicts every row of `inputPath` (`-`: standard input) with the checkpoint at
    /// `checkpointPath`, handing the output CSV to `write` a batch at a time (the header with the
    /// first). Throws `.usage` for options the model cannot honour (checked before the input is
    /// read), `.data` for a malformed checkpoint or input (the first bad row, with its line), or
    /// whatever `write` throws.
    public static func run(checkpointPath: String, inputPath: String, options: Options,
                           write: ([UInt8]) throws(NNTrainError) -> Void) throws(NNTrainError) -> Summary
    {
        try run(checkpointPaths: [checkpointPath], inputPath: inputPath, options: options, write: write)
    }

    /// `run(checkpointPath:...)` with the ensemble of the checkpoints at `checkpointPaths` (one: that
    /// model alone), refused as `Predictor(checkpointPaths:)` refuses it.
    public static func run(checkpointPaths: [String], inputPath: String, options: Options,
                           write: ([UInt8]) throws(NNTrainError) -> Void) throws(NNTrainError) -> Summary
    {
        guard (1...maxBatchSize).contains(options.batchSize) else {
            throw NNTrainError(.usage, "--batch-size \(options.batchSize): expected a number of rows from 1 to \(maxBatchSize)")
        }
        let predictor = try Predictor(checkpointPaths: checkpointPaths, batchCapacity: options.batchSize,
                                      quantization: options.quantization)
        return try run(predictor: predictor, inputPath: inputPath, options: options, write: write)
    }

    /// `run` with a model already loaded, in batches of its `batchCapacity` (`options.batchSize` is
    /// not used): for a program that predicts many inputs with one checkpoint.
    public static func run(predictor: Predictor, inputPath: String, options: Options,
                           write: ([UInt8]) throws(NNTrainError) -> Void) throws(NNTrainError) -> Summary
    {
        let checkpointPath = predictor.checkpointPath
        let classCount = predictor.classNames.count
        if predictor.task == .regression, options.probabilities || options.topK > 0 {
            throw NNTrainError(.usage, "--probabilities and --top-k rank the classes of a classifier; "
                + "\(checkpointPath) is a regression model")
        }
        if options.topK > 0, options.topK > classCount {
            throw NNTrainError(.usage, "--top-k \(options.topK): expected an integer from 1 to \(classCount), "
                + "the number of classes of \(checkpointPath)")
        }
        let memberCount = predictor.memberPaths.count > 1 ? predictor.memberPaths.count : 0
        let outputColumns = PredictionWriter.outputColumns(classNames: predictor.classNames, options: options,
                                                           members: memberCount)
        if let clash = options.keptColumns.first(where: outputColumns.contains) {
            throw NNTrainError(.usage, "--keep-columns \(clash): the output has a column of that name already ("
                + outputColumns.joined(separator: ", ") + "); expected other columns of the input")
        }
        var rows: any PredictionRows
        var targetColumn = ""
        switch predictor.schema {
        case .images(let height, let width):
            guard options.keptColumns.isEmpty else {
                throw NNTrainError(.usage, "--keep-columns copies columns of a CSV input; \(checkpointPath) "
                    + "predicts images")
            }
            rows = try ImageRows(path: inputPath, rows: height, columns: width)
        case .table(let table):
            let input = try SequentialInput(path: inputPath, expected: "a CSV file with the model's feature columns")
            rows = try TableRows(input: input, table: table, keptColumns: options.keptColumns)
            targetColumn = table.target
        }

        var writer = PredictionWriter(classNames: predictor.classNames, options: options, keptColumns: rows.keptColumns,
                                      members: memberCount, probabilitiesGiven: predictor.outputsAreProbabilities)
        let classLookup = ClassLookup(classNames: predictor.classNames)
        let missingValues: Set<String> = if case .table(let table) = predictor.schema { Set(table.missingValues) } else { [] }
        var summary = Summary(task: predictor.task)
        summary.quantization = predictor.quantization
        summary.members = memberCount == 0 ? [] : predictor.memberPaths.map { Summary.Member(path: $0) }
        var regression = RegressionSums()
        var memberRegression = [RegressionSums](repeating: RegressionSums(), count: memberCount)
        var memberPredictions = [Int](repeating: 0, count: memberCount)
        var batch = PredictionBatch()
        var text = Array(writer.header.utf8)
        while true {
            try rows.read(into: &batch, predictor: predictor)
            guard batch.rows > 0 else { break }
            let outputs = predictor.outputs(rows: batch.rows)
            let members = (0..<memberCount).map(predictor.memberOutputs)
            for row in 0..<batch.rows {
                let output = UnsafeBufferPointer(start: outputs.base + row * outputs.columns, count: outputs.columns)
                let memberRows = members.map { UnsafeBufferPointer(start: $0.base + row * $0.columns, count: $0.columns) }
                let predicted = writer.append(row: summary.rows + row, output: output,
                                              kept: batch.kept[(row * rows.keptColumns.count)...].prefix(rows.keptColumns.count),
                                              members: memberRows, memberPredictions: &memberPredictions, to: &text)
                guard row < batch.targets.count, !missingValues.contains(batch.targets[row].text) else { continue }
                let (target, line) = batch.targets[row]
                summary.labelledRows += 1
                if classCount > 0 {
                    guard let label = classLookup.label(of: target) else {
                        summary.unknownLabels += 1
                        continue
                    }
                    if Int(label) == predicted { summary.correct += 1 }
                    for (index, memberPredicted) in memberPredictions.enumerated() where Int(label) == memberPredicted {
                        summary.members[index].correct += 1
                    }
                } else {
                    let place = "\(SequentialInput.name(of: inputPath)):\(line)"
                    let value = try CSVReader.number(target, column: targetColumn, at: place)
                    regression.add(prediction: output[0], target: value)
                    for (index, member) in memberRows.enumerated() {
                        memberRegression[index].add(prediction: member[0], target: value)
                    }
                }
            }
            summary.rows += batch.rows
            try write(text)
            text.removeAll(keepingCapacity: true)
        }
        summary.unknownCategories = rows.notes.unknownCategories
        summary.filledValues = rows.notes.filled
        if classCount == 0, regression.count > 0 {
            summary.meanSquaredError = regression.meanSquaredError
            summary.r2 = regression.r2
            for (index, sums) in memberRegression.enumerated() {
                summary.members[index].meanSquaredError = sums.meanSquaredError
                summary.members[index].r2 = sums.r2
            }
        }
        return summary
    }
}

/// The output CSV's header and records (see `Prediction`).
struct PredictionWriter {
    let classNames: [String]
    let options: Prediction.Options
    let header: String
    /// The outputs are probabilities already (an ensemble's p̄), not logits.
    let probabilitiesGiven: Bool
    private var probabilities: [Float] = []
    private var ranking: [Int] = []

    init(classNames: [String], options: Prediction.Options, keptColumns: [String], members: Int = 0,
         probabilitiesGiven: Bool = false) {
        self.classNames = classNames
        self.options = options
        self.probabilitiesGiven = probabilitiesGiven
        let columns = Self.outputColumns(classNames: classNames, options: options, members: members)
        header = ([columns[0]] + keptColumns + columns.dropFirst()).map(Self.field).joined(separator: ",") + "\n"
    }

    /// The output's own columns, in order (the kept columns go after `row`): row, prediction,
    /// probability (classification), p_<class> (`probabilities`), top1, p_top1, … (`topK`), and an
    /// ensemble's `members` columns prediction_1, ….
    static func outputColumns(classNames: [String], options: Prediction.Options, members: Int = 0) -> [String] {
        var columns = ["row", "prediction"]
        if !classNames.isEmpty { columns.append("probability") }
        if options.probabilities { columns += classNames.map { "p_\($0)" } }
        for rank in stride(from: 1, through: options.topK, by: 1) { columns += ["top\(rank)", "p_top\(rank)"] }
        for member in stride(from: 1, through: members, by: 1) { columns.append("prediction_\(member)") }
        return columns
    }

    /// Appends the record of input row `row` with the network's `output` (and an ensemble's
    /// `members`' own outputs) to `text`; returns the predicted class (0 for a regression) and sets
    /// `memberPredictions` to each member's.
    mutating func append(row: Int, output: UnsafeBufferPointer<Float>, kept: ArraySlice<String>,
                         members: [UnsafeBufferPointer<Float>] = [], memberPredictions: inout [Int],
                         to text: inout [UInt8]) -> Int {
        var record = String(row)
        for field in kept { record += "," + Self.field(field) }
        var memberFields = ""
        for (index, member) in members.enumerated() {
            if classNames.isEmpty {
                memberFields += "," + member[0].description
            } else {
                Predictor.ranking(member, first: 1, into: &ranking)
                memberPredictions[index] = ranking[0]
                memberFields += "," + Self.field(classNames[ranking[0]])
            }
        }
        guard !classNames.isEmpty else {
            text.append(contentsOf: (record + "," + output[0].description + memberFields + "\n").utf8)
            return 0
        }
        if probabilitiesGiven {
            probabilities.removeAll(keepingCapacity: true)
            probabilities.append(contentsOf: output)
        } else {
            Predictor.probabilities(output, into: &probabilities)
        }
        Predictor.ranking(output, first: max(options.topK, 1), into: &ranking)
        let predicted = ranking[0]
        record += "," + Self.field(classNames[predicted]) + "," + probabilities[predicted].description
        if options.probabilities {
            for probability in probabilities { record += "," + probability.description }
        }
        for index in ranking.prefix(options.topK) {
            record += "," + Self.field(classNames[index]) + "," + probabilities[index].description
        }
        text.append(contentsOf: (record + memberFields + "\n").utf8)
        return predicted
    }

    /// `text` as an RFC 4180 field: quoted, with its quotes doubled, when it holds a comma, a quote,
    /// a line break, or spaces or tabs at either end (which a reader trims, as nntrain's does).
    static func field(_ text: String) -> String {
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0.isNewline }
            || text.first == " " || text.last == " " || text.first == "\t" || text.last == "\t"
        return needsQuotes ? "\"" + text.replacing("\"", with: "\"\"") + "\"" : text
    }
}
