import Foundation
import Testing
@testable import NNTrain

/// Post-training quantization: the scales, zero points and codes against values worked out by hand
/// (and checked with ONNX Runtime 1.32's own quant_utils.compute_scale_zp and quantize_data, which
/// give the same), the int8 and fp16 forward passes against a hand computation, the percentile, and
/// `CheckpointEvaluation` with a quantization on a tiny trained model.
@Suite struct QuantizationTests {
    // MARK: Scales and zero points

    @Test func activationScaleAndZeroPointAreORTsUint8Asymmetric() {
        func parameters(_ low: Float, _ high: Float) -> (Float, UInt8) {
            let p = Int8Quantization.activationParameters(minimum: low, maximum: high)
            return (p.scale, p.zeroPoint)
        }
        // s = (rmax − rmin)/255 in Double, z = round(−rmin/s).
        #expect(parameters(-0.25, 0.5) == (Float(0.75 / 255), 85))
        // A range without 0 is widened to it: [2, 6] → [0, 6]; [−6, −2] → [−6, 0].
        #expect(parameters(2, 6) == (Float(6.0 / 255), 0))
        #expect(parameters(-6, -2) == (Float(6.0 / 255), 255))
        // A constant input: 3 → [0, 3]; 0 → no range at all, scale 1 and zero point 0.
        #expect(parameters(3, 3) == (Float(3.0 / 255), 0))
        #expect(parameters(0, 0) == (1, 0))
        // Exact halves round to even: −rmin/s = 127.5 → 128, and 126.5 → 126 (s = 255/255 = 1).
        #expect(parameters(-1, 1) == (Float(2.0 / 255), 128))
        #expect(parameters(-126.5, 128.5) == (1, 126))
    }

    @Test func weightsArePerChannelSymmetricInt8() {
        let weight: [Float] = [
            0.5, -1.27, 0,  // a = 1.27: s = 0.01, codes 50, −127, 0
            0, 0, 0,  // a row of zeros: s = 1, codes 0
            0.3, 0.1, -0.05,  // s = 0.3/127: 0.1/s = 42.33 → 42, −0.05/s = −21.17 → −21
            2.54, 0.01, 0.03,  // s = 0.02: 0.5 → 0 and 1.5 → 2, halves to even
        ]
        let (scales, codes) = Int8Quantization.quantizedWeights(weight, outputs: 4, inputs: 3)
        func scale(_ largest: Float) -> Float { Float(Double(largest) / 127) }
        #expect(scales == [scale(1.27), 1, scale(0.3), scale(2.54)])
        #expect(codes == [50, -127, 0, 0, 0, 0, 127, 42, -21, 127, 0, 2])
    }

    // MARK: Forward passes

    /// x' = x (no normalisation), a 2→2 relu layer, a 2→1 output layer.
    static func twoLayerModel() -> InferenceModel {
        InferenceModel(
            normalizer: Normalizer(shift: [0, 0], scale: [1, 1]),
            layers: [
                .init(inputs: 2, outputs: 2, weight: [0.9921875, -0.48828125, 0.49609375, 0.013671875], bias: [0.1, -0.3],
                      activation: .relu),
                .init(inputs: 2, outputs: 1, weight: [0.9921875, -0.25], bias: [0.05], activation: .identity),
            ],
            targetScaling: nil, schema: .images(rows: 1, columns: 2), classNames: [], architecture: "2-2-1 relu",
            trainedWith: "test", fingerprint: "")
    }

