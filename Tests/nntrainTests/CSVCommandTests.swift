import Foundation
import Testing

/// `nntrain run` and `nntrain eval` on a CSV of one's own, as a person at a terminal sees them.
@Suite struct CSVCommandTests {
    /// 40 rows: a text feature, a number, a text target of two classes.
    static let csv = "color,size,label\n"
        + (0..<40).map { "\(["red", "blue"][$0 % 2]),\($0 % 5),\(["cat", "dog"][$0 % 2])" }.joined(separator: "\n") + "\n"

    /// The run says first which task it chose and why, then the class counts of the training split,
    /// then its plan; eval on other data warns (on standard error) of a category the model never saw,
    /// and refuses a class it does not know with exit 65.
    @Test func runSaysTheTaskFirstAndEvalWarnsOfUnseenCategories() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let files = [
            "c.yaml": "data: {dataset: csv, path: t.csv, target: label}\nmodel: {hidden: [4]}\ntraining: {epochs: 2}\n",
            "t.csv": Self.csv, "other.csv": "label,size,color\ncat,1,green\ndog,2,blue\n",
            "unknown.csv": "label,size,color\nbird,1,red\n",
        ]
        for (name, text) in files { try CommandLineTests.write(text, to: name, in: directory) }
        let result = try CommandLineTests.run(["run", "c.yaml"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.first == "task: classification (data.task auto: target 'label' holds text such as 'cat')")
        // Stratified: 8 test rows (4 and 4), then round(32 × 0.1) = 3 validation rows, the odd one to cat.
        #expect(lines.dropFirst().first == "classes of the training split: cat 14, dog 15")
        #expect(lines.dropFirst(2).first?.hasPrefix("nntrain: csv, MLP 3-4-2 (26 parameters), 29 train / 3 validation / "
            + "8 test rows") == true)

        let eval = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--data", "other.csv", "--split", "train"],
                                            in: directory)
        #expect(eval.status == 0, "\(eval.standardError)")
        #expect(eval.standardError == "warning: training split: 1 value of categorical columns not seen in the training "
            + "split, encoded as all zeros\n")
        CommandLineTests.expectFailure(
            try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--data", "unknown.csv"], in: directory),
            status: 65, message: "unknown.csv:2: column 'label': class 'bird' is not one the model was trained on; "
                + "expected one of: cat, dog")
    }
}
