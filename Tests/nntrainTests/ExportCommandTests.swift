import Foundation
import NNTrain
import Testing

/// `nntrain export`: the format from the extension or --format, the report, and the refusals with
/// their exit statuses (usage 64, missing file 66, cannot write 73).
@Suite struct ExportCommandTests {
    /// A folder with a 5-4-1 bonus model trained for two epochs (runs/b/checkpoints/last.bin).
    static func trainedRun() throws -> URL { try InspectCommandTests.trainedRun() }

    static let checkpoint = "runs/b/checkpoints/last.bin"

    static func safeTensors(_ url: URL) throws -> SafeTensors {
        try SafeTensors.decode([UInt8](Data(contentsOf: url)), path: url.path, dtypes: SafeTensors.DType.allCases)
    }

    @Test func theExtensionChoosesSafetensorsAndTheReportSaysWhatWasWritten() throws {
        let directory = try Self.trainedRun()
        let result = try CommandLineTests.run(["export", Self.checkpoint, "--out", "out/m.safetensors"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty)
        let url = directory.appendingPathComponent("out/m.safetensors")
        let file = try Self.safeTensors(url)
        #expect(file.tensors.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(file.metadata["format"] == "pt" && file.metadata["nntrain.weights"] == "fp32")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The report as Python comments, then the Python: the whole output is a script.
        #expect(Array(lines.prefix(9)) == [
            "# \(Self.checkpoint) → out/m.safetensors", "# format        safetensors", "# quantization  none",
            "# size          \(size) bytes", "# layers", "#   0  5 → 4  relu", "#   1  4 → 1  none", "",
            "import json, torch, torch.nn as nn",
        ])
        #expect(lines.contains("    nn.Linear(5, 4), nn.ReLU(),") && lines.contains("    nn.Linear(4, 1),"))
        #expect(lines.contains("model.load_state_dict(load_file(\"out/m.safetensors\"))  # strict: every tensor named and "
            + "shaped as above"))
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out").path)
            == ["m.safetensors"])
    }

    @Test func formatOverridesTheExtensionAndJSONSaysTheSame() throws {
        let directory = try Self.trainedRun()
        let result = try CommandLineTests.run(["export", Self.checkpoint, "--out", "m.bin", "--format", "safetensors",
                                               "--quantize", "fp16", "--json"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let file = try Self.safeTensors(directory.appendingPathComponent("m.bin"))
        #expect(file["0.weight"]?.dtype == .f16 && file.metadata["nntrain.weights"] == "fp16")
        let report = try InspectCommandTests.jsonObject(result.standardOutput)
        #expect(report["format"] as? String == "safetensors" && report["quantization"] as? String == "fp16")
        #expect(report["bytes"] as? Int == (try Data(contentsOf: directory.appendingPathComponent("m.bin"))).count)
        #expect(report["modules"] as? [String] == ["nn.Linear(5, 4)", "nn.ReLU()", "nn.Linear(4, 1)"])
        let layers = try #require(report["layers"] as? [[String: Any]])
        #expect(layers.map { $0["outputs"] as? Int } == [4, 1] && layers.map { $0["activation"] as? String } == ["relu", "none"])
        #expect((report["python"] as? String)?.contains("nn.Sequential(") == true)
    }

    @Test func usageErrorsExit64() throws {
        let directory = try Self.trainedRun()
        let cases: [([String], String)] = [
            (["--out", "m.txt"], "--out m.txt: the format follows the extension, .onnx or .safetensors; name the file so "
                + "or give --format onnx or --format safetensors"),
            (["--out", "m.onnx", "--opset", "12"], "--opset 12: expected an ONNX opset from 13 to 21"),
            (["--out", "m.onnx", "--opset", "22"], "--opset 22: expected an ONNX opset from 13 to 21"),
            (["--out", "m.safetensors", "--opset", "17"], "--opset 17 is for ONNX; a safetensors file has no opset"),
            (["--out", "m.safetensors", "--quantize", "int8"], StateDictExport.int8Refusal),
            (["--out", "m.onnx", "--quantize", "int4"],
             "The value 'int4' is invalid for '--quantize <mode>'. Please provide one of 'none', 'fp16' or 'int8'."),
            (["--out", "m.onnx", "--calibration-rows", "10"],
             "--calibration-rows 10 calibrates int8 ranges; expected it with --quantize int8"),
            (["--out", "m.onnx", "--quantize", "int8", "--calibration", "percentile:40"],
             "--calibration percentile:40: expected a percentile from 50 to 100, e.g. percentile:99.99"),
            (["--out", "m.onnx", "--quantize", "int8", "--calibration-rows", "0"],
             "--calibration-rows 0: expected a number of training rows of at least 1"),
        ]
        for (arguments, message) in cases {
            CommandLineTests.expectFailure(try CommandLineTests.run(["export", Self.checkpoint] + arguments, in: directory),
                                           status: 64, message: message + " (see 'nntrain export --help')")
        }
        // .onnx (in any case) or --format onnx chooses ONNX, whose opsets pass validation (--opset with
        // safetensors would not): these reach the checkpoint, which is missing.
        for arguments in [["--out", "m.ONNX", "--opset", "21"], ["--out", "m.safetensors", "--format", "onnx", "--opset", "13"]] {
            #expect(try CommandLineTests.run(["export", "nope.bin"] + arguments, in: directory).status == 66, "\(arguments)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("m.") }.isEmpty)
    }

    @Test func aMissingCheckpointExits66() throws {
        let directory = try Self.trainedRun()
        let missing = try CommandLineTests.run(["export", "nope.bin", "--out", "m.safetensors"], in: directory)
        CommandLineTests.expectFailure(missing, status: 66,
                                       message: "nope.bin: no such file or folder (expected an nntrain checkpoint (.bin))")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("m.safetensors").path))
    }

    /// An --out inside a regular file (its folder cannot be made) and an --out that is a folder (the
    /// rename fails): 73, one line, and nothing written or left behind.
    @Test func anUnwritableOutputExits73AndLeavesNothing() throws {
        let directory = try Self.trainedRun()
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        CommandLineTests.expectFailure(
            try CommandLineTests.run(["export", Self.checkpoint, "--out", "b.csv/m.safetensors"], in: directory), status: 73,
            message: "b.csv/m.safetensors: cannot write: cannot create the folder b.csv")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("m.safetensors"),
                                                withIntermediateDirectories: false)
        let folder = try CommandLineTests.run(["export", Self.checkpoint, "--out", "m.safetensors"], in: directory)
        #expect(folder.status == 73)
        #expect(folder.standardError.hasPrefix("error: m.safetensors: cannot write: "))
        let files = FileManager.default
        #expect(try files.contentsOfDirectory(atPath: directory.path).sorted() == (before + ["m.safetensors"]).sorted())
        #expect(try files.contentsOfDirectory(atPath: directory.appendingPathComponent("m.safetensors").path).isEmpty)
    }
}