    @Test func int8ForwardIsTheQDQArithmetic() {
        let model = Self.twoLayerModel()
        // Layer 0's input range [−0.5, 127/256]: s_x = 2^-8, z_x = 128. Layer 1's [0, 255/256]: 2^-8, 0.
        let quantization = Int8Quantization(model: model, inputRanges: [(-0.5, 0.49609375), (0, 0.99609375)],
                                            calibrationRows: 1, method: .minMax)
        #expect(quantization.layers.map(\.inputScale) == [0x1p-8, 0x1p-8])
        #expect(quantization.layers.map(\.inputZeroPoint) == [128, 0])
        // Row maxima 127·2^-7 and 127·2^-8: s_w = 2^-7, 2^-8, exactly; −62.5 → −62 and 3.5 → 4 (halves to even).
        #expect(quantization.layers[0].weightScales == [0x1p-7, 0x1p-8])
        #expect(quantization.layers[0].weights == [127, -62, 127, 4])
        #expect(quantization.layers[1].weights == [127, -32])

        let inference = QuantizedInference(model: model, weights: .int8(quantization), rowCapacity: 1)
        let input = FloatBuffer(count: 2)
        input.storage[0] = 0.25
        input.storage[1] = -0.1
        var hidden: [Float] = []
        let output = inference.forward(input.matrix(rows: 1, columns: 2)) { layer, x in
            if layer == 1 { hidden = Array(x.elements) }
        }
        // x/s_x = 64, −25.6 → 64, −26 (x_q − z_x). acc = 64·127 + (−26)(−62) = 9740 and 64·127 + (−26)·4 = 8024.
        // y = relu(Float(acc)·(s_x·s_w) + b), s_x·s_w = 2^-15, 2^-16: relu(9740·2^-15 + 0.1) = 0.39724 and
        // relu(8024·2^-16 − 0.3) = relu(−0.17756) = 0 (MatMulIntegerToFloat, then the float bias and relu).
        #expect(hidden == [Float(9740) * 0x1p-15 + 0.1, 0])
        // Layer 1 quantizes 0.39724/2^-8 = 101.69 → 102 (z_x = 0) and 0 → 0.
        // Layer 1, the output layer: acc = 102·127 + 0 = 12954; y = Float(acc)·(s_x·s_w) + b = 12954·2^-15 + 0.05.
        #expect(output[0, 0] == Float(12954) * 0x1p-15 + 0.05)
    }

    @Test func int8QuantizeLinearSaturatesAndRoundsHalvesToEven() {
        // One 1→1 identity layer of weight 127/128 (s_w = 2^-7, code 127); input range [−1, 1]·… chosen
        // so that s_x = 2^-8 and z_x = 128: x_q = clamp(round(256·x) + 128, 0, 255).
        let model = InferenceModel(
            normalizer: Normalizer(shift: [0], scale: [1]),
            layers: [.init(inputs: 1, outputs: 1, weight: [0.9921875], bias: [0], activation: .identity)],
            targetScaling: nil, schema: .images(rows: 1, columns: 1), classNames: [], architecture: "1-1",
            trainedWith: "test", fingerprint: "")
        let quantization = Int8Quantization(model: model, inputRanges: [(-0.5, 0.49609375)], calibrationRows: 1,
                                            method: .minMax)
        let inference = QuantizedInference(model: model, weights: .int8(quantization), rowCapacity: 6)
        let input = FloatBuffer(count: 6)
        // 256x = 2.5 → 2, 3.5 → 4, −2.5 → −2; 10 → 2688 saturates at 255 − 128 = 127; −10 at −128; NaN → 0 − 128.
        let xs: [Float] = [2.5 / 256, 3.5 / 256, -2.5 / 256, 10, -10, .nan]
        for (i, x) in xs.enumerated() { input.storage[i] = x }
        let output = inference.forward(input.matrix(rows: 6, columns: 1))
        let centred: [Float] = [2, 4, -2, 127, -128, -128]
        for (row, q) in centred.enumerated() {
            #expect(output[row, 0] == q * 127 * (0x1p-8 * 0x1p-7), "row \(row)")
        }
    }

    @Test func fp16RoundsEveryWeightAndBiasToBinary16() {
        let model = InferenceModel(
            normalizer: Normalizer(shift: [0], scale: [1]),
            layers: [.init(inputs: 1, outputs: 2, weight: [0.1, 70_000], bias: [1.0 / 3, 0], activation: .identity)],
            targetScaling: TargetScaling(shift: 1, scale: 2), schema: .images(rows: 1, columns: 1), classNames: [],
            architecture: "1-2", trainedWith: "test", fingerprint: "")
        let inference = QuantizedInference(model: model, weights: .fp16, rowCapacity: 1)
        let input = FloatBuffer(count: 1)
        input.storage[0] = 1
        let output = inference.forward(input.matrix(rows: 1, columns: 1))
        // binary16: 0.1 → 0.0999755859375 (1638·2^-14), 1/3 → 0.333251953125 (1365·2^-12), 70000 → inf
        // (above 65504); then y = 2·z + 1.
        #expect(output[0, 0] == 2 * (Float(0.0999755859375) + Float(0.333251953125)) + 1)
        #expect(output[0, 1] == .infinity)
    }

