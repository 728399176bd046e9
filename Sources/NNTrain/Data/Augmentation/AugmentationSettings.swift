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
///     rotation: 15     # RandomRotation(15): angle ~ U(−15°, 15°), bilinear, black fill
///     crop_scale: [0.8, 1.0]  # RandomResizedCrop(size, scale = (0.8, 1), ratio = (3/4, 4/3))
///     cutmix: 1.0      # CutMix with λ ~ Beta(1, 1); with mixup, one of the two per batch
///     brightness: 0.2  # ColorJitter(brightness = 0.2)
///     contrast: 0.2    # ColorJitter(contrast = 0.2)
///     noise: 0.05      # GaussianNoise(sigma = 0.05) on the [0, 1] pixel scale, clipped
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

    /// The largest rotation, in degrees (`data.augment.rotation`, finite, ≥ 0; 0 = off): each image
    /// turns counter-clockwise by an angle ~ U(−degrees, degrees) (torchvision's RandomRotation(degrees)).
    public var rotationDegrees: Double
    /// RandomResizedCrop's `scale`, the range of the crop's area as a fraction of the image's
    /// (`data.augment.crop_scale`, 0 < lower ≤ upper ≤ 1; nil = off); the aspect ratio range is
    /// torchvision's default `cropRatio`.
    public var cropScale: ClosedRange<Double>?
    /// α of CutMix's λ ~ Beta(α, α) (`data.augment.cutmix`, finite, ≥ 0; 0 = off). Yun et al. use 1.
    public var cutmixAlpha: Double
    /// ColorJitter's `brightness` b (`data.augment.brightness`, finite, ≥ 0; 0 = off): a factor
    /// ~ U(max(0, 1 − b), 1 + b) per image.
    public var brightness: Double
    /// ColorJitter's `contrast` c (`data.augment.contrast`, finite, ≥ 0; 0 = off): a factor
    /// ~ U(max(0, 1 − c), 1 + c) per image.
    public var contrast: Double
    /// The standard deviation of additive Gaussian noise on the [0, 1] pixel scale (0 = black,
    /// 1 = white, whatever `data.normalize` is), as torchvision's v2 GaussianNoise takes its sigma
    /// (`data.augment.noise`, finite, ≥ 0; 0 = off).
    public var noiseStd: Double

    /// torchvision's RandomHorizontalFlip default, the one `hflip: true` means.
    public static let flipProbability = 0.5
    /// RandomResizedCrop's default `ratio` (width / height), sampled log-uniformly.
    public static let cropRatio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)
    /// The probability of CutMix rather than mixup for a batch when both are on (timm's Mixup
    /// `switch_prob`, 0.5 by default).
    public static let cutmixSwitchProbability = 0.5

    public init(hflip: Bool = false, shift: Int = 0, erasingProbability: Double = 0, mixupAlpha: Double = 0,
                rotationDegrees: Double = 0, cropScale: ClosedRange<Double>? = nil, cutmixAlpha: Double = 0,
                brightness: Double = 0, contrast: Double = 0, noiseStd: Double = 0) {
        self.hflip = hflip
        self.shift = shift
        self.erasingProbability = erasingProbability
        self.mixupAlpha = mixupAlpha
        self.rotationDegrees = rotationDegrees
        self.cropScale = cropScale
        self.cutmixAlpha = cutmixAlpha
        self.brightness = brightness
        self.contrast = contrast
        self.noiseStd = noiseStd
    }

    /// Whether any augmentation is on, so a trainer can skip the augmenter altogether.
    public var isEnabled: Bool {
        hflip || shift > 0 || erasingProbability > 0 || mixupAlpha > 0 || rotationDegrees > 0 || cropScale != nil
            || cutmixAlpha > 0 || brightness > 0 || contrast > 0 || noiseStd > 0
    }

    /// Whether a batch is mixed (mixup or CutMix), which gives each row two labels.
    public var mixesBatches: Bool { mixupAlpha > 0 || cutmixAlpha > 0 }

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
        if !(rotationDegrees >= 0 && rotationDegrees.isFinite) {
            return "data.augment.rotation: \(rotationDegrees); expected a finite number >= 0 (degrees; 0 = off)"
        }
        if let scale = cropScale, !(scale.lowerBound > 0 && scale.upperBound <= 1) {
            return "data.augment.crop_scale: [\(scale.lowerBound), \(scale.upperBound)]; expected [a, b] with "
                + "0 < a <= b <= 1 (fractions of the image's area)"
        }
        if !(cutmixAlpha >= 0 && cutmixAlpha.isFinite) {
            return "data.augment.cutmix: \(cutmixAlpha); expected a finite number >= 0 (alpha of Beta(alpha, alpha); 0 = off)"
        }
        for (name, value) in [("brightness", brightness), ("contrast", contrast), ("noise", noiseStd)]
        where !(value >= 0 && value.isFinite) {
            return "data.augment.\(name): \(value); expected a finite number >= 0 (0 = off)"
        }
        return nil
    }
}
