/// The text of every field of a CSV file with a header row, read by `CSVReader`'s RFC 4180 records
/// (quotes, byte-order mark, CRLF and blank lines as it says), column by column: each cell is a code
/// into its column's distinct texts, so a column of few categories costs 4 bytes a row whatever its
/// texts, and every distinct text is looked at once (is it a number, is it missing).
///
/// Refused, naming the file and line: an empty file, a header without data rows, a record with
/// another number of fields than the header.
struct CSVTable {
    /// The file, for messages.
    let path: String
    /// The column names, as in the header row.
    let header: [String]
    /// The line the header row is on (after blank lines and a byte-order mark).
    let headerLine: Int
    /// The line each data record starts on (a quoted field may hold line breaks).
    private(set) var lines: [Int] = []
    /// `codes[column][row]` indexes `texts[column]`.
    private(set) var codes: [[Int32]]
    /// The distinct texts of each column, in the order first seen.
    private(set) var texts: [[String]]

    /// Reads the file at `path` (or standard input, `-`) in chunks (`CSVReader.Records`).
    init(path: String) throws(NNTrainError) {
        var records = CSVReader.Records(reading: try SequentialInput(path: path, expected: "a CSV file with a header row"))
        let (headerLine, names) = try records.header()
        var codes = [[Int32]](repeating: [], count: names.count), texts = [[String]](repeating: [], count: names.count)
        var lookup = [[String: Int32]](repeating: [:], count: names.count), lines: [Int] = []
        while let (line, fields) = try records.next() {
            try CSVReader.checkFieldCount(fields, header: names, place: "\(path):\(line)")
            for (column, field) in fields.enumerated() {
                if let code = lookup[column][field] {
                    codes[column].append(code)
                } else {
                    let code = Int32(texts[column].count)
                    lookup[column][field] = code
                    texts[column].append(field)
                    codes[column].append(code)
                }
            }
            lines.append(line)
        }
        guard !lines.isEmpty else { throw CSVReader.noDataRows(path) }
        self.path = path
        self.header = names
        self.headerLine = headerLine
        self.lines = lines
        self.codes = codes
        self.texts = texts
    }

    var rowCount: Int { lines.count }

    /// The text of `row`'s field in `column`.
    func text(row: Int, column: Int) -> String { texts[column][Int(codes[column][row])] }

    /// `path:line` of a data row, for messages.
    func place(ofRow row: Int) -> String { "\(path):\(lines[row])" }

    /// The header position of each column of `names`, in that order (`CSVReader.positions`, at the
    /// header's line).
    func positions(of names: [String], expected: String) throws(NNTrainError) -> [Int] {
        try CSVReader.positions(of: names, in: header, place: "\(path):\(headerLine)", expected: expected)
    }
}
