/// `data.sampler: balanced`: an epoch of n rows drawn with replacement from the n training rows, row i
/// with probability ∝ 1 / n_{class(i)}, as PyTorch users write
///
///     counts = torch.bincount(y); weights = 1.0 / counts[y]
///     WeightedRandomSampler(weights, num_samples=len(y), replacement=True)
///
/// (torch/utils/data/sampler.py, `WeightedRandomSampler`). Each class's rows weigh 1 together, so a draw
/// is a class chosen uniformly among the classes with rows, then one of its rows uniformly: the same
/// distribution, in two integer draws (`next(upperBound:)`, unbiased) from the run's shuffle stream.
/// The drawn order is the epoch's `order`, which checkpoints carry (`data.order`), so a resume is exact.
struct BalancedSampler {
    /// The training rows of each class that has any, in row order.
    let rowsOfClass: [[Int32]]

    /// The sampler of a training split whose row i has class `labels[i]` (0..<`classCount`).
    init(labels: [Int32], classCount: Int) {
        var rows = [[Int32]](repeating: [], count: classCount)
        for (row, label) in labels.enumerated() where label >= 0 && Int(label) < classCount {
            rows[Int(label)].append(Int32(row))
        }
        rowsOfClass = rows.filter { !$0.isEmpty }
    }

    /// Fills `order` with `order.count` rows drawn from `random`.
    func draw(into order: inout [Int32], random: inout RandomGenerator) {
        guard !rowsOfClass.isEmpty else { return }
        for index in order.indices {
            let rows = rowsOfClass[Int(random.next(upperBound: UInt64(rowsOfClass.count)))]
            order[index] = rows[Int(random.next(upperBound: UInt64(rows.count)))]
        }
    }
}
