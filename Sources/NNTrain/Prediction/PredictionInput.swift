/// What one batch of input rows carries besides the model inputs (which go to `Predictor.inputRow`).
struct PredictionBatch {
    /// Rows in the batch.
    var rows = 0
    /// The `--keep-columns` fields of each row, row-major (rows × kept columns), as read.
    var kept: [String] = []
    /// The target field of each row and the line it is on, when the input has the target column.
    var targets: [(text: String, line: Int)] = []

    mutating func clear() {
        rows = 0
        kept.removeAll(keepingCapacity: true)
        targets.removeAll(keepingCapacity: true)
    }
}

/// A source of input rows for `Prediction`, read one batch at a time.
protocol PredictionRows {
    /// The columns copied to the output (`--keep-columns`).
    var keptColumns: [String] { get }
    /// What encoding found so far (unknown categories, filled missing values).
    var notes: TableSchema.RecordNotes { get }
    /// Reads up to `predictor.batchCapacity` rows into `predictor`'s input rows and `batch`
    /// (cleared first); 0 rows at the end.
    mutating func read(into batch: inout PredictionBatch, predictor: Predictor) throws(NNTrainError)
}

/// The records of a CSV file (or standard input), read in chunks (`CSVReader.Records`), whose
/// feature columns are found by name in the header (in any order; other columns are ignored) and
/// encoded with the checkpoint's `TableSchema`. Errors name the file and the record's line.
struct TableRows: PredictionRows {
    private var records: CSVReader.Records
    private let table: TableSchema
    private let path: String
    private let header: [String]
    private let featurePositions: [Int]
    private let keptPositions: [Int]
    private let targetPosition: Int?
    private var fields: [String] = []
    private(set) var notes = TableSchema.RecordNotes()
    let keptColumns: [String]
    /// Whether a data record has been read (a file of a header alone is refused).
    private var sawRecord = false

    init(input: SequentialInput, table: TableSchema, keptColumns: [String]) throws(NNTrainError) {
        records = CSVReader.Records(reading: input)
        self.table = table
        path = input.name
        let (line, names) = try records.header()
        header = names
        let features = table.columns.map(\.name)
        featurePositions = try CSVReader.positions(of: features, in: names, place: "\(path):\(line)",
                                                       expected: CSVReader.expectedColumns(features))
        do {
            keptPositions = try CSVReader.positions(of: keptColumns, in: names, place: "\(path):\(line)",
                                                       expected: CSVReader.expectedColumns(names))
        } catch {
            throw NNTrainError(error.kind, error.message + " (--keep-columns names columns of the input)")
        }
        targetPosition = try names.contains(table.target)
            ? CSVReader.positions(of: [table.target], in: names, place: "\(path):\(line)",
                                        expected: CSVReader.expectedColumns([table.target])).first
            : nil
        self.keptColumns = keptColumns
        fields.reserveCapacity(features.count)
    }

    mutating func read(into batch: inout PredictionBatch, predictor: Predictor) throws(NNTrainError) {
        batch.clear()
        while batch.rows < predictor.batchCapacity, let (line, record) = try records.next() {
            let place = "\(path):\(line)"
            try CSVReader.checkFieldCount(record, header: header, place: place)
            fields.removeAll(keepingCapacity: true)
            for position in featurePositions { fields.append(record[position]) }
            try table.encode(fields, into: predictor.inputRow(batch.rows), place: place, notes: &notes)
            for position in keptPositions { batch.kept.append(record[position]) }
            if let targetPosition { batch.targets.append((record[targetPosition], line)) }
            batch.rows += 1
            sawRecord = true
        }
        if batch.rows == 0, !sawRecord { throw CSVReader.noDataRows(path) }
    }
}

/// The images of an IDX file or standard input (rank 3, unsigned bytes, raw or gzipped), each row
/// its pixels' byte values, read a batch at a time (`IDXImageStream`): memory holds one batch
/// however long the input.
struct ImageRows: PredictionRows {
    private let images: IDXImageStream
    private let width: Int
    let keptColumns: [String] = []
    let notes = TableSchema.RecordNotes()

    /// The images at `path` (standard input for `-`), which must be `rows` × `columns` as the model's.
    init(path: String, rows: Int, columns: Int) throws(NNTrainError) {
        images = try IDXImageStream(path: path)
        let size = images.imageSize
        guard (size.rows, size.columns) == (rows, columns) else {
            throw .data(images.path, "images of \(size.rows)×\(size.columns) pixels; the model takes images of "
                + "\(rows)×\(columns)")
        }
        guard images.count > 0 else { throw .data(images.path, "no images; expected at least one") }
        width = rows * columns
    }

    mutating func read(into batch: inout PredictionBatch, predictor: Predictor) throws(NNTrainError) {
        batch.clear()
        let pixels = try images.next(maxImages: predictor.batchCapacity)
        let rows = pixels.count / width
        pixels.withUnsafeBufferPointer { pixels in
            for row in 0..<rows {
                let source = pixels.baseAddress.unsafelyUnwrapped + row * width
                let destination = predictor.inputRow(row)
                for pixel in 0..<width { destination[pixel] = Float(source[pixel]) }
            }
        }
        batch.rows = rows
    }
}
