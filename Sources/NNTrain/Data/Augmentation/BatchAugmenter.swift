/// Mixup's or CutMix's pairing of one batch: row i of the batch became λ·x_i + (1 − λ)·x_π(i)
/// (mixup), or x_i with a box of x_π(i) pasted in, λ being the share of the image left to x_i (CutMix).
///
/// The loss of the batch is then λ·L(z, y) + (1 − λ)·L(z, y_π) (Zhang et al. 2018), which for
/// softmax cross-entropy is the cross-entropy against the soft target λ·onehot(y_i) +
/// (1 − λ)·onehot(y_π(i)): its gradient with respect to the logits z_i is
/// (softmax(z_i) − λ·onehot(y_i) − (1 − λ)·onehot(y_π(i))) / B.
///
/// The buffers belong to the `BatchAugmenter`: valid until its next `apply` and while it lives.
public struct MixupResult {
    /// In [0, 1], the weight of each row's own image and label: mixup's λ ~ Beta(α, α), or for CutMix
    /// 1 − box area / image area.
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
/// 1. Per image, in row order: resized crop, horizontal flip, shift, rotation, brightness and
///    contrast, noise, erasing, each when enabled in `settings` (the order of the usual torchvision
///    pipeline: RandomResizedCrop, RandomHorizontalFlip, RandomRotation and ColorJitter on the image,
///    GaussianNoise on the float tensor, RandomErasing after Normalize; flip and shift commute in
///    distribution, since dx is symmetric).
/// 2. Over the batch: mixup or CutMix. With both on, each batch takes one of them, CutMix with
///    probability 0.5 (timm's `Mixup` with `switch_prob` 0.5; torchvision's reference scripts pick one
///    of the two per batch with `RandomChoice`).
///
/// The draws, in order; a disabled augmentation draws nothing:
///
/// - for each image, rows 0, 1, ...:
///   - crop with scale (a, b): the draws of `RandomResizedCrop.rectangle`;
///   - flip: one `nextUnitDouble()` u; flipped iff u < 0.5 (`RandomHorizontalFlip`: rand < p);
///   - shift by k: the window's top i, then its left j, each `next(upperBound: 2k + 1)`
///     (`RandomCrop.get_params`), giving dy = k − i and dx = k − j;
///   - rotation by up to d degrees: one `nextUnitDouble()` u, the angle −d + 2d·u
///     (`RandomRotation.get_params`: `uniform_(-d, d)`);
///   - brightness and contrast (`ColorJitter.get_params`): with both on, first one `nextUnitDouble()`
///     u, contrast before brightness iff u < 0.5 (ColorJitter applies its transforms in an order drawn
///     by `randperm`; the two commute but for the clamp); then the brightness factor
///     max(0, 1 − b) + (1 + b − max(0, 1 − b))·u, then the contrast factor likewise;
///   - noise with standard deviation σ: one `nextGaussian()` per pixel in row-major order;
///   - erasing with probability p: one `nextUnitDouble()` u; if u < p, the draws of
///     `RandomErasing.rectangle` (`RandomErasing.forward`);
/// - with both mixup and CutMix on: one `nextUnitDouble()` u, CutMix iff u < 0.5;
/// - mixup: λ = `nextBeta(α, α)`, then π = the identity shuffled by `shuffle(_:)` (the order of
///   Zhang et al.'s reference code: `np.random.beta`, then `torch.randperm`);
/// - CutMix: λ = `nextBeta(α, α)`, π shuffled as for mixup, then the box's centre (`CutMix.box`),
///   the order of Yun et al.'s reference code (`np.random.beta`, `torch.randperm`, `rand_bbox`).
///
/// Every pixel operation is torchvision's on raw pixels carried over to the normalised ones through
/// `range` (black and white after normalisation): rotation fills with black, brightness scales
/// towards black, noise's σ is a fraction of white − black, and all of them clamp to the range as
/// torchvision clamps to [0, 1].
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
    /// The normalised value of a white (255) pixel: 1 for `scale`, 255 for `none`.
    public let white: Float
    let range: PixelRange

