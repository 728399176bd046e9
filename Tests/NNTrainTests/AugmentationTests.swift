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

    // A 4×5 image:
    //    1  2  3  4  5
    //    6  7  8  9 10
    //   11 12 13 14 15
    //   16 17 18 19 20
    let small = AugmentationTests.images(rows: 1, height: 4, width: 5)

    // MARK: Horizontal flip

    @Test func flipMirrorsEveryRow() {
        let expected: [Float] = [5, 4, 3, 2, 1, 10, 9, 8, 7, 6, 15, 14, 13, 12, 11, 20, 19, 18, 17, 16]
        #expect(Self.transformed(small, height: 4, width: 5) { $0.flipHorizontally() } == expected)
        // An odd and an even width: the middle column stays, and width 1 is its own mirror.
        #expect(Self.transformed([1, 2, 3, 4], height: 1, width: 4) { $0.flipHorizontally() } == [4, 3, 2, 1])
        #expect(Self.transformed([1, 2, 3], height: 3, width: 1) { $0.flipHorizontally() } == [1, 2, 3])
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
