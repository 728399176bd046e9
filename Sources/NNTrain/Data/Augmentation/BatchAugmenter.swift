/// Mixup's pairing of one batch: row i of the batch became λ·x_i + (1 − λ)·x_π(i).
///
/// The loss of the batch is then λ·L(z, y) + (1 − λ)·L(z, y_π) (Zhang et al. 2018), which for
/// softmax cross-entropy is the cross-entropy against the soft target λ·onehot(y_i) +
/// (1 − λ)·onehot(y_π(i)): its gradient with respect to the logits z_i is
/// (softmax(z_i) − λ·onehot(y_i) − (1 − λ)·onehot(y_π(i))) / B.
///
/// The buffers belong to the `BatchAugmenter`: valid until its next `apply` and while it lives.
public struct MixupResult {
    /// λ ~ Beta(α, α), in [0, 1]: the weight of each row's own image and label.
    public let lambda: Float
    /// π, a permutation of the batch rows: row i was mixed with row `partners[i]`.
    public let partners: UnsafeBufferPointer<Int32>
    /// y_π: `partnerLabels[i]` is the label of row `partners[i]`; nil when `apply` had no labels.
    public let partnerLabels: UnsafeBufferPointer<Int32>?
}

/// Augments training batches in place (torchvision semantics), drawing everything from the
/// `RandomGenerator` it is given, so that a seed reproduces every augmented batch. Validation and
/// test batches are never augmented.
///
/// Each row of a batch is one single-channel image of `imageHeight × imageWidth` normalised
/// pixels, row-major. Operations, in this order:
///
/// 1. Per image, in row order: horizontal flip, then shift, then erasing, each when enabled in
///    `settings` (the order of the usual torchvision pipeline, with RandomErasing after
///    Normalize; flip and shift commute in distribution, since dx is symmetric).
/// 2. Over the batch: mixup.
///
/// The draws, in order; a disabled augmentation draws nothing:
///
/// - for each image, rows 0, 1, ...:
///   - flip: one `nextUnitDouble()` u; flipped iff u < 0.5 (`RandomHorizontalFlip`: rand < p);
///   - shift by k: the window's top i, then its left j, each `next(upperBound: 2k + 1)`
///     (`RandomCrop.get_params`), giving dy = k − i and dx = k − j;
///   - erasing with probability p: one `nextUnitDouble()` u; if u < p, the draws of
///     `RandomErasing.rectangle` (`RandomErasing.forward`);
/// - mixup: λ = `nextBeta(α, α)`, then π = the identity shuffled by `shuffle(_:)` (the order of
///   Zhang et al.'s reference code: `np.random.beta`, then `torch.randperm`).
///
/// Give it a generator of its own (`RandomGenerator(seed:stream:)`), so that turning augmentation
/// on or off does not change the numbers shuffling, initialisation or dropout see; the generator's
/// state is all a checkpoint needs to resume the same augmentations.
///
/// Allocates its buffers once, for `batchCapacity` rows (a smaller last batch is fine), and
/// nothing per batch.
public final class BatchAugmenter {
    public let settings: AugmentationSettings
    public let imageHeight: Int
    public let imageWidth: Int
    public let batchCapacity: Int
    /// The normalised value of a black (0) pixel, shifted in from outside the image: 0 for
    /// `scale` normalisation, −mean/std for `standardize`.
    public let fill: Float

    /// π of the last mixup (its first `rows` entries).
    private let partners: UnsafeMutableBufferPointer<Int32>
    /// y_π of the last mixup.
    private let partnerLabels: UnsafeMutableBufferPointer<Int32>
    /// Which rows mixup has mixed so far in the current batch.
    private let mixed: UnsafeMutableBufferPointer<Bool>
    /// The original first row of the mixup cycle being mixed.
    private let savedRow: FloatBuffer

    /// `settings` must be valid (`settings.validate() == nil`; the configuration layer refuses
    /// others before a run starts): invalid ones are a caller's bug and stop the program, as do an
    /// empty image shape and a negative capacity.
    public init(settings: AugmentationSettings, imageHeight: Int, imageWidth: Int, batchCapacity: Int, fill: Float) {
        if let problem = settings.validate() { preconditionFailure("BatchAugmenter: \(problem)") }
        precondition(imageHeight >= 1 && imageWidth >= 1, "BatchAugmenter: image shape \(imageHeight)×\(imageWidth)")
        precondition(batchCapacity >= 0 && batchCapacity <= Int(Int32.max), "BatchAugmenter: batch capacity \(batchCapacity)")
        self.settings = settings
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.batchCapacity = batchCapacity
        self.fill = fill
        partners = .allocate(capacity: batchCapacity)
        partnerLabels = .allocate(capacity: batchCapacity)
        mixed = .allocate(capacity: batchCapacity)
        partners.initialize(repeating: 0)
        partnerLabels.initialize(repeating: 0)
        mixed.initialize(repeating: false)
        savedRow = FloatBuffer(count: imageHeight * imageWidth)
    }