    /// π of the last mixup (its first `rows` entries).
    private let partners: UnsafeMutableBufferPointer<Int32>
    /// y_π of the last mixup.
    private let partnerLabels: UnsafeMutableBufferPointer<Int32>
    /// Which rows mixup has mixed so far in the current batch.
    private let mixed: UnsafeMutableBufferPointer<Bool>
    /// The original first row of the mixup cycle being mixed.
    private let savedRow: FloatBuffer
    /// A copy of the image being rotated or resized, which those read while they write.
    private let sourceImage: FloatBuffer

    /// `settings` must be valid (`settings.validate() == nil`; the configuration layer refuses
    /// others before a run starts): invalid ones are a caller's bug and stop the program, as do an
    /// empty image shape, a negative capacity and a `white` not above `fill`.
    public init(settings: AugmentationSettings, imageHeight: Int, imageWidth: Int, batchCapacity: Int, fill: Float,
                white: Float) {
        if let problem = settings.validate() { preconditionFailure("BatchAugmenter: \(problem)") }
        precondition(imageHeight >= 1 && imageWidth >= 1, "BatchAugmenter: image shape \(imageHeight)×\(imageWidth)")
        precondition(batchCapacity >= 0 && batchCapacity <= Int(Int32.max), "BatchAugmenter: batch capacity \(batchCapacity)")
        precondition(white > fill && (white - fill).isFinite, "BatchAugmenter: pixel range \(fill)...\(white)")
        self.settings = settings
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.batchCapacity = batchCapacity
        self.fill = fill
        self.white = white
        range = PixelRange(black: fill, white: white)
        partners = .allocate(capacity: batchCapacity)
        partnerLabels = .allocate(capacity: batchCapacity)
        mixed = .allocate(capacity: batchCapacity)
        partners.initialize(repeating: 0)
        partnerLabels.initialize(repeating: 0)
        mixed.initialize(repeating: false)
        savedRow = FloatBuffer(count: imageHeight * imageWidth)
        sourceImage = FloatBuffer(count: imageHeight * imageWidth)
    }

    deinit {
        partners.deallocate()
        partnerLabels.deallocate()
        mixed.deallocate()
    }

    /// Augments `batch` (rows ≤ `batchCapacity`, columns = imageHeight × imageWidth) in place, as
    /// described above. `labels` (one per row) are only read, to gather y_π for mixup and CutMix.
    /// Returns their pairing, or nil when both are off.
    @discardableResult
    public func apply(to batch: MatrixView, labels: UnsafePointer<Int32>?, random: inout RandomGenerator) -> MixupResult? {
        precondition(batch.columns == imageHeight * imageWidth,
                     "BatchAugmenter: \(batch.columns) columns for \(imageHeight)×\(imageWidth) images")
        precondition(batch.rows <= batchCapacity, "BatchAugmenter: \(batch.rows) rows for a capacity of \(batchCapacity)")
        for row in 0..<batch.rows {
            let image = MatrixView(base: batch.base + row * batch.columns, rows: imageHeight, columns: imageWidth)
            augment(image, random: &random)
        }
        guard settings.mixesBatches else { return nil }
        let cutmix = settings.mixupAlpha > 0 && settings.cutmixAlpha > 0
            ? random.nextUnitDouble() < AugmentationSettings.cutmixSwitchProbability
            : settings.cutmixAlpha > 0
        return mix(batch, labels: labels, cutmix: cutmix, random: &random)
    }

    /// The operations on one image, with the draws in the order documented on the type.
    private func augment(_ image: MatrixView, random: inout RandomGenerator) {
        if let scale = settings.cropScale {
            let crop = RandomResizedCrop.rectangle(height: imageHeight, width: imageWidth, scale: scale, random: &random)
            image.resize(crop: crop, scratch: sourceImage.base)
        }
        if settings.hflip && random.nextUnitDouble() < AugmentationSettings.flipProbability {
            image.flipHorizontally()
        }
        if settings.shift > 0 {
            let dy = shiftOffset(random: &random)
            let dx = shiftOffset(random: &random)
            image.shift(dx: dx, dy: dy, fill: fill)
        }
        if settings.rotationDegrees > 0 {
            let degrees = settings.rotationDegrees
            image.rotate(degrees: -degrees + 2 * degrees * random.nextUnitDouble(), range: range, scratch: sourceImage.base)
        }
        jitterColour(image, random: &random)
        if settings.noiseStd > 0 {
            let sigma = Float(settings.noiseStd) * range.span
            for index in 0..<(imageHeight * imageWidth) {
                image.base[index] = range.clamped(image.base[index] + sigma * Float(random.nextGaussian()))
            }
        }
        if settings.erasingProbability > 0 && random.nextUnitDouble() < settings.erasingProbability,
           let rectangle = RandomErasing.rectangle(height: imageHeight, width: imageWidth, random: &random) {
            image.fill(rectangle, with: RandomErasing.value)
        }
    }