    // MARK: Percentile calibration

    @Test func percentilesInterpolateLinearlyBetweenRanks() {
        let hundred = (0...100).map(Float.init)
        #expect(Int8Quantization.percentile(99, ofSorted: hundred) == 99)
        #expect(Int8Quantization.percentile(1, ofSorted: hundred) == 1)
        #expect(Int8Quantization.percentile(100, ofSorted: hundred) == 100)
        // h = 3·p/100: 50 → 1.5, 2.5; 25 → 0.75, 1.75; 99.99 on 0...10000 → 9999.
        #expect(Int8Quantization.percentile(50, ofSorted: [1, 2, 3, 4]) == 2.5)
        #expect(Int8Quantization.percentile(25, ofSorted: [1, 2, 3, 4]) == 1.75)
        #expect(Int8Quantization.percentile(99.99, ofSorted: (0...10_000).map(Float.init)) == 9999)
        #expect(Int8Quantization.percentile(40, ofSorted: [7]) == 7)
        #expect(CalibrationMethod("percentile:99.99") == .percentile(99.99))
        #expect(CalibrationMethod("minmax") == .minMax && CalibrationMethod("max") == nil)
        #expect(CalibrationMethod("percentile:x") == nil && CalibrationMethod.percentile(99.9).description == "percentile:99.9")
    }

    @Test func percentileCalibrationCutsTheTailsOfEachLayersInput() {
        // One input feature through a 1→1 identity layer: its range is the feature's, 0…100 in order.
        let model = InferenceModel(
            normalizer: Normalizer(shift: [0], scale: [1]),
            layers: [.init(inputs: 1, outputs: 1, weight: [1], bias: [0], activation: .identity)],
            targetScaling: nil, schema: .images(rows: 1, columns: 1), classNames: [], architecture: "1-1",
            trainedWith: "test", fingerprint: "")
        let values = (0...100).map { Float(($0 * 37) % 101) - 20 }  // −20…80 in a scrambled order
        let dataset = Dataset(name: "t", features: .floats(values), featureCount: 1,
                              targets: .values([Float](repeating: 0, count: 101)))
        let minMax = Int8Quantization.inputRanges(of: model, on: dataset, rows: 101, method: .minMax)
        #expect(minMax.map(\.minimum) == [-20] && minMax.map(\.maximum) == [80])
        let cut = Int8Quantization.inputRanges(of: model, on: dataset, rows: 101, method: .percentile(98))
        #expect(cut.map(\.minimum) == [-18] && cut.map(\.maximum) == [78])
        // The first rows only.
        let firstTen = Int8Quantization.inputRanges(of: model, on: dataset, rows: 10, method: .minMax)
        #expect(firstTen.map(\.minimum) == [values.prefix(10).min() ?? .nan])
        #expect(firstTen.map(\.maximum) == [values.prefix(10).max() ?? .nan])
    }

    @Test func modelBytesCountEachFormat() {
        let model = Self.twoLayerModel()  // 2→2 (4 weights, 2 biases), 2→1 (2 weights, 1 bias)
        #expect(QuantizationMode.none.modelBytes(of: model) == 4 * 9)
        #expect(QuantizationMode.fp16.modelBytes(of: model) == 2 * 9)
        // 1 a weight, 4 a bias, 4 a scale (s_w per channel and s_x), 1 a zero point (per channel and z_x).
        #expect(QuantizationMode.int8.modelBytes(of: model) == (4 + 8 + 12 + 3) + (2 + 4 + 8 + 2))
    }

    // MARK: On a trained model

    @Test func evaluationOfAQuantizedModelIsCloseToFloat32s() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let (run, _) = try CheckpointEvaluationTests.trainedRun(folder)
        let checkpoint = run + "/checkpoints/last.bin"
        let plain = try CheckpointEvaluation.run(checkpointPath: checkpoint, split: .test)
        let none = try CheckpointEvaluation.run(checkpointPath: checkpoint, split: .test,
                                                quantization: QuantizationSettings(mode: .none))
        #expect(none.loss == plain.loss && none.classification == plain.classification && plain.quantization == nil)
        #expect(none.quantization?.mode == QuantizationMode.none && none.quantization?.layers == [])

