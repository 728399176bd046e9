import Foundation
import Testing
@testable import NNTrain

/// The rounding kernels against independent references: Swift's `Float(Float16(x))` (IEEE 754
/// binary16 conversion) for fp16, and for bf16 a rounding computed in Double arithmetic, which is
/// itself checked against Float16 on binary16's grid.
@Suite struct RoundingTests {
    /// x rounded to nearest even on the grid of a binary format with `fractionBits` fraction bits,
    /// normal exponents from `minExponent` to `maxExponent` and subnormals below: the grid spacing
    /// at x is 2^(max(e, minExponent) − fractionBits) for x in [2^e, 2^(e+1)); x divided by it is
    /// exact in Double, `.toNearestOrEven` rounds, and a result at or beyond 2^(maxExponent+1)
    /// overflows to ±infinity. Finite, non-NaN inputs only.
    static func referenceRounding(_ x: Float, fractionBits: Int, minExponent: Int, maxExponent: Int) -> Float {
        guard x.isFinite, x != 0 else { return x }
        let spacing = Double(sign: .plus, exponent: max(Int(x.exponent), minExponent) - fractionBits, significand: 1)
        let nearest = (Double(x) / spacing).rounded(.toNearestOrEven) * spacing
        let limit = Double(sign: .plus, exponent: maxExponent + 1, significand: 1)
        return abs(nearest) >= limit ? (x < 0 ? -.infinity : .infinity) : Float(nearest)
    }

    static func binary16Reference(_ x: Float) -> Float {
        referenceRounding(x, fractionBits: 10, minExponent: -14, maxExponent: 15)
    }

    static func bfloat16Reference(_ x: Float) -> Float {
        referenceRounding(x, fractionBits: 7, minExponent: -126, maxExponent: 127)
    }

    /// The 23-bit fractions the sampled sweeps combine with every sign and exponent. For every
    /// position k of the first dropped bit (fp16 normals drop 13 bits, fp16 subnormals 14 to 23,
    /// bf16 16), the dropped bits are exactly 0, just below half (2^k − 1), exactly half (2^k) and
    /// just above (2^k + 1), under kept bits that are all zero, end in a 1 (a tie then rounds up to
    /// even), all ones (rounding up carries into the exponent) or all ones but the last (a tie
    /// rounds down); plus 0, 1, all ones, the quiet bit, and 64 seeded random fractions.
    static let fractionSample: [UInt32] = {
        var fractions: Set<UInt32> = [0, 1, 0x7F_FFFF, 0x40_0000, 0x3F_FFFF]
        for k in 0..<23 {
            let half = UInt32(1) << k, keptLowest = half << 1
            let keptPatterns: [UInt32] = [0, keptLowest, 0x7F_FFFF & ~(keptLowest - 1), 0x7F_FFFF & ~(keptLowest << 1 - 1)]
            for kept in keptPatterns {
                for dropped in [0, half - 1, half, half + 1] { fractions.insert((kept | dropped) & 0x7F_FFFF) }
            }
        }
        var random = RandomGenerator(seed: 16)
        for _ in 0..<64 { fractions.insert(UInt32(truncatingIfNeeded: random.next()) & 0x7F_FFFF) }
        return fractions.sorted()
    }()

    /// Every sign and exponent (512 combinations) with each fraction of `fractionSample`.
    static let samplePatterns: [UInt32] = (0..<UInt32(512)).flatMap { signAndExponent in
        fractionSample.map { signAndExponent << 23 | $0 }
    }

    /// The patterns through a precision's buffer kernels, in place and copying (the vectorised
    /// loops the network runs), which must agree with each other and with the scalar function.
    static func roundedThroughKernels(_ patterns: [UInt32], _ precision: Precision) -> [UInt32] {
        let source = patterns.map { Float(bitPattern: $0) }
        var copied = [Float](repeating: 0, count: source.count), inPlace = source
        source.withUnsafeBufferPointer { source in
            copied.withUnsafeMutableBufferPointer { copied in
                precision.format?.round(source.baseAddress!, into: copied.baseAddress!, count: source.count)
            }
        }
        inPlace.withUnsafeMutableBufferPointer { precision.format?.round($0.baseAddress!, count: $0.count) }
        #expect(copied.map(\.bitPattern) == inPlace.map(\.bitPattern))
        #expect(copied.map(\.bitPattern) == source.map { precision.rounded($0).bitPattern })
        return copied.map(\.bitPattern)
    }

