/// The features of a dataset, row-major: row `i` is elements `i * featureCount ..< (i + 1) * featureCount`.
public enum FeatureStorage: Sendable {
    /// Raw pixels (0...255), kept as bytes so Fashion-MNIST's 60,000 images take 47 MB, not 188 MB;
    /// `Normalizer.gather` turns them into floats one batch at a time.
    case bytes([UInt8])
    /// Numbers read from a CSV file.
    case floats([Float])

    /// The number of stored elements (rows × featureCount).
    public var elementCount: Int {
        switch self {
        case .bytes(let values): values.count
        case .floats(let values): values.count
        }
    }
}

/// What each row should predict.
public enum Targets: Sendable {
    /// A class index per row, in `0..<classNames.count`.
    case classes([Int32])
    /// A number per row (regression).
    case values([Float])

    /// The number of rows.
    public var count: Int {
        switch self {
        case .classes(let labels): labels.count
        case .values(let values): values.count
        }
    }
}

/// A dataset held in memory: a table of features, one target per row, and the names that explain them.
public struct Dataset: Sendable {
    /// What the data is, for messages: "fashion-mnist train", "bonus".
    public var name: String
    public var features: FeatureStorage
    /// Features per row (784 for 28×28 images).
    public var featureCount: Int
    /// The CSV column names of the features; `[]` for images.
    public var featureNames: [String]
    public var targets: Targets
    /// Names of the classes by index; `[]` for regression.
    public var classNames: [String]
    /// The CSV column name of the target ("bonus", "species"); nil for images.
    public var targetName: String?

    /// The number of rows.
    public var count: Int { targets.count }

    /// The arguments must agree (one target per row, `featureCount` features per row, a name per
    /// feature if any); the readers check files before building a dataset, so a mismatch is a bug.
    public init(
        name: String,
        features: FeatureStorage,
        featureCount: Int,
        featureNames: [String] = [],
        targets: Targets,
        classNames: [String] = [],
        targetName: String? = nil
    ) {
        precondition(featureCount >= 0, "Dataset \(name): negative featureCount")
        precondition(
            features.elementCount == targets.count * featureCount,
            "Dataset \(name): \(features.elementCount) feature values for \(targets.count) rows of \(featureCount)")
        precondition(
            featureNames.isEmpty || featureNames.count == featureCount,
            "Dataset \(name): \(featureNames.count) feature names for \(featureCount) features")
        self.name = name
        self.features = features
        self.featureCount = featureCount
        self.featureNames = featureNames
        self.targets = targets
        self.classNames = classNames
        self.targetName = targetName
    }

    /// Rows `indices` (in that order) as a new dataset; every index must be in `0..<count`.
    public func subset(_ indices: [Int32]) -> Dataset {
        for index in indices { checkRow(index) }
        let newFeatures: FeatureStorage
        switch features {
        case .bytes(let values): newFeatures = .bytes(Dataset.gatherRows(values, indices, featureCount))
        case .floats(let values): newFeatures = .floats(Dataset.gatherRows(values, indices, featureCount))
        }
        let newTargets: Targets
        switch targets {
        case .classes(let labels): newTargets = .classes(indices.map { labels[Int($0)] })
        case .values(let values): newTargets = .values(indices.map { values[Int($0)] })
        }
        var result = self
        result.features = newFeatures
        result.targets = newTargets
        return result
    }

    /// The stream of `RandomGenerator(seed:stream:)` that `split` draws from: the ASCII bytes of
    /// "split", so that splitting never shifts the numbers of initialisation or shuffling.
    public static let splitStream: UInt64 = 0x73_70_6C_69_74

    /// Holds out `round(count × fraction)` rows (halves rounded away from zero) as the second result:
    /// those `heldOutRows(count:fraction:seed:)` marks. Both results keep the original relative order
    /// of their rows. `fraction` must be in 0...1; 0 gives an empty second set.
    public func split(holdOut fraction: Double, seed: UInt64) -> (kept: Dataset, heldOut: Dataset) {
        let isHeldOut = Dataset.heldOutRows(count: count, fraction: fraction, seed: seed)
        let kept = (0..<Int32(count)).filter { !isHeldOut[Int($0)] }
        let heldOut = (0..<Int32(count)).filter { isHeldOut[Int($0)] }
        return (subset(kept), subset(heldOut))
    }

    /// Which of `count` rows are held out: `round(count × fraction)` of them (halves away from zero),
    /// the first ones of a permutation of `0..<count` drawn with
    /// `RandomGenerator(seed: seed, stream: Dataset.splitStream)`, so the same seed always holds out
    /// the same rows, and a larger fraction holds out a superset of a smaller one.
    public static func heldOutRows(count: Int, fraction: Double, seed: UInt64) -> [Bool] {
        precondition((0...1).contains(fraction), "Dataset.heldOutRows: fraction \(fraction) is outside 0...1")
        let heldOutCount = Int((Double(count) * fraction).rounded())
        var permutation = (0..<Int32(count)).map { $0 }
        var generator = RandomGenerator(seed: seed, stream: Dataset.splitStream)
        generator.shuffle(&permutation)
        var isHeldOut = [Bool](repeating: false, count: count)
        for row in permutation.prefix(heldOutCount) { isHeldOut[Int(row)] = true }
        return isHeldOut
    }

