import Foundation
import Testing
@testable import NNTrain

/// Batch augmentation on tiny hand-made images with distinct pixel values (so every moved pixel can
/// be traced), and the Beta and Gamma samplers behind mixup against their moments.
@Suite struct AugmentationTests {
    // MARK: Fixtures

    /// `rows` images of height × width whose pixels are all distinct and positive: image r holds
    /// r·height·width + 1, r·height·width + 2, ... in row-major order.
    static func images(rows: Int, height: Int, width: Int) -> [Float] {
        (0..<(rows * height * width)).map { Float($0 + 1) }
    }

    /// `pixels` (one height × width image) after `transform` runs on it in place.
    static func transformed(_ pixels: [Float], height: Int, width: Int, _ transform: (MatrixView) -> Void) -> [Float] {
        var copy = pixels
        copy.withUnsafeMutableBufferPointer { transform(MatrixView(base: $0.baseAddress!, rows: height, columns: width)) }
        return copy
    }

    /// out(y, x) = in(y − dy, x − dx), or `fill` where that pixel does not exist: the definition
    /// of a shift, pixel by pixel.
    static func shiftedByDefinition(_ pixels: [Float], height: Int, width: Int, dx: Int, dy: Int, fill: Float) -> [Float] {
        (0..<(height * width)).map { index in
            let (sourceY, sourceX) = (index / width - dy, index % width - dx)
            return (0..<height).contains(sourceY) && (0..<width).contains(sourceX) ? pixels[sourceY * width + sourceX] : fill
        }
    }

    /// What `BatchAugmenter.apply` returned, copied out of its buffers.
    struct Outcome: Equatable {
        var pixels: [Float]
        var lambda: Float?
        var partners: [Int32]?
        var partnerLabels: [Int32]?
        var random: RandomGenerator
    }

    /// Applies `settings` to `pixels` (`rows` images of height × width) with a generator seeded by `seed`.
    static func augment(_ pixels: [Float], rows: Int, height: Int, width: Int, settings: AugmentationSettings,
                        seed: UInt64, fill: Float = -1, white: Float = 10_000, labels: [Int32]? = nil) -> Outcome {
        let augmenter = BatchAugmenter(settings: settings, imageHeight: height, imageWidth: width, batchCapacity: rows + 3,
                                       fill: fill, white: white)
        var random = RandomGenerator(seed: seed)
        var batch = pixels
        var outcome = Outcome(pixels: [], random: random)
        batch.withUnsafeMutableBufferPointer { buffer in
            let view = MatrixView(base: buffer.baseAddress!, rows: rows, columns: height * width)
            let result = labels.map { labels in
                labels.withUnsafeBufferPointer { augmenter.apply(to: view, labels: $0.baseAddress!, random: &random) }
            } ?? augmenter.apply(to: view, labels: nil, random: &random)
            outcome.lambda = result?.lambda
            outcome.partners = result.map { Array($0.partners) }
            outcome.partnerLabels = result?.partnerLabels.map { Array($0) }
        }
        outcome.pixels = batch
        outcome.random = random
        return outcome
    }

    /// Image `row` of a batch of height·width-pixel images.
    static func image(_ row: Int, of pixels: [Float], size: Int) -> [Float] {
        Array(pixels[(row * size)..<((row + 1) * size)])
    }

    // A 4×5 image:
    //    1  2  3  4  5
    //    6  7  8  9 10
    //   11 12 13 14 15
    //   16 17 18 19 20
    let small = AugmentationTests.images(rows: 1, height: 4, width: 5)

    // MARK: Settings

