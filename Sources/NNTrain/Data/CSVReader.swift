/// Numbers read from the chosen columns of a CSV file.
public struct NumericCSV: Sendable, Equatable {
    /// The columns kept, in the order asked for.
    public var columns: [String]
    /// Data rows (the header excluded).
    public var rows: Int
    /// Row-major: row `r`, column `c` is `values[r * columns.count + c]`.
    public var values: [Float]

    public init(columns: [String], rows: Int, values: [Float]) {
        self.columns = columns
        self.rows = rows
        self.values = values
    }
}

/// Reads comma-separated numeric tables with a header row (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180,
/// within one line: fields may be double-quoted, with `""` standing for a quote, but may not span lines).
///
/// Tolerated: a UTF-8 byte-order mark, CRLF line ends, blank lines (skipped, as pandas does), and
/// spaces or tabs around fields. Numbers are decimal (`-1.5`, `2e-3`); a double-quoted number is
/// accepted; NaN and infinities are refused, as is anything that does not fit in a Float.
public enum CSVReader {
    /// The columns `requiredColumns` of the CSV file at `path`, in that order; other columns are
    /// ignored. Every error names the file and the line (`path:17: ...`).
    public static func read(path: String, requiredColumns: [String]) throws(NNTrainError) -> NumericCSV {
        let bytes = try InputFile.readAll(path: path, expected: "a CSV file with a header row")
        var lines = Lines(bytes)
        guard let (headerLine, header) = lines.next() else {
            throw .data(path, "empty file; expected a header row naming the columns")
        }
        let names = fields(of: header)
        var positions: [Int] = []
        for column in requiredColumns {
            let matches = names.indices.filter { names[$0] == column }
            guard let first = matches.first else {
                throw .data(
                    "\(path):\(headerLine)",
                    "missing column '\(column)'; expected columns: \(requiredColumns.joined(separator: ", "))")
            }
            guard matches.count == 1 else {
                throw .data("\(path):\(headerLine)", "column '\(column)' appears \(matches.count) times; expected once")
            }
            positions.append(first)
        }

        var values: [Float] = []
        var rows = 0
        while let (lineNumber, line) = lines.next() {
            let row = fields(of: line)
            guard row.count == names.count else {
                throw .data("\(path):\(lineNumber)", "\(row.count) fields; expected \(names.count) as in the header")
            }
            for (column, position) in zip(requiredColumns, positions) {
                values.append(try number(row[position], column: column, at: "\(path):\(lineNumber)"))
            }
            rows += 1
        }
        guard rows > 0 else {
            throw .data(path, "no data rows after the header; expected at least one")
        }
        return NumericCSV(columns: requiredColumns, rows: rows, values: values)
    }

    /// The non-blank lines of a file with their 1-based line numbers, without line ends
    /// (LF or CRLF) and without a leading UTF-8 byte-order mark.
    private struct Lines {
        private let bytes: [UInt8]
        private var start: Int
        private var lineNumber = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        }

        mutating func next() -> (number: Int, text: ArraySlice<UInt8>)? {
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: newline) ?? bytes.count
                var line = bytes[start..<end]
                start = end + 1
                lineNumber += 1
                if line.last == carriageReturn { line = line.dropLast() }
                if !trimmed(line).isEmpty { return (lineNumber, line) }
            }
            return nil
        }
    }

    /// Splits a line at commas outside double quotes; each field is trimmed of spaces and tabs and,
    /// if it is wholly inside double quotes, unquoted (`""` becomes `"`).
    static func fields(of line: ArraySlice<UInt8>) -> [String] {
        var fields: [String] = []
        var fieldStart = line.startIndex
        var inQuotes = false
        for index in line.indices {
            switch line[index] {
            case quote: inQuotes.toggle()
            case comma where !inQuotes:
                fields.append(unquoted(trimmed(line[fieldStart..<index])))
                fieldStart = index + 1
            default: break
            }
        }
        fields.append(unquoted(trimmed(line[fieldStart...])))
        return fields
    }

    private static func unquoted(_ field: ArraySlice<UInt8>) -> String {
        let text = String(decoding: field, as: UTF8.self)
        guard field.count >= 2, field.first == quote, field.last == quote else { return text }
        let inner = text.dropFirst().dropLast()
        // Inside quotes a quote is written twice; any other quote leaves the field as it was.
        guard inner.replacing("\"\"", with: "").allSatisfy({ $0 != "\"" }) else { return text }
        return String(inner.replacing("\"\"", with: "\""))
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isBlank = { (byte: UInt8) in byte == space || byte == tab }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return bytes[bytes.startIndex..<bytes.startIndex] }
        return bytes[first...last]
    }

    /// A finite decimal number that fits in a Float.
    private static func number(_ field: String, column: String, at place: String) throws(NNTrainError) -> Float {
        let shown = field.count > 40 ? field.prefix(40) + "…" : field
        // Only decimal notation: Double(String) would also take "nan", "inf" and hexadecimal.
        guard field.utf8.allSatisfy({ decimalCharacters.contains($0) }), let value = Double(field), value.isFinite else {
            throw .data(place, "column '\(column)': '\(shown)' is not a number")
        }
        guard abs(value) <= Double(Float.greatestFiniteMagnitude) else {
            throw .data(place, "column '\(column)': \(shown) is too large for a 32-bit float")
        }
        return Float(value)
    }

    private static let decimalCharacters = Set("0123456789.eE+-".utf8)
}

private let newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
private let comma = UInt8(ascii: ",")
private let quote = UInt8(ascii: "\"")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
