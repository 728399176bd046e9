/// The number format a network computes in (`training.precision`): fp32, or the emulation of a mixed-
/// precision run (torch.autocast with fp16 or bf16) whose tensors are kept in Floats holding only
/// values of the narrower format.
///
/// What is rounded where (`Dense`, `BatchNorm`, `Activation`, `Network` each say their part), after
/// torch.autocast's CUDA op lists, where linear layers run in the low precision and losses and
/// batch-norm statistics in fp32:
///
///     forward   the network's input, each linear layer's W and b (copies made once per forward pass;
///               the master weights stay fp32); products accumulate in fp32; a linear layer's output
///               z = x·Wᵀ + b and a batch norm's γ·x̂ + β are rounded before the activation; every
///               layer's output is stored rounded. Loss and batch-norm statistics: fp32.
///     backward  ∂L/∂output as it leaves the fp32 loss; each activation's dz = dy ⊙ f′ (exact for
///               relu); each linear layer's dW and db; every layer's dL/dx as it is stored.
///               Batch-norm parameter gradients stay fp32, as cuDNN keeps γ and β in fp32.
///
/// Rounding is IEEE 754 round-to-nearest-even. Values of the narrow format are exactly Floats, so
/// arithmetic on them in Float is the fp32 accumulation tensor cores do.
public enum Precision: String, CaseIterable, Sendable {
    /// IEEE 754 binary32: nothing is rounded.
    case fp32
    /// IEEE 754 binary16 (half): 1 sign, 5 exponent and 10 fraction bits. Normal numbers from 2^-14
    /// to 65504 with 11 significant bits; subnormals down to 2^-24 (gradual underflow); a value
    /// of magnitude 65520 or more rounds to ±infinity.
    case fp16
    /// bfloat16 (Google Brain's): binary32's sign and 8 exponent bits and the top 7 fraction bits,
    /// so fp32's range with 8 significant bits.
    case bf16

    /// The format's rounding kernels; nil for fp32, which rounds nothing.
    package var format: (any RoundingFormat.Type)? {
        switch self {
        case .fp32: nil
        case .fp16: Binary16.self
        case .bf16: BFloat16.self
        }
    }

    /// `x` rounded to this precision (fp32: `x` itself).
    public func rounded(_ x: Float) -> Float {
        format?.rounded(x) ?? x
    }
}

