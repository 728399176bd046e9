import Dispatch
import Foundation

/// Elementwise work spread over the machine's cores.
///
/// OpenBLAS already runs the matrix products on every core; the passes between them (the optimizer
/// step over all 235k parameters of the reference model, the gradient norm, gathering a batch) ran on
/// one, while OpenBLAS's other threads spun waiting for the next product. On two cores Adam's loop
/// (two divisions and a square root per parameter) was an eighth of an epoch at batch 128 and a
/// quarter at batch 32 (`perf record`, README "Performance").
///
/// A pass is cut into one contiguous piece per core and the pieces run concurrently
/// (`DispatchQueue.concurrentPerform`). Each piece writes only its own elements and computes each
/// element exactly as the serial loop does, so results do not depend on the number of cores: a run
/// is bit-identical on one core and on sixteen. Passes too short to repay the hand-off (a few
/// microseconds) run on the calling thread.
enum Parallel {
    /// Pieces a pass is cut into: one per core the process may use.
    static let pieceCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` with consecutive ranges that together cover `0..<count` exactly once: one range
    /// per core, run concurrently, when every piece would hold at least `minimumPiece` elements;
    /// otherwise `body(0..<count)` once, on the calling thread. `body` must only touch elements of
    /// its range (or state private to the piece). Returns when every piece is done.
    @inline(__always)
    static func forEachPiece(of count: Int, minimumPiece: Int = 8_192, _ body: (Range<Int>) -> Void) {
        let pieces = min(pieceCount, count / max(1, minimumPiece))
        guard pieces > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = DisjointPieces(body: body)
            DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                shared.body(range(ofPiece: piece, of: pieces, count: count))
            }
        }
    }

    /// A pass's body handed to the other cores. Sendable because the pieces it is called with are
    /// disjoint and `forEachPiece` returns only after every call has: no element is touched by two
    /// threads, nor after the caller moves on (the checker cannot see ranges, hence unchecked).
    private struct DisjointPieces: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }

    /// `forEachPiece` for a pass that also computes something from its elements: each piece's
    /// `body` returns its part, and the parts are combined with `combine` in piece order. Use it only
    /// where `combine` gives the same result in any grouping (integer sums, bitwise or): the pieces
    /// depend on the number of cores.
    static func reducePieces<Part>(of count: Int, minimumPiece: Int = 8_192, initial: Part,
                                   _ body: (Range<Int>) -> Part, combine: (Part, Part) -> Part) -> Part {
        let pieces = min(pieceCount, count / max(1, minimumPiece))
        guard pieces > 1 else { return count > 0 ? combine(initial, body(0..<count)) : initial }
        return withUnsafeTemporaryAllocation(of: Part.self, capacity: pieces) { parts in
            let base = parts.baseAddress.unsafelyUnwrapped
            withoutActuallyEscaping(body) { body in
                let shared = DisjointParts(body: body, parts: base)
                DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                    (shared.parts + piece).initialize(to: shared.body(range(ofPiece: piece, of: pieces, count: count)))
                }
            }
            var result = initial
            for piece in 0..<pieces { result = combine(result, (base + piece).move()) }
            return result
        }
    }

    /// `DisjointPieces` with a slot per piece for its part of a reduction.
    private struct DisjointParts<Part>: @unchecked Sendable {
        let body: (Range<Int>) -> Part
        let parts: UnsafeMutablePointer<Part>
    }

    /// The `piece`-th of `pieces` near-equal consecutive ranges of `0..<count`, each starting on a
    /// multiple of 16 elements (a 64-byte cache line of floats) so two cores never write one line.
    static func range(ofPiece piece: Int, of pieces: Int, count: Int) -> Range<Int> {
        func boundary(_ index: Int) -> Int {
            index == pieces ? count : min(count, (count * index / pieces) & ~15)
        }
        return boundary(piece)..<boundary(piece + 1)
    }
}

extension Array where Element == ParameterGroup {
    /// Calls `body(group, range)` for pieces of every group's range, spread over the cores by
    /// `Parallel.forEachPiece`: together the calls cover each parameter exactly once, with the group
    /// it belongs to. The optimizers' steps are elementwise, so this changes no value.
    @inline(__always)
    func forEachPiece(parameterCount: Int, _ body: (ParameterGroup, Range<Int>) -> Void) {
        Parallel.forEachPiece(of: parameterCount) { piece in
            for group in self {
                let range = group.range.clamped(to: piece)
                if !range.isEmpty { body(group, range) }
            }
        }
    }
}
