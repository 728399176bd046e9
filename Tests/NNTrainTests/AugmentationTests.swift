import Foundation
import Testing
@testable import NNTrain

/// Batch augmentation on tiny hand-made images with distinct pixel values (so every moved pixel can
/// be traced), and the Beta and Gamma samplers behind mixup against their moments.
@Suite struct AugmentationTests {
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
