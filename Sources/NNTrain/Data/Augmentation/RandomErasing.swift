import Foundation

/// The rectangle of torchvision's RandomErasing (Zhong et al., "Random Erasing Data Augmentation",
/// AAAI 2020), with torchvision's defaults: scale (0.02, 0.33), ratio (0.3, 3.3), value 0.
/// Whether an image is erased at all (probability p) is `BatchAugmenter`'s draw.
enum RandomErasing {
    /// The range of the erased area as a fraction of the image area.
    static let scale: ClosedRange<Double> = 0.02...0.33
    /// The range of the rectangle's aspect ratio height / width, sampled log-uniformly.
    static let ratio: ClosedRange<Double> = 0.3...3.3
    /// Tries before giving up on an image (which then stays as it is).
    static let attempts = 10
    /// What the rectangle is set to: 0 in the normalised space, because torchvision applies
    /// RandomErasing after ToTensor and Normalize.
    static let value: Float = 0

    /// torchvision's `RandomErasing.get_params`: up to `attempts` times, draw the area
    /// A = height·width·U(scale) and then the aspect r = exp(U(log ratio)), and take
    /// h = round(√(A·r)), w = round(√(A/r)) (rounding half to even, as Python's `round`); the first
    /// h < height and w < width wins, and its top-left corner is drawn uniformly, top from
    /// 0...height − h and then left from 0...width − w. Nil if no attempt fits.
    ///
    /// Draws: two uniform Doubles per attempt, then two bounded integers for the corner.
    static func rectangle(height: Int, width: Int, random: inout RandomGenerator) -> PixelRectangle? {
        let area = Double(height) * Double(width)
        let logRatio = log(ratio.lowerBound)...log(ratio.upperBound)
        for _ in 0..<attempts {
            let erasedArea = area * uniform(in: scale, random: &random)
            let aspect = exp(uniform(in: logRatio, random: &random))
            let h = Int((erasedArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let w = Int((erasedArea / aspect).squareRoot().rounded(.toNearestOrEven))
            guard h < height && w < width else { continue }
            let top = Int(random.next(upperBound: UInt64(height - h + 1)))
            let left = Int(random.next(upperBound: UInt64(width - w + 1)))
            return PixelRectangle(top: top, left: left, height: h, width: w)
        }
        return nil
    }

    /// lower + (upper − lower)·u with u uniform in [0, 1), as `torch.Tensor.uniform_`.
    private static func uniform(in range: ClosedRange<Double>, random: inout RandomGenerator) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * random.nextUnitDouble()
    }
}
