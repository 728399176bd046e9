import Foundation

/// The images of one IDX images file (rank 3, unsigned bytes; see `IDXReader`), raw or gzipped,
/// or of standard input, read a batch at a time: memory holds one batch, however long the input
/// (`nntrain predict`), and grows with the bytes actually read, never on the header's word.
///
/// The header is checked when the stream opens (magic number, dimensions with overflow checks,
/// images of at least 1×1 pixels, and `expectedSize` if given); a raw file's length is compared
/// with the header's at once, a gzipped one's, and standard input's, as they are read: an input
/// that ends before the header's count is refused when the batch that needs the missing bytes is
/// read, one that holds more when the last image has been read. Every refusal is
/// `IDXReader.read`'s message for the same file. Standard input is gzipped when it starts `1f 8b`
/// (it has no name ending `.gz`), which the stream looks at before inflating or reading it.
public final class IDXImageStream {
    /// The path, or "standard input": what messages name.
    public let path: String
    /// The images' height and width.
    public let imageSize: IDXImageSet.ImageSize
    /// The number of images the header announces.
    public let count: Int
    /// Images read so far.
    public private(set) var imagesRead = 0
    private let header: IDXReader.Header
    private let source: any ByteSource
    private var endChecked = false

    /// Opens the images file at `path`, or standard input for `-`. With `expectedSize` (a model's),
    /// images of another size are refused naming both sizes.
    public convenience init(path: String, expectedSize: IDXImageSet.ImageSize? = nil) throws(NNTrainError) {
        guard path != "-" else {
            try self.init(stream: STDIN_FILENO, named: SequentialInput.name(of: path), expectedSize: expectedSize)
            return
        }
        let file = try InputFile(path: path, expected: "an IDX images file (raw or gzipped)")
        let gzipped = try IDXReader.isGzipped(file)
        let fileSize = file.size
        try self.init(source: gzipped ? try GzipStream(path: path) : FileBytes(file), named: path,
                      gzipped: gzipped, rawSize: gzipped ? nil : fileSize, expectedSize: expectedSize)
    }

    /// Reads the open `descriptor` from where it stands to its end, called `name` in messages (for
    /// standard input; a test gives an open file's).
    convenience init(stream descriptor: Int32, named name: String, expectedSize: IDXImageSet.ImageSize? = nil)
        throws(NNTrainError)
    {
        let input = FileBytes(InputFile(stream: descriptor, named: name))
        let head = try input.peek(2)
        let gzipped = IDXReader.isGzipped(head: head, name: name)
        try self.init(source: gzipped ? try GzipStream(compressed: input, named: name, head: head, claimedSize: 0) : input,
                      named: name, gzipped: gzipped, rawSize: nil, expectedSize: expectedSize)
    }

    /// Reads the header from `source`, the decoded bytes from the start; `rawSize` is a raw file's
    /// size, checked against the header at once, nil when the size is known only at the end.
    private init(source: any ByteSource, named name: String, gzipped: Bool, rawSize: Int?,
                 expectedSize: IDXImageSet.ImageSize?) throws(NNTrainError)
    {
        path = name
        self.source = source
        let expectation = IDXReader.Expectation(path: name, dimensions: 3, elementTypes: [.unsignedByte], maxBytes: Int.max)
        var head: [UInt8] = []
        for needed in [4, expectation.headerSize] {  // the magic number says how long the rest is
            head += try Self.fill(source, count: needed - head.count)
            guard let header = try IDXReader.Header(head, expectation) else {
                guard head.count < needed else { continue }
                let read = gzipped ? "decoded data is" : rawSize == nil ? "the input is" : "the file is"
                throw .data(name, "\(read) \(head.count) bytes; \(expectation.headerNeeded(having: head.count))")
            }
            self.header = header
            if let rawSize { try header.checkDataSize(present: rawSize - header.size, path: name) }
            imageSize = try IDXImageSet.imageSize(dimensions: header.dimensions, path: name, expected: expectedSize)
            count = header.dimensions[0]
            return
        }
        throw NNTrainError(.internal, "\(name): an IDX header of \(head.count) bytes was not judged")
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
            throw NNTrainError(.internal, "\(path): the input ended early but its size was not refused")
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
    private static func fill(_ source: any ByteSource, count: Int) throws(NNTrainError) -> [UInt8] {
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
