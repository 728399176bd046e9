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
    /// - Parameter maxBytes: the largest decoded file (header included) accepted.
    public static func read(
        path: String, expectedDimensions: Int, maxBytes: Int = defaultMaxBytes
    ) throws(NNTrainError) -> IDXArray {
        precondition((1...255).contains(expectedDimensions), "IDXReader.read: 1...255 dimensions")
        var bytes = try Gzip.decompress(path: path, expectedSize: maxBytes)

        guard bytes.count >= 4 else {
            throw .data(path, "decoded data is \(bytes.count) bytes; an IDX file starts with a 4-byte magic number")
        }
        let magic = bigEndianUInt32(bytes, at: 0)
        let expectedMagic = 0x0800 | UInt32(expectedDimensions)
        guard magic == expectedMagic else {
            let plural = expectedDimensions == 1 ? "" : "s"
            throw .data(
                path,
                "byte 0: magic number \(hexadecimal(magic, digits: 8)) is not an IDX file of unsigned bytes with "
                    + "\(expectedDimensions) dimension\(plural); expected \(hexadecimal(expectedMagic, digits: 8))")
        }
        let headerSize = 4 + 4 * expectedDimensions
        guard bytes.count >= headerSize else {
            throw .data(
                path,
                "decoded data is \(bytes.count) bytes; the header of an IDX file with \(expectedDimensions) "
                    + "dimensions is \(headerSize) bytes")
        }
        let dimensions = (0..<expectedDimensions).map { Int(bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
        let shape = dimensions.map(String.init).joined(separator: "×")
        // The product is compared with the data actually present, so it never sizes an allocation;
        // an overflowing product cannot match any real file.
        var needed = 1
        for size in dimensions {
            let (product, overflow) = needed.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw .data(path, "bytes 4-\(headerSize - 1): dimensions \(shape) describe more bytes than any file can hold")
            }
            needed = product
        }
        let present = bytes.count - headerSize
        guard present >= needed else {
            throw .data(
                path,
                "truncated IDX data: dimensions \(shape) need \(needed) bytes after the \(headerSize)-byte header, "
                    + "but the file has \(present)")
        }
        guard present == needed else {
            throw .data(
                path,
                "byte \(headerSize + needed): \(present - needed) trailing bytes after the \(needed) bytes "
                    + "of data for dimensions \(shape)")
        }
        bytes.removeFirst(headerSize)
        return IDXArray(dimensions: dimensions, bytes: bytes)
    }

    /// The big-endian `UInt32` at `offset`; the caller has checked `offset + 4 <= bytes.count`.
    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
