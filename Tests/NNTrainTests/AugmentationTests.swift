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
