import Testing

@testable import NNTrain

@Suite struct CSVReaderTests {
    /// Fixture files of one test; a suite instance lives exactly as long as its test.
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    @Test func readsTheRequiredColumnsInTheirOrder() throws {
        // A byte-order mark, CRLF line ends, spaces around fields, a quoted number and a quoted
        // header name, an ignored text column, a blank line, a trailing newline.
        let text = "\u{FEFF}id, \"b\" ,a,note\r\n1, 2.5 ,-3,x\r\n\r\n2,\"4e1\",0.125 , \"a, b\"\r\n"
        let path = try folder.write(text, to: "table.csv")
        #expect(
            try CSVReader.read(path: path, requiredColumns: ["a", "b"])
                == NumericCSV(columns: ["a", "b"], rows: 2, values: [-3, 2.5, 0.125, 40]))
    }

    @Test func missingFileAndEmptyFiles() throws {
        let absent = folder.file("absent.csv")
        #expect(throws: NNTrainError(.missingFile, "\(absent): no such file or folder (expected a CSV file with a header row)")) {
            try CSVReader.read(path: absent, requiredColumns: ["a"])
        }
        let empty = try folder.write("\u{FEFF}\n \n", to: "empty.csv")
        #expect(throws: NNTrainError.data(empty, "empty file; expected a header row naming the columns")) {
            try CSVReader.read(path: empty, requiredColumns: ["a"])
        }
        let headerOnly = try folder.write("a,b\n", to: "header.csv")
        #expect(throws: NNTrainError.data(headerOnly, "no data rows after the header; expected at least one")) {
            try CSVReader.read(path: headerOnly, requiredColumns: ["a"])
        }
    }

    @Test func missingColumn() throws {
        let path = try folder.write("a,b,c\n1,2,3\n", to: "table.csv")
        #expect(throws: NNTrainError.data("\(path):1", "missing column 'overtime_hours'; expected columns: a, overtime_hours")) {
            try CSVReader.read(path: path, requiredColumns: ["a", "overtime_hours"])
        }
    }

    @Test func repeatedColumn() throws {
        let path = try folder.write("a,b,a\n1,2,3\n", to: "table.csv")
        #expect(throws: NNTrainError.data("\(path):1", "column 'a' appears 2 times; expected once")) {
            try CSVReader.read(path: path, requiredColumns: ["a"])
        }
    }

    @Test func raggedRow() throws {
        // Line 4: the blank line 3 still counts.
        let path = try folder.write("a,b,c,d,e\n1,2,3,4,5\n\n1,2,3,4\n", to: "table.csv")
        #expect(throws: NNTrainError.data("\(path):4", "4 fields; expected 5 as in the header")) {
            try CSVReader.read(path: path, requiredColumns: ["a"])
        }
    }

    @Test(arguments: ["abc", "nan", "NaN", "inf", "-Infinity", "0x1p3", "", "1.5.2", "\"1\"5\"", "'2'"])
    func fieldsThatAreNotNumbers(field: String) throws {
        let path = try folder.write("a,projects_completed\n1,2\n3,\(field)\n", to: "table.csv")
        #expect(throws: NNTrainError.data("\(path):3", "column 'projects_completed': '\(field)' is not a number")) {
            try CSVReader.read(path: path, requiredColumns: ["projects_completed"])
        }
    }

    @Test func aFieldIgnoredIsNotChecked() throws {
        let path = try folder.write("a,b\n1,abc\n", to: "table.csv")
        #expect(try CSVReader.read(path: path, requiredColumns: ["a"]) == NumericCSV(columns: ["a"], rows: 1, values: [1]))
    }

    @Test func numbersBeyondFloat() throws {
        let path = try folder.write("a\n1e39\n", to: "table.csv")
        #expect(throws: NNTrainError.data("\(path):2", "column 'a': 1e39 is too large for a 32-bit float")) {
            try CSVReader.read(path: path, requiredColumns: ["a"])
        }
    }

    @Test func longFieldsAreShortenedInMessages() throws {
        let field = String(repeating: "x", count: 50)
        let path = try folder.write("a\n\(field)\n", to: "table.csv")
        #expect(
            throws: NNTrainError.data("\(path):2", "column 'a': '\(String(repeating: "x", count: 40))…' is not a number")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["a"])
        }
    }
}
