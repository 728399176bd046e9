/// Gathers batches of normalised rows from a dataset into buffers allocated once, in the order
/// the trainer gives (a shuffled permutation for training, the natural order for evaluation).
///
/// Shapes: features [rows, featureCount] in `features`; targets one per row in `classes` or `values`.
final class BatchLoader {
    let dataset: Dataset
    let normalizer: Normalizer
    let capacity: Int
    private let features: FloatBuffer
    private var classes: [Int32]
    private var values: [Float]

    init(dataset: Dataset, normalizer: Normalizer, capacity: Int) {
        self.dataset = dataset
        self.normalizer = normalizer
        self.capacity = capacity
        features = FloatBuffer(count: capacity * dataset.featureCount)
        switch dataset.targets {
        case .classes: classes = [Int32](repeating: 0, count: capacity); values = []
        case .values: values = [Float](repeating: 0, count: capacity); classes = []
        }
    }

    /// Loads the rows `order[range]` and passes the batch's features and targets to `body`; the
    /// pointers are valid only inside it.
    func withBatch<R, E: Error>(order: UnsafeBufferPointer<Int32>, range: Range<Int>,
                                _ body: (MatrixView, TargetBatch) throws(E) -> R) throws(E) -> R {
        let rows = UnsafeBufferPointer(rebasing: order[range])
        let x = features.matrix(rows: rows.count, columns: dataset.featureCount)
        normalizer.gather(rows: rows, from: dataset, into: x.base)
        switch dataset.targets {
        case .classes:
            return try classes.withUnsafeMutableBufferPointer { (buffer) throws(E) -> R in
                let base = buffer.baseAddress.unsafelyUnwrapped
                normalizer.gatherTargets(rows: rows, from: dataset, intoClasses: base)
                return try body(x, .classes(base))
            }
        case .values:
            return try values.withUnsafeMutableBufferPointer { (buffer) throws(E) -> R in
                let base = buffer.baseAddress.unsafelyUnwrapped
                normalizer.gatherTargets(rows: rows, from: dataset, intoValues: base)
                return try body(x, .values(base))
            }
        }
    }
}

extension Network {
    /// Runs every row of `dataset`, normalised, through the network in evaluation mode, in their
    /// natural order and in chunks of up to `rowCapacity` rows, handing each chunk's output
    /// [rows, outputWidth] and targets to `body` (valid only inside it).
    func forEachEvaluationBatch(of dataset: Dataset, normalizer: Normalizer, _ body: (MatrixView, TargetBatch) -> Void) {
        let chunk = min(rowCapacity, max(dataset.count, 1))
        let loader = BatchLoader(dataset: dataset, normalizer: normalizer, capacity: chunk)
        let order = (0..<Int32(dataset.count)).map { $0 }
        order.withUnsafeBufferPointer { order in
            for start in stride(from: 0, to: dataset.count, by: chunk) {
                loader.withBatch(order: order, range: start..<min(start + chunk, dataset.count)) { x, targets in
                    body(forward(x, training: false), targets)
                }
            }
        }
    }
}
