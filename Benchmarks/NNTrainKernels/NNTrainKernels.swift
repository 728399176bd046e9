// Micro-benchmarks of nntrain's hot kernels, at the shapes of the reference MLP (784-256-128-10,
// batch 128), with ordo-one/package-benchmark. Run them with `make bench-kernels`, which sets
// NNTRAIN_BENCHMARKS=1 so that Package.swift declares this target and its dependency.
//
// Each benchmark calls one kernel once per iteration on buffers made before the measurement (so
// the figures are the kernel alone, as the training step calls it, and the malloc count is the
// kernel's own); package-benchmark repeats it for up to 2 s after 10 warm-up calls and reports
// wall-clock percentiles, throughput (calls per second) and mallocs per call. Kernels that the
// engine splits over the cores (Parallel) run on NNTRAIN_THREADS threads, default one per core.
// What each one does:
//
//   GEMM forward       BLAS.gemm: x[128×784] · Wᵀ with W[256×784], the first layer's forward
//                      product, 2·128·784·256 = 51.4 MFLOP per call
//   GEMM weight grad   BLAS.gemm: dzᵀ[256×128] · x[128×784] into dW[256×784], the first layer's
//                      weight gradient, 51.4 MFLOP per call
//   bias+relu          Activation.applyWithBias: z[128×256] + b, then relu, in place, as Dense's
//                      forward runs it after the GEMM; fp32, and fp16 (v = round(z + b) fused in)
//   softmax-CE         Loss.evaluate: fused softmax cross-entropy with its gradient over the
//                      output layer's logits [128×10]
//   Adam step          Adam.step over the reference model's 235,146 parameters in one group
//   fp16 / bf16 round  Precision.format.round over 1,048,576 floats in place (what Dense does to
//                      weight copies and Network to activations and gradients in mixed precision)
//   gz decode          Gzip.decompress of data/fashion-mnist/train-images-idx3-ubyte.gz (26 MB,
//                      47 MB decoded) when `make data` has put it there; else of a generated file
//                      of 10 MiB of image-like bytes (about half zeros), written once to /tmp
//
// OpenBLAS picks its kernel when it loads; as nntrain's `main` does, the first thing this
// executable does is re-execute itself with OPENBLAS_CORETYPE set when OpenBLAS's own choice is
// weaker than the CPU (see BLASKernelSelection), and the GEMM benchmarks name the kernel in a tag.

import Benchmark
import CZlib
import Foundation
import NNTrain

/// The reference MLP's sizes.
private let batch = 128, inputs = 784, hidden1 = 256, hidden2 = 128, classes = 10
private let referenceParameters = inputs * hidden1 + hidden1 + hidden1 * hidden2 + hidden2 + hidden2 * classes + classes

/// A buffer of `count` floats filled from a fixed seed, uniform in `range`. Never freed: the
/// benchmarks use them until the process ends.
private func filled(_ count: Int, _ range: ClosedRange<Float>, seed: UInt64) -> UnsafeMutablePointer<Float> {
    var state = seed
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    for i in 0..<count {
        // splitmix64, top 24 bits as a fraction in [0, 1)
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let unit = Float(z >> 40) / Float(1 << 24)
        buffer[i] = range.lowerBound + unit * (range.upperBound - range.lowerBound)
    }
    return buffer
}

/// The gz file the decoding benchmark reads: the real training images beside the project when
/// present, else a generated one; nil (and a line on stderr) if neither can be had.
private func gzipInput() -> (path: String, label: String)? {
    let project = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let real = project.appendingPathComponent("data/fashion-mnist/train-images-idx3-ubyte.gz").path
    if FileManager.default.fileExists(atPath: real) { return (real, "train-images-idx3-ubyte.gz") }
    let generated = NSTemporaryDirectory() + "/nntrain-bench-10MiB.gz"
    if !FileManager.default.fileExists(atPath: generated) {
        guard let file = gzopen(generated, "wb6") else {
            FileHandle.standardError.write(Data("NNTrainKernels: cannot write \(generated); gz decode skipped\n".utf8))
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: 10 << 20)
        var state: UInt32 = 2_463_534_242
        for i in bytes.indices {  // xorshift32: about half zeros, the rest uniform, as image pixels
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            bytes[i] = state & 1 == 0 ? 0 : UInt8(truncatingIfNeeded: state >> 24)
        }
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        gzclose(file)
        guard written == bytes.count else {
            try? FileManager.default.removeItem(atPath: generated)
            return nil
        }
    }
    return (generated, "generated, 10 MiB decoded")
}

