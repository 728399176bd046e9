import CZlib

/// Decodes gzip files (RFC 1952, https://www.rfc-editor.org/rfc/rfc1952) with zlib's `inflate`.
///
/// A gzip file is a series of members; each is a 10-byte header starting `1f 8b`, a deflate stream
/// (RFC 1951), and an 8-byte trailer holding the CRC-32 and ISIZE, the decoded size modulo 2^32
/// (little-endian). zlib parses the header and checks the trailer itself when `inflateInit2` is
/// given windowBits 15 + 16. The file is read in 1 MiB chunks, inflated into a 256 KiB buffer that
/// stays in cache, and appended to one output array whose capacity is reserved from the last
/// member's ISIZE; so a correctly labelled single-member file (every IDX file) is decoded without
/// regrowth, while a lying ISIZE costs at most untouched address space, never resident memory.
public enum Gzip {
    /// Bytes read from the file per `read(2)`.
    static let chunkSize = 1 << 20
    /// Bytes inflated per call to `inflate`.
    static let outputChunkSize = 1 << 18
    /// Bytes inflated per call while a caller's `limit` waits for its header.
    static let headerStep = 4096
    /// The most reserved up front on the word of the trailer, which a malformed file can make up.
    static let maxReservation = 1 << 30

    /// A bound on the decoded size that the decoded data itself gives (a header saying how long
    /// the rest is): decoding stops as soon as the output passes `size`, with the error `.data(path,
    /// refusal)`.
    public struct OutputLimit: Sendable {
        public var size: Int
        public var refusal: String

        public init(size: Int, refusal: String) {
            self.size = size
            self.refusal = refusal
        }
    }

    /// The decoded bytes of the gzip file at `path` (every member, concatenated, as `gunzip` does).
    ///
    /// - Parameters:
    ///   - expectedSize: the largest decoded size the caller accepts; decoding stops with an error
    ///     as soon as the output passes it, so a small malicious file (a "gz bomb") cannot exhaust
    ///     memory. `nil` accepts any size.
    ///   - limit: called with the output decoded so far after each step of inflating (at most 256
    ///     KiB apart), until it returns a limit; it may throw to refuse the data from its first
    ///     bytes. Once it has given a limit, decoding stops with its refusal as soon as the output
    ///     passes it, and the output array is reserved at that size.
    /// - Throws: `.missingFile` if the file cannot be opened; `.data` if it is not gzip, is truncated,
    ///   is corrupt (zlib's reason, and how many compressed bytes zlib had read when it saw the
    ///   fault: a few bytes past it at most, since zlib reads bits ahead), or decodes to more than
    ///   `expectedSize` bytes or `limit`'s size; whatever `limit` throws.
    public static func decompress(
        path: String, expectedSize: Int? = nil,
        limit: ((_ decoded: [UInt8]) throws(NNTrainError) -> OutputLimit?)? = nil
    ) throws(NNTrainError) -> [UInt8] {
        precondition((expectedSize ?? 0) >= 0, "Gzip.decompress: expectedSize must not be negative")
        let stream = try GzipStream(path: path)
        var output: [UInt8] = []
        output.reserveCapacity(min(stream.claimedSize, maxReservation, expectedSize ?? Int.max))
        let decoded = UnsafeMutableRawBufferPointer.allocate(byteCount: outputChunkSize, alignment: 1)
        defer { decoded.deallocate() }
        var outputLimit: OutputLimit?
        while true {
            // Until `limit` has seen a header, inflate in small steps, so that it judges the
            // header before more than a few KiB are decoded.
            let room = limit != nil && outputLimit == nil ? headerStep : outputChunkSize
            let produced = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: decoded[..<room]))
            if produced == 0 { return output }
            if let outputLimit, output.count + produced > outputLimit.size {
                throw .data(path, outputLimit.refusal)
            }
            // Appended before the checks below, so that `limit` sees the header (a header step
            // or an output chunk: at most 256 KiB past the bound, for a moment).
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: decoded[..<produced]))
            if outputLimit == nil, let limit, let found = try limit(output) {
                outputLimit = found
                if output.count > found.size { throw .data(path, found.refusal) }
                if found.size > output.capacity { output.reserveCapacity(min(found.size, expectedSize ?? Int.max)) }
            }
            if let expectedSize, output.count > expectedSize {
                throw .data(path, "decodes to more than \(expectedSize) bytes; refusing (expected at most \(expectedSize))")
            }
        }
    }
}

/// A gzip file (or standard input) decoded a piece at a time (see `Gzip`): each `read(into:)`
/// inflates the next bytes of the decoded data, so that a reader can hold a batch rather than the
/// whole file. Members follow one another as `gunzip` concatenates them; the errors are
/// `Gzip.decompress`'s, each thrown once the bytes decoded before it have been returned.
public final class GzipStream {
    /// The path, or "standard input": what messages name.
    public let path: String
    /// The decoded size the last member's trailer claims (ISIZE, modulo 2^32), which a malformed
    /// file can make up: for reserving output, never for trusting; 0 for a stream of unknown length.
    public let claimedSize: Int
    private let compressed: any ByteSource
    /// zlib's state, on the heap: zlib keeps the z_stream's address and checks it on every call.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableBufferPointer<Bytef>
    /// Compressed bytes read before the current chunk, and the current chunk's size.
    private var consumedBeforeChunk = 0, chunkCount = 0
    private var memberEnded = false
    /// Whether the last call filled its buffer, so that zlib may hold more output without more input.
    private var outputPending = false
    /// A fault found while inflating bytes that were returned first.
    private var pendingError: NNTrainError?

