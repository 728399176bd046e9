import Foundation
import NNTrain
import ReaderFuzzing
import Testing

/// Malformed inputs given to the executable: the exit status of their kind and exactly one line
/// on standard error (the engine's corpus, MalformedInputTests, covers every message).
@Suite struct MalformedInputCommandTests {
    /// Runs nntrain in a fresh folder holding `files`.
    static func run(_ arguments: [String], files: [String: [UInt8]]) throws -> CommandLineTests.Result {
        let directory = try CommandLineTests.temporaryDirectory()
        for (name, bytes) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return try CommandLineTests.run(arguments, in: directory)
    }

    @Test func aConfigIndentedWithATabExits78() throws {
        let result = try Self.run(["run", "c.yaml"], files: ["c.yaml": Array("optimizer:\n\tlr: 0.1\n".utf8)])
        CommandLineTests.expectFailure(result, status: 78, message: "c.yaml:2: invalid YAML: this line is indented with a tab; "
            + "expected spaces (YAML forbids tabs in indentation)")
    }

    @Test func anAliasBombIsRefusedAtOnce() throws {
        let bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + (1..<9).map { level in
            "a\(level): &a\(level) ["
                + Array(repeating: level == 1 ? "*a" : "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }.joined() + "a: 1\n"  // and a duplicate key, whose message used to walk the expanded tree
        let result = try Self.run(["run", "c.yaml"], files: ["c.yaml": Array(bomb.utf8)])
        CommandLineTests.expectFailure(result, status: 78, message: "c.yaml:4: the aliases (*name) here expand the config to "
            + "more than 10000 values; expected a config of at most 10000 values")
    }

    @Test func aCSVWithNaNExits65NamingLineAndColumn() throws {
        let header = (BonusData.featureNames + [BonusData.targetName]).joined(separator: ",")
        let rows = "\(header)\n1,2,3,4,5,6\n1,2,nan,4,5,6\n2,3,4,5,6,7\n"
        let result = try Self.run(["run", "c.yaml"], files: [
            "c.yaml": Array("data: {dataset: bonus, path: b.csv}\nloss: mse\n".utf8), "b.csv": Array(rows.utf8),
        ])
        CommandLineTests.expectFailure(result, status: 65, message: "b.csv:3: column '\(BonusData.featureNames[2])': "
            + "'nan' is not a finite number; expected a finite decimal number (NaN and infinities are refused)")
    }

    @Test func aGzBombInTheDataFolderExits65() throws {
        // A valid header for one image, then 20 MB of zeros (20 KB compressed).
        let idx = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 7, count: 784)
            + [UInt8](repeating: 0, count: 20_000_000)
        let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 1, 3]
        let result = try Self.run(["run", "c.yaml"], files: [
            "c.yaml": Array("data: {dataset: fashion-mnist, path: fm}\n".utf8),
            "fm/train-images-idx3-ubyte.gz": try gzip(idx), "fm/train-labels-idx1-ubyte.gz": try gzip(labels),
            "fm/t10k-images-idx3-ubyte.gz": try gzip(Array(idx.prefix(800))), "fm/t10k-labels-idx1-ubyte.gz": try gzip(labels),
        ])
        CommandLineTests.expectFailure(result, status: 65, message: "fm/train-images-idx3-ubyte.gz: byte 800: "
            + "trailing data after the 784 bytes of data for dimensions 1×28×28; expected the file to end there")
    }

    @Test func damagedCheckpointsExit65AndAMissingOne66() throws {
        var header = [UInt8](repeating: 0, count: 8)
        header[7] = 0x10  // 2^60
        let huge = try Self.run(["eval", "last.bin"], files: ["last.bin": header + Array("{}".utf8)])
        CommandLineTests.expectFailure(huge, status: 65, message: "last.bin: bytes 0-7: header length 1152921504606846976 runs "
            + "past the end of the 10-byte file; expected at most 2")
        let json = #"{"w": {"dtype": "F32", "shape": [25000000000], "data_offsets": [0, 100000000000]}}"#
        let tensor = try Self.run(["eval", "last.bin"], files: [
            "last.bin": withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian, Array.init) + Array(json.utf8) + [0, 0, 0, 0],
        ])
        CommandLineTests.expectFailure(tensor, status: 65, message: "last.bin: tensor 'w': data_offsets end at 100000000000, "
            + "past the 4 bytes of data (the file is truncated or the header is wrong)")
        let missing = try Self.run(["eval", "nowhere.bin"], files: [:])
        CommandLineTests.expectFailure(missing, status: 66,
                                       message: "nowhere.bin: no such file or folder (expected an nntrain checkpoint (.bin))")
    }

    /// `bytes` as one gzip member at zlib's default level (ReaderFuzzing.gzip).
    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let member = ReaderFuzzing.gzip(bytes, level: 6)
        try #require(!member.isEmpty, "zlib could not compress the fixture")
        return member
    }
}
