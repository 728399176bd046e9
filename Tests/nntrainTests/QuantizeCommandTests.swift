import Foundation
import Testing

/// `--quantize`, `--calibration-rows`, `--calibration` and `--calibration-data` on `nntrain eval` and
/// `nntrain predict`: the report in text and JSON, the predictions of the quantized model, and the
/// refusals (exit 64, one line).
@Suite struct QuantizeCommandTests {
    @Test func evalReportsTheQuantizationInTextAndJSON() throws {
        let directory = try EvalTopKCommandTests.trainedClassifier()
        let checkpoint = "runs/c/checkpoints/last.bin"
        let plain = try CommandLineTests.run(["eval", checkpoint], in: directory)
        #expect(plain.status == 0 && !plain.standardOutput.contains("quantization"))
        let none = try CommandLineTests.run(["eval", checkpoint, "--quantize", "none"], in: directory)
        #expect(none.standardOutput.contains("quantization none\n"))
        #expect(EvalTopKCommandTests.figure("accuracy", in: none.standardOutput)
            == EvalTopKCommandTests.figure("accuracy", in: plain.standardOutput))

        let text = try CommandLineTests.run(["eval", checkpoint, "--quantize", "int8", "--calibration-rows", "25"], in: directory)
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput.contains(
            "quantization int8, calibrated on 25 training rows (minmax)\n  layer 0: input scale "))
        // 784-4-10: fp32 4·(3136 + 4 + 40 + 10); int8 (3136 + 4·4 + 4·5 + 5) + (40 + 4·10 + 4·11 + 11).
        #expect(text.standardOutput.contains("model size: fp32 12,760 bytes, fp16 6,380, int8 3,312 (int8 25.96% of fp32)"))

        let json = try CommandLineTests.run(["eval", checkpoint, "--quantize", "int8", "--calibration", "percentile:99",
                                             "--json"], in: directory)
        #expect(json.status == 0, "\(json.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let quantization = try #require(object["quantization"] as? [String: Any])
        #expect(quantization["mode"] as? String == "int8" && quantization["calibration"] as? String == "percentile:99")
        #expect(quantization["calibration_rows"] as? Int == 40)
        let layers = try #require(quantization["layers"] as? [[String: Any]])
        #expect(layers.count == 2 && layers.allSatisfy { $0["input_zero_point"] != nil && $0["weight_scale_max"] != nil })
        #expect(quantization["model_bytes"] as? [String: Int] == ["fp32": 12_760, "fp16": 6_380, "int8": 3_312])
    }

    @Test func predictWritesTheQuantizedModelsPredictions() throws {
        let directory = try EvalTopKCommandTests.trainedClassifier()
        let checkpoint = "runs/c/checkpoints/last.bin"
        let result = try CommandLineTests.run(["predict", checkpoint, "fm/t10k-images-idx3-ubyte.gz", "--quantize", "fp16"],
                                              in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("quantization fp16\n") && result.standardError.contains("(fp16 50.00% of fp32)"))
        #expect(result.standardOutput.split(separator: "\n").count == 21)
    }

    @Test func calibrationDataReplacesTheCheckpointsDataPath() throws {
        let directory = try EvalTopKCommandTests.trainedClassifier()
        let checkpoint = "runs/c/checkpoints/last.bin"
        try FileManager.default.moveItem(at: directory.appendingPathComponent("fm"),
                                         to: directory.appendingPathComponent("elsewhere"))
        let missing = try CommandLineTests.run(["eval", checkpoint, "--data", "elsewhere", "--quantize", "int8"], in: directory)
        #expect(missing.status == 66)
        #expect(missing.standardError.contains("no training rows to calibrate int8 ranges on")
            && missing.standardError.contains("expected --calibration-data PATH"))
        let found = try CommandLineTests.run(["eval", checkpoint, "--data", "elsewhere", "--quantize", "int8",
                                              "--calibration-data", "elsewhere"], in: directory)
        #expect(found.status == 0, "\(found.standardError)")
    }

    @Test(arguments: [
        (["--calibration-rows", "0", "--quantize", "int8"], "--calibration-rows 0: expected a number of training rows"),
        (["--calibration", "minmax"], "--calibration minmax calibrates int8 ranges; expected it with --quantize int8"),
        (["--quantize", "fp16", "--calibration-data", "fm"], "--calibration-data fm calibrates int8 ranges"),
        (["--quantize", "int8", "--calibration", "percentile:20"], "expected a percentile from 50 to 100"),
        (["--quantize", "int8", "--calibration", "median"], "--calibration"),
        (["--quantize", "int4"], "--quantize"),
    ])
    func invalidCombinationsAreRefused(arguments: [String], message: String) throws {
        let directory = try CommandLineTests.temporaryDirectory()
        for command in ["eval", "predict"] {
            let extra = command == "predict" ? ["rows.csv"] : []
            let result = try CommandLineTests.run([command, "model.bin"] + extra + arguments, in: directory)
            #expect(result.status == 64, "\(command) \(arguments)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
        }
    }
}