/// A format that Floats are rounded to. The buffer kernels are requirements, so each format's
/// conformance holds copies specialised for its `rounded`: one call through `Precision.format`
/// runs a loop the compiler has vectorised (as wide as the build's CPU allows, see Package.swift: the
/// rounding is integer and float arithmetic on `bitPattern` with selects, no branch and no call per
/// element).
package protocol RoundingFormat {
    /// The value of the format nearest to `x` (ties to the even significand), as a Float; NaN
    /// stays NaN, quiet.
    static func rounded(_ x: Float) -> Float
    /// Rounds `count` values in place.
    static func round(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// Writes `count` values of `source` rounded into `destination` (which must not overlap it).
    static func round(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int)
    /// Rounds `count` values in place and tallies the values that underflowed or overflowed.
    static func roundCounting(_ values: UnsafeMutablePointer<Float>, count: Int) -> RoundingCounts
    /// values[i] ← rounded(values[i]) · `factor` for `count` values, and whether every result is
    /// finite: one pass that rounds, scales and checks.
    static func roundScaling(_ values: UnsafeMutablePointer<Float>, count: Int, by factor: Float) -> Bool
}

extension RoundingFormat {
    // Passes over a layer's weights or a batch's activations are split over the cores (`Parallel`):
    // rounding is elementwise, so the values do not depend on the split.

    static func round(_ values: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachPiece(of: count, minimumPiece: roundingPiece) { range in
            for i in range { values[i] = rounded(values[i]) }
        }
    }

    static func round(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachPiece(of: count, minimumPiece: roundingPiece) { range in
            for i in range { destination[i] = rounded(source[i]) }
        }
    }

    static func roundCounting(_ values: UnsafeMutablePointer<Float>, count: Int) -> RoundingCounts {
        var underflowed = 0, overflowed = 0
        for i in 0..<count {
            let before = values[i].bitPattern & 0x7FFF_FFFF
            let after = rounded(values[i])
            values[i] = after
            let magnitude = after.bitPattern & 0x7FFF_FFFF
            underflowed &+= before != 0 && magnitude == 0 ? 1 : 0
            overflowed &+= before < 0x7F80_0000 && magnitude == 0x7F80_0000 ? 1 : 0
        }
        return RoundingCounts(values: count, underflowed: underflowed, overflowed: overflowed)
    }

    /// A Float is ±inf or NaN exactly when its exponent bits are all ones, and then adding 2^23 to
    /// those bits carries into bit 31; the OR of all the sums has bit 31 set exactly when some
    /// result is not finite, a test the loop vectorises.
    static func roundScaling(_ values: UnsafeMutablePointer<Float>, count: Int, by factor: Float) -> Bool {
        let carries = Parallel.reducePieces(of: count, minimumPiece: roundingPiece, initial: UInt32(0), { range in
            var carries: UInt32 = 0
            for i in range {
                let scaled = rounded(values[i]) * factor
                values[i] = scaled
                carries |= (scaled.bitPattern & 0x7F80_0000) &+ 0x0080_0000
            }
            return carries
        }, combine: |)
        return carries & 0x8000_0000 == 0
    }

    /// Elements below which a rounding pass stays on one core: a few microseconds of work.
    private static var roundingPiece: Int { 32_768 }
}

/// IEEE 754 binary32 as a `RoundingFormat`: the identity, so that loops generic over the format
/// compile for fp32 to exactly the loops without rounding (`roundScaling` only scales and checks).
enum Binary32: RoundingFormat {
    @inline(__always)
    static func rounded(_ x: Float) -> Float { x }
}

/// IEEE 754 binary16, rounded to nearest even with its true range.
///
/// A Float x in binade [2^e, 2^(e+1)) has binary16 spacing 2^(e−10) there (2^-24 below 2^-14, where
/// binary16 is subnormal). Adding M = ±2^(E+13), with E = e clamped to [−14, 16] and M of x's sign,
/// moves x into a binade whose Float spacing is exactly that, so the Float addition rounds x to
/// the binary16 grid, to nearest even (the kept bit of x is the sum's last bit); subtracting M back
/// is exact (Sterbenz). Magnitudes that round to 2^16 or more (from 65520 up, the tie at 65520
/// going to the even 2^16) are binary16's overflow: multiplying by 2^112 takes exactly those to
/// infinity, and multiplying back by 2^-112 is exact for the rest. NaN passes through the
/// arithmetic quieted; its payload keeps binary16's 10 fraction bits, as conversion does. The
/// sign is put back last, so a value that underflows keeps it (−0). Checked against Swift's
/// `Float(Float16(x))` for every one of the 2^32 patterns (PrecisionTests).
enum Binary16: RoundingFormat {
    @inline(__always)
    static func rounded(_ x: Float) -> Float {
        let bits = x.bitPattern
        let sign = bits & 0x8000_0000
        // 2^e as a Float (the exponent bits alone; 0 for zeros and subnormals), clamped.
        let binade = Float(bitPattern: bits & 0x7F80_0000)
        let clamped = binade > 0x1p-14 ? binade : 0x1p-14
        let limited = clamped < 0x1p16 ? clamped : 0x1p16
        let shift = Float(bitPattern: (limited.bitPattern &+ 0x0680_0000) | sign)  // × 2^13, x's sign
        let onGrid = (x + shift) - shift
        let overflowed = (onGrid * 0x1p112) * 0x1p-112
        return Float(bitPattern: (overflowed.bitPattern & 0xFFFF_E000) | sign)
    }
}

/// bfloat16, rounded to nearest even: add 0x7FFF plus the lowest kept bit to the Float's bits and
/// drop the low 16 (a carry rounds up into the exponent, and past the largest finite value to
/// infinity, as IEEE rounding does). NaN keeps its sign and top 7 payload bits, quieted, as x86's
/// VCVTNEPS2BF16 converts it.
enum BFloat16: RoundingFormat {
    @inline(__always)
    static func rounded(_ x: Float) -> Float {
        let bits = x.bitPattern
        let nearest = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        let quietNaN = (bits | 0x0040_0000) & 0xFFFF_0000
        return Float(bitPattern: bits & 0x7FFF_FFFF > 0x7F80_0000 ? quietNaN : nearest)
    }
}

/// How many values a rounding pass saw, and how many of them it lost: `underflowed` were non-zero
/// and became ±0, `overflowed` were finite and became ±infinity.
public struct RoundingCounts: Equatable, Sendable, Codable {
    public var values = 0
    public var underflowed = 0
    public var overflowed = 0

    public init(values: Int = 0, underflowed: Int = 0, overflowed: Int = 0) {
        self.values = values
        self.underflowed = underflowed
        self.overflowed = overflowed
    }

    public mutating func add(_ other: RoundingCounts) {
        values += other.values
        underflowed += other.underflowed
        overflowed += other.overflowed
    }

    /// underflowed / values (0 when nothing was rounded).
    public var underflowFraction: Double { values == 0 ? 0 : Double(underflowed) / Double(values) }
    /// overflowed / values (0 when nothing was rounded).
    public var overflowFraction: Double { values == 0 ? 0 : Double(overflowed) / Double(values) }
}