        let accuracy = try #require(plain.classification?.accuracy)
        for mode in [QuantizationMode.fp16, .int8] {
            let evaluation = try CheckpointEvaluation.run(checkpointPath: checkpoint, split: .test,
                                                          quantization: QuantizationSettings(mode: mode))
            let quantized = try #require(evaluation.classification?.accuracy)
            #expect(abs(quantized - accuracy) <= 0.05, "\(mode): \(quantized) against fp32's \(accuracy)")
            #expect(abs(evaluation.loss - plain.loss) < 0.05 * plain.loss)
        }
        let int8 = try #require(try CheckpointEvaluation.run(
            checkpointPath: checkpoint, split: .test, quantization: QuantizationSettings(mode: .int8)).quantization)
        // 120 images, validation_split 0.25: 90 training rows, all of them calibrated on.
        #expect(int8.calibrationRows == 90 && int8.calibration == "minmax" && int8.layers.count == 2)
        // Pixels/255 are ≥ 0, so the first layer's zero point is 0, and its scale at most 1/255.
        #expect(int8.layers[0].inputZeroPoint == 0 && int8.layers[0].inputScale <= Float(1.0 / 255))
        #expect(int8.modelBytes.fp32 == 4 * (784 * 12 + 12 + 12 * 10 + 10))
    }

    /// A model trained in bf16: plain eval emulates autocast; `--quantize none` computes the float32 of the
    /// exported file, which is the folded model's float32 forward pass (`QuantizedInference` with fp32).
    @Test func noneOfAModelTrainedInBF16IsTheExportsFloat32() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let config = try folder.write("""
            data: {path: \(folder.path), validation_split: 0.25}
            model: {hidden: [12], batch_norm: true}
            training: {epochs: 3, batch_size: 15, precision: bf16}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "config.txt")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let checkpoint = folder.file("run") + "/checkpoints/last.bin"
        let plain = try CheckpointEvaluation.run(checkpointPath: checkpoint, split: .test)
        let none = try CheckpointEvaluation.run(checkpointPath: checkpoint, split: .test,
                                                quantization: QuantizationSettings(mode: .none))
        #expect(none.loss != plain.loss)  // bf16's roundings are gone

        let data = try CheckpointEvaluation.data(of: try Checkpoint.read(path: checkpoint), path: checkpoint, dataPath: nil).data
        let model = try InferenceModel(checkpointPath: checkpoint)
        let float32 = QuantizedInference(model: model, weights: .fp32, rowCapacity: data.test.count)
        let (_, sums) = CheckpointEvaluation.outputs(of: float32, on: data.test, normalizer: data.normalizer,
                                                     loss: Loss(.crossEntropy))
        #expect(none.loss == sums.loss / Double(sums.rows))
    }

    @Test func calibrationWithoutTrainingDataNamesData() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let (run, _) = try CheckpointEvaluationTests.trainedRun(folder)
        let checkpoint = run + "/checkpoints/last.bin"
        let moved = folder.file("moved")
        try FileManager.default.createDirectory(atPath: moved, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.moveItem(atPath: folder.file(name), toPath: moved + "/" + name)
        }
        let int8 = QuantizationSettings(mode: .int8)
        #expect {
            try CheckpointEvaluation.run(checkpointPath: checkpoint, dataPath: moved, split: .test, quantization: int8)
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .missingFile && error?.message.contains("no training rows to calibrate int8 ranges on") == true
                && error?.message.contains("expected --calibration-data PATH") == true
                && error?.message.split(separator: "\n").count == 1
        }
        // fp16 needs no calibration; int8 with the data named calibrates.
        _ = try CheckpointEvaluation.run(checkpointPath: checkpoint, dataPath: moved, split: .test,
                                         quantization: QuantizationSettings(mode: .fp16))
        let calibrated = QuantizationSettings(mode: .int8, calibrationRows: 5, calibrationDataPath: moved)
        let evaluation = try CheckpointEvaluation.run(checkpointPath: checkpoint, dataPath: moved, split: .test,
                                                      quantization: calibrated)
        #expect(evaluation.quantization?.calibrationRows == 5)
        #expect(throws: NNTrainError.self) {
            try Int8Quantization.calibrate(InferenceModel(checkpointPath: checkpoint), checkpointPath: checkpoint,
                                           dataPath: moved, rows: 0, method: .minMax)
        }
    }
}
