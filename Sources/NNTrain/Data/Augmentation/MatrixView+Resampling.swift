import Foundation

/// The pixel range of normalised images: the values a black (raw 0) and a white (raw 255) pixel
/// take after `data.normalize` (x' = (x − shift)·scale, so `black` = −shift·scale, 0 for `scale`
/// and `none`, and `white` = (255 − shift)·scale: 1 for `scale`, 255 for `none`). torchvision's
/// transforms run before Normalize, on raw pixels; nntrain's run on normalised ones, so every
/// clamp, fill and blend towards black below is written with these two values, which makes each
/// operation the affine image of torchvision's in raw pixels.
struct PixelRange: Equatable {
    var black: Float
    var white: Float
    /// white − black: a step of 1 on torchvision's [0, 1] float scale.
    var span: Float { white - black }

    /// The raw range 0...255 of byte images under `Normalizer`'s affine map for one pixel.
    init(shift: Float, scale: Float) {
        black = (0 - shift) * scale
        white = (255 - shift) * scale
    }

    init(black: Float, white: Float) {
        self.black = black
        self.white = white
    }

    func clamped(_ value: Float) -> Float { min(max(value, black), white) }
}

/// The resampling and colour operations of augmentation, on one single-channel image viewed as a
/// matrix (`rows` its height, `columns` its width). Those that read pixels they have already
/// overwritten first copy the image into `scratch` (at least rows × columns elements, owned by the
/// caller), so nothing is allocated.
extension MatrixView {
    /// Rotates the image counter-clockwise by `degrees` about its centre, bilinearly, with black
    /// outside: torchvision's `F.rotate(img, angle, InterpolationMode.BILINEAR, expand=False,
    /// center=None, fill=0)` on a float tensor (torchvision/transforms/_functional_tensor.py: `rotate`,
    /// `_gen_affine_grid`, `_apply_grid_transform`; the matrix of `_get_inverse_affine_matrix` with
    /// angle −degrees).
    ///
    /// Output pixel (x, y), with y down, takes the source point
    ///
    ///     (sx, sy) = (cx + cos θ·(x − cx) − sin θ·(y − cy),  cy + sin θ·(x − cx) + cos θ·(y − cy)),
    ///     (cx, cy) = ((W − 1)/2, (H − 1)/2),  θ = degrees·π/180,
    ///
    /// (the affine grid's base points are x − (W − 1)/2, divided by W/2 and unnormalised by
    /// grid_sample with align_corners=False, which adds (W − 1)/2 back: the centre of the image is its
    /// geometric centre, a pixel index of (W − 1)/2). grid_sample reads the four pixels around
    /// (sx, sy) with the bilinear weights (1 − fx)(1 − fy), fx(1 − fy), (1 − fx)fy, fx·fy, a pixel
    /// outside the image counting as 0: S = Σ_inside w·x, and m = Σ_inside w is the same sample of an
    /// all-ones mask. torchvision's fill then gives S·m + (1 − m)·fill, which for fill = 0 is S·m (so
    /// a pixel half outside is weighted twice towards black, as torchvision does). In the normalised
    /// space, with b = `range.black`: out = b + m·Σ_inside w·(x − b).
    func rotate(degrees: Double, range: PixelRange, scratch: UnsafeMutablePointer<Float>) {
        let (height, width) = (rows, columns)
        scratch.update(from: base, count: height * width)
        let angle = degrees * Double.pi / 180
        let (cosine, sine) = (cos(angle), sin(angle))
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        let black = range.black
        for y in 0..<height {
            for x in 0..<width {
                let (dx, dy) = (Double(x) - cx, Double(y) - cy)
                let sx = cx + cosine * dx - sine * dy
                let sy = cy + sine * dx + cosine * dy
                let (x0, y0) = (Int(sx.rounded(.down)), Int(sy.rounded(.down)))
                let (fx, fy) = (Float(sx - Double(x0)), Float(sy - Double(y0)))
                var sum: Float = 0, mask: Float = 0
                func add(_ px: Int, _ py: Int, _ weight: Float) {
                    guard px >= 0 && px < width && py >= 0 && py < height else { return }
                    sum += weight * (scratch[py * width + px] - black)
                    mask += weight
                }
                add(x0, y0, (1 - fx) * (1 - fy))
                add(x0 + 1, y0, fx * (1 - fy))
                add(x0, y0 + 1, (1 - fx) * fy)
                add(x0 + 1, y0 + 1, fx * fy)
                base[y * width + x] = black + mask * sum
            }
        }
    }