    @Test func validateNamesTheConfigKeyOfTheFirstProblem() {
        #expect(AugmentationSettings().validate() == nil)
        #expect(AugmentationSettings(hflip: true, shift: 100, erasingProbability: 1, mixupAlpha: 0.4).validate() == nil)
        #expect(AugmentationSettings(shift: -1).validate()
            == "data.augment.shift: -1; expected an integer >= 0 (pixels; 0 = off)")
        for p in [-0.1, 1.5, .nan] {
            #expect(AugmentationSettings(erasingProbability: p).validate()?
                .hasPrefix("data.augment.erasing: \(p); expected") == true)
        }
        for alpha in [-0.2, .infinity, .nan] {
            #expect(AugmentationSettings(mixupAlpha: alpha).validate()?
                .hasPrefix("data.augment.mixup: \(alpha); expected") == true)
        }
    }

    @Test func isEnabledWhenAnyAugmentationIsOn() {
        #expect(!AugmentationSettings().isEnabled)
        #expect(AugmentationSettings(hflip: true).isEnabled)
        #expect(AugmentationSettings(shift: 1).isEnabled)
        #expect(AugmentationSettings(erasingProbability: 0.1).isEnabled)
        #expect(AugmentationSettings(mixupAlpha: 0.2).isEnabled)
    }

    @Test func disabledAugmentationsChangeNothingAndDrawNothing() {
        let pixels = Self.images(rows: 3, height: 4, width: 5)
        let outcome = Self.augment(pixels, rows: 3, height: 4, width: 5, settings: AugmentationSettings(), seed: 7,
                                   labels: [0, 1, 2])
        #expect(outcome == Outcome(pixels: pixels, random: RandomGenerator(seed: 7)))
    }

    // MARK: Horizontal flip

    @Test func flipMirrorsEveryRow() {
        let expected: [Float] = [5, 4, 3, 2, 1, 10, 9, 8, 7, 6, 15, 14, 13, 12, 11, 20, 19, 18, 17, 16]
        #expect(Self.transformed(small, height: 4, width: 5) { $0.flipHorizontally() } == expected)
        // An odd and an even width: the middle column stays, and width 1 is its own mirror.
        #expect(Self.transformed([1, 2, 3, 4], height: 1, width: 4) { $0.flipHorizontally() } == [4, 3, 2, 1])
        #expect(Self.transformed([1, 2, 3], height: 3, width: 1) { $0.flipHorizontally() } == [1, 2, 3])
    }

    /// Each image is flipped exactly when its one uniform draw is below 0.5, and so about half are.
    @Test func hflipFlipsEachImageWithProbabilityOneHalf() {
        let rows = 400, size = 20
        let pixels = Self.images(rows: rows, height: 4, width: 5)
        let outcome = Self.augment(pixels, rows: rows, height: 4, width: 5, settings: AugmentationSettings(hflip: true), seed: 11)
        var replay = RandomGenerator(seed: 11)
        var flipped = 0
        for row in 0..<rows {
            let original = Self.image(row, of: pixels, size: size)
            let flips = replay.nextUnitDouble() < 0.5
            flipped += flips ? 1 : 0
            let expected = flips ? Self.transformed(original, height: 4, width: 5) { $0.flipHorizontally() } : original
            #expect(Self.image(row, of: outcome.pixels, size: size) == expected)
        }
        #expect(outcome.random == replay)
        // Binomial(400, 0.5): mean 200, standard deviation 10; 4 deviations either side.
        #expect((160...240).contains(flipped))
    }

    // MARK: Shift

    @Test func shiftByAGivenOffsetMovesPixelsAndFillsTheRest() {
        // Right 1, down 2.
        let rightDown: [Float] = [-1, -1, -1, -1, -1,
                                  -1, -1, -1, -1, -1,
                                  -1, 1, 2, 3, 4,
                                  -1, 6, 7, 8, 9]
        #expect(Self.transformed(small, height: 4, width: 5) { $0.shift(dx: 1, dy: 2, fill: -1) } == rightDown)
        // Left 2, up 1.
        let leftUp: [Float] = [8, 9, 10, -1, -1,
                               13, 14, 15, -1, -1,
                               18, 19, 20, -1, -1,
                               -1, -1, -1, -1, -1]
        #expect(Self.transformed(small, height: 4, width: 5) { $0.shift(dx: -2, dy: -1, fill: -1) } == leftUp)
    }

    /// Every offset, including those that move the whole image out (and the extremes of Int, which
    /// must not overflow), against the pixel-by-pixel definition: in place, rows and columns must be
    /// read before they are overwritten whichever way the image moves.
    @Test func shiftMatchesItsDefinitionForEveryOffset() {
        for dy in -5...5 {
            for dx in -6...6 {
                let expected = Self.shiftedByDefinition(small, height: 4, width: 5, dx: dx, dy: dy, fill: -1)
                #expect(Self.transformed(small, height: 4, width: 5) { $0.shift(dx: dx, dy: dy, fill: -1) } == expected,
                        "dx \(dx), dy \(dy)")
            }
        }
        let allFill = [Float](repeating: -1, count: 20)
        #expect(Self.transformed(small, height: 4, width: 5) { $0.shift(dx: Int.max, dy: 0, fill: -1) } == allFill)
        #expect(Self.transformed(small, height: 4, width: 5) { $0.shift(dx: 0, dy: Int.min, fill: -1) } == allFill)
    }

    /// Shifts by k = 2 on 9×9 images: each image is exactly its original moved by some (dx, dy) in
    /// −2...2 (found by where the centre pixel went), the offsets are those of the documented draws
    /// (window top, then left), and all 25 offsets come up about equally often.
    @Test func randomShiftsAreUniformWithinTheMaximum() {
        let rows = 2_000, size = 81, k = 2
        let pixels = Self.images(rows: rows, height: 9, width: 9)
        let outcome = Self.augment(pixels, rows: rows, height: 9, width: 9, settings: AugmentationSettings(shift: k), seed: 3,
                                   fill: 0)
        var replay = RandomGenerator(seed: 3)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 5), count: 5)
        for row in 0..<rows {
            let original = Self.image(row, of: pixels, size: size)
            let shifted = Self.image(row, of: outcome.pixels, size: size)
            guard let centre = shifted.firstIndex(of: original[4 * 9 + 4]) else {
                Issue.record("image \(row): its centre pixel left the image")
                continue
            }
            let (dy, dx) = (centre / 9 - 4, centre % 9 - 4)
            #expect(abs(dx) <= k && abs(dy) <= k)
            #expect(shifted == Self.shiftedByDefinition(original, height: 9, width: 9, dx: dx, dy: dy, fill: 0))
            let top = Int(replay.next(upperBound: UInt64(5))), left = Int(replay.next(upperBound: UInt64(5)))
            #expect(dy == k - top && dx == k - left)
            counts[dy + k][dx + k] += 1
        }
        #expect(outcome.random == replay)
        // Each offset: Binomial(2000, 1/25), mean 80, standard deviation 8.8; within 4.5 of them.
        for count in counts.joined() { #expect((40...120).contains(count)) }
    }

    /// A maximum shift far beyond the image (up to Int.max) is drawn without overflow and moves
    /// the image out, leaving fill.
    @Test func shiftsBeyondTheImageLeaveFill() {
        let pixels = Self.images(rows: 8, height: 4, width: 5)
        let outcome = Self.augment(pixels, rows: 8, height: 4, width: 5, settings: AugmentationSettings(shift: .max), seed: 5,
                                   fill: -1)
        // P(|dx| < 5 and |dy| < 4) for offsets uniform in ±Int.max is about 2⁻¹²⁰ per image.
        #expect(outcome.pixels == [Float](repeating: -1, count: pixels.count))
    }

    // MARK: Random erasing

    /// 20,000 rectangles for a 28×28 image: each lies inside, is smaller than the image, and has a
    /// height and width that rounding can produce from an area in scale·784 and an aspect ratio in
    /// (0.3, 3.3); areas near both ends of scale and ratios near both ends of ratio occur.
    @Test func erasingRectanglesFollowTorchvisionsBounds() {
        var random = RandomGenerator(seed: 21)
        var areas: [Int] = []
        var (tall, wide) = (0, 0)
        for _ in 0..<20_000 {
            guard let r = RandomErasing.rectangle(height: 28, width: 28, random: &random) else { continue }
            #expect(r.top >= 0 && r.left >= 0 && r.top + r.height <= 28 && r.left + r.width <= 28)
            #expect(r.height < 28 && r.width < 28)
            // h = round(√(A·r)) and w = round(√(A/r)) put √(A·r) within h ± ½ and √(A/r) within w ± ½,
            // so A = √(A·r)·√(A/r) and r = √(A·r)/√(A/r) lie in these intervals.
            let (h, w) = (Double(r.height), Double(r.width))
            #expect((h - 0.5) * (w - 0.5) <= 0.33 * 784 && (h + 0.5) * (w + 0.5) >= 0.02 * 784, "\(r)")
            #expect((h - 0.5) / (w + 0.5) <= 3.3 && (h + 0.5) / (w - 0.5) >= 0.3, "\(r)")
            areas.append(r.height * r.width)
            tall += 2 * r.height >= 5 * r.width ? 1 : 0
            wide += 2 * r.width >= 5 * r.height ? 1 : 0
        }
        #expect(areas.count > 19_000)
        #expect((areas.min() ?? .max) <= 20 && (areas.max() ?? 0) >= 220)
        // log r is uniform over log 0.3...log 3.3, so h/w ≥ 2.5 (and ≤ 0.4) has probability about 0.12.
        #expect(tall > 1_500 && wide > 1_500)
    }

    /// On a 1×100 image every attempt gives h ≥ 1 (A ≥ 2 and r ≥ 0.3, so √(A·r) ≥ 0.77), which
    /// does not fit: no rectangle, after exactly 10 attempts of two uniforms each.
    @Test func erasingGivesUpAfterTenAttempts() {
        var random = RandomGenerator(seed: 2)
        var replay = random
        #expect(RandomErasing.rectangle(height: 1, width: 100, random: &random) == nil)
        for _ in 0..<20 { _ = replay.nextUnitDouble() }
        #expect(random == replay)
    }

    /// With probability 0.5 each 28×28 image gets exactly the documented rectangle set to 0, and
    /// nothing else changes.
    @Test func erasingSetsTheDrawnRectangleToZero() {
        let rows = 300, size = 784
        let pixels = Self.images(rows: rows, height: 28, width: 28)
        let settings = AugmentationSettings(erasingProbability: 0.5)
        let outcome = Self.augment(pixels, rows: rows, height: 28, width: 28, settings: settings, seed: 9)
        var replay = RandomGenerator(seed: 9)
        var erased = 0
        for row in 0..<rows {
            var expected = Self.image(row, of: pixels, size: size)
            if replay.nextUnitDouble() < 0.5, let r = RandomErasing.rectangle(height: 28, width: 28, random: &replay) {
                erased += 1
                for y in r.top..<(r.top + r.height) {
                    for x in r.left..<(r.left + r.width) { expected[y * 28 + x] = 0 }
                }
            }
            #expect(Self.image(row, of: outcome.pixels, size: size) == expected)
        }
        #expect(outcome.random == replay)
        // Binomial(300, ≈0.5): standard deviation 8.7; 4 of them either side.
        #expect((115...185).contains(erased))
    }

    // MARK: Mixup

    /// For 60 batches of 6 or 8 rows (capacity 9 or 11): λ in [0, 1], π a permutation, y_π the
    /// labels of π (none without labels), and every pixel exactly λ·x_i + (1 − λ)·x_π(i) of the
    /// original rows, whatever cycles π has.
    @Test func mixupMixesEachRowWithItsPartner() throws {
        let size = 20
        for seed in UInt64(1)...60 {
            let rows = seed.isMultiple(of: 2) ? 8 : 6
            let pixels = Self.images(rows: rows, height: 4, width: 5)
            let labels = seed.isMultiple(of: 3) ? nil : (0..<rows).map { Int32(100 + $0) }
            let outcome = Self.augment(pixels, rows: rows, height: 4, width: 5, settings: AugmentationSettings(mixupAlpha: 0.4),
                                       seed: seed, labels: labels)
            let lambda = try #require(outcome.lambda)
            let partners = try #require(outcome.partners).map { Int($0) }
            #expect(lambda >= 0 && lambda <= 1)
            #expect(partners.sorted() == Array(0..<rows))
            #expect(outcome.partnerLabels == labels.map { labels in partners.map { labels[$0] } })
            for row in 0..<rows {
                let mine = Self.image(row, of: pixels, size: size)
                let theirs = Self.image(partners[row], of: pixels, size: size)
                let expected = (0..<size).map { lambda * mine[$0] + (1 - lambda) * theirs[$0] }
                #expect(Self.image(row, of: outcome.pixels, size: size) == expected, "seed \(seed), row \(row)")
            }
        }
    }

    // MARK: The whole pipeline

    /// Flip, shift, erase per image in row order, then mixup, with the draws in the documented
    /// order: replaying them with the individual operations gives the same batch.
    @Test func pipelineFollowsTheDocumentedOrder() throws {
        let rows = 16, size = 784, k = 3
        let pixels = Self.images(rows: rows, height: 28, width: 28)
        let settings = AugmentationSettings(hflip: true, shift: k, erasingProbability: 0.5, mixupAlpha: 0.4)
        let outcome = Self.augment(pixels, rows: rows, height: 28, width: 28, settings: settings, seed: 17, fill: -0.5,
                                   labels: (0..<rows).map { Int32($0 % 10) })
        var replay = RandomGenerator(seed: 17)
        var expected = pixels
        expected.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<rows {
                let image = MatrixView(base: buffer.baseAddress! + row * size, rows: 28, columns: 28)
                if replay.nextUnitDouble() < 0.5 { image.flipHorizontally() }
                let top = Int(replay.next(upperBound: UInt64(2 * k + 1))), left = Int(replay.next(upperBound: UInt64(2 * k + 1)))
                image.shift(dx: k - left, dy: k - top, fill: -0.5)
                if replay.nextUnitDouble() < 0.5, let r = RandomErasing.rectangle(height: 28, width: 28, random: &replay) {
                    image.fill(r, with: 0)
                }
            }
        }
        let lambda = Float(replay.nextBeta(0.4, 0.4))
        var partners = (0..<rows).map { Int32($0) }
        replay.shuffle(&partners)
        let mixed = (0..<(rows * size)).map { index in
            lambda * expected[index] + (1 - lambda) * expected[Int(partners[index / size]) * size + index % size]
        }
        #expect(outcome.lambda == lambda)
        #expect(outcome.partners == partners)
        #expect(outcome.pixels == mixed)
        #expect(outcome.random == replay)
    }

    @Test func theSameSeedGivesTheSameBatch() {
        let pixels = Self.images(rows: 32, height: 28, width: 28)
        let labels = (0..<32).map { Int32($0 % 10) }
        let settings = AugmentationSettings(hflip: true, shift: 2, erasingProbability: 0.25, mixupAlpha: 0.2)
        let first = Self.augment(pixels, rows: 32, height: 28, width: 28, settings: settings, seed: 42, labels: labels)
        let second = Self.augment(pixels, rows: 32, height: 28, width: 28, settings: settings, seed: 42, labels: labels)
        let otherSeed = Self.augment(pixels, rows: 32, height: 28, width: 28, settings: settings, seed: 43, labels: labels)
        #expect(first == second)
        #expect(first.pixels != pixels)
        #expect(otherSeed.pixels != first.pixels)
    }

    // MARK: Samplers

    /// Sample mean and (population) variance of `count` draws.
    static func moments(count: Int, _ draw: () -> Double) -> (mean: Double, variance: Double, draws: [Double]) {
        let draws = (0..<count).map { _ in draw() }
        let mean = draws.reduce(0, +) / Double(count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count)
        return (mean, variance, draws)
    }

    /// Gamma(k, 1) has mean k and variance k, and fourth central moment 3k² + 6k, so with n draws
    /// the sample mean has standard error √(k/n) and the sample variance √((2k² + 6k)/n). Allowing
    /// 5 standard errors, a sampler with the shape off by 10% (or without the boost for k < 1) fails.
    @Test(arguments: [0.2, 0.5, 1, 2.5, 9])
    func gammaHasMeanAndVarianceShape(shape k: Double) {
        var random = RandomGenerator(seed: 31)
        let n = 200_000.0
        let (mean, variance, _) = Self.moments(count: Int(n)) { exp(random.nextLogGamma(shape: k)) }
        #expect(abs(mean - k) < 5 * (k / n).squareRoot(), "mean \(mean)")
        #expect(abs(variance - k) < 5 * ((2 * k * k + 6 * k) / n).squareRoot(), "variance \(variance)")
    }

    /// Beta(a, b): mean a/(a + b), variance ab/((a + b)²(a + b + 1)). Draws lie in [0, 1], so
    /// (X − μ)⁴ ≤ max(μ, 1 − μ)²·(X − μ)² and the sample variance has standard error at most
    /// max(μ, 1 − μ)·σ/√n; the mean's is σ/√n. Allowing 5 of them. Shapes 0.001 make both Gamma
    /// draws underflow most of the time, which the computation in logarithms must survive.
    @Test(arguments: [(0.2, 0.2), (0.4, 0.4), (2, 5), (0.5, 3), (0.001, 0.001)])
    func betaHasItsMeanAndVariance(a: Double, b: Double) {
        var random = RandomGenerator(seed: 37)
        let n = 200_000.0
        let (mean, variance, draws) = Self.moments(count: Int(n)) { random.nextBeta(a, b) }
        let expectedMean = a / (a + b)
        let expectedVariance = a * b / ((a + b) * (a + b) * (a + b + 1))
        let sigma = expectedVariance.squareRoot()
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(abs(mean - expectedMean) < 5 * sigma / n.squareRoot(), "mean \(mean)")
        #expect(abs(variance - expectedVariance) < 5 * max(expectedMean, 1 - expectedMean) * sigma / n.squareRoot(),
                "variance \(variance)")
    }

    /// The buffer shuffle draws exactly as the array one, so both give the same permutation.
    @Test func bufferShuffleMatchesArrayShuffle() {
        var first = RandomGenerator(seed: 8), second = first
        var array = (0..<50).map { Int32($0) }
        var buffer = array
        first.shuffle(&array)
        buffer.withUnsafeMutableBufferPointer { second.shuffle($0) }
        #expect(buffer == array && array != (0..<50).map { Int32($0) })
        #expect(first == second)
    }
}