    /// Opens the gzip file at `path`. Throws `.missingFile` if it cannot be opened, `.data` if it
    /// does not start `1f 8b`.
    public convenience init(path: String) throws(NNTrainError) {
        let file = try InputFile(path: path, expected: "a gzip (.gz) file")
        let head = try file.read(at: 0, count: 2)
        // The smallest member is 20 bytes: header, an empty final block, trailer.
        let trailer = file.size >= 20 ? try file.read(at: file.size - 4, count: 4) : []
        try self.init(compressed: FileBytes(file), named: path, head: head,
                      claimedSize: trailer.reversed().reduce(0) { $0 << 8 | Int($1) })
    }

    /// Inflates `compressed` from where it stands (standard input), called `name` in messages, whose
    /// first bytes are `head` (2, or fewer if it is shorter; still to be read) and whose last
    /// member's trailer claims `claimedSize` (0 if unknown). Throws `.data` if `head` is not `1f 8b`.
    init(compressed: any ByteSource, named name: String, head: [UInt8], claimedSize: Int) throws(NNTrainError) {
        guard !head.isEmpty, head.elementsEqual([0x1f, 0x8b].prefix(head.count)) else {
            let found = head.isEmpty
                ? "the file is empty" : "first bytes " + head.map { hexadecimal($0, digits: 2) }.joined(separator: " ")
            throw .data(name, "not a gzip file (\(found)); expected a .gz file starting 1f 8b")
        }
        path = name
        self.compressed = compressed
        self.claimedSize = claimedSize
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(capacity: Gzip.chunkSize)
        guard inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            // deinit runs and frees the buffers; inflateEnd refuses a stream zlib did not start.
            throw NNTrainError(.internal, "\(path): zlib could not start inflating (out of memory?)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Inflates the next decoded bytes into `buffer` (not empty) and returns how many; 0 only at the
    /// end of the file, after a complete member. Throws `.data` for a truncated or corrupt file (zlib's
    /// reason, and how many compressed bytes zlib had read when it saw the fault: a few bytes past
    /// it at most, since zlib reads bits ahead).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(NNTrainError) -> Int {
        precondition(!buffer.isEmpty, "GzipStream.read: an empty buffer")
        if let pendingError { throw pendingError }
        while true {
            if stream.pointee.avail_in == 0 && !outputPending {
                consumedBeforeChunk += chunkCount
                chunkCount = try compressed.read(into: UnsafeMutableRawBufferPointer(input))
                if chunkCount == 0 {
                    guard memberEnded else {
                        throw .data(path, "truncated gzip data: the stream ends after \(consumedBeforeChunk) compressed bytes "
                            + "without its end marker")
                    }
                    return 0
                }
                stream.pointee.next_in = input.baseAddress
                stream.pointee.avail_in = UInt32(chunkCount)
            }
            if memberEnded {  // more bytes after a member's trailer: the next member
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(buffer.count)
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = buffer.count - Int(stream.pointee.avail_out)
            outputPending = stream.pointee.avail_out == 0
            switch status {
            case Z_STREAM_END:
                memberEnded = true
                outputPending = false
            case Z_OK, Z_BUF_ERROR:  // needs more input or more output space
                break
            default:
                let offset = consumedBeforeChunk + chunkCount - Int(stream.pointee.avail_in)
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                let error = NNTrainError.data(path, "corrupt gzip data: \(reason) (detected after \(offset) compressed bytes)")
                guard produced > 0 else { throw error }
                pendingError = error
            }
            if produced > 0 { return produced }
        }
    }
}

extension GzipStream: ByteSource {}

/// `value` as "0x" and `digits` lowercase hexadecimal digits, zero-padded, for messages.
func hexadecimal(_ value: some BinaryInteger, digits: Int) -> String {
    let text = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
}

extension Gzip {
    /// The size of `bytes` compressed by zlib's `compress2` at `level` (9, the most; a zlib stream,
    /// RFC 1950: a deflate stream with a 2-byte header and an Adler-32, 18 bytes less than gzip's
    /// wrapper): what a zip or gzip of the file would take, which `nntrain export` reports for a
    /// model whose pruned weights are zeros stored dense.
    public static func compressedSize(of bytes: [UInt8], level: Int32 = 9) -> Int {
        var size = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &size, input.baseAddress, uLong(input.count), level)
            }
        }
        // compressBound's room always suffices and the level is valid, so only memory can fail.
        precondition(status == Z_OK, "zlib's compress2 failed with status \(status)")
        return Int(size)
    }
}