    /// Replaces the image by its `crop` resized bilinearly to the whole image: torchvision's
    /// `F.resized_crop(img, top, left, h, w, size)` with BILINEAR, that is `F.crop` and then
    /// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`
    /// (aten/src/ATen/native/UpSample.h: `area_pixel_compute_source_index`; cpu/UpSampleKernel.cpp).
    /// The crop is never larger than the image, so this only upsamples, where antialiasing changes
    /// nothing (its triangle filter of support 1, normalised at the borders, is this bilinear).
    ///
    /// Output row y reads source row s = max(0, (h/H)·(y + 0.5) − 0.5) of the crop: rows
    /// y0 = ⌊s⌋ and y1 = min(y0 + 1, h − 1) with weights 1 − (s − y0) and s − y0; columns likewise
    /// with w/W; the value is the weighted sum of the four crop pixels.
    func resize(crop: PixelRectangle, scratch: UnsafeMutablePointer<Float>) {
        let (height, width) = (rows, columns)
        scratch.update(from: base, count: height * width)
        let rowScale = Float(crop.height) / Float(height), columnScale = Float(crop.width) / Float(width)
        func source(_ index: Int, scale: Float, size: Int) -> (Int, Int, Float) {
            let s = max(0, scale * (Float(index) + 0.5) - 0.5)
            let low = min(Int(s), size - 1)
            return (low, low < size - 1 ? low + 1 : low, s - Float(low))
        }
        for y in 0..<height {
            let (y0, y1, ly) = source(y, scale: rowScale, size: crop.height)
            let row0 = scratch + (crop.top + y0) * width + crop.left
            let row1 = scratch + (crop.top + y1) * width + crop.left
            for x in 0..<width {
                let (x0, x1, lx) = source(x, scale: columnScale, size: crop.width)
                base[y * width + x] = (1 - ly) * ((1 - lx) * row0[x0] + lx * row0[x1])
                    + ly * ((1 - lx) * row1[x0] + lx * row1[x1])
            }
        }
    }

    /// torchvision's `F.adjust_brightness(img, factor)`: `_blend(img, zeros, factor)`, that is
    /// x·factor clamped to the pixel range; in the normalised space b + factor·(x − b), clamped to
    /// `range` (torchvision/transforms/v2/functional/_color.py: `adjust_brightness_image`).
    func adjustBrightness(factor: Float, range: PixelRange) {
        let black = range.black
        for index in 0..<(rows * columns) {
            base[index] = range.clamped(black + factor * (base[index] - black))
        }
    }

    /// torchvision's `F.adjust_contrast(img, factor)` on a one-channel float image: the blend
    /// factor·x + (1 − factor)·mean with the image's mean (of the grayscale image, which for one
    /// channel is the image), clamped to the pixel range (`adjust_contrast_image`). The mean is
    /// summed in Double. A blend of weights summing to 1 commutes with the normalising map, so it is
    /// computed on normalised values as they are.
    func adjustContrast(factor: Float, range: PixelRange) {
        let count = rows * columns
        var sum = 0.0
        for index in 0..<count { sum += Double(base[index]) }
        let mean = Float(sum / Double(count))
        for index in 0..<count {
            base[index] = range.clamped(factor * base[index] + (1 - factor) * mean)
        }
    }
}
