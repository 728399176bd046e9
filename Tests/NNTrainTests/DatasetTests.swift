import Testing

@testable import NNTrain

@Suite struct DatasetTests {
    /// `rows` rows whose target is the row's index and whose two float features are 10i and 10i + 1,
    /// so any reordering or mixing shows.
    private func indexed(_ rows: Int) -> Dataset {
        Dataset(
            name: "indexed", features: .floats((0..<rows).flatMap { [Float($0 * 10), Float($0 * 10 + 1)] }),
            featureCount: 2, featureNames: ["a", "b"], targets: .values((0..<rows).map(Float.init)), targetName: "y")
    }

    private func rowIndices(_ dataset: Dataset) -> [Int] {
        guard case .values(let values) = dataset.targets else { return [] }
        return values.map { Int($0) }
    }

    private func floats(_ dataset: Dataset) -> [Float] {
        guard case .floats(let values) = dataset.features else { return [] }
        return values
    }

    // MARK: subset and split

    @Test func subsetTakesRowsInTheGivenOrderAndKeepsTheNames() throws {
        let images = Dataset(
            name: "tiny images", features: .bytes([1, 2, 3, 4, 5, 6]), featureCount: 2,
            targets: .classes([7, 8, 9]), classNames: ["a", "b"])
        let picked = images.subset([2, 0, 2])
        guard case .bytes(let pixels) = picked.features, case .classes(let labels) = picked.targets else {
            Issue.record("subset changed the storage kind")
            return
        }
        #expect(pixels == [5, 6, 1, 2, 5, 6])
        #expect(labels == [9, 7, 9])
        #expect(picked.count == 3)
        #expect(picked.name == "tiny images" && picked.featureCount == 2 && picked.classNames == ["a", "b"])

        let table = indexed(4).subset([3, 1])
        #expect(floats(table) == [30, 31, 10, 11])
        #expect(rowIndices(table) == [3, 1])
        #expect(table.featureNames == ["a", "b"] && table.targetName == "y")
    }

    @Test(arguments: [(10, 0.25, 3), (100, 0.1, 10), (7, 0.5, 4), (5, 0.0, 0), (5, 1.0, 5)])
    func splitHoldsOutTheRoundedShare(rows: Int, fraction: Double, heldOut: Int) {
        let (kept, held) = indexed(rows).split(holdOut: fraction, seed: 42)
        #expect(held.count == heldOut)
        #expect(kept.count == rows - heldOut)
    }

    @Test func splitPartsAreDisjointCompleteAndInOriginalOrder() {
        let (kept, heldOut) = indexed(200).split(holdOut: 0.3, seed: 7)
        let keptRows = rowIndices(kept)
        let heldRows = rowIndices(heldOut)
        #expect(keptRows == keptRows.sorted())
        #expect(heldRows == heldRows.sorted())
        #expect(Set(keptRows).isDisjoint(with: heldRows))
        #expect((keptRows + heldRows).sorted() == Array(0..<200))
        // Features travel with their rows.
        #expect(floats(heldOut) == heldRows.flatMap { [Float($0 * 10), Float($0 * 10 + 1)] })
    }

    @Test func splitIsDeterminedByTheSeed() {
        let data = indexed(200)
        let first = rowIndices(data.split(holdOut: 0.2, seed: 1).heldOut)
        #expect(rowIndices(data.split(holdOut: 0.2, seed: 1).heldOut) == first)
        #expect(rowIndices(data.split(holdOut: 0.2, seed: 2).heldOut) != first)
        // A larger fraction holds out a superset of a smaller one with the same seed.
        #expect(Set(first).isSubset(of: rowIndices(data.split(holdOut: 0.5, seed: 1).heldOut)))
    }

    @Test func splitDrawsFromItsOwnStream() {
        // The held-out rows are the first of a Fisher–Yates permutation from the documented stream.
        var generator = RandomGenerator(seed: 9, stream: Dataset.splitStream)
        var permutation = (0..<Int32(50)).map { $0 }
        generator.shuffle(&permutation)
        let expected = permutation.prefix(5).map { Int($0) }.sorted()
        #expect(rowIndices(indexed(50).split(holdOut: 0.1, seed: 9).heldOut) == expected)
    }

    // MARK: Normalizer statistics

    /// 3 rows of 2 float columns: column 0 is 1, 5, 3; column 1 is constant 2.
    private let table = Dataset(
        name: "table", features: .floats([1, 2, 5, 2, 3, 2]), featureCount: 2, targets: .values([0, 0, 0]))
    /// 2 images of 2 pixels: 0, 10 and 20, 30.
    private let images = Dataset(name: "images", features: .bytes([0, 10, 20, 30]), featureCount: 2, targets: .classes([0, 1]))

    @Test func noneIsTheIdentity() {
        #expect(Normalizer(fitting: table, mode: .none) == Normalizer(shift: [0, 0], scale: [1, 1]))
        #expect(Normalizer(fitting: images, mode: .none) == Normalizer(shift: [0, 0], scale: [1, 1]))
    }

