// swift-tools-version: 6.1
// nntrain: train multilayer perceptrons on the CPU from a YAML config.
//
// Targets, from the bottom up:
//   COpenBLAS, CZlib  system libraries (cblas.h, zlib.h) found through pkg-config
//   NNTrain           the engine library: tensors, layers, optimizers, data, training, reporting
//   nntrain           the command-line tool: arguments and words over NNTrain
import PackageDescription

// The engine is compiled for the CPU that builds it (AVX-512 or AVX2 where present), as llama.cpp's
// GGML_NATIVE does: its elementwise loops then run 8 or 16 lanes wide instead of SSE2's 4, which made
// an epoch of the reference model 15-20% faster (README, "Performance"). The binary then runs only on
// CPUs with the same instructions; NNTRAIN_PORTABLE=1 builds for any x86-64 (or arm64) CPU.
let portable = Context.environment["NNTRAIN_PORTABLE"].map { !$0.isEmpty && $0 != "0" } ?? false
let nativeSwift: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "native"])]
let nativeC: [CSetting] = portable ? [] : [.unsafeFlags(["-march=native"])]

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

        .target(name: "CFloatingPoint", cSettings: nativeC),

        .target(
            name: "NNTrain",
            dependencies: [
                "COpenBLAS",
                "CZlib",
                "CFloatingPoint",
                .product(name: "Yams", package: "Yams"),
            ],
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

        // MARK: Tests

        .testTarget(name: "NNTrainTests", dependencies: ["NNTrain", "CZlib", "CFloatingPoint"]),
        .testTarget(name: "nntrainTests", dependencies: ["nntrain", "NNTrain"]),
    ]
)