// MARK: - Rotation, resized crop, CutMix, colour and noise

extension AugmentationTests {
    static func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, _ comment: Comment? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }, "\(a) vs \(b) \(comment ?? "")",
                sourceLocation: sourceLocation)
    }

    /// `pixels` transformed with a scratch buffer of its size.
    static func withScratch(_ pixels: [Float], height: Int, width: Int,
                            _ transform: (MatrixView, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var scratch = [Float](repeating: .nan, count: pixels.count)
        return scratch.withUnsafeMutableBufferPointer { buffer in
            transformed(pixels, height: height, width: width) { transform($0, buffer.baseAddress!) }
        }
    }

    @Test func validateNamesTheNewKeys() {
        #expect(AugmentationSettings(rotationDegrees: 30, cropScale: 0.08...1, cutmixAlpha: 1, brightness: 0.4,
                                     contrast: 2, noiseStd: 0.1).validate() == nil)
        #expect(AugmentationSettings(rotationDegrees: -1).validate()?.hasPrefix("data.augment.rotation: -1.0; expected") == true)
        #expect(AugmentationSettings(cropScale: 0...1).validate()
            == "data.augment.crop_scale: [0.0, 1.0]; expected [a, b] with 0 < a <= b <= 1 (fractions of the image's area)")
        #expect(AugmentationSettings(cropScale: 0.5...1.5).validate()?.hasPrefix("data.augment.crop_scale: [0.5, 1.5]") == true)
        #expect(AugmentationSettings(cutmixAlpha: .infinity).validate()?.hasPrefix("data.augment.cutmix: inf; expected") == true)
        #expect(AugmentationSettings(contrast: .nan).validate()
            == "data.augment.contrast: nan; expected a finite number >= 0 (0 = off)")
        #expect(AugmentationSettings(noiseStd: -0.1).validate()?.hasPrefix("data.augment.noise: -0.1") == true)
        for settings in [AugmentationSettings(rotationDegrees: 1), AugmentationSettings(cropScale: 1...1),
                         AugmentationSettings(cutmixAlpha: 1), AugmentationSettings(brightness: 0.1),
                         AugmentationSettings(contrast: 0.1), AugmentationSettings(noiseStd: 0.1)] {
            #expect(settings.isEnabled)
        }
    }

    /// The config's augmenter clamps and fills with the normalised black and white: (0 − μ)·(1/σ) and
    /// (255 − μ)·(1/σ) under standardize (μ = 100, σ = 50: −2 and 3.1), 0 and 1 under scale.
    @Test func theConfigsAugmenterKnowsBlackAndWhite() throws {
        var configuration = Configuration()
        configuration.data.augment.rotation = 5
        configuration.data.augment.cropScale = [0.5, 1]
        let standardised = try #require(configuration.makeAugmenter(
            schema: .images(rows: 2, columns: 3), normalizer: Normalizer(shift: [Float](repeating: 100, count: 6),
                                                                         scale: [Float](repeating: 0.02, count: 6)),
            batchCapacity: 4))
        #expect(standardised.fill == -2 && abs(standardised.white - 3.1) < 1e-6)
        #expect(standardised.settings.rotationDegrees == 5 && standardised.settings.cropScale == 0.5...1)
        let scaled = try #require(configuration.makeAugmenter(
            schema: .images(rows: 2, columns: 3), normalizer: Normalizer(shift: [Float](repeating: 0, count: 6),
                                                                         scale: [Float](repeating: 1 / 255, count: 6)),
            batchCapacity: 4))
        #expect(scaled.fill == 0 && scaled.white == 1)
    }

    // MARK: Rotation

    /// 90° counter-clockwise about the centre of a 4×4 and a 5×5 image is numpy's rot90:
    /// out(y, x) = in(x, n − 1 − y); 180° is out(y, x) = in(n − 1 − y, n − 1 − x); −90° the other way.
    /// (cos 90° is 6e-17 in Double, so the bilinear weights are exact to float noise.)
    @Test func rotationByRightAnglesPermutesThePixels() {
        for n in [4, 5] {
            let pixels = Self.images(rows: 1, height: n, width: n)
            let range = PixelRange(black: -1, white: 1_000)
            let rot90 = (0..<(n * n)).map { pixels[($0 % n) * n + (n - 1 - $0 / n)] }
            let rot180 = (0..<(n * n)).map { pixels[(n - 1 - $0 / n) * n + (n - 1 - $0 % n)] }
            let rotMinus90 = (0..<(n * n)).map { pixels[(n - 1 - $0 % n) * n + $0 / n] }
            for (degrees, expected) in [(90.0, rot90), (180, rot180), (-90, rotMinus90), (0, pixels), (360, pixels)] {
                let rotated = Self.withScratch(pixels, height: n, width: n) {
                    $0.rotate(degrees: degrees, range: range, scratch: $1)
                }
                Self.expectClose(rotated, expected, tolerance: 1e-3, "n \(n), \(degrees)°")
            }
        }
        // The 4×4 by 90°, written out: the right column becomes the top row.
        let turned = Self.withScratch(Self.images(rows: 1, height: 4, width: 4), height: 4, width: 4) {
            $0.rotate(degrees: 90, range: PixelRange(black: 0, white: 100), scratch: $1)
        }
        Self.expectClose(turned, [4, 8, 12, 16, 3, 7, 11, 15, 2, 6, 10, 14, 1, 5, 9, 13], tolerance: 1e-4)
    }

    /// A 1×3 image turned 90°: the middle pixel stays, the others sample a row above or below the
    /// image, which is black. A 1×2 image turned 90°: both pixels sample (0.5, ±0.5), half outside:
    /// grid_sample's S = ¼·(x₀ − b) + ¼·(x₁ − b) with mask m = ½, and torchvision's fill gives
    /// b + m·S (not b + S): with b = −2, x = [2, 6], −2 + ½·(1 + 2) = −0.5.
    @Test func rotationFillsWithBlackAsTorchvisionsMaskDoes() {
        let range = PixelRange(black: -2, white: 100)
        let line = Self.withScratch([5, 7, 9], height: 1, width: 3) { $0.rotate(degrees: 90, range: range, scratch: $1) }
        Self.expectClose(line, [-2, 7, -2], tolerance: 1e-5)
        let pair = Self.withScratch([2, 6], height: 1, width: 2) { $0.rotate(degrees: 90, range: range, scratch: $1) }
        Self.expectClose(pair, [-0.5, -0.5], tolerance: 1e-5)
        // A uniform black image stays black at any angle; a uniform grey one keeps its centre pixel.
        let black = Self.withScratch([Float](repeating: -2, count: 25), height: 5, width: 5) {
            $0.rotate(degrees: 33, range: range, scratch: $1)
        }
        #expect(black == [Float](repeating: -2, count: 25))
        let grey = Self.withScratch([Float](repeating: 3, count: 25), height: 5, width: 5) {
            $0.rotate(degrees: 33, range: range, scratch: $1)
        }
        #expect(abs(grey[12] - 3) < 1e-5 && grey.allSatisfy { $0 >= -2 && $0 <= 3 + 1e-5 })
    }

    /// 45° on a 3×3 image, the corner (0, 0) by hand: relative to the centre (1, 1) it is (−1, −1), and
    /// the source point is (1 + cos·(−1) − sin·(−1), 1 + sin·(−1) + cos·(−1)) = (1, 1 − √2): column 1,
    /// y = 1 − √2 = −0.414 between row −1 (outside, weight 1 − f) and row 0 (weight f = 2 − √2 = 0.586):
    /// S = f·(x(0, 1) − b), m = f, so out = b + f²·(x(0, 1) − b).
    @Test func rotationBy45DegreesWeighsTheCornerByHand() {
        let pixels: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let out = Self.withScratch(pixels, height: 3, width: 3) {
            $0.rotate(degrees: 45, range: PixelRange(black: 0, white: 100), scratch: $1)
        }
        let f = Float(2 - 2.0.squareRoot())
        #expect(abs(out[0] - f * f * 2) < 1e-5, "\(out[0])")
        #expect(abs(out[4] - 5) < 1e-5)
    }

    // MARK: Resized crop

    /// torch.nn.functional.interpolate([[1, 2], [3, 4]], size=(4, 4), mode="bilinear",
    /// align_corners=False), PyTorch's documented output, from a 2×2 crop anywhere in a 4×4 image.
    @Test func resizeOfACropIsPyTorchsBilinearUpsampling() {
        var image = [Float](repeating: -7, count: 16)
        (image[5], image[6], image[9], image[10]) = (1, 2, 3, 4)
        let out = Self.withScratch(image, height: 4, width: 4) {
            $0.resize(crop: PixelRectangle(top: 1, left: 1, height: 2, width: 2), scratch: $1)
        }
        #expect(out == [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        // The whole image is the identity; a 1×2 crop of a 2×4 image: rows repeat, columns interpolate.
        let whole = Self.withScratch(small, height: 4, width: 5) {
            $0.resize(crop: PixelRectangle(top: 0, left: 0, height: 4, width: 5), scratch: $1)
        }
        #expect(whole == small)
        let strip = Self.withScratch([0, 4, 8, 12, 1, 1, 1, 1], height: 2, width: 4) {
            $0.resize(crop: PixelRectangle(top: 0, left: 1, height: 1, width: 2), scratch: $1)
        }
        #expect(strip == [4, 5, 7, 8, 4, 5, 7, 8])
    }

    /// `RandomResizedCrop.get_params` written out with Python's rounding, on the same stream: 2,000
    /// crops of a 28×28 and of a 5×9 image agree, and every crop fits.
    @Test func cropRectangleFollowsGetParams() {
        for (height, width, scale) in [(28, 28, 0.08...1.0), (5, 9, 0.5...1.0), (28, 28, 0.8...1.0)] {
            var random = RandomGenerator(seed: 5), replay = random
            for _ in 0..<2_000 {
                let crop = RandomResizedCrop.rectangle(height: height, width: width, scale: scale, random: &random)
                var expected: PixelRectangle?
                for _ in 0..<10 where expected == nil {
                    let area = Double(height * width) * (scale.lowerBound + (scale.upperBound - scale.lowerBound)
                        * replay.nextUnitDouble())
                    let r = exp(log(3.0 / 4) + (log(4.0 / 3) - log(3.0 / 4)) * replay.nextUnitDouble())
                    let w = Int((area * r).squareRoot().rounded(.toNearestOrEven))
                    let h = Int((area / r).squareRoot().rounded(.toNearestOrEven))
                    if w >= 1 && w <= width && h >= 1 && h <= height {
                        let i = Int(replay.next(upperBound: UInt64(height - h + 1)))
                        let j = Int(replay.next(upperBound: UInt64(width - w + 1)))
                        expected = PixelRectangle(top: i, left: j, height: h, width: w)
                    }
                }
                if let expected { #expect(crop == expected) }
                #expect(crop.top >= 0 && crop.left >= 0 && crop.top + crop.height <= height && crop.left + crop.width <= width)
            }
            #expect(random == replay)
        }
    }

    /// Nothing of area ≥ 90 fits a 1×100 image with ratio 3/4–4/3: after exactly 10 attempts of two
    /// uniforms, the fallback: 100/1 is above 4/3, so h = 1, w = round(1·4/3) = 1, centred at (0, 49).
    /// A 100×1 image: w = 1, h = round(1/(3/4)) = 1, at (49, 0).
    @Test func cropFallsBackToTheCentralCrop() {
        var random = RandomGenerator(seed: 2)
        var replay = random
        #expect(RandomResizedCrop.rectangle(height: 1, width: 100, scale: 0.9...1, random: &random)
            == PixelRectangle(top: 0, left: 49, height: 1, width: 1))
        for _ in 0..<20 { _ = replay.nextUnitDouble() }
        #expect(random == replay)
        #expect(RandomResizedCrop.rectangle(height: 100, width: 1, scale: 0.9...1, random: &random)
            == PixelRectangle(top: 49, left: 0, height: 1, width: 1))
        // A 3×6 image (ratio 2): h = 3, w = round(3·4/3) = 4, at (0, 1).
        #expect(RandomResizedCrop.rectangle(height: 3, width: 6, scale: 1...1, random: &random)
            == PixelRectangle(top: 0, left: 1, height: 3, width: 4))
    }

    // MARK: CutMix

    /// The box of λ = 0.75 on an 8×8 image: r = ½·√0.25 = ¼, half sides 2, around the drawn centre
    /// (x, then y), clipped; λ' = 1 − area/64.
    @Test func cutmixBoxIsClippedAndItsAreaGivesLambda() {
        for seed in UInt64(1)...50 {
            var random = RandomGenerator(seed: seed), replay = random
            let (box, lambda) = CutMix.box(lambda: 0.75, height: 8, width: 8, random: &random)
            let cx = Int(replay.next(upperBound: UInt64(8))), cy = Int(replay.next(upperBound: UInt64(8)))
            let (x1, x2, y1, y2) = (max(cx - 2, 0), min(cx + 2, 8), max(cy - 2, 0), min(cy + 2, 8))
            #expect(box == PixelRectangle(top: y1, left: x1, height: y2 - y1, width: x2 - x1))
            #expect(lambda == 1 - Double((x2 - x1) * (y2 - y1)) / 64)
            #expect(random == replay)
        }
        // λ = 1: an empty box and λ' = 1; λ = 0: half sides 4, the whole image when centred at (4, 4).
        var random = RandomGenerator(seed: 3)
        #expect(CutMix.box(lambda: 1, height: 8, width: 8, random: &random).lambda == 1)
    }

    /// For 40 batches: every row is its own image outside one common box and its partner's original
    /// inside it, and λ is 1 − (the pixels taken from the partner)/(the image's pixels), counted
    /// from the output (pixels are distinct, so each one says where it came from).
    @Test func cutmixPastesThePartnersBoxAndMixesLabelsByArea() throws {
        let (rows, height, width) = (6, 7, 9)
        let size = height * width
        for seed in UInt64(1)...40 {
            let pixels = Self.images(rows: rows, height: height, width: width)
            let labels = (0..<rows).map { Int32(10 + $0) }
            let outcome = Self.augment(pixels, rows: rows, height: height, width: width,
                                       settings: AugmentationSettings(cutmixAlpha: 1), seed: seed, labels: labels)
            let partners = try #require(outcome.partners).map { Int($0) }
            let lambda = try #require(outcome.lambda)
            #expect(outcome.partnerLabels == partners.map { labels[$0] })
            var replay = RandomGenerator(seed: seed)
            let draw = replay.nextBeta(1, 1)
            var permutation = (0..<rows).map { Int32($0) }
            replay.shuffle(&permutation)
            let (box, _) = CutMix.box(lambda: draw, height: height, width: width, random: &replay)
            #expect(permutation.map { Int($0) } == partners && outcome.random == replay)
            for row in 0..<rows {
                let out = Self.image(row, of: outcome.pixels, size: size)
                let mine = Self.image(row, of: pixels, size: size), theirs = Self.image(partners[row], of: pixels, size: size)
                var taken = 0
                for index in 0..<size {
                    let (y, x) = (index / width, index % width)
                    let inside = y >= box.top && y < box.top + box.height && x >= box.left && x < box.left + box.width
                    #expect(out[index] == (inside ? theirs : mine)[index])
                    taken += out[index] != mine[index] ? 1 : 0
                }
                if partners[row] != row { #expect(lambda == Float(1 - Double(taken) / Double(size)), "seed \(seed)") }
            }
        }
    }

    /// With mixup and CutMix both on, one uniform draw per batch picks CutMix below 0.5 (timm's
    /// switch_prob): its batches hold only original pixel values, mixup's blends; about half each.
    @Test func mixupAndCutmixTakeTurnsByASwitchDraw() throws {
        let settings = AugmentationSettings(mixupAlpha: 0.4, cutmixAlpha: 1)
        let pixels = Self.images(rows: 4, height: 6, width: 6)
        var cutmixes = 0
        for seed in UInt64(1)...200 {
            let outcome = Self.augment(pixels, rows: 4, height: 6, width: 6, settings: settings, seed: seed, labels: [0, 1, 2, 3])
            var replay = RandomGenerator(seed: seed)
            let cutmix = replay.nextUnitDouble() < 0.5
            cutmixes += cutmix ? 1 : 0
            let draw = replay.nextBeta(cutmix ? 1 : 0.4, cutmix ? 1 : 0.4)
            var permutation = (0..<4).map { Int32($0) }
            replay.shuffle(&permutation)
            if cutmix {
                _ = CutMix.box(lambda: draw, height: 6, width: 6, random: &replay)
                #expect(outcome.pixels.allSatisfy { $0 == $0.rounded() })
            } else {
                #expect(try #require(outcome.lambda) == Float(draw))
            }
            #expect(outcome.partners == permutation && outcome.random == replay)
        }
        // Binomial(200, ½): standard deviation 7.1; 4 of them.
        #expect((72...128).contains(cutmixes))
    }

    // MARK: Brightness, contrast, noise

    /// Raw pixels 0, 50, 100, 250 (range 0...255), and the same image standardised to
    /// (x − 127.5)/127.5 (range −1...1): brightness 1.2 gives 0, 60, 120, 255 (300 clamped) and
    /// contrast 0.5 blends with the mean 100: 50, 75, 100, 175; contrast 2: 0 (−100), 0, 100, 255 (400).
    @Test func brightnessAndContrastFollowTorchvisionInRawAndNormalisedPixels() {
        let raw: [Float] = [0, 50, 100, 250]
        let normalise = { (x: Float) in (x - 127.5) / 127.5 }
        let cases: [(String, (MatrixView, PixelRange) -> Void, [Float])] = [
            ("brightness 1.2", { $0.adjustBrightness(factor: 1.2, range: $1) }, [0, 60, 120, 255]),
            ("brightness 0.5", { $0.adjustBrightness(factor: 0.5, range: $1) }, [0, 25, 50, 125]),
            ("contrast 0.5", { $0.adjustContrast(factor: 0.5, range: $1) }, [50, 75, 100, 175]),
            ("contrast 2", { $0.adjustContrast(factor: 2, range: $1) }, [0, 0, 100, 255]),
            ("contrast 0", { $0.adjustContrast(factor: 0, range: $1) }, [100, 100, 100, 100]),
        ]
        for (name, operation, expected) in cases {
            let rawOut = Self.transformed(raw, height: 2, width: 2) { operation($0, PixelRange(shift: 0, scale: 1)) }
            Self.expectClose(rawOut, expected, tolerance: 1e-4, "\(name)")
            let normalisedOut = Self.transformed(raw.map(normalise), height: 2, width: 2) {
                operation($0, PixelRange(shift: 127.5, scale: 1 / 127.5))
            }
            Self.expectClose(normalisedOut, expected.map(normalise), tolerance: 1e-5, "\(name), normalised")
        }
    }

    /// ColorJitter's draws: with both on, the order bit, then the brightness factor in
    /// [max(0, 1 − b), 1 + b], then contrast's; replayed with the two adjustments on each image.
    @Test func colourJitterDrawsItsOrderAndFactors() {
        let (rows, size) = (50, 16)
        var random = RandomGenerator(seed: 4)
        let pixels = (0..<(rows * size)).map { _ in Float(random.next(upperBound: UInt64(256))) }
        let settings = AugmentationSettings(brightness: 0.5, contrast: 1.5)
        let outcome = Self.augment(pixels, rows: rows, height: 4, width: 4, settings: settings, seed: 12, fill: 0, white: 255)
        var replay = RandomGenerator(seed: 12)
        var (contrastFirst, lowest) = (0, Float(1))
        for row in 0..<rows {
            let first = replay.nextUnitDouble() < 0.5
            let b = Float(0.5 + 1.0 * replay.nextUnitDouble()), c = Float(0 + 2.5 * replay.nextUnitDouble())
            contrastFirst += first ? 1 : 0
            lowest = min(lowest, c)
            let range = PixelRange(black: 0, white: 255)
            let expected = Self.transformed(Self.image(row, of: pixels, size: size), height: 4, width: 4) { image in
                if first { image.adjustContrast(factor: c, range: range) }
                image.adjustBrightness(factor: b, range: range)
                if !first { image.adjustContrast(factor: c, range: range) }
            }
            #expect(Self.image(row, of: outcome.pixels, size: size) == expected)
        }
        #expect(outcome.random == replay)
        #expect((10...40).contains(contrastFirst) && lowest < 0.5)
    }

    /// Noise σ = 0.1 on the [0, 1] scale is 0.1·(white − black) in any normalisation: on mid-grey
    /// images (range −3...5, grey 1) the differences have mean 0 and standard deviation 0.8, each
    /// one σ·span·g for the replayed Gaussian g; on white images every pixel stays ≤ white and about
    /// half are clamped to it.
    @Test func noiseIsGaussianOnTheUnitPixelScaleAndClamped() {
        let (rows, size) = (40, 100)
        let settings = AugmentationSettings(noiseStd: 0.1)
        let grey = [Float](repeating: 1, count: rows * size)
        let outcome = Self.augment(grey, rows: rows, height: 10, width: 10, settings: settings, seed: 6, fill: -3, white: 5)
        var replay = RandomGenerator(seed: 6)
        for (index, value) in outcome.pixels.enumerated() {
            let expected = min(max(1 + Float(0.1) * 8 * Float(replay.nextGaussian()), -3), 5)
            if value != expected { Issue.record("pixel \(index): \(value) != \(expected)"); break }
        }
        #expect(outcome.random == replay)
        let differences = outcome.pixels.map { Double($0) - 1 }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let std = (differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(differences.count)).squareRoot()
        // 4,000 draws: the mean's standard error is 0.8/63 = 0.013, the std's about 0.009.
        #expect(abs(mean) < 0.06 && abs(std - 0.8) < 0.05, "mean \(mean), std \(std)")
        let white = [Float](repeating: 5, count: rows * size)
        let clamped = Self.augment(white, rows: rows, height: 10, width: 10, settings: settings, seed: 6, fill: -3, white: 5)
        #expect(clamped.pixels.allSatisfy { $0 <= 5 })
        #expect((1_800...2_200).contains(clamped.pixels.filter { $0 == 5 }.count))
    }

    // MARK: The whole pipeline with the new operations

    /// Crop, flip, shift, rotation, colour, noise, erasing per image, then the switch and CutMix or
    /// mixup, replayed with the individual operations and draws.
    @Test func pipelineWithEveryOperationFollowsTheDocumentedOrder() throws {
        let rows = 8, side = 12, size = 144, k = 2
        let pixels = (0..<(rows * size)).map { Float($0 % 256) / 255 }
        let settings = AugmentationSettings(hflip: true, shift: k, erasingProbability: 0.5, mixupAlpha: 0.4,
                                            rotationDegrees: 20, cropScale: 0.6...1, cutmixAlpha: 1, brightness: 0.3,
                                            contrast: 0.3, noiseStd: 0.05)
        let range = PixelRange(black: 0, white: 1)
        for seed in UInt64(1)...6 {
            let outcome = Self.augment(pixels, rows: rows, height: side, width: side, settings: settings, seed: seed,
                                       fill: 0, white: 1, labels: (0..<rows).map { Int32($0) })
            var replay = RandomGenerator(seed: seed)
            var expected = pixels
            var scratch = [Float](repeating: 0, count: size)
            expected.withUnsafeMutableBufferPointer { buffer in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    for row in 0..<rows {
                        let image = MatrixView(base: buffer.baseAddress! + row * size, rows: side, columns: side)
                        let crop = RandomResizedCrop.rectangle(height: side, width: side, scale: 0.6...1, random: &replay)
                        image.resize(crop: crop, scratch: scratch.baseAddress!)
                        if replay.nextUnitDouble() < 0.5 { image.flipHorizontally() }
                        let top = Int(replay.next(upperBound: UInt64(5))), left = Int(replay.next(upperBound: UInt64(5)))
                        image.shift(dx: k - left, dy: k - top, fill: 0)
                        image.rotate(degrees: -20 + 40 * replay.nextUnitDouble(), range: range, scratch: scratch.baseAddress!)
                        let contrastFirst = replay.nextUnitDouble() < 0.5
                        let b = Float(0.7 + 0.6 * replay.nextUnitDouble()), c = Float(0.7 + 0.6 * replay.nextUnitDouble())
                        if contrastFirst { image.adjustContrast(factor: c, range: range) }
                        image.adjustBrightness(factor: b, range: range)
                        if !contrastFirst { image.adjustContrast(factor: c, range: range) }
                        for index in 0..<size {
                            image.base[index] = range.clamped(image.base[index] + 0.05 * Float(replay.nextGaussian()))
                        }
                        if replay.nextUnitDouble() < 0.5,
                           let r = RandomErasing.rectangle(height: side, width: side, random: &replay) {
                            image.fill(r, with: 0)
                        }
                    }
                }
            }
            let cutmix = replay.nextUnitDouble() < 0.5
            let draw = replay.nextBeta(cutmix ? 1 : 0.4, cutmix ? 1 : 0.4)
            var partners = (0..<rows).map { Int32($0) }
            replay.shuffle(&partners)
            var lambda = Float(draw)
            var mixed = expected
            if cutmix {
                let (box, boxLambda) = CutMix.box(lambda: draw, height: side, width: side, random: &replay)
                lambda = Float(boxLambda)
                for row in 0..<rows {
                    for y in box.top..<(box.top + box.height) {
                        for x in box.left..<(box.left + box.width) {
                            mixed[row * size + y * side + x] = expected[Int(partners[row]) * size + y * side + x]
                        }
                    }
                }
            } else {
                mixed = (0..<(rows * size)).map { index in
                    lambda * expected[index] + (1 - lambda) * expected[Int(partners[index / size]) * size + index % size]
                }
            }
            #expect(outcome.lambda == lambda && outcome.partners == partners)
            #expect(outcome.pixels == mixed, "seed \(seed)")
            #expect(outcome.random == replay)
        }
    }
}
