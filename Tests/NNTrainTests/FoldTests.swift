import Foundation
import Testing

@testable import NNTrain

/// k-fold cross-validation's folds (`Dataset.folds`, `data.folds`/`data.fold`): disjoint, covering,
/// balanced and stratified as scikit-learn's KFold and StratifiedKFold promise, drawn by the seed, and
/// the validation split of a run with `data.fold: k`; the config keys' rules.
@Suite struct FoldTests {
    /// Rows of fold `fold` in `assigned`.
    private static func rows(of fold: Int, _ assigned: [Int]) -> [Int] { assigned.indices.filter { assigned[$0] == fold } }

    /// Regression: every row in exactly one fold 1...K, sizes ⌈n/K⌉ or ⌊n/K⌋, and the fold of a row is
    /// its position in the seed's permutation (`RandomGenerator(seed:stream: splitStream)`) mod K, plus 1.
    @Test(arguments: [(23, 5), (10, 2), (7, 7), (100, 3)])
    func foldsAreDisjointCoveringAndBalanced(rows: Int, folds: Int) {
        let assigned = Dataset.folds(count: rows, labels: nil, classCount: 0, folds: folds, seed: 11)
        #expect(assigned.count == rows && assigned.allSatisfy { (1...folds).contains($0) })
        let sizes = (1...folds).map { Self.rows(of: $0, assigned).count }
        #expect(sizes.reduce(0, +) == rows)
        #expect(sizes.max()! - sizes.min()! <= 1 && sizes.min()! == rows / folds)
        var permutation = (0..<Int32(rows)).map { $0 }
        var generator = RandomGenerator(seed: 11, stream: Dataset.splitStream)
        generator.shuffle(&permutation)
        for (position, row) in permutation.enumerated() { #expect(assigned[Int(row)] == position % folds + 1) }
    }

    /// Classes of 7, 12 and 4 rows in 5 folds. Sorted by class, positions 0...22 go to folds
    /// (i mod 5) + 1: class 0 (positions 0–6) gives folds 1..5 counts [2, 2, 1, 1, 1], class 1 (7–18)
    /// [2, 2, 3, 3, 2], class 2 (19–22) [1, 1, 1, 0, 1]; so fold sizes [5, 5, 5, 4, 4], every class's
    /// counts within one of each other (StratifiedKFold's allocation, `bincount(y_sorted[i::5])`).
    @Test func stratifiedFoldsDealEachClassEvenly() {
        let classOfRow: [Int32] = [1, 0, 2, 1, 1, 0, 1, 2, 0, 1, 1, 0, 1, 2, 1, 0, 1, 1, 0, 2, 1, 0, 1]
        #expect([0, 1, 2].map { c in classOfRow.filter { $0 == c }.count } == [7, 12, 4])
        for seed: UInt64 in [0, 1, 2] {
            let assigned = Dataset.folds(count: 23, labels: classOfRow, classCount: 3, folds: 5, seed: seed)
            let counts = (0..<Int32(3)).map { c in
                (1...5).map { fold in Self.rows(of: fold, assigned).filter { classOfRow[$0] == c }.count }
            }
            #expect(counts == [[2, 2, 1, 1, 1], [2, 2, 3, 3, 2], [1, 1, 1, 0, 1]])
            #expect((1...5).map { Self.rows(of: $0, assigned).count } == [5, 5, 5, 4, 4])
        }
    }

    /// The seed draws the folds: the same seed gives the same folds, other seeds other ones.
    @Test func theSeedDrawsTheFolds() {
        let labels = (0..<60).map { Int32($0 % 3) }
        let a = Dataset.folds(count: 60, labels: labels, classCount: 3, folds: 4, seed: 5)
        #expect(a == Dataset.folds(count: 60, labels: labels, classCount: 3, folds: 4, seed: 5))
        #expect(a != Dataset.folds(count: 60, labels: labels, classCount: 3, folds: 4, seed: 6))
        #expect(Dataset.folds(count: 60, labels: nil, classCount: 0, folds: 4, seed: 5)
            != Dataset.folds(count: 60, labels: nil, classCount: 0, folds: 4, seed: 6))
    }

    /// `Dataset.split(fold:of:seed:)` (an IDX set's validation split): the fold's rows held out, the rest
    /// kept, both in their original order.
    @Test func aDatasetsFoldIsItsHeldOutPart() {
        let labels = (0..<30).map { Int32($0 % 2) }
        let dataset = Dataset(name: "t", features: .bytes((0..<30).map(UInt8.init)), featureCount: 1,
                              targets: .classes(labels), classNames: ["a", "b"])
        let assigned = Dataset.folds(count: 30, labels: labels, classCount: 2, folds: 3, seed: 9)
        let (kept, heldOut) = dataset.split(fold: 2, of: 3, seed: 9)
        guard case .bytes(let held) = heldOut.features, case .bytes(let rest) = kept.features else {
            Issue.record("the split changed the storage")
            return
        }
        #expect(held.map(Int.init) == Self.rows(of: 2, assigned) && held.count == 10)
        #expect(rest.map(Int.init) == (0..<30).filter { assigned[$0] != 2 })
    }

