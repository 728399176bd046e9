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

    @Test(arguments: ["abc", "0x1p3", "1.5.2", "'2'", "1,5"])
    func fieldsThatAreNotNumbers(field: String) throws {
        let path = try folder.write("a,projects_completed\n1,2\n3,\"\(field)\"\n", to: "table.csv")
        #expect(
            throws: NNTrainError.data(
                "\(path):3",
                "column 'projects_completed': '\(field)' is not a number; expected a decimal number like -1.5 or 2e-3")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["projects_completed"])
        }
    }

    @Test(arguments: ["nan", "NaN", "inf", "-Infinity", "+inf"])
    func infinitiesAndNaNAreRefused(field: String) throws {
        let path = try folder.write("a,projects_completed\n1,2\n3,\(field)\n", to: "table.csv")
        #expect(
            throws: NNTrainError.data(
                "\(path):3",
                "column 'projects_completed': '\(field)' is not a finite number; "
                    + "expected a finite decimal number (NaN and infinities are refused)")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["projects_completed"])
        }
    }

    @Test func emptyFieldIsRefused() throws {
        let path = try folder.write("a,b\n1,\n", to: "table.csv")
        #expect(
            throws: NNTrainError.data("\(path):2", "column 'b': the field is empty; expected a decimal number like -1.5 or 2e-3")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["b"])
        }
    }

    @Test func quotedFieldsSpanLinesAndHoldCommasAndQuotes() throws {
        // RFC 4180: a quoted note with a comma, a doubled quote and a line break; the next record
        // starts on line 5, which errors name.
        let text = "a,note,b\n1,\"says \"\"hi\"\", then\nleaves\",2\n\"3\",\"\",\"4\"\n5,\"x\ny\",z\n"
        let path = try folder.write(text, to: "table.csv")
        #expect(
            throws: NNTrainError.data("\(path):5", "column 'b': 'z' is not a number; expected a decimal number like -1.5 or 2e-3")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["a", "b"])
        }
        let good = try folder.write(String(text.prefix(while: { $0 != "5" })), to: "good.csv")
        #expect(try CSVReader.read(path: good, requiredColumns: ["a", "b"])
            == NumericCSV(columns: ["a", "b"], rows: 2, values: [1, 2, 3, 4]))
    }

    @Test func malformedQuotes() throws {
        let unclosed = try folder.write("a,b\n1,2\n3,\"4\n5,6\n", to: "unclosed.csv")
        #expect(
            throws: NNTrainError.data(
                "\(unclosed):3",
                "field 2: the quoted field that starts on this line is never closed; "
                    + "expected a closing \" (a quote inside a quoted field is written \"\")")
        ) {
            try CSVReader.read(path: unclosed, requiredColumns: ["a"])
        }
        let after = try folder.write("a,b\n1,\"1\"5\n", to: "after.csv")
        #expect(
            throws: NNTrainError.data(
                "\(after):2",
                "field 2: '5' after the closing quote of a quoted field; "
                    + "expected a comma or the end of the line (a quote inside a quoted field is written \"\")")
        ) {
            try CSVReader.read(path: after, requiredColumns: ["a"])
        }
        // A quote inside an unquoted field is an ordinary character, as Python's csv module reads it.
        let inside = try folder.write("a,b\n1,say \"x\"\n", to: "inside.csv")
        #expect(try CSVReader.read(path: inside, requiredColumns: ["a"]) == NumericCSV(columns: ["a"], rows: 1, values: [1]))
    }

    @Test func aFieldIgnoredIsNotChecked() throws {
        let path = try folder.write("a,b\n1,abc\n", to: "table.csv")
        #expect(try CSVReader.read(path: path, requiredColumns: ["a"]) == NumericCSV(columns: ["a"], rows: 1, values: [1]))
    }

    @Test func numbersBeyondFloat() throws {
        let path = try folder.write("a\n1e39\n", to: "table.csv")
        #expect(
            throws: NNTrainError.data("\(path):2",
                                      "column 'a': 1e39 is too large for a 32-bit float; expected a magnitude below 3.4e38")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["a"])
        }
    }

    @Test func longFieldsAreShortenedInMessages() throws {
        let field = String(repeating: "x", count: 50)
        let path = try folder.write("a\n\(field)\n", to: "table.csv")
        #expect(
            throws: NNTrainError.data("\(path):2", "column 'a': '\(String(repeating: "x", count: 40))…' is not a number; "
                + "expected a decimal number like -1.5 or 2e-3")
        ) {
            try CSVReader.read(path: path, requiredColumns: ["a"])
        }
    }
}
