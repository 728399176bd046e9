// swift-tools-version: 6.1
// nntrain: train multilayer perceptrons on the CPU from a YAML config.
//
// Targets, from the bottom up:
//   COpenBLAS, CZlib  system libraries (cblas.h, zlib.h) found through pkg-config
//   NNTrain           the engine library: tensors, layers, optimizers, data, training, reporting
//   nntrain           the command-line tool: arguments and words over NNTrain
//   ReaderFuzzing     valid inputs of every reader and one call through each, for the mutation
//                     tests and the libFuzzer targets
//   FuzzConfig, FuzzIDX, FuzzCSV, FuzzCheckpoint
//                     libFuzzer targets, only with NNTRAIN_FUZZ=1 (`make fuzz`), built with
//                     -sanitize=fuzzer,address -parse-as-library
import PackageDescription

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
        .library(name: "NNTrain", targets: ["NNTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
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

        .target(name: "CFloatingPoint"),

        .target(
            name: "NNTrain",
            dependencies: [
                "COpenBLAS",
                "CZlib",
                "CFloatingPoint",
                .product(name: "Yams", package: "Yams"),
            ]
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

        .testTarget(name: "NNTrainTests", dependencies: ["NNTrain", "CZlib", "ReaderFuzzing"]),
        .testTarget(name: "nntrainTests", dependencies: ["nntrain", "NNTrain", "CZlib"]),
    ] + fuzzTargets
)