extension ExportCommandTests {
    /// A run pruned by magnitude (half of the hidden layer's 5 · 8 weights, once, at epoch 2): the epoch
    /// lines carry the sparsity, summary.json the masks' figures, and the export says the zeros are
    /// stored dense, with the file's compressed size.
    @Test func aMagnitudePrunedRunReportsItsSparsityThroughToTheExport() throws {
        let directory = try CommandLineTests.bonusFolder(rows: 400, seed: 3, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: [8]}
            loss: mse
            training: {epochs: 3, batch_size: 50}
            pruning: {method: magnitude, schedule: once, start_epoch: 2, sparsity: 0.5}
            """)
        let run = try CommandLineTests.run(["run", "b.txt"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        let epochLines = run.standardOutput.split(separator: "\n").filter { $0.hasPrefix("ep ") }
        #expect(epochLines.map { $0.contains("  sparsity 0.00%  ") } == [true, false, false])
        #expect(epochLines.map { $0.contains("  sparsity 50.00%  ") } == [false, true, true])
        let summary = try InspectCommandTests.jsonObject(
            String(decoding: try Data(contentsOf: directory.appendingPathComponent("runs/b/summary.json")), as: UTF8.self))
        let pruning = try #require(summary["pruning"] as? [String: Any])
        #expect(pruning["method"] as? String == "magnitude" && pruning["sparsity"] as? Double == 0.5)
        let layers = try #require(pruning["layers"] as? [[String: Any]])
        #expect(layers.map { $0["name"] as? String } == ["layers.0.weight"] && layers.first?["sparsity"] as? Double == 0.5)

        let export = try CommandLineTests.run(["export", "runs/b/checkpoints/last.bin", "--out", "m.onnx", "--json"],
                                              in: directory)
        #expect(export.status == 0, "\(export.standardError)")
        let report = try InspectCommandTests.jsonObject(export.standardOutput)
        let sparsity = try #require(report["sparsity"] as? [String: Any])
        // 20 of the hidden layer's 40 weights; the output layer's 8 are not pruned.
        #expect(sparsity["zero_weights"] as? Int == 20 && sparsity["weights"] as? Int == 48)
        let bytes = try #require(report["bytes"] as? Int), compressed = try #require(sparsity["compressed_bytes"] as? Int)
        #expect(compressed > 0 && compressed < bytes)
        let text = try CommandLineTests.run(["export", "runs/b/checkpoints/last.bin", "--out", "m.onnx"], in: directory)
        #expect(text.standardOutput.contains("\nsparsity      41.67% of the weights are zero (pruned), stored dense; "
            + "\(compressed) bytes compressed (zlib, level 9)\n"))
    }
}