    /// Which rows are held out, stratified by class (`labels[i]` in `0..<classCount` is row i's), as
    /// scikit-learn's `train_test_split(stratify=y)` keeps each class's share:
    ///
    /// - in all, H = round(n × fraction) rows (halves away from zero), as `heldOutRows(count:...)`;
    /// - class c of n_c rows gets ⌊H·n_c / n⌋, and the H − Σ⌊H·n_c / n⌋ rows left over go one each
    ///   to the classes with the largest remainders H·n_c mod n, ties to the lower class index (the
    ///   largest-remainder rule, as scikit-learn's `_approximate_mode`, which breaks ties at random);
    ///   so whenever H·n_c / n is a whole number for every class, each class gives exactly that;
    /// - within class c, the first of its rows in a permutation of them drawn from one
    ///   `RandomGenerator(seed: seed, stream: Dataset.splitStream)`, the classes shuffled in index order.
    ///
    /// The counts are computed in integers, so they are exact.
    public static func heldOutRows(labels: [Int32], classCount: Int, fraction: Double, seed: UInt64) -> [Bool] {
        precondition((0...1).contains(fraction), "Dataset.heldOutRows: fraction \(fraction) is outside 0...1")
        let count = labels.count
        let total = Int((Double(count) * fraction).rounded())
        var rowsOfClass = [[Int32]](repeating: [], count: classCount)
        for (row, label) in labels.enumerated() { rowsOfClass[Int(label)].append(Int32(row)) }
        var quotas = rowsOfClass.map { count == 0 ? 0 : total * $0.count / count }
        let remainders = rowsOfClass.map { count == 0 ? 0 : total * $0.count % count }
        let leftOver = total - quotas.reduce(0, +)
        let byRemainder = rowsOfClass.indices.sorted { (-remainders[$0], $0) < (-remainders[$1], $1) }
        for index in byRemainder.prefix(leftOver) { quotas[index] += 1 }
        var generator = RandomGenerator(seed: seed, stream: Dataset.splitStream)
        var isHeldOut = [Bool](repeating: false, count: count)
        for (rows, quota) in zip(rowsOfClass, quotas) {
            var permutation = rows
            generator.shuffle(&permutation)
            for row in permutation.prefix(quota) { isHeldOut[Int(row)] = true }
        }
        return isHeldOut
    }

    /// Which of `folds` folds (1...K) each of `count` rows is in, for k-fold cross-validation
    /// (`data.folds`; the rule of scikit-learn's KFold(shuffle=True) and StratifiedKFold):
    ///
    /// 1. the rows `0..<count` are permuted with `RandomGenerator(seed: seed, stream: Dataset.splitStream)`,
    ///    the draw `heldOutRows(count:fraction:seed:)` makes, so the seed draws the folds;
    /// 2. for classification (`labels[i]` in `0..<classCount`, row i's class) that permutation is sorted
    ///    stably by class (class 0's rows first, each class's in permutation order); regression keeps it;
    /// 3. the row at position i of that order is in fold (i mod K) + 1.
    ///
    /// So the folds are disjoint and cover every row, their sizes differ by at most one (⌈n/K⌉ or
    /// ⌊n/K⌋, the larger first), and a class's rows are dealt round-robin from where the previous class
    /// stopped, so its count in each fold differs by at most one: StratifiedKFold's promise, and its
    /// rule for the per-fold class counts (sklearn/model_selection/_split.py: `np.bincount(y_order[i::n_splits])`
    /// of the sorted labels), with the classes in index order where scikit-learn takes them in order of
    /// first appearance. Computed in integers; `folds` ≥ 1.
    public static func folds(count: Int, labels: [Int32]?, classCount: Int, folds: Int, seed: UInt64) -> [Int] {
        precondition(folds >= 1, "Dataset.folds: \(folds) folds")
        var permutation = (0..<Int32(count)).map { $0 }
        var generator = RandomGenerator(seed: seed, stream: Dataset.splitStream)
        generator.shuffle(&permutation)
        var order = permutation
        if let labels {
            precondition(labels.count == count, "Dataset.folds: \(labels.count) labels for \(count) rows")
            var rowsOfClass = [[Int32]](repeating: [], count: classCount)
            for row in permutation { rowsOfClass[Int(labels[Int(row)])].append(row) }  // a stable sort by class
            order = rowsOfClass.flatMap { $0 }
        }
        var fold = [Int](repeating: 0, count: count)
        for (position, row) in order.enumerated() { fold[Int(row)] = position % folds + 1 }
        return fold
    }

    /// Fold `fold` of `folds` (see `folds(count:labels:classCount:folds:seed:)`, stratified by class for
    /// a classification dataset) as the second result, the other folds as the first; both keep the
    /// rows' original relative order.
    public func split(fold: Int, of folds: Int, seed: UInt64) -> (kept: Dataset, heldOut: Dataset) {
        let labels: [Int32]? = if case .classes(let labels) = targets { labels } else { nil }
        let assigned = Dataset.folds(count: count, labels: labels, classCount: classNames.count, folds: folds, seed: seed)
        let kept = (0..<Int32(count)).filter { assigned[Int($0)] != fold }
        let heldOut = (0..<Int32(count)).filter { assigned[Int($0)] == fold }
        return (subset(kept), subset(heldOut))
    }

    /// Copies whole rows of `width` elements, in the order of `indices` (already checked).
    private static func gatherRows<T>(_ values: [T], _ indices: [Int32], _ width: Int) -> [T] {
        [T](unsafeUninitializedCapacity: indices.count * width) { destination, initialized in
            values.withUnsafeBufferPointer { source in
                for (position, row) in indices.enumerated() {
                    let from = UnsafeBufferPointer(rebasing: source[(Int(row) * width)..<(Int(row) * width + width)])
                    let to = UnsafeMutableBufferPointer(rebasing: destination[(position * width)..<(position * width + width)])
                    _ = to.initialize(fromContentsOf: from)
                }
            }
            initialized = indices.count * width
        }
    }
}
