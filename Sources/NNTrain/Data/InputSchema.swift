/// What the targets of a dataset are: class labels or real values.
public enum PredictionTask: String, Codable, CaseIterable, Sendable {
    /// One label per row out of a fixed list of classes: accuracies exist; cross_entropy fits.
    case classification
    /// One real value per row: mse, mae or huber fit.
    case regression

    /// The losses that fit the task, the usual one (the default) first.
    public var fittingLosses: [LossKind] {
        switch self {
        case .classification: [.crossEntropy]
        case .regression: [.mse, .mae, .huber]
        }
    }
}

/// How raw input becomes a row of the model's input, as fitted on the training split: what a
/// checkpoint carries (metadata `nntrain.input`, JSON: `{"images": {"rows": 28, "columns": 28}}` or
/// `{"table": {"columns": [...], "target": ..., "task": ..., "missing_values": [...]}}`) so that
/// `eval`, `predict` and `export` need only the checkpoint and raw files. The normalisation that
/// follows it is the checkpoint's `Normalizer`.
public enum InputSchema: Codable, Equatable, Sendable {
    /// One-channel images of `rows` × `columns` unsigned bytes, read row by row (IDX); the model's
    /// input is the `rows · columns` pixels.
    case images(rows: Int, columns: Int)
    /// Named columns of a CSV file, encoded as `TableSchema` says.
    case table(TableSchema)

    /// The schema of a dataset built in code rather than read from a file: each feature a numeric
    /// column, named by `featureNames` (`x0`, `x1`, ... without them), nothing missing allowed.
    public static func columns(of dataset: Dataset) -> InputSchema {
        let names = dataset.featureNames.isEmpty ? (0..<dataset.featureCount).map { "x\($0)" } : dataset.featureNames
        let task: PredictionTask = if case .classes = dataset.targets { .classification } else { .regression }
        return .table(TableSchema(columns: names.map { TableSchema.Column(name: $0, encoding: .numeric(fill: nil)) },
                                  target: dataset.targetName ?? "target", task: task, missingValues: []))
    }

    /// The model's input width: pixels per image, or encoded CSV features.
    public var width: Int {
        switch self {
        case .images(let rows, let columns): rows * columns
        case .table(let table): table.width
        }
    }

    /// The name of each model input: `[]` for images; for a table `TableSchema.encodedNames`.
    public var encodedNames: [String] {
        switch self {
        case .images: []
        case .table(let table): table.encodedNames
        }
    }
}

extension InputSchema {
    private enum CodingKeys: String, CodingKey { case images, table }
    private enum ImageKeys: String, CodingKey { case rows, columns }

    /// Decodes and checks a schema read from a file (a checkpoint can be altered): images of at
    /// least 1×1 pixels whose count fits an IDX images file; a table whose column names are
    /// distinct and whose categories are sorted and distinct, as `TableSchema.encode`'s binary
    /// search needs them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.images) {
            let size = try container.nestedContainer(keyedBy: ImageKeys.self, forKey: .images)
            let rows = try size.decode(Int.self, forKey: .rows), columns = try size.decode(Int.self, forKey: .columns)
            let (pixels, overflow) = rows.multipliedReportingOverflow(by: columns)
            guard rows > 0, columns > 0, !overflow, pixels <= IDXImageSet.maxImagesFileBytes else {
                throw DecodingError.dataCorruptedError(forKey: .rows, in: size, debugDescription: "images of \(rows)×\(columns) "
                    + "pixels; expected at least 1×1 and at most \(IDXImageSet.maxImagesFileBytes) pixels")
            }
            self = .images(rows: rows, columns: columns)
        } else {
            let table = try container.decode(TableSchema.self, forKey: .table)
            if let problem = table.inconsistency {
                throw DecodingError.dataCorruptedError(forKey: .table, in: container, debugDescription: problem)
            }
            self = .table(table)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .images(let rows, let columns):
            var size = container.nestedContainer(keyedBy: ImageKeys.self, forKey: .images)
            try size.encode(rows, forKey: .rows)
            try size.encode(columns, forKey: .columns)
        case .table(let table):
            try container.encode(table, forKey: .table)
        }
    }
}

/// The columns of a CSV dataset and how one record becomes the model's input row, fitted on the
/// training split: numeric columns as their value, categorical columns one-hot over the categories
/// seen in training (sorted), a missing value (one of `missingValues`) replaced by the column's fill
/// when it has one (the imputer's training mean or most frequent category).
///
/// Encoded layout: the columns in `columns` order; a numeric column is one input, a categorical one
/// is one input per category (`name=category`, 1 for the row's category, 0 for the others). A
/// category not seen in training encodes as all zeros, as scikit-learn's
/// `OneHotEncoder(handle_unknown='ignore')`.
public struct TableSchema: Codable, Equatable, Sendable {
    /// How one feature column is encoded.
    public enum Encoding: Codable, Equatable, Sendable {
        /// The value as a number; a missing value becomes `fill` (nil: refused).
        case numeric(fill: Float?)
        /// One-hot over `categories` (sorted, as seen in the training split); a missing value is
        /// the category `fill` (nil: refused).
        case categorical(categories: [String], fill: String?)
    }

