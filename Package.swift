// swift-tools-version: 6.1
// nntrain: train multilayer perceptrons on the CPU from a YAML config.
//
// Targets, from the bottom up:
//   COpenBLAS, CZlib  system libraries (cblas.h, zlib.h) found through pkg-config
//   CFloatingPoint    what Swift cannot reach: the CPU's flush-to-zero mode (MXCSR) and the spin-wait pause
//   NNTrain           the engine library: tensors, layers, optimizers, configuration, data, training,
//                     checkpoints, evaluation, reporting
//   nntrain           the command-line tool: arguments and words over NNTrain
//   NNTrainTests, nntrainTests
//                     the engine's tests and the executable's (exit statuses, messages, files written)
//   NNTrainKernels    micro-benchmarks of the engine's hot kernels (Benchmarks/NNTrainKernels), declared
//                     only when NNTRAIN_BENCHMARKS=1, with package-benchmark as their one extra
//                     dependency, so that swift build and swift test never fetch or build it
//                     (make bench-kernels sets it)
//   ReaderFuzzing     valid inputs of every reader and one call through each, for the mutation
//                     tests and the libFuzzer targets
//   CLibFuzzer, FuzzConfig, FuzzIDX, FuzzCSV, FuzzCheckpoint
//                     libFuzzer's driver declaration and one target per reader, only with NNTRAIN_FUZZ=1
//                     (`make fuzz`), built with -sanitize=fuzzer,address -parse-as-library
//
// The package exports only the nntrain executable. NNTrain is compiled with unsafe flags (below), which
// SwiftPM refuses in a package depended on by version, so a library product could not be used from
// another package; the engine is reached through this package's own targets (the tool, tests, fuzzing
// and benchmarks).
import PackageDescription

let withBenchmarks = Context.environment["NNTRAIN_BENCHMARKS"] == "1"

// The engine is compiled for the CPU that builds it (AVX-512 or AVX2 where present), as llama.cpp's
// GGML_NATIVE does: its elementwise loops then run 8 or 16 lanes wide instead of SSE2's 4, which made
// an epoch of the reference model 15-20% faster (docs/performance.md). The binary then runs only on
// CPUs with the same instructions; NNTRAIN_PORTABLE=1 builds for any x86-64 (or arm64) CPU.
let portable = Context.environment["NNTRAIN_PORTABLE"].map { !$0.isEmpty && $0 != "0" } ?? false
let nativeSwift: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "native"])]
let nativeC: [CSetting] = portable ? [] : [.unsafeFlags(["-march=native"])]

/// One libFuzzer executable per reader, defining LLVMFuzzerTestOneInput and an entry point that
/// runs libFuzzer's driver (CLibFuzzer declares it).
let fuzzTargets: [Target] = Context.environment["NNTRAIN_FUZZ"] == "1"
    ? [.target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer")]
        + ["Config", "IDX", "CSV", "Checkpoint"].map { reader in
            .executableTarget(name: "Fuzz\(reader)", dependencies: ["ReaderFuzzing", "CLibFuzzer"], path: "Fuzz/Fuzz\(reader)")
        }
    : []

let package = Package(
    name: "nntrain",
    products: [
        .executable(name: "nntrain", targets: ["nntrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // ONNX export: the messages of Sources/NNTrain/Export/onnx.proto, generated once (make proto).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: System libraries

        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // MARK: Engine

        .target(name: "CFloatingPoint", cSettings: nativeC),

        .target(
            name: "NNTrain",
            dependencies: [
                "COpenBLAS",
                "CZlib",
                "CFloatingPoint",
                .product(name: "Yams", package: "Yams"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The sources of Export/onnx.pb.swift and Reporting/TensorBoard/tensorboard.pb.swift (make proto).
            exclude: ["Export/onnx.proto", "Reporting/TensorBoard/tensorboard.proto"],
            swiftSettings: nativeSwift
        ),

        // MARK: Command-line tool

        .executableTarget(
            name: "nntrain",
            dependencies: [
                "NNTrain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Fuzzing

        .target(name: "ReaderFuzzing", dependencies: ["NNTrain", "CZlib"], path: "Fuzz/ReaderFuzzing"),

        // MARK: Tests

        .testTarget(name: "NNTrainTests", dependencies: ["NNTrain", "CFloatingPoint", "ReaderFuzzing"]),
        .testTarget(name: "nntrainTests", dependencies: ["nntrain", "NNTrain", "ReaderFuzzing"]),
    ] + fuzzTargets
)

// MARK: Benchmarks (NNTRAIN_BENCHMARKS=1)

if withBenchmarks {
    // ordo-one/package-benchmark, now named ordo-one/benchmark (1.38.1 warns about the old name).
    // On Swift 6.3 it preloads a malloc interposer (the MallocInterposer trait; no jemalloc) and, by
    // default, a Swift runtime interposer for ARC counts, which these benchmarks do not need; naming
    // the traits leaves that one, and its repository, out.
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "NNTrainKernels",
            dependencies: ["NNTrain", "CZlib", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/NNTrainKernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ))
}
