import Testing

@testable import NNTrain

@Suite struct GzipTests {
    /// Fixture files of one test; a suite instance lives exactly as long as its test.
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    @Test func roundTripOfRandomTextAndEmptyData() throws {
        // 600 KB spans several output buffers of the decoder; the text part compresses well.
        let original = fixtureBytes(300_000) + Array(String(repeating: "nntrain ", count: 40_000).utf8)
        let path = try folder.writeGzipped(original, to: "data.gz")
        #expect(try Gzip.decompress(path: path) == original)
        #expect(try Gzip.decompress(path: path, expectedSize: original.count) == original)

        let empty = try folder.writeGzipped([], to: "empty.gz")
        #expect(try Gzip.decompress(path: empty) == [])
    }

    @Test func concatenatedMembersDecodeToTheirConcatenation() throws {
        let first = fixtureBytes(5_000, seed: 1)
        let second = fixtureBytes(7_000, seed: 2)
        let path = try folder.write(try gzipped(first) + gzipped(second), to: "two.gz")
        #expect(try Gzip.decompress(path: path) == first + second)
    }

    @Test func missingFile() throws {
        let path = folder.file("absent.gz")
        #expect(throws: NNTrainError(.missingFile, "\(path): no such file or folder (expected a gzip (.gz) file)")) {
            try Gzip.decompress(path: path)
        }
    }

    @Test func aFolderIsNotAFile() throws {
        #expect(
            throws: NNTrainError(.missingFile, "\(folder.path) is a folder; expected a gzip (.gz) file")
        ) {
            try Gzip.decompress(path: folder.path)
        }
    }

    @Test func bytesThatAreNotGzip() throws {
        let text = try folder.write(Array("hello".utf8), to: "text.gz")
        #expect(
            throws: NNTrainError.data(text, "not a gzip file (first bytes 0x68 0x65); expected a .gz file starting 1f 8b")
        ) {
            try Gzip.decompress(path: text)
        }
        let empty = try folder.write([], to: "empty.gz")
        #expect(throws: NNTrainError.data(empty, "not a gzip file (the file is empty); expected a .gz file starting 1f 8b")) {
            try Gzip.decompress(path: empty)
        }
    }

    @Test(arguments: [1, 2, 9, 10, 100, 2_500, -8, -4, -1])
    func truncatedData(cut: Int) throws {
        let whole = try gzipped(fixtureBytes(5_000))
        // Positive: keep that many bytes (inside the header, then the data); negative: drop that many
        // from the end (the whole trailer, half of it, its last byte).
        let kept = cut > 0 ? cut : whole.count + cut
        let path = try folder.write(Array(whole.prefix(kept)), to: "cut.gz")
        #expect(
            throws: NNTrainError.data(
                path, "truncated gzip data: the stream ends after \(kept) compressed bytes without its end marker")
        ) {
            try Gzip.decompress(path: path)
        }
    }

    @Test func corruptDataNamesZlibsReasonAndTheOffset() throws {
        var bytes = try gzipped(fixtureBytes(5_000))
        bytes[bytes.count - 5] ^= 0xFF  // the last byte of the CRC-32 in the trailer
        let badCRC = try folder.write(bytes, to: "crc.gz")
        #expect(
            throws: NNTrainError.data(badCRC, "corrupt gzip data: incorrect data check "
                + "(detected after \(bytes.count - 4) compressed bytes)")
        ) {
            try Gzip.decompress(path: badCRC)
        }

        var method = try gzipped([1, 2, 3])
        method[2] = 7  // compression method: only 8 (deflate) exists; zlib reads it with the flags byte
        let badMethod = try folder.write(method, to: "method.gz")
        #expect(
            throws: NNTrainError.data(badMethod,
                                      "corrupt gzip data: unknown compression method (detected after 4 compressed bytes)")
        ) {
            try Gzip.decompress(path: badMethod)
        }

        let trailing = try folder.write(try gzipped([1, 2, 3]) + Array("junk".utf8), to: "trailing.gz")
        let memberSize = try gzipped([1, 2, 3]).count
        // After a member, bytes that do not start another member are refused (zlib reads two).
        #expect(
            throws: NNTrainError.data(
                trailing, "corrupt gzip data: incorrect header check (detected after \(memberSize + 2) compressed bytes)")
        ) {
            try Gzip.decompress(path: trailing)
        }
    }

    @Test func outputBeyondTheCallersBoundIsRefused() throws {
        let path = try folder.writeGzipped([UInt8](repeating: 0, count: 1_000_000), to: "bomb.gz")
        #expect(throws: NNTrainError.data(path, "decodes to more than 999999 bytes; refusing (expected at most 999999)")) {
            try Gzip.decompress(path: path, expectedSize: 999_999)
        }
    }
}
