import COpenBLAS
import Foundation

/// The matrix product every layer is built on, and the OpenBLAS kernel that computes it.
/// This is the only file that imports COpenBLAS.
public enum BLAS {
    /// Row-major single-precision GEMM (cblas_sgemm):
    ///
    ///     C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C
    ///
    /// where op(X) is X or Xᵀ as `transposeA`/`transposeB` say, and `lda`, `ldb`, `ldc` are the row
    /// strides of A, B and C as stored.
    ///
    /// Products of at least `splitWork` multiply-adds are cut into blocks of C's columns (or of its
    /// rows, when C is taller than wide), one per core (`Parallel`), each an OpenBLAS call on its own
    /// thread: block j of C's columns needs all of op(A) and block j of op(B)'s columns, so the
    /// blocks share nothing they write.
    @inline(__always)
    package static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = computesOnCallingThread
        guard m * n * k >= splitWork, Parallel.pieceCount > 1 else {
            sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        if n >= m {
            // Columns n0..<n1 of op(B): rows of B when it is transposed (stored n×k), else columns.
            Parallel.forEachPiece(of: n, minimumPiece: 16) { columns in
                let bBlock = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
                sgemm(transposeA, transposeB, m, columns.count, k, alpha, a, lda, bBlock, ldb, beta,
                      c + columns.lowerBound, ldc)
            }
        } else {
            // Rows m0..<m1 of op(A): columns of A when it is transposed (stored k×m), else rows.
            Parallel.forEachPiece(of: m, minimumPiece: 16) { rows in
                let aBlock = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                sgemm(transposeA, transposeB, rows.count, n, k, alpha, aBlock, lda, b, ldb, beta,
                      c + rows.lowerBound * ldc, ldc)
            }
        }
    }

    /// Multiply-adds (m·n·k) from which a product is split over the cores: 2^19, about 5 µs of one
    /// core's work, well above the cost of a hand-off. Batch 128 splits every product of the reference
    /// model but the 10-wide output layer's.
    static let splitWork = 1 << 19

    @inline(__always)
    private static func sgemm(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// OpenBLAS set to compute on the thread that calls it, once, before the first product: the
    /// cores are nntrain's `ComputePool`'s, and OpenBLAS's own threads would spin against it.
    private static let computesOnCallingThread: Void = openblas_set_num_threads(1)

    /// The name of the OpenBLAS kernel in use, e.g. "SkylakeX" or "Prescott".
    public static var kernelName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The number of threads the products are computed on: `NNTRAIN_THREADS`, else one per core
    /// (`Parallel.pieceCount`; OpenBLAS itself runs single-threaded on each).
    public static var threadCount: Int { Parallel.pieceCount }
}

/// Puts OpenBLAS on the fastest kernel this CPU can run, without the user doing anything.
///
/// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Xeons and falls back to its generic
/// "Prescott" SSE3 kernel, ten times slower than its AVX-512 "SkylakeX" one at the reference
/// model's shapes. It reads the override `OPENBLAS_CORETYPE` once, when the library
/// loads, before any of nntrain's code runs; so when the kernel it chose is weaker than what the
/// CPU supports, nntrain sets the variable and re-executes itself (`/proc/self/exe`, same
/// arguments), which costs a few milliseconds. A kernel is only chosen when the CPU flags the kernel
/// needs are all present in /proc/cpuinfo (which lists only what the kernel lets programs use), so a
/// CPU is never given instructions it cannot run. An `OPENBLAS_CORETYPE` set by the user is left
/// alone.
public enum BLASKernelSelection {
    /// OpenBLAS core types, strongest first, with the CPU flags each needs.
    static let coreTypes: [(name: String, flags: Set<String>, satisfiedBy: Set<String>)] = [
        ("SkylakeX", ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"],
         ["skylakex", "cooperlake", "sapphirerapids"]),
        ("Haswell", ["avx2", "fma"],
         ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]),
    ]

    /// The core type to ask for, given the CPU's flags and the kernel OpenBLAS chose itself; nil
    /// when OpenBLAS's own choice is already as strong as the CPU allows.
    public static func coreTypeToRequest(cpuFlags: Set<String>, currentKernel: String) -> String? {
        guard let best = coreTypes.first(where: { $0.flags.isSubset(of: cpuFlags) }) else { return nil }
        return best.satisfiedBy.contains(currentKernel.lowercased()) ? nil : best.name
    }

    /// The `flags` line of /proc/cpuinfo as a set (empty where there is no such file).
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// Re-executes the current process with `OPENBLAS_CORETYPE` set when that gives a faster
    /// kernel. Returns (having changed nothing) when no change is needed, the user set the
    /// variable, or the re-execution fails. Call it first thing in `main`.
    public static func relaunchOnFastestKernelIfNeeded() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let coreType = coreTypeToRequest(cpuFlags: cpuFlags(cpuinfo: cpuinfo), currentKernel: BLAS.kernelName)
        else { return }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when execv failed: carry on with the kernel OpenBLAS chose.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
