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

    /// Reads the file at `path` whole (as `InputFile.readAll` bounds it).
    init(path: String) throws(NNTrainError) {
        try self.init(try InputFile.readAll(path: path, expected: "a CSV file with a header row"), path: path)
    }

    /// Reads `bytes`; `path` names the file in errors.
    init(_ bytes: [UInt8], path: String) throws(NNTrainError) {
        var header: (line: Int, names: [String])?
        var codes: [[Int32]] = [], texts: [[String]] = [], lines: [Int] = []
        var lookup: [[String: Int32]] = []
        try CSVReader.forEachRecord(bytes, path: path) { line, fields throws(NNTrainError) in
            guard let (_, names) = header else {
                header = (line, fields)
                codes = Array(repeating: [], count: fields.count)
                texts = codes.map { _ in [] }
                lookup = codes.map { _ in [:] }
                return
            }
            guard fields.count == names.count else {
                throw .data("\(path):\(line)", "\(fields.count) fields; expected \(names.count) as in the header")
            }
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
        guard let header else { throw .data(path, "empty file; expected a header row naming the columns") }
        guard !lines.isEmpty else { throw .data(path, "no data rows after the header; expected at least one") }
        self.path = path
        self.header = header.names
        self.headerLine = header.line
        self.lines = lines
        self.codes = codes
        self.texts = texts
    }

    var rowCount: Int { lines.count }

    /// The text of `row`'s field in `column`.
    func text(row: Int, column: Int) -> String { texts[column][Int(codes[column][row])] }

    /// `path:line` of a data row, for messages.
    func place(ofRow row: Int) -> String { "\(path):\(lines[row])" }

    /// The header position of each column of `names`, in that order. A name absent from the header
    /// is refused as `path:headerLine: missing column 'x'; <expected>`, one appearing twice too.
    func positions(of names: [String], expected: String) throws(NNTrainError) -> [Int] {
        var positions: [Int] = []
        for name in names {
            let matches = header.indices.filter { header[$0] == name }
            guard let first = matches.first else {
                throw .data("\(path):\(headerLine)", "missing column '\(name)'; \(expected)")
            }
            guard matches.count == 1 else {
                throw .data("\(path):\(headerLine)", "column '\(name)' appears \(matches.count) times; expected once")
            }
            positions.append(first)
        }
        return positions
    }
}
