/// Which augmentations a training run applies to its image batches (config section
/// `data.augment`); every one is off by default. `BatchAugmenter` applies them.
///
/// ```yaml
/// data:
///   augment:
///     hflip: true      # RandomHorizontalFlip(p = 0.5)
///     shift: 2         # RandomCrop(size, padding = 2) with the fill of a black pixel
///     erasing: 0.25    # RandomErasing(p = 0.25), torchvision's other defaults
///     mixup: 0.2       # mixup with λ ~ Beta(0.2, 0.2)
/// ```
public struct AugmentationSettings: Equatable, Sendable {
    /// Flip each image left-right with probability `flipProbability` (`data.augment.hflip`).
    public var hflip: Bool
    /// Shift each image by dx, dy drawn uniformly from −shift...shift, filling with a black pixel
    /// (`data.augment.shift`, pixels, ≥ 0; 0 = off). A shift as large as the image is allowed: the
    /// offsets that move the whole image out leave only fill, as torchvision's RandomCrop does.
    public var shift: Int
    /// Probability of erasing a random rectangle of each image (`data.augment.erasing`, in [0, 1];
    /// 0 = off).
    public var erasingProbability: Double
    /// α of mixup's λ ~ Beta(α, α) (`data.augment.mixup`, finite, ≥ 0; 0 = off). Zhang et al. use
    /// 0.2 to 0.4 on ImageNet; small α keeps λ near 0 or 1, so most mixed images stay close to one
    /// of the two.
    public var mixupAlpha: Double

    /// torchvision's RandomHorizontalFlip default, the one `hflip: true` means.
    public static let flipProbability = 0.5

    public init(hflip: Bool = false, shift: Int = 0, erasingProbability: Double = 0, mixupAlpha: Double = 0) {
        self.hflip = hflip
        self.shift = shift
        self.erasingProbability = erasingProbability
        self.mixupAlpha = mixupAlpha
    }

    /// Whether any augmentation is on, so a trainer can skip the augmenter altogether.
    public var isEnabled: Bool { hflip || shift > 0 || erasingProbability > 0 || mixupAlpha > 0 }

    /// The first problem of these settings as one line naming its config key
    /// (`data.augment.shift: -1; expected ...`), or nil when `BatchAugmenter` accepts them.
    public func validate() -> String? {
        if shift < 0 {
            return "data.augment.shift: \(shift); expected an integer >= 0 (pixels; 0 = off)"
        }
        if !(erasingProbability >= 0 && erasingProbability <= 1) {
            return "data.augment.erasing: \(erasingProbability); expected a probability >= 0 and <= 1 (0 = off)"
        }
        if !(mixupAlpha >= 0 && mixupAlpha.isFinite) {
            return "data.augment.mixup: \(mixupAlpha); expected a finite number >= 0 (alpha of Beta(alpha, alpha); 0 = off)"
        }
        return nil
    }
}
