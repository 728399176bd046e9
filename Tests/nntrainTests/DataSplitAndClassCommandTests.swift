import Foundation
import Testing

/// Review findings of the CSV and IDX data layer, through the executable: empty test sets refused
/// instead of reported as 0%, eval naming the empty split and why, numeric class labels matched by
/// value, and the load lines (task first, a class without training rows warned of by name).
@Suite struct DataSplitAndClassCommandTests {
    /// `nntrain arguments` in `directory` with standard output and standard error into one pipe, as
    /// a terminal or `2>&1` shows them (both are written unbuffered, so their order is kept).
    static func runMerged(_ arguments: [String], in directory: URL) throws -> (status: Int32, lines: [Substring]) {
        let process = CommandLineTests.process(arguments, in: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).split(separator: "\n"))
    }

    /// 40 rows of a number and a numeric target: 20 of class 1 written `1` or `1.0`, 20 of class 2 as `2`.
    static let numericTargets = "x,y\n" + (0..<40).map { $0 % 2 == 0 ? "\($0 % 5),\($0 % 4 == 0 ? "1" : "1.0")" : "9,2" }
        .joined(separator: "\n") + "\n"

    @Test func anIDXSetWithoutTestOrTrainingImagesIsRefusedNamingTheFile() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try IDXCommandTests.writeSet("noTest", in: directory, train: 6, test: 0, rows: 3, columns: 3, classes: 2)
        try IDXCommandTests.writeSet("noTrain", in: directory, train: 0, test: 6, rows: 3, columns: 3, classes: 2)
        for (folder, file, split) in [("noTest", "t10k", "test"), ("noTrain", "train", "training")] {
            try CommandLineTests.write("data: {dataset: idx, path: \(folder)}\nmodel: {hidden: [4]}\ntraining: {epochs: 1}\n",
                                       to: "c.txt", in: directory)
            CommandLineTests.expectFailure(try CommandLineTests.run(["run", "c.txt", "-q"], in: directory), status: 65,
                                           message: "\(folder)/\(file)-images-idx3-ubyte: holds no images; expected at "
                                               + "least one \(split) image")
        }
    }

    /// 10 rows with test_split 0.04 hold out round(0.4) = 0 rows: refused at the key's line with the
    /// row count; eval on a 2-row file reads its training split but refuses its empty test split, and
    /// the empty validation split of validation_split 0 says so.
    @Test func anEmptyTestSplitIsRefusedAndEvalNamesTheEmptySplitAndWhy() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let rows = (0..<10).map { "\($0),\($0 % 2 == 0 ? "a" : "b")" }.joined(separator: "\n")
        try CommandLineTests.write("x,y\n" + rows + "\n", to: "t.csv", in: directory)
        try CommandLineTests.write("seed: 1\ndata: {dataset: csv, path: t.csv, target: y, test_split: 0.04}\n",
                                   to: "c.yaml", in: directory)
        CommandLineTests.expectFailure(try CommandLineTests.run(["run", "c.yaml"], in: directory), status: 78,
                                       message: "c.yaml:2: data.test_split: 0.04 of the 10 rows of t.csv holds out no test "
                                           + "row (round(10 × 0.04) = 0); expected a test_split of at least 0.05, more rows, "
                                           + "or data.test_path")

        try CommandLineTests.write("data: {dataset: csv, path: t.csv, target: y, validation_split: 0}\n"
            + "training: {epochs: 1}\n", to: "c.yaml", in: directory)
        let run = try CommandLineTests.run(["run", "c.yaml", "-q"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        CommandLineTests.expectFailure(
            try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--split", "val"], in: directory), status: 65,
            message: "runs/c/checkpoints/last.bin: the val split is empty (validation_split 0.0 in the checkpoint's config "
                + "holds out no row of 8 training rows); expected --split test or --split train")
        try CommandLineTests.write("x,y\n1,b\n2,a\n", to: "small.csv", in: directory)
        let train = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--data", "small.csv", "--split", "train"],
                                             in: directory)
        #expect(train.status == 0, "\(train.standardError)")
        CommandLineTests.expectFailure(
            try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--data", "small.csv"], in: directory),
            status: 65, message: "runs/c/checkpoints/last.bin: the test split is empty (test_split 0.2 of the checkpoint's "
                + "config holds out no row of the 2 rows of small.csv); expected --split val or --split train")
    }

    /// A target of `1`, `1.0` and `2` is two classes (as pandas and scikit-learn read it), named 1 and
    /// 2; predict matches a file's `1.00` and `2.0` to them; class_names `[2, 1]` match by value too.
    /// Stratified: 8 test rows (4 and 4), then round(32 × 0.1) = 3 validation rows, the odd one to the
    /// first class.
    @Test func numericTargetsAreClassesByValue() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try CommandLineTests.write(Self.numericTargets, to: "t.csv", in: directory)
        try CommandLineTests.write("data: {dataset: csv, path: t.csv, target: y}\nmodel: {hidden: [4]}\ntraining: {epochs: 2}\n",
                                   to: "c.yaml", in: directory)
        let run = try CommandLineTests.run(["run", "c.yaml"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n")
        #expect(lines.first == "task: classification (data.task auto: target 'y' holds 2 distinct integers, at most 50)")
        #expect(lines.dropFirst().first == "classes of the training split: 1 14, 2 15")

        try CommandLineTests.write("x,y\n0,1.00\n9,2.0\n1,1\n", to: "new.csv", in: directory)
        let predict = try CommandLineTests.run(["predict", "runs/c/checkpoints/last.bin", "new.csv"], in: directory)
        #expect(predict.status == 0, "\(predict.standardError)")
        #expect(predict.standardError.contains("3 of 3 rows with a target)\n"), "\(predict.standardError)")
        #expect(!predict.standardError.contains("does not know"))

        try CommandLineTests.write("data: {dataset: csv, path: t.csv, target: y, class_names: [2, 1]}\nmodel: {hidden: [4]}\n"
            + "training: {epochs: 2}\n", to: "named.yaml", in: directory)
        let named = try CommandLineTests.run(["run", "named.yaml"], in: directory)
        #expect(named.status == 0, "\(named.standardError)")
        #expect(named.standardOutput.split(separator: "\n").dropFirst().first == "classes of the training split: 2 14, 1 15")
    }

    /// A class of data.class_names without training rows gets its own warning (not a ratio against
    /// 0), after the task line, which is the first line of the output.
    @Test func aClassWithoutTrainingRowsIsWarnedOfAfterTheTaskLine() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let rows = (0..<40).map { "\($0 % 5),\($0 % 2 == 0 ? "b" : "c")" }.joined(separator: "\n")
        try CommandLineTests.write("x,y\n" + rows + "\n", to: "t.csv", in: directory)
        try CommandLineTests.write("data: {dataset: csv, path: t.csv, target: y, class_names: [a, b, c]}\n"
            + "model: {hidden: [4]}\ntraining: {epochs: 1}\n", to: "c.yaml", in: directory)
        let (status, lines) = try Self.runMerged(["run", "c.yaml"], in: directory)
        #expect(status == 0, "\(lines)")
        #expect(lines.first == "task: classification (data.task auto: target 'y' holds text such as 'b')")
        #expect(lines.dropFirst().first == "classes of the training split: a 0, b 14, c 15")
        let warnings = lines.filter { $0.hasPrefix("warning: ") }
        #expect(warnings == ["warning: class 'a' has no rows in the training split; the model cannot learn it"])
    }
}
