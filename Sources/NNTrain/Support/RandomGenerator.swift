import Foundation

/// The one pseudo-random source of nntrain: xoshiro256** (Blackman & Vigna, 2018,
/// https://prng.di.unimi.it/xoshiro256starstar.c), seeded through SplitMix64 as its authors
/// recommend. Its whole state is four `UInt64`s, so a checkpoint can store it and a resumed run
/// draws exactly the numbers an uninterrupted run would; and it gives the same sequence on every
/// platform, unlike `SystemRandomNumberGenerator`.
public struct RandomGenerator: RandomNumberGenerator, Equatable, Sendable, Codable {
    public var state: (UInt64, UInt64, UInt64, UInt64) {
        get { (s0, s1, s2, s3) }
        set { (s0, s1, s2, s3) = newValue }
    }
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Seeds the four state words with successive outputs of SplitMix64 started at `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent stream for one purpose (initialisation, shuffling, dropout, ...), so that
    /// adding draws to one purpose never shifts the numbers another purpose sees.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform `Float` in [0, 1) from the top 24 bits, so every value is exactly representable.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Double` in [0, 1) from the top 53 bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal draw (mean 0, variance 1) by the Box–Muller transform; uses two uniforms.
    public mutating func nextGaussian() -> Double {
        let u1 = 1.0 - nextUnitDouble()  // in (0, 1], so the logarithm is finite
        let u2 = nextUnitDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// Shuffles `indices` in place (Fisher–Yates; see the buffer version).
    public mutating func shuffle(_ indices: inout [Int32]) {
        indices.withUnsafeMutableBufferPointer { shuffle($0) }
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    // MARK: Codable as an array of four words.

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        s0 = try c.decode(UInt64.self); s1 = try c.decode(UInt64.self)
        s2 = try c.decode(UInt64.self); s3 = try c.decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(s0); try c.encode(s1); try c.encode(s2); try c.encode(s3)
    }

    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.state == b.state }
}
