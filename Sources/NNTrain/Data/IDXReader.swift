/// An n-dimensional array of unsigned bytes read from an IDX file.
public struct IDXArray: Sendable, Equatable {
    /// Sizes of the dimensions, outermost first (for images: count, rows, columns).
    public var dimensions: [Int]
    /// The data after the header, in row-major order; `bytes.count` is the product of `dimensions`.
    public var bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reads gzipped IDX files, the format of MNIST and Fashion-MNIST
/// (http://yann.lecun.com/exdb/mnist/, "The IDX file format").
///
/// Layout, all integers big-endian:
///
///     byte 0-1   0x00 0x00
///     byte 2     element type: 0x08 = unsigned byte (the only type read here)
///     byte 3     number of dimensions d
///     byte 4...  d sizes, 4 bytes each (UInt32)
///     then       the data, product-of-sizes elements, last dimension fastest
///
/// So images are magic 0x00000803 (count × rows × columns) and labels 0x00000801 (count).
public enum IDXReader {
    /// The default bound on the decoded size of a file (1 GiB), against gz bombs.
    public static let defaultMaxBytes = 1 << 30

    /// Decodes the gzipped IDX file at `path`, which must hold unsigned bytes in `expectedDimensions`
    /// dimensions and exactly as many data bytes as the dimensions say.
    ///
    /// Nothing is sized from the header before it is checked: the header is read from the first
    /// decoded bytes, its dimensions multiplied with overflow checks and their product compared with
    /// `maxBytes`; then inflating stops as soon as the output passes the size the header gives, so
    /// neither a header claiming 2^32 images nor a small file that inflates to gigabytes (a gz bomb)
    /// can make the reader allocate more than `maxBytes`.
    ///
    /// - Parameter maxBytes: the largest decoded file (header included) accepted.
    public static func read(
        path: String, expectedDimensions: Int, maxBytes: Int = defaultMaxBytes
    ) throws(NNTrainError) -> IDXArray {
        precondition((1...255).contains(expectedDimensions), "IDXReader.read: 1...255 dimensions")
        var bytes = try Gzip.decompress(path: path, expectedSize: maxBytes) { decoded throws(NNTrainError) in
            guard let header = try Header(decoded, path: path, expectedDimensions: expectedDimensions, maxBytes: maxBytes)
            else { return nil }
            return Gzip.OutputLimit(size: header.fileSize, refusal: header.trailingDataRefusal)
        }
        guard let header = try Header(bytes, path: path, expectedDimensions: expectedDimensions, maxBytes: maxBytes) else {
            let needed = bytes.count < 4 ? "an IDX file starts with a 4-byte magic number"
                : "the header of an IDX file with \(expectedDimensions) dimensions is \(4 + 4 * expectedDimensions) bytes"
            throw .data(path, "decoded data is \(bytes.count) bytes; \(needed)")
        }
        let present = bytes.count - header.size
        guard present >= header.dataSize else {
            throw .data(
                path,
                "truncated IDX data: dimensions \(header.shape) need \(header.dataSize) bytes after the \(header.size)-byte "
                    + "header, but the file has \(present)")
        }
        // Gzip stops at the first output past the header's size, so this is a last line of defence.
        guard present == header.dataSize else { throw .data(path, header.trailingDataRefusal) }
        bytes.removeFirst(header.size)
        return IDXArray(dimensions: header.dimensions, bytes: bytes)
    }

    /// An IDX header, checked.
    private struct Header {
        var dimensions: [Int]
        /// The header's length in bytes (4 + 4 per dimension).
        var size: Int
        /// The product of the dimensions.
        var dataSize: Int

        var fileSize: Int { size + dataSize }
        var shape: String { dimensions.map(String.init).joined(separator: "×") }
        var trailingDataRefusal: String {
            "byte \(fileSize): trailing data after the \(dataSize) bytes of data for dimensions \(shape); "
                + "expected the file to end there"
        }

        /// The header at the start of `bytes`, nil while `bytes` is too short to hold it; throws for
        /// a wrong magic number or dimensions describing more than `maxBytes` (with the header).
        init?(_ bytes: [UInt8], path: String, expectedDimensions: Int, maxBytes: Int) throws(NNTrainError) {
            guard bytes.count >= 4 else { return nil }
            let magic = IDXReader.bigEndianUInt32(bytes, at: 0)
            let expectedMagic = 0x0800 | UInt32(expectedDimensions)
            guard magic == expectedMagic else {
                let plural = expectedDimensions == 1 ? "" : "s"
                throw .data(
                    path,
                    "byte 0: magic number \(hexadecimal(magic, digits: 8)) is not an IDX file of unsigned bytes with "
                        + "\(expectedDimensions) dimension\(plural); expected \(hexadecimal(expectedMagic, digits: 8))")
            }
            size = 4 + 4 * expectedDimensions
            guard bytes.count >= size else { return nil }
            dimensions = (0..<expectedDimensions).map { Int(IDXReader.bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
            let sizes = "bytes 4-\(size - 1): dimensions \(dimensions.map(String.init).joined(separator: "×"))"
            // Each size is below 2^32, but a product of several can overflow Int, which would trap.
            var product = 1
            for dimension in dimensions {
                let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .data(path, "\(sizes) describe more bytes than any file can hold") }
                product = next
            }
            dataSize = product
            guard dataSize <= maxBytes - size else {
                throw .data(
                    path,
                    "\(sizes) describe \(dataSize) bytes of data, more than the limit of \(maxBytes) bytes for a decoded "
                        + "file (header included); refusing before decoding them")
            }
        }
    }

    /// The big-endian `UInt32` at `offset`; the caller has checked `offset + 4 <= bytes.count`.
    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