let benchmarks: @Sendable () -> Void = {
    BLASKernelSelection.relaunchOnFastestKernelIfNeeded()

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 10,
        maxDuration: .seconds(2), maxIterations: 100_000)
    let gemmConfiguration = Benchmark.Configuration(tags: ["kernel": BLAS.kernelName])

    // MARK: GEMM at the first layer's shapes

    let x = filled(batch * inputs, 0...1, seed: 1)
    let w = filled(hidden1 * inputs, -0.05...0.05, seed: 2)
    let z = filled(batch * hidden1, -1...1, seed: 3)
    let dw = filled(hidden1 * inputs, 0...0, seed: 4)

    Benchmark("GEMM forward x[128x784]·Wᵀ[784x256]", configuration: gemmConfiguration) { benchmark in
        for _ in benchmark.scaledIterations {
            BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: hidden1, k: inputs,
                      alpha: 1, a: x, lda: inputs, b: w, ldb: inputs, beta: 0, c: z, ldc: hidden1)
        }
        blackHole(z[0])
    }

    Benchmark("GEMM weight grad dzᵀ[256x128]·x[128x784]", configuration: gemmConfiguration) { benchmark in
        for _ in benchmark.scaledIterations {
            BLAS.gemm(transposeA: true, transposeB: false, m: hidden1, n: inputs, k: batch,
                      alpha: 1, a: z, lda: hidden1, b: x, ldb: inputs, beta: 0, c: dw, ldc: inputs)
        }
        blackHole(dw[0])
    }

    // MARK: Bias and activation, fused, after the first layer's GEMM

    // Small biases, so that adding them on every iteration keeps values far from fp16's range.
    let bias = filled(hidden1, -1e-4...1e-4, seed: 5)
    let activations = filled(batch * hidden1, -1...1, seed: 6)
    let view = MatrixView(base: activations, rows: batch, columns: hidden1)
    for precision in [Precision.fp32, .fp16] {
        Benchmark("bias+relu [128x256] \(precision.rawValue)") { benchmark in
            for _ in benchmark.scaledIterations {
                Activation.relu.applyWithBias(view, bias: bias, preActivation: nil, precision: precision)
            }
            blackHole(activations[0])
        }
    }

    // MARK: Softmax cross-entropy with its gradient, on the output layer

    let logits = MatrixView(base: filled(batch * classes, -4...4, seed: 7), rows: batch, columns: classes)
    let gradient = MatrixView(base: filled(batch * classes, 0...0, seed: 8), rows: batch, columns: classes)
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
    for i in 0..<batch { labels[i] = Int32(i % classes) }
    Benchmark("softmax-cross-entropy [128x10] with gradient") { benchmark in
        var sums = LossSums()
        for _ in benchmark.scaledIterations {
            Loss.crossEntropy(labelSmoothing: 0).evaluate(
                output: logits, targets: .classes(labels), gradient: gradient, into: &sums)
        }
        blackHole(sums.loss)
    }

    // MARK: One optimizer step over the reference model's parameters

    let parameters = UnsafeMutableBufferPointer(start: filled(referenceParameters, -0.05...0.05, seed: 9),
                                                count: referenceParameters)
    let gradients = UnsafeBufferPointer(start: filled(referenceParameters, -1e-3...1e-3, seed: 10),
                                        count: referenceParameters)
    let adam = Adam(groups: [ParameterGroup(range: 0..<referenceParameters, weightDecay: false)])
    Benchmark("Adam step, \(referenceParameters) parameters") { benchmark in
        for _ in benchmark.scaledIterations {
            adam.step(parameters: parameters, gradients: gradients, learningRate: 1e-3, momentum: nil)
        }
        blackHole(parameters[0])
    }

    // MARK: Rounding to the narrow formats of mixed precision

    let roundingCount = 1 << 20
    let values = filled(roundingCount, -8...8, seed: 11)
    for precision in [Precision.fp16, .bf16] {
        guard let format = precision.format else { continue }
        Benchmark("\(precision.rawValue) rounding, 1M floats in place") { benchmark in
            for _ in benchmark.scaledIterations {
                format.round(values, count: roundingCount)
            }
            blackHole(values[0])
        }
    }

    // MARK: gz decoding, as the Fashion-MNIST reader does it

    if let (path, label) = gzipInput() {
        Benchmark("gz decode \(label)", configuration: .init(maxDuration: .seconds(5), maxIterations: 30)) { benchmark in
            for _ in benchmark.scaledIterations {
                do throws(NNTrainError) {
                    blackHole(try Gzip.decompress(path: path).count)
                } catch {
                    benchmark.error("\(path): \(error.message)")
                }
            }
        }
    }
}