    /// The first few patterns whose result differs from `expected`, as hex, for the message.
    static func mismatches(_ patterns: [UInt32], _ results: [UInt32], _ expected: (UInt32) -> UInt32) -> [String] {
        var found: [String] = []
        for (pattern, result) in zip(patterns, results) where found.count < 5 && expected(pattern) != result {
            found.append("\(String(pattern, radix: 16)) → \(String(result, radix: 16)), "
                + "expected \(String(expected(pattern), radix: 16))")
        }
        return found
    }

    /// What bfloat16 rounding must give for NaN patterns: a quiet NaN of the same sign keeping the
    /// top 7 fraction bits (the payload bfloat16 can hold), the low 16 bits clear.
    static func bfloat16Expectation(_ pattern: UInt32) -> UInt32 {
        let x = Float(bitPattern: pattern)
        guard x.isNaN else { return bfloat16Reference(x).bitPattern }
        return (pattern & 0xFF80_0000) | 0x0040_0000 | (pattern & 0x003F_0000)
    }

    @Test func fp16MatchesFloat16ConversionOnTheSample() {
        let patterns = Self.samplePatterns
        #expect(Self.fractionSample.count >= 300)
        let results = Self.roundedThroughKernels(patterns, .fp16)
        #expect(Self.mismatches(patterns, results) { Float(Float16(Float(bitPattern: $0))).bitPattern } == [])
    }

    @Test func theDoubleReferenceMatchesFloat16OnTheSample() {
        let finite = Self.samplePatterns.filter { Float(bitPattern: $0).isFinite }
        let failures = finite.lazy.filter {
            let x = Float(bitPattern: $0)
            return Self.binary16Reference(x).bitPattern != Float(Float16(x)).bitPattern
        }
        #expect(Array(failures.prefix(5)) == [])
    }

    @Test func bf16MatchesTheDoubleReferenceOnTheSample() {
        let patterns = Self.samplePatterns
        let results = Self.roundedThroughKernels(patterns, .bf16)
        #expect(Self.mismatches(patterns, results, Self.bfloat16Expectation) == [])
    }

    /// The cases that define binary16 rounding, written out: (input, expected).
    @Test(arguments: [
        (Float(65504), Float(65504)),                 // the largest finite binary16
        (Float(65519.996), Float(65504)),             // just below the overflow boundary
        (Float(65520), Float.infinity),               // the tie at the boundary goes to the even 2^16: overflow
        (Float(-1e6), -Float.infinity),
        (Float(0x1p-24), Float(0x1p-24)),             // the smallest subnormal
        (Float(0x1p-25), Float(0)),                   // half of it: a tie, to the even 0
        (Float(0x1p-25).nextUp, Float(0x1p-24)),      // just above half
        (Float(0x1.8p-24), Float(0x1p-23)),           // 1.5 spacings: tie to even 2
        (Float(0x1.4p-23), Float(0x1p-23)),           // 2.5 spacings: tie to even 2
        (Float(0x1p-14), Float(0x1p-14)),             // the smallest normal
        (Float(0x1.ffcp-15), Float(0x1p-14)),         // 1023.5 subnormal spacings: tie to the even 1024, 2^-14
        (Float(1 + 0x1p-11), Float(1)),               // tie between 1 and 1 + 2^-10: even 1
        (Float(1 + 0x1.8p-10), Float(1 + 0x1p-9)),    // tie between 1 + 2^-10 and 1 + 2^-9: even 1 + 2^-9
        (Float(2 - 0x1p-12), Float(2)),               // rounds up, carrying into the exponent
        (Float(-0x1p-30), Float(-0.0)),               // underflow keeps the sign
        (Float.infinity, Float.infinity),
    ])
    func fp16Boundaries(input: Float, expected: Float) {
        let rounded = Precision.fp16.rounded(input)
        // Float16 is the authority; the hand-written expectation must agree with it.
        #expect(rounded.bitPattern == Float(Float16(input)).bitPattern)
        #expect(rounded.bitPattern == expected.bitPattern)
    }