    deinit {
        partners.deallocate()
        partnerLabels.deallocate()
        mixed.deallocate()
    }

    /// Augments `batch` (rows ≤ `batchCapacity`, columns = imageHeight × imageWidth) in place, as
    /// described above. `labels` (one per row) are only read, to gather y_π for mixup. Returns
    /// mixup's pairing, or nil when mixup is off.
    @discardableResult
    public func apply(to batch: MatrixView, labels: UnsafePointer<Int32>?, random: inout RandomGenerator) -> MixupResult? {
        precondition(batch.columns == imageHeight * imageWidth,
                     "BatchAugmenter: \(batch.columns) columns for \(imageHeight)×\(imageWidth) images")
        precondition(batch.rows <= batchCapacity, "BatchAugmenter: \(batch.rows) rows for a capacity of \(batchCapacity)")
        for row in 0..<batch.rows {
            let image = MatrixView(base: batch.base + row * batch.columns, rows: imageHeight, columns: imageWidth)
            augment(image, random: &random)
        }
        guard settings.mixupAlpha > 0 else { return nil }
        return mixup(batch, labels: labels, random: &random)
    }

    /// Flip, shift and erasing of one image, with the draws in the order documented on the type.
    private func augment(_ image: MatrixView, random: inout RandomGenerator) {
        if settings.hflip && random.nextUnitDouble() < AugmentationSettings.flipProbability {
            image.flipHorizontally()
        }
        if settings.shift > 0 {
            let dy = shiftOffset(random: &random)
            let dx = shiftOffset(random: &random)
            image.shift(dx: dx, dy: dy, fill: fill)
        }
        if settings.erasingProbability > 0 && random.nextUnitDouble() < settings.erasingProbability,
           let rectangle = RandomErasing.rectangle(height: imageHeight, width: imageWidth, random: &random) {
            image.fill(rectangle, with: RandomErasing.value)
        }
    }

    /// k − i for the window start i uniform in 0...2k, torchvision's RandomCrop offset in an image
    /// padded by k: uniform in −k...k. In UInt64, so that any k is fine (2k + 1 ≤ 2⁶⁴ − 1, and
    /// k − i, in −k...k, fits an Int).
    private func shiftOffset(random: inout RandomGenerator) -> Int {
        let k = UInt64(settings.shift)
        let windowStart = random.next(upperBound: 2 * k + 1)
        return Int(truncatingIfNeeded: k &- windowStart)
    }

    /// Mixup over the batch (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018):
    /// λ ~ Beta(α, α) once per batch, a random permutation π of the rows, x_i ← λ·x_i + (1 − λ)·x_π(i),
    /// and y_π gathered from `labels`.
    private func mixup(_ batch: MatrixView, labels: UnsafePointer<Int32>?, random: inout RandomGenerator) -> MixupResult {
        let rows = batch.rows
        let lambda = Float(random.nextBeta(settings.mixupAlpha, settings.mixupAlpha))
        let permutation = UnsafeMutableBufferPointer(rebasing: partners[0..<rows])
        for row in 0..<rows { permutation[row] = Int32(row) }
        random.shuffle(permutation)
        mix(batch, lambda: lambda, partners: UnsafeBufferPointer(permutation))
        var gatheredLabels: UnsafeBufferPointer<Int32>?
        if let labels {
            for row in 0..<rows { partnerLabels[row] = labels[Int(permutation[row])] }
            gatheredLabels = UnsafeBufferPointer(rebasing: partnerLabels[0..<rows])
        }
        return MixupResult(lambda: lambda, partners: UnsafeBufferPointer(permutation), partnerLabels: gatheredLabels)
    }

    /// x_i ← λ·x_i + (1 − λ)·x_π(i) for every row at once, in place, computed in Float as written.
    /// Rows are mixed cycle by cycle of π (i, π(i), π(π(i)), ...), so each row's partner is still
    /// unmixed when it is read, except the cycle's first row, which is read last and so is saved
    /// before it is overwritten: one row of scratch instead of a copy of the batch.
    private func mix(_ batch: MatrixView, lambda: Float, partners: UnsafeBufferPointer<Int32>) {
        let width = batch.columns
        let partnerWeight = 1 - lambda
        let saved = savedRow.base
        let mixed = UnsafeMutableBufferPointer(rebasing: self.mixed[0..<batch.rows])
        mixed.update(repeating: false)
        for start in 0..<batch.rows where !mixed[start] {
            saved.update(from: batch.base + start * width, count: width)
            var row = start
            while true {
                mixed[row] = true
                let partner = Int(partners[row])
                let target = batch.base + row * width
                let source = partner == start ? saved : batch.base + partner * width
                for column in 0..<width {
                    target[column] = lambda * target[column] + partnerWeight * source[column]
                }
                if partner == start { break }
                row = partner
            }
        }
    }
}