    /// A feature column: its name in the CSV header and its encoding.
    public struct Column: Codable, Equatable, Sendable {
        public var name: String
        public var encoding: Encoding

        public init(name: String, encoding: Encoding) {
            self.name = name
            self.encoding = encoding
        }

        /// Model inputs the column becomes: 1, or the number of categories.
        public var width: Int {
            switch encoding {
            case .numeric: 1
            case .categorical(let categories, _): categories.count
            }
        }
    }

    /// The feature columns, in the order their encodings are laid out.
    public var columns: [Column]
    /// The column the model predicts.
    public var target: String
    public var task: PredictionTask
    /// The field texts that mean "missing" (pandas' na_values), compared after trimming.
    public var missingValues: [String]

    /// The JSON names, snake_case as the rest of nntrain's files.
    private enum CodingKeys: String, CodingKey {
        case columns, target, task
        case missingValues = "missing_values"
    }

    public init(columns: [Column], target: String, task: PredictionTask, missingValues: [String]) {
        self.columns = columns
        self.target = target
        self.task = task
        self.missingValues = missingValues
    }

    /// The model's input width: the sum of the columns' widths.
    public var width: Int { columns.reduce(0) { $0 + $1.width } }

    /// The name of each model input: a numeric column's name, `name=category` for each category of a
    /// categorical one.
    public var encodedNames: [String] {
        columns.flatMap { column -> [String] in
            switch column.encoding {
            case .numeric: [column.name]
            case .categorical(let categories, _): categories.map { "\(column.name)=\($0)" }
            }
        }
    }

    /// What makes the schema unusable, nil when nothing does: a column name given twice, or a
    /// column's categories not sorted and distinct (the one-hot lookup searches them).
    var inconsistency: String? {
        var names = Set<String>()
        for column in columns {
            guard names.insert(column.name).inserted else { return "column '\(column.name)' appears twice" }
            if case .categorical(let categories, _) = column.encoding,
               let index = categories.indices.dropFirst().first(where: { !(categories[$0 - 1] < categories[$0]) }) {
                return "the categories of column '\(column.name)' are not sorted and distinct at '\(categories[index])'"
            }
        }
        return nil
    }

    /// Whether each model input is a one-hot indicator, which normalisation leaves as 0/1.
    public var isOneHot: [Bool] {
        columns.flatMap { column -> [Bool] in
            switch column.encoding {
            case .numeric: [false]
            case .categorical(let categories, _): Array(repeating: true, count: categories.count)
            }
        }
    }

    /// What encoding one record found besides its values.
    public struct RecordNotes: Equatable, Sendable {
        /// Categorical fields whose category was not seen in training (encoded as all zeros).
        public var unknownCategories = 0
        /// Missing fields replaced by their column's fill.
        public var filled = 0
        public init() {}
    }

    /// Encodes one record: `fields[i]` is the raw text of `columns[i]` (trimmed, unquoted), written to
    /// `destination[0..<width]`. A missing field takes its column's fill; one without a fill, or a
    /// numeric field that is not a finite decimal number, is refused as `place: column 'name': ...`.
    public func encode(_ fields: [String], into destination: UnsafeMutableBufferPointer<Float>, place: String,
                       notes: inout RecordNotes) throws(NNTrainError) {
        precondition(fields.count == columns.count && destination.count == width,
                     "TableSchema.encode: \(fields.count) fields for \(columns.count) columns")
        var offset = 0
        for (column, field) in zip(columns, fields) {
            let missing = missingValues.contains(field)
            switch column.encoding {
            case .numeric(let fill):
                if missing {
                    guard let fill else { throw Self.missing(column.name, field, place: place) }
                    destination[offset] = fill
                    notes.filled += 1
                } else {
                    destination[offset] = try CSVReader.number(field, column: column.name, at: place)
                }
                offset += 1
            case .categorical(let categories, let fill):
                var category = field
                if missing {
                    guard let fill else { throw Self.missing(column.name, field, place: place) }
                    category = fill
                    notes.filled += 1
                }
                for index in 0..<categories.count { destination[offset + index] = 0 }
                if let index = Self.position(of: category, in: categories) {
                    destination[offset + index] = 1
                } else {
                    notes.unknownCategories += 1
                }
                offset += categories.count
            }
        }
    }

    /// The index of `value` in the sorted `categories` (binary search), nil when absent.
    static func position(of value: String, in categories: [String]) -> Int? {
        var low = 0, high = categories.count
        while low < high {
            let middle = (low + high) / 2
            if categories[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < categories.count && categories[low] == value ? low : nil
    }

    private static func missing(_ column: String, _ field: String, place: String) -> NNTrainError {
        .data(place, "column '\(column)': the value is missing ('\(field)'); expected a value (the model was "
            + "trained with data.missing: refuse or drop_rows, so it has no fill for this column)")
    }
}
