import Foundation

/// The crop of torchvision's RandomResizedCrop (`RandomResizedCrop.get_params`,
/// torchvision/transforms/transforms.py), which `BatchAugmenter` then resizes back to the whole
/// image (`MatrixView.resize(crop:scratch:)`).
enum RandomResizedCrop {
    /// Tries before the central-crop fallback.
    static let attempts = 10

    /// `RandomResizedCrop.get_params(img, scale, ratio)`: up to `attempts` times, the area
    /// A = height·width·U(scale) and the aspect r = exp(U(log ratio)) (width / height), then
    /// w = round(√(A·r)) and h = round(√(A/r)) (half to even, as Python's `round`); the first with
    /// 0 < w ≤ width and 0 < h ≤ height wins, with its top i uniform in 0...height − h and then its left
    /// j in 0...width − w. When no attempt fits: the central crop of the image clipped to the ratio
    /// range (width/height below the range: w = width, h = round(w / min ratio); above it:
    /// h = height, w = round(h·max ratio); else the whole image), at i = (height − h) / 2,
    /// j = (width − w) / 2 (floor).
    ///
    /// Draws: two uniform Doubles per attempt (`torch.empty(1).uniform_`), then two bounded integers
    /// for the corner when one fits; the fallback draws nothing more.
    static func rectangle(height: Int, width: Int, scale: ClosedRange<Double>,
                          ratio: ClosedRange<Double> = AugmentationSettings.cropRatio,
                          random: inout RandomGenerator) -> PixelRectangle {
        let area = Double(height) * Double(width)
        let logRatio = log(ratio.lowerBound)...log(ratio.upperBound)
        for _ in 0..<attempts {
            let targetArea = area * uniform(in: scale, random: &random)
            let aspect = exp(uniform(in: logRatio, random: &random))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            guard w > 0 && w <= width && h > 0 && h <= height else { continue }
            let top = Int(random.next(upperBound: UInt64(height - h + 1)))
            let left = Int(random.next(upperBound: UInt64(width - w + 1)))
            return PixelRectangle(top: top, left: left, height: h, width: w)
        }
        let imageRatio = Double(width) / Double(height)
        var (h, w) = (height, width)
        if imageRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if imageRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return PixelRectangle(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// lower + (upper − lower)·u with u uniform in [0, 1), as `torch.Tensor.uniform_`.
    private static func uniform(in range: ClosedRange<Double>, random: inout RandomGenerator) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * random.nextUnitDouble()
    }
}
