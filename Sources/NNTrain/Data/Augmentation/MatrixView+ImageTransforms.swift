/// A rectangle of pixels: rows top..<top+height, columns left..<left+width.
struct PixelRectangle: Equatable {
    var top: Int
    var left: Int
    var height: Int
    var width: Int
}

/// The pixel operations of augmentation, on one single-channel image viewed as a matrix: `rows`
/// is its height, `columns` its width, row-major as a batch row holds it. Each works in place in
/// one pass and allocates nothing; the random choices are made by `BatchAugmenter`.
extension MatrixView {
    /// Mirrors the image left-right: out(y, x) = in(y, width − 1 − x)
    /// (torchvision.transforms.functional.hflip).
    func flipHorizontally() {
        for y in 0..<rows {
            let row = base + y * columns
            var left = 0
            var right = columns - 1
            while left < right {
                swap(&row[left], &row[right])
                left += 1
                right -= 1
            }
        }
    }

    /// Moves the image content dx pixels right and dy pixels down (negative: left, up):
    /// out(y, x) = in(y − dy, x − dx) where that pixel exists, else `fill`. This is torchvision's
    /// RandomCrop(size, padding = k, fill) with the crop window at (top, left) = (k − dy, k − dx)
    /// of the padded image.
    ///
    /// Any |dx| ≥ width (|dy| ≥ height) leaves only fill, so offsets are clamped to ±width (±height)
    /// first: the result is the same and the index arithmetic cannot overflow.
    ///
    /// In place: a destination row is written after the source row it reads when rows move down
    /// (dy > 0, so rows go bottom to top) and before it otherwise (top to bottom); within a row the
    /// kept run is moved with memmove semantics (`update(from:count:)` allows overlap), then the
    /// columns shifted in are filled.
    func shift(dx: Int, dy: Int, fill: Float) {
        let dx = min(max(dx, -columns), columns)
        let dy = min(max(dy, -rows), rows)
        let kept = columns - abs(dx)      // columns of a kept row that have a source pixel
        let firstKept = max(0, dx)        // the first of them; the source column is x − dx
        let filledRight = columns - firstKept - kept
        let order = dy > 0 ? stride(from: rows - 1, through: 0, by: -1) : stride(from: 0, through: rows - 1, by: 1)
        for y in order {
            let destination = base + y * columns
            let sourceRow = y - dy
            guard sourceRow >= 0 && sourceRow < rows else {
                destination.update(repeating: fill, count: columns)
                continue
            }
            (destination + firstKept).update(from: base + sourceRow * columns + firstKept - dx, count: kept)
            destination.update(repeating: fill, count: firstKept)
            (destination + firstKept + kept).update(repeating: fill, count: filledRight)
        }
    }

    /// Sets every pixel of `rectangle` (which lies inside the image) to `value`.
    func fill(_ rectangle: PixelRectangle, with value: Float) {
        for y in rectangle.top..<(rectangle.top + rectangle.height) {
            (base + y * columns + rectangle.left).update(repeating: value, count: rectangle.width)
        }
    }
}
