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

/// Reads comma-separated numeric tables with a header row (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180).
///
/// Records are RFC 4180's: fields separated by commas; a field that starts with a double quote
/// runs to the matching closing quote, may hold commas and line breaks, and writes a quote as `""`;
/// after its closing quote only spaces or tabs may come before the comma or the line end. A quote
/// inside a field that does not start with one is an ordinary character (as Python's csv module
/// and pandas read it).
///
/// Tolerated, as Python's `utf-8-sig` codec and pandas do: a UTF-8 byte-order mark at the start,
/// CRLF line ends, blank lines (skipped), and spaces or tabs around fields. Numbers are decimal
/// (`-1.5`, `2e-3`), quoted or not; NaN, infinities, empty fields and anything that does not fit in
/// a Float are refused, naming the line and column.
public enum CSVReader {
    /// The columns `requiredColumns` of the CSV file at `path`, in that order; other columns are
    /// ignored. Every error names the file and the line (`path:17: ...`) where the record starts.
    /// The file is read in chunks (`Records`) into a `CSVTable`.
    public static func read(path: String, requiredColumns: [String]) throws(NNTrainError) -> NumericCSV {
        let table = try CSVTable(path: path)
        let positions = try table.positions(of: requiredColumns, expected: expectedColumns(requiredColumns))
        var values: [Float] = []
        values.reserveCapacity(table.rowCount * requiredColumns.count)
        for row in 0..<table.rowCount {
            let place = table.place(ofRow: row)
            for (column, position) in zip(requiredColumns, positions) {
                values.append(try number(table.text(row: row, column: position), column: column, at: place))
            }
        }
        return NumericCSV(columns: requiredColumns, rows: table.rowCount, values: values)
    }

    /// Where each of `columns` is in the header `names`: each must appear exactly once, else a
    /// refusal at `place` (the header's line), `missing column 'x'; <expected>`.
    static func positions(of columns: [String], in names: [String], place: String, expected: String)
        throws(NNTrainError) -> [Int]
    {
        // The header's positions by name, built once (a wide file asks for thousands of columns).
        let positionsByName = Dictionary(grouping: names.indices, by: { names[$0] })
        var positions: [Int] = []
        for column in columns {
            let matches = positionsByName[column] ?? []
            guard let first = matches.first else { throw .data(place, "missing column '\(column)'; \(expected)") }
            guard matches.count == 1 else {
                throw .data(place, "column '\(column)' appears \(matches.count) times; expected once")
            }
            positions.append(first)
        }
        return positions
    }

    /// `positions`' usual expectation: `expected columns: a, b, c`.
    static func expectedColumns(_ columns: [String]) -> String {
        "expected columns: " + columns.joined(separator: ", ")
    }

    /// Refuses a record at `place` whose field count is not the header's.
    static func checkFieldCount(_ record: [String], header: [String], place: String) throws(NNTrainError) {
        guard record.count == header.count else {
            throw .data(place, "\(record.count) fields; expected \(header.count) as in the header")
        }
    }

    /// The refusal of a file with a header and no record after it.
    static func noDataRows(_ path: String) -> NNTrainError {
        .data(path, "no data rows after the header; expected at least one")
    }

    /// The records of a file with the 1-based line each starts on, skipping a leading UTF-8
    /// byte-order mark and blank lines; fields are trimmed of spaces and tabs and unquoted.
    ///
    /// The file is read from a `SequentialInput` in chunks: `bytes` is a window of it that grows by a
    /// chunk whenever the parser looks past its end and drops what has been parsed at the start of a
    /// record once that is a chunk or more, so it holds at most about two chunks and the longest
    /// record, whatever the file's size.
    struct Records {
        private let input: SequentialInput
        /// The window of the file; `index` is the parser's position in it.
        private var bytes: [UInt8] = []
        private var index = 0
        private let path: String
        /// The line `index` is on.
        private var line = 1
        /// Whether the leading byte-order mark has been looked for.
        private var startChecked = false
        /// Whether the input has ended (it is not read again).
        private var ended = false

        /// The records of `input`; `input.name` names it in errors.
        init(reading input: SequentialInput) {
            self.input = input
            path = input.name
        }

        /// The first record, the header: its line and names; an empty file is refused.
        mutating func header() throws(NNTrainError) -> (line: Int, names: [String]) {
            guard let (line, names) = try next() else {
                throw .data(path, "empty file; expected a header row naming the columns")
            }
            return (line, names)
        }

        /// Whether there is a byte at `position`, reading more of the input when `bytes` ends before it.
        @inline(__always)
        private mutating func has(_ position: Int) throws(NNTrainError) -> Bool {
            while position >= bytes.count {
                guard !ended, try input.append(to: &bytes) else {
                    ended = true
                    return false
                }
            }
            return true
        }

        /// At a record's start: skips a leading byte-order mark once, and drops the parsed bytes
        /// once they are a chunk or more (moving the rest to the front costs at most as much as
        /// reading the chunk did).
        private mutating func startRecord() throws(NNTrainError) {
            if !startChecked {
                startChecked = true
                _ = try has(2)
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
            }
            if index >= SequentialInput.chunkSize {
                bytes.removeSubrange(0..<index)
                index = 0
            }
        }

