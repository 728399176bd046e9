/// The images of one IDX images file (rank 3, unsigned bytes; see `IDXReader`), raw or gzipped,
/// read a batch at a time: memory holds one batch, however long the file (`nntrain predict`), and
/// grows with the bytes actually read, never on the header's word.
///
/// The header is checked when the stream opens (magic number, dimensions with overflow checks,
/// images of at least 1×1 pixels, and `expectedSize` if given); a raw file's length is compared
/// with the header's at once, a gzipped one's as it is inflated: a file that ends before the
/// header's count is refused when the batch that needs the missing bytes is read, one that holds
/// more when the last image has been read. Every refusal is `IDXReader.read`'s message for the
/// same file.
public final class IDXImageStream {
    public let path: String
    /// The images' height and width.
    public let imageSize: IDXImageSet.ImageSize
    /// The number of images the header announces.
    public let count: Int
    /// Images read so far.
    public private(set) var imagesRead = 0
    private let header: IDXReader.Header
    private let source: any DecodedBytes
    private var endChecked = false

    /// Opens the images file at `path`. With `expectedSize` (a model's), images of another size
    /// are refused naming both sizes.
    public init(path: String, expectedSize: IDXImageSet.ImageSize? = nil) throws(NNTrainError) {
        self.path = path
        let expectation = IDXReader.Expectation(path: path, dimensions: 3, elementTypes: [.unsignedByte], maxBytes: Int.max)
        let file = try InputFile(path: path, expected: "an IDX images file (raw or gzipped)")
        let gzipped = try IDXReader.isGzipped(file)
        let fileSize = file.size
        source = gzipped ? try GzipStream(path: path) : RawBytes(file)
        var head: [UInt8] = []
        for needed in [4, expectation.headerSize] {  // the magic number says how long the rest is
            head += try Self.fill(source, count: needed - head.count)
            guard let header = try IDXReader.Header(head, expectation) else {
                guard head.count < needed else { continue }
                let read = gzipped ? "decoded data is" : "the file is"
                throw .data(path, "\(read) \(head.count) bytes; \(expectation.headerNeeded(having: head.count))")
            }
            self.header = header
            if !gzipped { try header.checkDataSize(present: fileSize - header.size, path: path) }
            imageSize = try IDXImageSet.imageSize(dimensions: header.dimensions, path: path, expected: expectedSize)
            count = header.dimensions[0]
            return
        }
        throw NNTrainError(.internal, "\(path): an IDX header of \(head.count) bytes was not judged")
    }

    /// The next `maxImages` images (fewer at the end, none after the last), row-major bytes,
    /// `imageSize.rows × imageSize.columns` per image.
    public func next(maxImages: Int) throws(NNTrainError) -> [UInt8] {
        precondition(maxImages > 0, "IDXImageStream.next: maxImages must be positive")
        let images = min(maxImages, count - imagesRead)
        let pixels = imageSize.rows * imageSize.columns
        let bytes = try Self.fill(source, count: images * pixels)
        guard bytes.count == images * pixels else {
            try header.checkDataSize(present: imagesRead * pixels + bytes.count, path: path)
            throw NNTrainError(.internal, "\(path): the file ended early but its size was not refused")
        }
        imagesRead += images
        if imagesRead == count, !endChecked {
            endChecked = true
            if try !Self.fill(source, count: 1).isEmpty { throw .data(path, header.trailingDataRefusal) }
        }
        return bytes
    }

    /// Up to `count` bytes of `source`: fewer only at its end. The array grows by at most 1 MiB
    /// beyond the bytes read, so a header that claims more than the file holds costs no memory.
    private static func fill(_ source: any DecodedBytes, count: Int) throws(NNTrainError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let start = bytes.count, room = min(1 << 20, count - start)
            bytes += repeatElement(0, count: room)
            let read = try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(NNTrainError) -> Int in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + room)]))
                }
            }.get()
            bytes.removeLast(room - read)
            if read == 0 { break }
        }
        return bytes
    }
}

/// Bytes read in order from a file, decoded or as they are.
protocol DecodedBytes: AnyObject {
    /// Reads the next bytes into `buffer` (not empty) and returns how many; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NNTrainError) -> Int
}

extension GzipStream: DecodedBytes {}

/// A file's bytes as they are.
private final class RawBytes: DecodedBytes {
    private let file: InputFile

    init(_ file: consuming InputFile) { self.file = file }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NNTrainError) -> Int {
        try file.read(into: buffer)
    }
}