    /// ColorJitter's brightness and contrast: the order (when both are on), then each factor
    /// ~ U(max(0, 1 − x), 1 + x), then the two adjustments in that order.
    private func jitterColour(_ image: MatrixView, random: inout RandomGenerator) {
        let (brightness, contrast) = (settings.brightness, settings.contrast)
        guard brightness > 0 || contrast > 0 else { return }
        let contrastFirst = brightness > 0 && contrast > 0 && random.nextUnitDouble() < 0.5
        func factor(_ x: Double) -> Float {
            let low = max(0, 1 - x)
            return Float(low + (1 + x - low) * random.nextUnitDouble())
        }
        let brightnessFactor = brightness > 0 ? factor(brightness) : nil
        let contrastFactor = contrast > 0 ? factor(contrast) : nil
        if contrastFirst, let contrastFactor { image.adjustContrast(factor: contrastFactor, range: range) }
        if let brightnessFactor { image.adjustBrightness(factor: brightnessFactor, range: range) }
        if !contrastFirst, let contrastFactor { image.adjustContrast(factor: contrastFactor, range: range) }
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
    /// and y_π gathered from `labels`. Or CutMix (`cutmix`; Yun et al. 2019): λ ~ Beta(α, α), π, one
    /// box for the batch (`CutMix.box`), x_i's box ← x_π(i)'s box, λ ← 1 − box area / image area.
    private func mix(_ batch: MatrixView, labels: UnsafePointer<Int32>?, cutmix: Bool,
                     random: inout RandomGenerator) -> MixupResult {
        let rows = batch.rows
        let alpha = cutmix ? settings.cutmixAlpha : settings.mixupAlpha
        let draw = random.nextBeta(alpha, alpha)
        var lambda = Float(draw)
        let permutation = UnsafeMutableBufferPointer(rebasing: partners[0..<rows])
        for row in 0..<rows { permutation[row] = Int32(row) }
        random.shuffle(permutation)
        if cutmix {
            let (box, areaLambda) = CutMix.box(lambda: draw, height: imageHeight, width: imageWidth,
                                               random: &random)
            lambda = Float(areaLambda)
            let width = imageWidth
            combine(batch, partners: UnsafeBufferPointer(permutation)) { target, source in
                for y in box.top..<(box.top + box.height) {
                    (target + y * width + box.left).update(from: source + y * width + box.left, count: box.width)
                }
            }
        } else {
            let partnerWeight = 1 - lambda
            combine(batch, partners: UnsafeBufferPointer(permutation)) { [lambda] target, source in
                for column in 0..<batch.columns {
                    target[column] = lambda * target[column] + partnerWeight * source[column]
                }
            }
        }
        var gatheredLabels: UnsafeBufferPointer<Int32>?
        if let labels {
            for row in 0..<rows { partnerLabels[row] = labels[Int(permutation[row])] }
            gatheredLabels = UnsafeBufferPointer(rebasing: partnerLabels[0..<rows])
        }
        return MixupResult(lambda: lambda, partners: UnsafeBufferPointer(permutation), partnerLabels: gatheredLabels)
    }

    /// x_i ← f(x_i, x_π(i)) for every row at once, in place, with `combine(target, source)` writing
    /// f into target (mixup's λ·x_i + (1 − λ)·x_π(i), computed in Float as written; CutMix's box).
    /// Rows are mixed cycle by cycle of π (i, π(i), π(π(i)), ...), so each row's partner is still
    /// unmixed when it is read, except the cycle's first row, which is read last and so is saved
    /// before it is overwritten: one row of scratch instead of a copy of the batch.
    private func combine(_ batch: MatrixView, partners: UnsafeBufferPointer<Int32>,
                         _ combine: (UnsafeMutablePointer<Float>, UnsafePointer<Float>) -> Void) {
        let width = batch.columns
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
                combine(target, UnsafePointer(source))
                if partner == start { break }
                row = partner
            }
        }
    }
}
