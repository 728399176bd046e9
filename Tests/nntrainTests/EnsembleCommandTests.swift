import Foundation
import Testing

/// Ensembles through the executable: `eval A.bin B.bin`, `predict A.bin B.bin INPUT` and `export A.bin
/// B.bin --out e.onnx` succeed with each member beside the ensemble; members that differ exit 65 naming
/// the first difference; --quantize (and a safetensors file) with several checkpoints exit 64.
@Suite struct EnsembleCommandTests {
    /// A bonus folder (b.csv, 120 rows, read as a plain CSV) with three models trained one epoch with the same seed:
    /// a/ and b/ (b's hidden layer of 4), and d/ without the column overtime_hours.
    static func trainedMembers() throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: 120, seed: 4, config: "")
        // Without its true weights, which a model without one of the columns could not be compared with.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("b.weights.json"))
        let data = "data: {dataset: csv, path: b.csv, target: bonus, validation_split: 0.2"
        for (name, lines) in [("a", "\(data)}\nmodel: {hidden: []}"), ("b", "\(data)}\nmodel: {hidden: [4]}"),
                              ("d", "\(data), drop: [overtime_hours]}\nmodel: {hidden: []}")] {
            try CommandLineTests.write(lines + "\nloss: mse\ntraining: {epochs: 1}\noutput: {dir: \(name), plots: false}\n",
                                       to: "\(name).txt", in: directory)
            let trained = try CommandLineTests.run(["run", "\(name).txt"], in: directory)
            #expect(trained.status == 0, "\(trained.standardError)")
        }
        return directory
    }

    @Test func evalPredictAndExportTakeSeveralCheckpoints() throws {
        let directory = try Self.trainedMembers()
        let (a, b) = ("a/checkpoints/last.bin", "b/checkpoints/last.bin")
        let eval = try CommandLineTests.run(["eval", a, b, "--split", "val"], in: directory)
        #expect(eval.status == 0, "\(eval.standardError)")
        let lines = eval.standardOutput.split(separator: "\n")
        #expect(lines.first?.hasPrefix("member") == true && lines.first?.hasSuffix("mse      rmse       mae        r2") == true)
        #expect(lines.count > 3 && lines[1].hasPrefix(a) && lines[2].hasPrefix(b) && lines[3].hasPrefix("ensemble (mean)"))

        let json = try CommandLineTests.run(["eval", a, b, "--split", "val", "--json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let members = try #require(object["members"] as? [[String: Any]])
        #expect(members.map { $0["checkpoint"] as? String } == [a, b])
        #expect((object["ensemble"] as? [String: Any])?["checkpoint"] as? String == "\(a) + \(b)")

        let predict = try CommandLineTests.run(["predict", a, b, "b.csv"], in: directory)
        #expect(predict.status == 0, "\(predict.standardError)")
        #expect(predict.standardOutput.hasPrefix("row,prediction,prediction_1,prediction_2\n0,"))
        let summary = predict.standardError.split(separator: "\n")
        #expect(summary.count == 3 && summary[0].hasPrefix("ensemble of 2: MSE ")
            && summary[1].hasPrefix("prediction_1 \(a): MSE ") && summary[2].hasPrefix("prediction_2 \(b): MSE "))
        // One checkpoint: as before, no member columns.
        let single = try CommandLineTests.run(["predict", a, "b.csv"], in: directory)
        #expect(single.status == 0 && single.standardOutput.hasPrefix("row,prediction\n0,"))

        let export = try CommandLineTests.run(["export", a, b, "--out", "e.onnx"], in: directory)
        #expect(export.status == 0, "\(export.standardError)")
        #expect(export.standardOutput.contains("ensemble      2 members"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("e.onnx").path))
    }

    @Test func membersThatDifferExit65AndQuantizationOrSafetensorsExit64() throws {
        let directory = try Self.trainedMembers()
        let (a, d) = ("a/checkpoints/last.bin", "d/checkpoints/last.bin")
        let difference = "\(d): has the column 'training_hours' at input column 4 but \(a) has 'overtime_hours'; expected "
            + "ensemble members trained on the same inputs, task and classes (for a CSV: the same data, seed and splits)"
        for arguments in [["predict", a, d, "b.csv"], ["export", a, d, "--out", "e.onnx"]] {
            CommandLineTests.expectFailure(try CommandLineTests.run(arguments, in: directory), status: 65, message: difference)
        }
        // eval encodes the same test rows with each member's own columns.
        let together = try CommandLineTests.run(["eval", a, d], in: directory)
        #expect(together.status == 0, "\(together.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("e.onnx").path))
        let refusal = "--quantize quantizes one checkpoint's model; an ensemble of several checkpoints runs in float32 as "
            + "trained: expected one checkpoint with --quantize, or no --quantize"
        for (command, arguments) in [("eval", [a, a]), ("predict", [a, a, "b.csv"]), ("export", [a, a, "--out", "e.onnx"])] {
            let result = try CommandLineTests.run([command] + arguments + ["--quantize", "fp16"], in: directory)
            CommandLineTests.expectFailure(result, status: 64, message: refusal + " (see 'nntrain \(command) --help')")
        }
        let safetensors = try CommandLineTests.run(["export", a, a, "--out", "e.safetensors"], in: directory)
        #expect(safetensors.status == 64 && safetensors.standardError.contains("a state_dict holds one model"))
        let noInput = try CommandLineTests.run(["predict", a], in: directory)
        #expect(noInput.status == 64 && noInput.standardError.hasPrefix("error: Missing expected argument '<input>'"))
    }
}
