/// The box of CutMix (Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with
/// Localizable Features", ICCV 2019), as torchvision's v2 CutMix draws it (`CutMix._get_params`,
/// torchvision/transforms/v2/_augment.py).
enum CutMix {
    /// For λ ~ Beta(α, α) already drawn: the centre r_x uniform in 0..<width, then r_y in 0..<height;
    /// half sides ⌊r·width⌋ and ⌊r·height⌋ with r = ½·√(1 − λ), so the unclipped box has area
    /// (1 − λ) of the image up to the flooring; x1 = max(r_x − half width, 0), x2 = min(r_x + half
    /// width, width), likewise in y. The box may be empty (λ near 1) and is clipped at the borders, so
    /// the labels are mixed by its actual area: λ' = 1 − (x2 − x1)(y2 − y1)/(width·height)
    /// (torchvision's `lam_adjusted`, Yun et al.'s reference code). Yun et al.'s `rand_bbox` takes the half
    /// side as `int(W·√(1 − λ)) // 2`, which is the same integer (⌊⌊x⌋/2⌋ = ⌊x/2⌋ for x ≥ 0).
    static func box(lambda: Double, height: Int, width: Int, random: inout RandomGenerator)
        -> (box: PixelRectangle, lambda: Double) {
        let centreX = Int(random.next(upperBound: UInt64(width)))
        let centreY = Int(random.next(upperBound: UInt64(height)))
        let r = 0.5 * max(0, 1 - lambda).squareRoot()
        let (halfWidth, halfHeight) = (Int(r * Double(width)), Int(r * Double(height)))
        let (x1, x2) = (max(centreX - halfWidth, 0), min(centreX + halfWidth, width))
        let (y1, y2) = (max(centreY - halfHeight, 0), min(centreY + halfHeight, height))
        let box = PixelRectangle(top: y1, left: x1, height: y2 - y1, width: x2 - x1)
        return (box, 1 - Double(box.height * box.width) / (Double(height) * Double(width)))
    }
}
