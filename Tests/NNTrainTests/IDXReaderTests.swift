import Testing

@testable import NNTrain

@Suite struct IDXReaderTests {
    /// Fixture files of one test; a suite instance lives exactly as long as its test.
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    @Test func readsImagesAndLabelsToTheExactBytes() throws {
        let pixels = fixtureBytes(5 * 28 * 28)
        let images = try folder.writeGzipped(idxFile(dimensions: [5, 28, 28], data: pixels), to: "data.gz")
        #expect(try IDXReader.read(path: images, expectedDimensions: 3) == IDXArray(dimensions: [5, 28, 28], bytes: pixels))

        let labels = try folder.writeGzipped(idxFile(dimensions: [5], data: [3, 1, 4, 1, 5]), to: "labels.gz")
        #expect(try IDXReader.read(path: labels, expectedDimensions: 1) == IDXArray(dimensions: [5], bytes: [3, 1, 4, 1, 5]))
    }

    @Test func zeroItemsIsAnEmptyArray() throws {
        let path = try folder.writeGzipped(idxFile(dimensions: [0, 28, 28], data: []), to: "data.gz")
        #expect(try IDXReader.read(path: path, expectedDimensions: 3) == IDXArray(dimensions: [0, 28, 28], bytes: []))
    }

    @Test func tooShortForTheMagicNumber() throws {
        let path = try folder.writeGzipped([0, 0], to: "data.gz")
        #expect(throws: NNTrainError.data(path, "decoded data is 2 bytes; an IDX file starts with a 4-byte magic number")) {
            try IDXReader.read(path: path, expectedDimensions: 3)
        }
    }

    @Test func wrongMagicNumber() throws {
        // Labels (1 dimension) where images (3) are expected, and a type other than unsigned bytes.
        let labels = try folder.writeGzipped(idxFile(dimensions: [5], data: [0, 1, 2, 3, 4]), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                labels,
                "byte 0: magic number 0x00000801 is not an IDX file of unsigned bytes with 3 dimensions; expected 0x00000803")
        ) {
            try IDXReader.read(path: labels, expectedDimensions: 3)
        }
        let floats = try folder.writeGzipped(idxFile(dimensions: [1], data: [0, 0, 0, 0], magic: 0x0000_0D01), to: "floats.gz")
        #expect(
            throws: NNTrainError.data(
                floats,
                "byte 0: magic number 0x00000d01 is not an IDX file of unsigned bytes with 1 dimension; expected 0x00000801")
        ) {
            try IDXReader.read(path: floats, expectedDimensions: 1)
        }
    }

    @Test func wrongNumberOfDimensions() throws {
        let path = try folder.writeGzipped(idxFile(dimensions: [5, 784], data: fixtureBytes(5 * 784)), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                path,
                "byte 0: magic number 0x00000802 is not an IDX file of unsigned bytes with 3 dimensions; expected 0x00000803")
        ) {
            try IDXReader.read(path: path, expectedDimensions: 3)
        }
    }

    @Test func headerCutInsideTheSizes() throws {
        let path = try folder.writeGzipped(Array(idxFile(dimensions: [5, 28, 28], data: []).prefix(10)), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                path, "decoded data is 10 bytes; the header of an IDX file with 3 dimensions is 16 bytes")
        ) {
            try IDXReader.read(path: path, expectedDimensions: 3)
        }
    }

    @Test func truncatedData() throws {
        let path = try folder.writeGzipped(idxFile(dimensions: [5, 28, 28], data: fixtureBytes(4 * 28 * 28 + 100)), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                path, "truncated IDX data: dimensions 5×28×28 need 3920 bytes after the 16-byte header, but the file has 3236")
        ) {
            try IDXReader.read(path: path, expectedDimensions: 3)
        }
    }

    @Test func trailingBytes() throws {
        let path = try folder.writeGzipped(idxFile(dimensions: [5], data: [1, 2, 3, 4, 5, 6, 7]), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                path, "byte 13: trailing data after the 5 bytes of data for dimensions 5; expected the file to end there")
        ) {
            try IDXReader.read(path: path, expectedDimensions: 1)
        }
    }

    @Test func sizesWhoseProductOverflows() throws {
        let huge = Int(UInt32.max)
        let path = try folder.writeGzipped(idxFile(dimensions: [huge, huge, huge], data: [1, 2, 3]), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                path,
                "bytes 4-15: dimensions 4294967295×4294967295×4294967295 describe more bytes than any file can hold")
        ) {
            try IDXReader.read(path: path, expectedDimensions: 3)
        }
    }

    @Test func decodedSizeIsBoundedByMaxBytes() throws {
        // The header is judged before the data is decoded: the refusal names the limit.
        let path = try folder.writeGzipped(idxFile(dimensions: [5, 28, 28], data: fixtureBytes(5 * 28 * 28)), to: "data.gz")
        #expect(
            throws: NNTrainError.data(
                path,
                "bytes 4-15: dimensions 5×28×28 describe 3920 bytes of data, more than the limit of 1000 bytes for a "
                    + "decoded file (header included); refusing before decoding them")
        ) {
            try IDXReader.read(path: path, expectedDimensions: 3, maxBytes: 1000)
        }
    }
}