    /// A csv run with data.fold k validates on exactly fold k of the rows left once the test rows are
    /// out (the test draw with the seed, the folds with seed + 1, both stratified); the folds together
    /// are those rows, and the test rows are the same for every fold.
    @Test func aRunWithDataFoldValidatesOnThatFold() throws {
        let folder = try TemporaryFolder()
        let labels = (0..<40).map { Int32($0 % 4 == 0 ? 1 : 0) }  // 10 of class b, 30 of class a
        let csv = "id,label\n" + labels.enumerated().map { "\($0.offset),\($0.element == 1 ? "b" : "a")\n" }.joined()
        let path = try folder.write(csv, to: "d.csv")
        // The rule written out: 8 test rows (stratified, seed 3), then 3 folds of the 32 left (seed 4).
        let isTest = Dataset.heldOutRows(labels: labels, classCount: 2, fraction: 0.2, seed: 3)
        let rest = (0..<40).filter { !isTest[$0] }
        let assigned = Dataset.folds(count: rest.count, labels: rest.map { labels[$0] }, classCount: 2, folds: 3, seed: 4)
        var seen: [Int] = []
        for fold in 1...3 {
            let config = try folder.write("seed: 3\ndata: {dataset: csv, path: \(path), target: label, normalize: none, "
                + "folds: 3, fold: \(fold)}\n", to: "c\(fold).yaml")
            var configuration = try Configuration.load(path: config)
            let data = try TrainingData.load(for: &configuration, file: config)
            guard case .floats(let ids) = data.validation.features, case .classes(let classes) = data.validation.targets,
                  case .floats(let testIDs) = data.test.features
            else {
                Issue.record("unexpected storage")
                return
            }
            let expected = Self.rows(of: fold, assigned).map { rest[$0] }
            #expect(ids.map { Int($0) } == expected)
            #expect(data.validation.count == [11, 11, 10][fold - 1] && data.train.count == 32 - data.validation.count)
            // 24 of class a and 8 of b are dealt into 3 folds: a 8/8/8, b 3/3/2.
            #expect(classes.filter { $0 == 1 }.count == [3, 3, 2][fold - 1])
            #expect(testIDs.map { Int($0) } == (0..<40).filter { isTest[$0] })
            #expect(configuration.earlyStopping.monitor == .valLoss)  // a csv run's early stopping watches the fold
            seen += expected
        }
        #expect(seen.sorted() == rest)
    }

    /// Fold models (`nntrain cv --ensemble`) share the test rows, so an ensemble of them on the test
    /// split draws no warning; on the validation split each fold's rows differ, and other fold counts
    /// are other runs.
    @Test func foldModelsShareTheTestRowsOnly() throws {
        func config(_ folds: Int, _ fold: Int) throws -> Configuration {
            try Configuration.parse(yaml: "data: {dataset: csv, path: d.csv, target: y, folds: \(folds), fold: \(fold)}\n",
                                    source: "c.yaml")
        }
        let (first, second) = (try config(3, 1), try config(3, 2))
        #expect(EnsembleEvaluation.otherRows(second, than: first, split: .test) == nil)
        #expect(EnsembleEvaluation.otherRows(second, than: first, split: .val) == "another fold (data.fold 2)")
        #expect(EnsembleEvaluation.otherRows(try config(4, 1), than: first, split: .test) == "other folds (data.folds 4)")
    }

    // MARK: The keys

    private static func configError(_ yaml: String, overrides: [String] = []) -> String? {
        do {
            _ = try Configuration.parse(yaml: yaml, source: "c.yaml", overrides: overrides)
            return nil
        } catch {
            #expect(error.exitStatus == 78)
            return error.message
        }
    }

    @Test func theKeysRulesAreCheckedAtTheirLines() {
        #expect(Self.configError("data:\n  validation_split: 0.2\n  folds: 5\n  fold: 1\n")
            == "c.yaml:2: data.validation_split: given together with data.folds, whose fold data.fold is the validation "
            + "split; expected one of the two (nntrain cv unsets it itself)")
        // Unset (what nntrain cv passes), the config's split gives way to the fold.
        #expect(Self.configError("data:\n  validation_split: 0.2\n", overrides: ["data.validation_split=null",
                                                                                 "data.folds=5", "data.fold=1"]) == nil)
        #expect(Self.configError("data:\n  folds: 5\n")
            == "c.yaml:2: data.folds is 5 but data.fold is not given; expected data.fold: the fold, 1 to 5, that is the "
            + "validation split")
        #expect(Self.configError("data:\n  folds: 5\n  fold: 6\n")
            == "c.yaml:3: data.fold: 6 is out of range; expected a fold from 1 to data.folds (5)")
        #expect(Self.configError("data:\n  folds: 1\n  fold: 1\n")
            == "c.yaml:2: data.folds: 1 is out of range; expected an integer >= 2")
        #expect(Self.configError("data:\n  fold: 2\n") == "c.yaml:2: data.fold: applies only with data.folds, which is not set")
        #expect(Self.configError("seed: 1\n", overrides: ["data.folds=3", "data.fold=3"]) == nil)
    }

    /// A fold's config.yaml leaves validation_split as a comment and reads back as the same config;
    /// a resume may not change the folds or the fold (the data section is fixed on resume).
    @Test func aFoldsConfigReadsBackAndItsFoldIsFixedOnResume() throws {
        let fold = try Configuration.parse(yaml: "data: {folds: 4, fold: 2}\n", source: "c.yaml")
        let yaml = fold.resolvedYAML()
        #expect(yaml.contains("  # validation_split: 0.1 (applies only without data.folds)\n  folds: 4\n  fold: 2\n"))
        #expect(try Configuration.parse(yaml: yaml, source: "c.yaml") == fold)
        #expect(fold.data.hasValidation && fold.earlyStopping.patience == nil)
        let other = try Configuration.parse(yaml: "data: {folds: 4, fold: 3}\n", source: "c.yaml")
        #expect(Configuration.classifyForResume(other.changedKeys(from: fold)).refused == ["data.fold"])
        let plain = try Configuration.parse(yaml: "data: {}\n", source: "c.yaml")
        #expect(Configuration.classifyForResume(plain.changedKeys(from: fold)).refused
            == ["data.folds", "data.fold"])
    }
}
