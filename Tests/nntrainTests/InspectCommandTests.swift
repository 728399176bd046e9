import Foundation
import Testing

/// `nntrain inspect`, and how every command that reads a checkpoint (eval, run --resume PATH,
/// inspect) refuses a file that is not one.
@Suite struct InspectCommandTests {
    /// A folder with a 5-4-1 bonus model trained for two epochs with save_best (runs/b).
    static func trainedRun() throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: 400, seed: 3, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: [4]}
            loss: mse
            training: {epochs: 2, batch_size: 50}
            checkpoint: {save_best: true}
            """)
        let run = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        return directory
    }

    static let expectedCheckpoint = "expected a checkpoint written by nntrain run, like runs/NAME/checkpoints/last.bin"

    /// A config, a gzip file and a foreign safetensors file each get one plain sentence, from every
    /// command that reads a checkpoint; a damaged checkpoint keeps its detailed message.
    @Test func aFileThatIsNotACheckpointIsCalledThat() throws {
        let directory = try Self.trainedRun()
        let json = #"{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        let foreign = withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian, Array.init) + Array(json.utf8) + [1, 2]
        try Data(foreign).write(to: directory.appendingPathComponent("w.safetensors"))
        try Data([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01])
            .write(to: directory.appendingPathComponent("x.gz"))
        let cases = [
            ("runs/b/config.yaml", "it starts with text, not a safetensors header"),
            ("x.gz", "it does not start with a safetensors header"),
            ("w.safetensors", "it is a safetensors file without nntrain's metadata: no nntrain.format: nntrain-checkpoint"),
        ]
        for (path, why) in cases {
            let message = "\(path) is not an nntrain checkpoint (\(why)); \(Self.expectedCheckpoint)"
            for arguments in [["eval", path], ["run", "b.txt", "--resume", path], ["inspect", path]] {
                CommandLineTests.expectFailure(try CommandLineTests.run(arguments, in: directory), status: 65, message: message)
            }
        }
        // A real checkpoint with a header length bigger than the file is damaged, not foreign.
        var bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("runs/b/checkpoints/last.bin")))
        bytes[6] = 0xFF
        try Data(bytes).write(to: directory.appendingPathComponent("flipped.bin"))
        let flipped = try CommandLineTests.run(["eval", "flipped.bin"], in: directory)
        #expect(flipped.status == 65)
        #expect(flipped.standardError.hasPrefix("error: flipped.bin: bytes 0-7: header length "))
    }

    /// The metadata of a safetensors file, read here from its JSON header.
    static func metadata(of url: URL) throws -> [String: String] {
        let bytes = try [UInt8](Data(contentsOf: url))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
        return try #require(header["__metadata__"] as? [String: String])
    }

    static func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// metrics.csv's rows as column name to value, the timing columns left out.
    static func metricsRows(_ url: URL) throws -> [[String: String]] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",").map(String.init) }
        let names = try #require(lines.first)
        return lines.dropFirst().map { values in
            Dictionary(uniqueKeysWithValues: zip(names, values).filter {
                !["epoch_seconds", "samples_per_second"].contains($0.0)
            })
        }
    }

    /// Every figure inspect prints, checked against what the run wrote (summary.json, metrics.csv,
    /// the checkpoint's own metadata, eval's row count) for last.bin and best.bin.
    @Test func inspectDescribesACheckpointFromTheFileAlone() throws {
        let directory = try Self.trainedRun()
        let run = directory.appendingPathComponent("runs/b")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
                as? [String: Any])
        let metrics = try Self.metricsRows(run.appendingPathComponent("metrics.csv"))
        let last = run.appendingPathComponent("checkpoints/last.bin")
        let metadata = try Self.metadata(of: last)
        let eval = try Self.jsonObject(CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin", "--json", "--split", "train"],
                                                            in: directory).standardOutput)
        let trainingRows = try #require(eval["rows"] as? Int)

        let result = try CommandLineTests.run(["inspect", "runs/b/checkpoints/last.bin", "--json"], in: directory)
        #expect(result.status == 0 && result.standardError.isEmpty, "\(result.standardError)")
        let inspected = try Self.jsonObject(result.standardOutput)
        #expect(inspected["path"] as? String == "runs/b/checkpoints/last.bin")
        #expect(inspected["file_bytes"] as? Int == (try FileManager.default.attributesOfItem(atPath: last.path)[.size] as? Int))
        #expect(inspected["format_version"] as? Int == Int(metadata["nntrain.format_version"] ?? ""))
        #expect(inspected["nntrain_version"] as? String == summary["nntrain_version"] as? String)
        #expect(inspected["architecture"] as? String == "5-4-1 relu")
        #expect(inspected["parameters"] as? Int == summary["parameters"] as? Int)
        let tensors = try #require(inspected["parameter_tensors"] as? [[String: Any]])
        #expect(tensors.map { $0["name"] as? String } == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        #expect(tensors.map { $0["shape"] as? [Int] } == [[4, 5], [4], [1, 4], [1]])
        #expect(inspected["reason"] as? String == "final" && metadata["nntrain.reason"] == "final")
        #expect(inspected["position"] as? String == "after epoch 2")
        #expect(inspected["epochs_completed"] as? Int == summary["epochs_completed"] as? Int)
        #expect(inspected["ended"] as? String == summary["ended"] as? String)
        #expect(inspected["steps"] as? Int == 2 * ((trainingRows + 49) / 50))
        let lastEpoch = try #require(inspected["last_epoch"] as? [String: Any])
        let lastRow = try #require(metrics.last)
        #expect(lastEpoch["epoch"] as? Int == Int(lastRow["epoch"] ?? ""))
        for (name, column) in [("lr", "lr"), ("train_loss", "train_loss"), ("val_loss", "val_loss")] {
            #expect(lastEpoch[name] as? Double == Double(lastRow[column] ?? ""), "\(name)")
        }
        let best = try #require(inspected["best"] as? [String: Any])
        #expect(best["monitor"] as? String == "val_loss")
        #expect(best["value"] as? Double == summary["best_loss"] as? Double)
        #expect(best["epoch"] as? Int == summary["best_epoch"] as? Int)
        #expect(inspected["early_stopping_best"] == nil)
        #expect(inspected["dataset"] as? String == "bonus" && inspected["data_path"] as? String == "b.csv")
        #expect(inspected["training_rows"] as? Int == trainingRows)
        #expect(inspected["data_crc32"] as? String == metadata["nntrain.data_crc32"]
            && metadata["nntrain.data_crc32"]?.count == 8)

        // The same as text, one fact a line.
        let text = try CommandLineTests.run(["inspect", "runs/b/checkpoints/last.bin"], in: directory)
        let lines = text.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 8)
        #expect(lines.first == "runs/b/checkpoints/last.bin: nntrain checkpoint, format version 1, written by nntrain "
            + "\(summary["nntrain_version"] as? String ?? ""), \(inspected["file_bytes"] as? Int ?? 0) bytes")
        #expect(lines.contains("model: 5-4-1 relu, 29 parameters in 4 tensors"))
        #expect(lines.contains("written: after epoch 2 (final), \(inspected["steps"] as? Int ?? 0) optimizer steps; "
            + "training completed"))
        let bestFigure = String(format: "%.4g", best["value"] as? Double ?? 0)  // to 4 significant digits, as the console
        #expect(lines.contains("best (save_best): val_loss \(bestFigure) at epoch \(best["epoch"] as? Int ?? 0)"))
        #expect(lines.contains("data: bonus (b.csv), \(trainingRows) training rows, "
            + "CRC-32 \(metadata["nntrain.data_crc32"] ?? "")"))
        #expect(lines.contains("input: 5 values from 5 columns: years_experience; performance_rating; projects_completed; "
            + "overtime_hours; training_hours"))
        #expect(lines.contains("target: bonus, regression"))
        let input = try #require(inspected["input"] as? [String: Any])
        let table = try #require(input["table"] as? [String: Any])
        #expect(table["target"] as? String == "bonus" && table["task"] as? String == "regression")
        #expect((table["columns"] as? [[String: Any]])?.map { $0["name"] as? String }
            == ["years_experience", "performance_rating", "projects_completed", "overtime_hours", "training_hours"])
        #expect(inspected["class_names"] as? [String] == [] && inspected["target_scaling"] == nil)

        // best.bin was written after the best epoch, holding the best model.
        let bestFile = try Self.jsonObject(CommandLineTests.run(["inspect", "runs/b/checkpoints/best.bin", "--json"],
                                                                in: directory).standardOutput)
        #expect(bestFile["reason"] as? String == "best")
        #expect(bestFile["position"] as? String == "after epoch \(best["epoch"] as? Int ?? 0)")
    }

    /// `inspect --config` prints the checkpoint's resolved config, which trains the same run again.
    @Test func inspectConfigIsAConfigThatTrainsTheSameRunAgain() throws {
        let directory = try Self.trainedRun()
        let printed = try CommandLineTests.run(["inspect", "runs/b/checkpoints/last.bin", "--config"], in: directory)
        #expect(printed.status == 0 && printed.standardError.isEmpty, "\(printed.standardError)")
        let metadata = try Self.metadata(of: directory.appendingPathComponent("runs/b/checkpoints/last.bin"))
        #expect(printed.standardOutput == metadata["nntrain.config"])
        try CommandLineTests.write(printed.standardOutput, to: "again.yaml", in: directory)
        let again = try CommandLineTests.run(["run", "again.yaml", "-q", "--set", "output.dir=runs/again"], in: directory)
        #expect(again.status == 0 && again.standardError.isEmpty, "\(again.standardError)")
        #expect(try Self.metricsRows(directory.appendingPathComponent("runs/again/metrics.csv"))
            == Self.metricsRows(directory.appendingPathComponent("runs/b/metrics.csv")))
        let both = try CommandLineTests.run(["inspect", "x.bin", "--json", "--config"], in: directory)
        #expect(both.status == 64)
        #expect(both.standardError.hasPrefix("error: --json and --config exclude each other: choose one output"))
    }
}
