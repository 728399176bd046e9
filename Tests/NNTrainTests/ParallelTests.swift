import CFloatingPoint
import Synchronization
import Testing
@testable import NNTrain

/// The split of elementwise passes over the cores.
struct ParallelTests {
    /// Every way of cutting 0..<count gives consecutive ranges that cover it exactly once, each
    /// starting on a multiple of 16 (so no two pieces write one cache line).
    @Test(arguments: [1, 2, 3, 4, 16])
    func piecesCoverTheRangeOnceOnCacheLineBoundaries(pieces: Int) {
        for count in [0, 1, 15, 16, 17, 100, 4_097, 235_146] {
            let ranges = (0..<pieces).map { Parallel.range(ofPiece: $0, of: pieces, count: count) }
            #expect(ranges.first?.lowerBound == 0)
            #expect(ranges.last?.upperBound == count)
            for (left, right) in zip(ranges, ranges.dropFirst()) { #expect(left.upperBound == right.lowerBound) }
            for range in ranges where range.lowerBound != count { #expect(range.lowerBound % 16 == 0) }
        }
    }

    /// forEachPiece calls its body on ranges that tile the elements, whether it splits or not.
    @Test(arguments: [0, 10, 16_383, 100_000])
    func forEachPieceVisitsEveryElementOnce(count: Int) {
        var visits = [UInt8](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { visits in
            Parallel.forEachPiece(of: count, minimumPiece: 1_000) { range in
                for i in range { visits[i] &+= 1 }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }

    /// reducePieces combines each piece's part: an integer sum over the pieces equals the sum.
    @Test(arguments: [0, 7, 100_000])
    func reducePiecesCombinesEveryPiece(count: Int) {
        let total = Parallel.reducePieces(of: count, minimumPiece: 1_000, initial: 0, { range in
            range.reduce(0, +)
        }, combine: +)
        #expect(total == count * (count - 1) / 2)
    }

    /// On a machine with more than one core a large pass really runs on more than one thread.
    @Test func largePassesUseSeveralThreads() throws {
        try #require(Parallel.pieceCount > 1, "one core: nothing to split")
        let calls = Atomic<Int>(0)
        Parallel.forEachPiece(of: 1_000_000, minimumPiece: 1_000) { _ in calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == Parallel.pieceCount)
    }

    /// Every piece is computed in the caller's floating-point mode: with subnormals flushed (as
    /// `Trainer.train` runs), a product that would be subnormal is 0 on every thread, and it is not
    /// once the mode is put back.
    @Test func piecesRunInTheCallersFloatingPointMode() {
        let count = 1 << 16
        var values = [Float](repeating: 1e-20, count: count)
        func squareAll() {
            values.withUnsafeMutableBufferPointer { values in
                Parallel.forEachPiece(of: count, minimumPiece: 1_024) { range in
                    for i in range { values[i] = values[i] * values[i] }
                }
            }
        }
        let mode = nntrain_flush_subnormals()
        squareAll()
        nntrain_restore_floating_point_mode(mode)
        #expect(values.allSatisfy { $0 == 0 })
        values = [Float](repeating: 1e-20, count: count)
        squareAll()
        #expect(values.allSatisfy { $0 == 1e-20 * 1e-20 && $0 != 0 })
    }
}