    @Test func scaleDividesPixelsBy255AndMinMaxScalesColumns() {
        #expect(Normalizer(fitting: images, mode: .scale) == Normalizer(shift: [0, 0], scale: [1 / 255, 1 / 255]))
        // Column 0: min 1, max 5 → scale 1/4. Column 1 is constant: shift 2 maps it to 0, scale 1.
        #expect(Normalizer(fitting: table, mode: .scale) == Normalizer(shift: [1, 2], scale: [0.25, 1]))
    }

    @Test func standardizeUsesOneMeanAndStdOverAllPixels() {
        // Pixels 0, 10, 20, 30: mean 15, population variance (225 + 25 + 25 + 225) / 4 = 125.
        // The statistics are computed in Double and rounded to Float once.
        let scale = Float(1 / 125.0.squareRoot())
        #expect(Normalizer(fitting: images, mode: .standardize) == Normalizer(shift: [15, 15], scale: [scale, scale]))
    }

    @Test func standardizeUsesEachColumnsMeanAndPopulationStd() {
        // Column 0: mean 3, variance (4 + 4 + 0) / 3 = 8/3. Column 1: constant 2, std taken as 1.
        let scale = Float(1 / (8.0 / 3.0).squareRoot())
        #expect(Normalizer(fitting: table, mode: .standardize) == Normalizer(shift: [3, 2], scale: [scale, 1]))
    }

    @Test func anEmptySplitGivesTheIdentityForFloats() {
        let empty = Dataset(name: "empty", features: .floats([]), featureCount: 2, targets: .values([]))
        #expect(Normalizer(fitting: empty, mode: .scale) == Normalizer(shift: [0, 0], scale: [1, 1]))
        #expect(Normalizer(fitting: empty, mode: .standardize) == Normalizer(shift: [0, 0], scale: [1, 1]))
    }

    // MARK: gather

    @Test func gatherMapsBytesOfTheChosenRows() {
        let normalizer = Normalizer(shift: [10, 0], scale: [0.5, 2])
        let rows: [Int32] = [1, 0, 1]
        var output = [Float](repeating: .nan, count: 6)
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { out in
                normalizer.gather(rows: rows, from: images, into: out.baseAddress!)
            }
        }
        // Row 1 = (20, 30) → ((20 − 10) × 0.5, 30 × 2); row 0 = (0, 10) → (−5, 20).
        #expect(output == [5, 60, -5, 20, 5, 60])
    }

    @Test func gatherMapsFloatsOfTheChosenRows() {
        let normalizer = Normalizer(fitting: table, mode: .scale)  // shift (1, 2), scale (0.25, 1)
        let rows: [Int32] = [2, 1]
        var output = [Float](repeating: .nan, count: 4)
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { out in
                normalizer.gather(rows: rows, from: table, into: out.baseAddress!)
            }
        }
        #expect(output == [0.5, 0, 1, 0])
    }

    @Test func gatherTargetsCopiesClassesAndValues() {
        let normalizer = Normalizer(fitting: images, mode: .none)
        let rows: [Int32] = [1, 1, 0]
        var classes = [Int32](repeating: -1, count: 3)
        rows.withUnsafeBufferPointer { rows in
            classes.withUnsafeMutableBufferPointer { out in
                normalizer.gatherTargets(rows: rows, from: images, intoClasses: out.baseAddress!)
            }
        }
        #expect(classes == [1, 1, 0])

        let data = indexed(5)
        var values = [Float](repeating: .nan, count: 2)
        let valueRows: [Int32] = [4, 2]
        valueRows.withUnsafeBufferPointer { rows in
            values.withUnsafeMutableBufferPointer { out in
                Normalizer(fitting: data, mode: .none).gatherTargets(rows: rows, from: data, intoValues: out.baseAddress!)
            }
        }
        #expect(values == [4, 2])
    }

    // MARK: denormalizeLinear

    @Test func denormalizeLinearGivesTheSameModelOnRawInputs() {
        // x' = ((x1 − 1) × 0.5, (x2 − 2) × 0.25); y = 2 x'1 + 4 x'2 + 1
        //    = x1 + x2 + (1 − 2 × 0.5 × 1 − 4 × 0.25 × 2) = x1 + x2 − 2.
        let normalizer = Normalizer(shift: [1, 2], scale: [0.5, 0.25])
        let raw = normalizer.denormalizeLinear(weights: [2, 4], bias: 1)
        #expect(raw.weights == [1, 1])
        #expect(raw.bias == -2)
        // At x = (3, 6): normalised (1, 1) gives 2 + 4 + 1 = 7; raw gives 3 + 6 − 2 = 7.
        #expect(raw.weights[0] * 3 + raw.weights[1] * 6 + raw.bias == 7)
    }
}
