import CFloatingPoint
import Foundation
import Synchronization

/// Work split over the machine's cores: the matrix products (`BLAS.gemm`) and the elementwise
/// passes between them (optimizer steps, the gradient norm, gathering a batch, fp16/bf16 rounding).
///
/// Why nntrain has its own threads instead of OpenBLAS's: with OpenBLAS threading the products, the
/// passes between them ran on one core while OpenBLAS's other thread spun waiting for the next
/// product; on two cores Adam's loop alone (two divisions and a square root per parameter) was an
/// eighth of an epoch at batch 128 and a quarter at batch 32 (`perf record`, docs/performance.md).
/// Handing those passes to threads parked in the kernel (`DispatchQueue.concurrentPerform`) cost
/// about 35 µs per hand-off in this virtual machine, more than it saved. So OpenBLAS computes on the
/// thread that calls it, and `ComputePool` keeps one thread per further core that spins while
/// training is under way (and parks after a millisecond without work), taking a piece of each pass
/// within a microsecond, as PyTorch's intra-op pool does.
///
/// A pass is cut into `pieceCount` contiguous pieces, always the same for a given element count, and
/// each piece is computed exactly as the whole loop computes it, so a pass gives the same result
/// whichever thread runs which piece, and whether the pool was free or busy (a second caller, such as
/// a concurrently running test, runs the same pieces itself, one after another). Elementwise passes
/// give the same values for any `pieceCount`; a product split into column blocks may differ in the
/// last bit from the unsplit product when OpenBLAS handles the blocks' edges with other kernels, so
/// results can depend on the number of cores, as they do with any threaded BLAS.
enum Parallel {
    /// Pieces a pass is cut into: `NNTRAIN_THREADS` when set to a positive number, else one per core
    /// the process may use.
    static let pieceCount: Int = {
        if let value = ProcessInfo.processInfo.environment["NNTRAIN_THREADS"], let threads = Int(value), threads > 0 {
            return min(threads, 256)
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` with consecutive ranges that together cover `0..<count` exactly once: `pieceCount`
    /// ranges, run concurrently, when every piece would hold at least `minimumPiece` elements;
    /// otherwise `body(0..<count)` once, on the calling thread. `body` must only touch elements of
    /// its range (or state private to the piece). Returns when every piece is done.
    @inline(__always)
    static func forEachPiece(of count: Int, minimumPiece: Int = 4_096, _ body: (Range<Int>) -> Void) {
        let pieces = min(pieceCount, count / max(1, minimumPiece))
        guard pieces > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        ComputePool.shared.run(pieces: pieces) { piece in
            body(range(ofPiece: piece, of: pieces, count: count))
        }
    }

    /// `forEachPiece` for a pass that also computes something from its elements: each piece's
    /// `body` returns its part, and the parts are combined with `combine` in piece order. Use it only
    /// where `combine` gives the same result in any grouping (integer sums, bitwise or): the pieces
    /// depend on the number of cores.
    static func reducePieces<Part>(of count: Int, minimumPiece: Int = 4_096, initial: Part,
                                   _ body: (Range<Int>) -> Part, combine: (Part, Part) -> Part) -> Part {
        let pieces = min(pieceCount, count / max(1, minimumPiece))
        guard pieces > 1 else { return count > 0 ? combine(initial, body(0..<count)) : initial }
        return withUnsafeTemporaryAllocation(of: Part.self, capacity: pieces) { parts in
            let base = parts.baseAddress.unsafelyUnwrapped
            ComputePool.shared.run(pieces: pieces) { piece in
                (base + piece).initialize(to: body(range(ofPiece: piece, of: pieces, count: count)))
            }
            var result = initial
            for piece in 0..<pieces { result = combine(result, (base + piece).move()) }
            return result
        }
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

/// The threads that run the pieces of a pass: the caller runs piece 0 and worker `w` piece `w`, unless
/// the caller, done with its own piece, finds a worker's piece not yet started and takes it itself:
/// a worker that is parked or off its core (the machine busy with other work) then costs the pass
/// nothing instead of holding it up.
///
/// A pass is published by bumping `published` (a generation number in the high bits, the piece
/// count in the low 8) with sequentially consistent ordering after storing the body. Each piece
/// has a claim slot holding the last generation that claimed it; whoever moves it from an earlier
/// generation to this one by compare-and-swap runs the piece, so each piece runs exactly once, and a
/// worker that wakes after its pass is over finds its slot at that or a later generation and
/// touches nothing. Workers bump `finished`; the caller waits for the pieces it did not run. A worker
/// computes in the caller's floating-point mode (`Trainer.train` flushes subnormals to zero; a piece
/// computed without would be slower and could differ). Workers that see no new pass spin (x86
/// `pause`) for about a millisecond, then park on a condition variable; `run` wakes parked workers.
/// Only one caller at a time uses the workers (`inUse`); another caller meanwhile runs all its pieces
/// itself.
final class ComputePool: @unchecked Sendable {
    static let shared = ComputePool(threads: Parallel.pieceCount)

    private let workerCount: Int
    /// (generation << 8) | piece count of the latest pass.
    private let published = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let inUse = Atomic<Bool>(false)
    private let parkedWorkers = Atomic<Int>(0)
    private let parking = NSCondition()
    /// One claim slot per piece, each on its own 64-byte cache line (`slotStride` Ints apart).
    private let claimSlots: UnsafeMutablePointer<Atomic<Int>>
    private static let slotStride = 8
    /// The latest pass's caller's floating-point mode (flush-to-zero while training).
    private let floatingPointMode = Atomic<UInt32>(0)
    /// The latest pass's body: written by the caller before publishing, read only by a thread that
    /// has claimed a piece of that pass.
    private var body: ((Int) -> Void)?

    /// Spins of a waiting worker before it parks: about a millisecond (x86's `pause` takes ~40-140 cycles).
    private static let spinsBeforeParking = 20_000
    /// Spins of a caller waiting for its workers before it yields its core between checks (~0.1 ms).
    private static let spinsBeforeYielding = 2_000

    private init(threads: Int) {
        workerCount = threads - 1
        let slotCount = threads * Self.slotStride
        claimSlots = .allocate(capacity: slotCount)
        for index in 0..<slotCount { (claimSlots + index).initialize(to: Atomic<Int>(0)) }
        for worker in 0..<workerCount {
            let thread = Thread { [unowned self] in self.work(as: worker + 1) }
            thread.name = "nntrain compute \(worker + 1)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body(piece)` for each piece in 0..<pieces (at most the pool's thread count) and returns
    /// when all are done.
    func run(pieces: Int, _ body: (Int) -> Void) {
        guard pieces > 1, pieces <= workerCount + 1,
              inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for piece in 0..<pieces { body(piece) }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            floatingPointMode.store(nntrain_floating_point_mode(), ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            let generation = (published.load(ordering: .relaxed) >> 8) &+ 1
            published.store(generation << 8 | pieces, ordering: .sequentiallyConsistent)
            if parkedWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                parking.lock()
                parking.broadcast()
                parking.unlock()
            }
            body(0)
            var ranHere = 1
            for piece in 1..<pieces where claim(piece, generation: generation) {
                body(piece)
                ranHere += 1
            }
            // The workers' pieces are (normally) a few microseconds from done; on a busy machine a
            // worker may be off its core mid-piece, so give the core up between checks.
            var spins = 0
            while finished.load(ordering: .acquiring) < pieces - ranHere {
                spins += 1
                if spins < Self.spinsBeforeYielding { Self.pause() } else { sched_yield() }
            }
            self.body = nil
        }
        inUse.store(false, ordering: .releasing)
    }

    /// Whether the calling thread is the one that moved `piece`'s slot to `generation` (from an
    /// earlier one), and so runs it.
    private func claim(_ piece: Int, generation: Int) -> Bool {
        let slot = claimSlots + piece * Self.slotStride
        var current = slot.pointee.load(ordering: .acquiring)
        while current < generation {
            let (exchanged, original) = slot.pointee.compareExchange(
                expected: current, desired: generation, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    private func work(as piece: Int) {
        var seen = 0, mode = nntrain_floating_point_mode()
        while true {
            var spins = 0
            var current = published.load(ordering: .acquiring)
            while current == seen {
                if spins < Self.spinsBeforeParking {
                    spins += 1
                    Self.pause()
                } else {
                    park(while: seen)
                    spins = 0
                }
                current = published.load(ordering: .acquiring)
            }
            seen = current
            if piece < current & 0xFF, claim(piece, generation: current >> 8) {
                let callerMode = floatingPointMode.load(ordering: .relaxed)
                if mode != callerMode {
                    mode = callerMode
                    nntrain_restore_floating_point_mode(mode)
                }
                runPiece(piece)
                finished.add(1, ordering: .releasing)
            }
        }
    }

    /// Calls the published body. A function of its own, so that the worker's reference to the body
    /// is released when it returns, before the piece is counted finished: `run` checks, as
    /// `withoutActuallyEscaping` requires, that nothing holds the body once every piece is done.
    @inline(never)
    private func runPiece(_ piece: Int) {
        body?(piece)
    }

    /// Sleeps until a pass newer than `seen` is published. Counting itself parked before checking,
    /// under the condition's lock, means `run` either sees the count and broadcasts after the check,
    /// or publishes before it, which the check then sees.
    private func park(while seen: Int) {
        parking.lock()
        parkedWorkers.add(1, ordering: .sequentiallyConsistent)
        while published.load(ordering: .sequentiallyConsistent) == seen { parking.wait() }
        parkedWorkers.subtract(1, ordering: .sequentiallyConsistent)
        parking.unlock()
    }

    @inline(__always)
    private static func pause() { nntrain_spin_pause() }
}