    @Test func nanStaysQuietNaN() {
        for pattern: UInt32 in [0x7F80_0001, 0xFFC0_0000, 0x7FBF_FFFF, 0xFF80_2000] {
            for precision in [Precision.fp16, .bf16] {
                let rounded = precision.rounded(Float(bitPattern: pattern))
                #expect(rounded.isNaN && !rounded.isSignalingNaN)
                #expect(rounded.sign == Float(bitPattern: pattern).sign)
            }
        }
    }

    @Test func bf16Boundaries() {
        let largest = Float(bitPattern: 0x7F7F_0000)
        #expect(Precision.bf16.rounded(largest) == largest)
        #expect(Precision.bf16.rounded(Float(bitPattern: 0x7F7F_7FFF)) == largest)
        #expect(Precision.bf16.rounded(Float(bitPattern: 0x7F7F_8000)) == .infinity)  // tie, odd kept bit: up, overflow
        #expect(Precision.bf16.rounded(1 + 0x1p-8) == 1)                              // tie, even kept bit: down
        #expect(Precision.bf16.rounded(1 + 0x1.8p-7) == 1 + 0x1p-6)                   // tie, odd kept bit: up
        #expect(Precision.bf16.rounded(0x1.fffp0) == 2)                               // carry into the exponent
        #expect(Precision.bf16.rounded(Float.leastNonzeroMagnitude) == 0)             // below half the smallest bf16 subnormal
        #expect(Precision.fp32.rounded(0.1) == 0.1)
    }

    @Test func countingTalliesUnderflowAndOverflow() {
        var values: [Float] = [1e-9, -1e-9, 1e5, -.infinity, 0, 1, 3e-8, .nan]
        let counts = values.withUnsafeMutableBufferPointer { Binary16.roundCounting($0.baseAddress!, count: $0.count) }
        // 1e-9 and -1e-9 underflow (below 2^-25); 3e-8 is just above 2^-25 and rounds up to 2^-24; 1e5 overflows;
        // -inf was infinite already and NaN is neither.
        #expect(counts == RoundingCounts(values: 8, underflowed: 2, overflowed: 1))
        #expect(values[6] == 0x1p-24)
        #expect(counts.underflowFraction == 0.25)
        #expect(counts.overflowFraction == 0.125)
    }

    /// Every one of the 2^32 Float bit patterns: fp16 against Float16 and bf16 against the Double
    /// reference, through the copying buffer kernels, in chunks spread over the cores. Minutes in a
    /// debug build, so it runs only when NNTRAIN_EXHAUSTIVE_ROUNDING is set (docs/mixed-precision.md).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["NNTRAIN_EXHAUSTIVE_ROUNDING"] != nil))
    func everyFloatBitPattern() {
        let chunk = 1 << 20, chunks = (1 << 32) / chunk
        // Each chunk writes only its own slot.
        nonisolated(unsafe) let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { failures.deallocate() }
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            let source = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk)
            let half = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk)
            let brain = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk)
            defer { source.deallocate(); half.deallocate(); brain.deallocate() }
            for i in 0..<chunk { source[i] = Float(bitPattern: UInt32(index * chunk + i)) }
            Binary16.round(source.baseAddress!, into: half.baseAddress!, count: chunk)
            BFloat16.round(source.baseAddress!, into: brain.baseAddress!, count: chunk)
            var wrong = 0
            for i in 0..<chunk {
                if half[i].bitPattern != Float(Float16(source[i])).bitPattern { wrong += 1 }
                if brain[i].bitPattern != Self.bfloat16Expectation(source[i].bitPattern) { wrong += 1 }
            }
            failures[index] = wrong
        }
        #expect(failures.reduce(0, +) == 0)
    }
}
