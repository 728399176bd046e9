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
    @inline(__always)
    package static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// The name of the OpenBLAS kernel in use, e.g. "SkylakeX" or "Prescott".
    public static var kernelName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The number of threads OpenBLAS computes with (OPENBLAS_NUM_THREADS, else one per core).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}

/// Puts OpenBLAS on the fastest kernel this CPU can run, without the user doing anything.
///
/// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Xeons and falls back to its generic
/// "Prescott" SSE3 kernel, ten times slower than its AVX-512 "SkylakeX" one (measured in
/// ../shared/bench/README.md). It reads the override `OPENBLAS_CORETYPE` once, when the library
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
