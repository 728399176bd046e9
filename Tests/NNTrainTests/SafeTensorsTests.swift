import Foundation
import Testing
@testable import NNTrain

@Suite struct SafeTensorsTests {
    static let sample = SafeTensors(
        tensors: [("layers.0.weight", .init([1, -2, 3.5, 0.25, 5, 6], shape: [2, 3])), ("rng", .init([UInt64(7), .max])),
                  ("order", .init([Int32(2), 0, 1]))],
        metadata: ["format": "nntrain-checkpoint", "epoch": "3"])

    @Test func roundTripsAndLaysOutTheReferenceFormat() throws {
        let bytes = Self.sample.encoded()
        let decoded = try SafeTensors.decode(bytes, path: "x.bin")
        #expect(decoded == Self.sample)
        #expect(decoded["layers.0.weight"]?.elements(as: Float.self) == [1, -2, 3.5, 0.25, 5, 6])
        // The header length is little-endian, the header padded to 8 bytes, and the data follows it:
        // the first tensor's float 1.0 (0x3F800000) sits right after the header.
        let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        #expect(length % 8 == 0)
        #expect(Array(bytes[(8 + length)..<(12 + length)]) == [0x00, 0x00, 0x80, 0x3F])
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
        let weight = try #require(header["layers.0.weight"] as? [String: Any])
        #expect(weight["dtype"] as? String == "F32")
        #expect(weight["shape"] as? [Int] == [2, 3])
        #expect(weight["data_offsets"] as? [Int] == [0, 24])
        #expect((header["__metadata__"] as? [String: String])?["epoch"] == "3")
        #expect(Array(SafeTensors.dataSection(of: bytes)) == Array(bytes[(8 + length)...]))
    }

    /// A file with the header replaced by `json` (and `data` after it).
    static func file(header json: String, data: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { Array($0) } + Array(json.utf8) + data
    }

    @Test(arguments: [
        ([UInt8](repeating: 0, count: 5), "x.bin: 5 bytes; a safetensors file starts with an 8-byte header length"),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B, 0x7D],
         "x.bin: bytes 0-7: header length 9223372036854775807 runs past the end of the 10-byte file; expected at most 2"),
        (file(header: "[1, 2]", data: []),
         "x.bin: bytes 8-13: the header is not a JSON object; expected safetensors' JSON header"),
        (file(header: #"{"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         "x.bin: tensor 'w': dtype 'Q7' is not one of: F32, F64, I32, I64, U64, U8"),
        (file(header: #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         "x.bin: tensor 'w': shape [2] of F32 needs 8 bytes but data_offsets [0, 4] hold 4"),
        (file(header: #"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "#
                  + #""b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}"#,
              data: [0, 0, 0, 0]),
         "x.bin: tensor 'b': data_offsets start at 2; expected 4 (it overlaps the tensor before it)"),
        (file(header: #"{"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}"#, data: [0, 0, 0, 0]),
         "x.bin: tensor 'a': data_offsets end at 8, past the 4 bytes of data (the file is truncated or the header is wrong)"),
        (file(header: #"{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}"#, data: [0, 0, 0, 0]),
         "x.bin: 2 bytes after the last tensor's data; expected the file to end there"),
        (file(header: #"{"__metadata__": {"epoch": 3}}"#, data: []),
         "x.bin: header: __metadata__ is not a map of strings to strings"),
    ])
    func malformedFilesAreRefusedWithTheirPlace(bytes: [UInt8], message: String) {
        #expect {
            _ = try SafeTensors.decode(bytes, path: "x.bin")
        } throws: { error in
            (error as? NNTrainError) == NNTrainError(.data, message)
        }
    }

    @Test func everyTruncationOfAValidFileIsRefused() {
        let bytes = Self.sample.encoded()
        for length in 0..<bytes.count {
            #expect(throws: NNTrainError.self) { _ = try SafeTensors.decode(Array(bytes.prefix(length)), path: "x.bin") }
        }
    }
}

@Suite struct CheckpointFileTests {
    @Test func verifiesFormatVersionAndChecksum() throws {
        let bytes = CheckpointFile.encode(SafeTensorsTests.sample)
        let read = try CheckpointFile.verify(bytes, path: "c.bin")
        #expect(read["layers.0.weight"] == SafeTensorsTests.sample["layers.0.weight"])
        #expect(read.metadata["nntrain.format_version"] == "1")
        #expect(read.metadata["epoch"] == "3")

        var flipped = bytes
        flipped[flipped.count - 3] ^= 0x10  // one bit of the last tensor's data
        #expect {
            _ = try CheckpointFile.verify(flipped, path: "c.bin")
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return message.hasPrefix("c.bin: checksum mismatch: the data's CRC-32 is ")
                && message.hasSuffix("; the file is damaged")
        }
        #expect(throws: NNTrainError.self) { _ = try CheckpointFile.verify(Array(bytes.dropLast(4)), path: "c.bin") }
    }

    @Test func refusesOtherVersionsAndForeignFiles() {
        var future = SafeTensorsTests.sample
        future.metadata["nntrain.format"] = "nntrain-checkpoint"
        future.metadata["nntrain.format_version"] = "7"
        #expect {
            _ = try CheckpointFile.verify(future.encoded(), path: "c.bin")
        } throws: { error in
            (error as? NNTrainError)?.message
                == "c.bin: checkpoint format version 7 is not one this nntrain \(NNTrainVersion.string) reads; expected version 1"
        }
        #expect {
            _ = try CheckpointFile.verify(SafeTensorsTests.sample.encoded(), path: "c.bin")
        } throws: { error in
            (error as? NNTrainError)?.message == "c.bin is not an nntrain checkpoint (it is a safetensors file without "
                + "nntrain's metadata: no nntrain.format: nntrain-checkpoint); expected a checkpoint written by nntrain run, "
                + "like runs/NAME/checkpoints/last.bin"
        }
    }
}
