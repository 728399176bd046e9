import Testing

@testable import NNTrain

/// Numeric class labels matched by value (pandas reads `1` and `1.0` as the number 1, so
/// scikit-learn's LabelEncoder sees one class), text ones by text; and the csv key rules that refuse
/// class names without classes and a dropped target.
@Suite struct ClassLookupTests {
    @Test func aNumberHasOneCanonicalText() {
        let cases = [("1", "1"), ("1.0", "1"), ("01", "1"), ("1e0", "1"), ("-0", "0"), ("-2.000", "-2"), ("1.50", "1.5"),
                     ("0.10", "0.1"), ("cat", "cat"), ("1.0a", "1.0a")]
        for (text, canonical) in cases { #expect(ClassLookup.canonical(text) == canonical, "\(text)") }
    }

    /// Classes that are all numbers match a target by value; classes holding text match by text.
    @Test func numericClassesMatchByValueAndTextClassesByText() {
        let numeric = ClassLookup(classNames: ["2", "1.0"])
        #expect(numeric.isNumeric)
        #expect([numeric.label(of: "1"), numeric.label(of: "1.00"), numeric.label(of: "2.0"), numeric.label(of: "3")]
            == [1, 1, 0, nil])
        let text = ClassLookup(classNames: ["1", "cat"])
        #expect(!text.isNumeric)
        #expect([text.label(of: "1"), text.label(of: "1.0"), text.label(of: "cat")] == [0, nil, 1])
    }

    /// `1`, `1.0` and `2` are two classes, named by their canonical texts in numeric order, and the
    /// auto rule counts two distinct integers.
    @Test func distinctNumericTargetsAreCountedByValue() {
        #expect(CSVDataset.sortedClassNames(["2", "1.0", "1", "10", "2.00"]) == ["1", "2", "10"])
        #expect(CSVDataset.sortedClassNames(["b", "1.0", "1"]) == ["1", "1.0", "b"])
    }

    /// Under data.task auto a target of fractions is regression once read, so class names are refused then.
    @Test func classNamesForATargetTheDataMakeRegressionAreRefused() throws {
        let folder = try TemporaryFolder()
        let csv = try folder.write("x,y\n" + (0..<10).map { "\($0),\(Double($0) + 0.5)" }.joined(separator: "\n") + "\n",
                                   to: "t.csv")
        let config = try folder.write("data:\n  dataset: csv\n  path: \(csv)\n  target: y\n  class_names: [a, b]\n",
                                      to: "c.yaml")
        var configuration = try Configuration.load(path: config)
        #expect(throws: NNTrainError(.config, "\(config):5: data.class_names: names classes, but the target of \(csv) is "
            + "regression (real-valued); expected no data.class_names, or data.task: classification")) {
            _ = try TrainingData.load(for: &configuration, file: config)
        }
    }

    @Test func classNamesForARegressionTaskAndADroppedTargetAreRefused() {
        #expect(throws: NNTrainError(.config, "c.yaml:6: data.class_names: names classes, but data.task is regression, "
            + "whose target has none; expected no data.class_names, or data.task: classification or auto")) {
            try Configuration.parse(yaml: "data:\n  dataset: csv\n  path: t.csv\n  target: y\n  task: regression\n"
                + "  class_names: [a, b]\n", source: "c.yaml")
        }
        #expect(throws: NNTrainError(.config, "c.yaml:5: data.drop: lists the target column 'y'; expected feature columns "
            + "only")) {
            try Configuration.parse(yaml: "data:\n  dataset: csv\n  path: t.csv\n  target: y\n  drop: [id, y]\n",
                                    source: "c.yaml")
        }
    }
}