        mutating func next() throws(NNTrainError) -> (line: Int, fields: [String])? {
            try startRecord()
            while try has(index) {
                let start = line
                var fields: [String] = []
                var quotedFields = 0
                var atLineEnd = false
                while !atLineEnd {
                    let (field, quoted) = try nextField(fieldNumber: fields.count + 1, recordLine: start)
                    fields.append(field)
                    if quoted { quotedFields += 1 }
                    // The field ends at a comma (another follows), a line end or the end of the file.
                    if try has(index), bytes[index] == comma {
                        index += 1
                    } else {
                        atLineEnd = true
                        if try has(index) {  // a line feed, a carriage return and a line feed, or a final carriage return
                            let crlf = bytes[index] == carriageReturn ? try has(index + 1) : false
                            index += crlf ? 2 : 1
                            line += 1
                        }
                    }
                }
                if fields.count == 1, quotedFields == 0, fields[0].isEmpty {  // a blank line
                    try startRecord()
                    continue
                }
                return (start, fields)
            }
            return nil
        }

        /// The field at `index`, which is left at the comma, line end or end of file after it.
        private mutating func nextField(fieldNumber: Int, recordLine: Int) throws(NNTrainError) -> (String, quoted: Bool) {
            try skipBlanks()
            guard try has(index), bytes[index] == quote else {
                let start = index
                while try has(index), bytes[index] != comma, try !isLineEnd(at: index) { index += 1 }
                return (String(decoding: trimmed(bytes[start..<index]), as: UTF8.self), false)
            }
            let openingLine = line
            index += 1
            var text: [UInt8] = []
            while true {
                guard try has(index) else {
                    throw .data("\(path):\(openingLine)", "field \(fieldNumber): the quoted field that starts on this line "
                        + "is never closed; expected a closing \" (a quote inside a quoted field is written \"\")")
                }
                let byte = bytes[index]
                index += 1
                if byte == quote {
                    if try has(index), bytes[index] == quote {  // "" stands for one quote
                        text.append(quote)
                        index += 1
                        continue
                    }
                    break
                }
                if byte == newline { line += 1 }
                text.append(byte)
            }
            try skipBlanks()
            let ended = try !has(index) || bytes[index] == comma ? true : try isLineEnd(at: index)
            guard ended else {
                throw .data("\(path):\(line)", "field \(fieldNumber): '\(shownByte(bytes[index]))' after the closing quote of a "
                    + "quoted field; expected a comma or the end of the line (a quote inside a quoted field is written \"\")")
            }
            return (String(decoding: text, as: UTF8.self), true)
        }

        private mutating func skipBlanks() throws(NNTrainError) {
            while try has(index), bytes[index] == space || bytes[index] == tab { index += 1 }
        }

        /// A line feed, or a carriage return before one or at the end of the file; `position` holds a byte.
        private mutating func isLineEnd(at position: Int) throws(NNTrainError) -> Bool {
            if bytes[position] == newline { return true }
            guard bytes[position] == carriageReturn else { return false }
            guard try has(position + 1) else { return true }
            return bytes[position + 1] == newline
        }

        private func shownByte(_ byte: UInt8) -> String {
            (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : hexadecimal(byte, digits: 2)
        }
    }

    /// Splits one line at commas outside double quotes; each field is trimmed of spaces and tabs and,
    /// if it is wholly inside double quotes, unquoted (`""` becomes `"`). For metrics.csv, which
    /// nntrain writes one record per line.
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

    /// A finite decimal number that fits in a Float. The usual field (decimal characters that parse)
    /// is checked first, so that the texts of the refusals are made only for a refusal.
    static func number(_ field: String, column: String, at place: String) throws(NNTrainError) -> Float {
        // On one line (a quoted field may hold line breaks) and at most 40 characters; worked out only
        // for a message, as this runs once per field of a CSV.
        var shown: String {
            let oneLine = field.replacing("\r\n", with: "\\n").replacing("\n", with: "\\n").replacing("\r", with: "\\r")
            return oneLine.count > 40 ? oneLine.prefix(40) + "…" : oneLine
        }
        // Only decimal notation: Double(String) would also take "nan", "inf" and hexadecimal.
        if field.utf8.allSatisfy(isDecimalCharacter), let value = Double(field),
           abs(value) <= Double(Float.greatestFiniteMagnitude) {
            return Float(value)
        }
        let expectation = "expected a decimal number like -1.5 or 2e-3"
        guard !field.isEmpty else { throw .data(place, "column '\(column)': the field is empty; \(expectation)") }
        let unsigned = field.first == "-" || field.first == "+" ? field.dropFirst() : Substring(field)
        if ["nan", "inf", "infinity"].contains(unsigned.lowercased()) {
            throw .data(place, "column '\(column)': '\(shown)' is not a finite number; expected a finite decimal "
                + "number (NaN and infinities are refused)")
        }
        guard field.utf8.allSatisfy(isDecimalCharacter), Double(field) != nil else {
            throw .data(place, "column '\(column)': '\(shown)' is not a number; \(expectation)")
        }
        // A decimal number beyond a Float: 1e39, and 1e999 (infinite as a Double).
        throw .data(place, "column '\(column)': \(shown) is too large for a 32-bit float; expected a magnitude "
            + "below 3.4e38")
    }

    /// A byte of decimal notation: a digit, `.`, `e`, `E`, `+` or `-` (a comparison, not a hashed set:
    /// it runs for every byte of every number of a CSV).
    private static func isDecimalCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"),
             UInt8(ascii: "-"): true
        default: false
        }
    }
}

private let newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
private let comma = UInt8(ascii: ",")
private let quote = UInt8(ascii: "\"")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
