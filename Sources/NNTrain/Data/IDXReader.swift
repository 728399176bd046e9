/// The element types of an IDX file that nntrain reads, by their type code (the third byte of the
/// magic number): pixels are unsigned bytes; labels may also be 16- or 32-bit integers, for sets of
/// more than 256 classes.
public enum IDXElementType: UInt8, CaseIterable, Sendable {
    /// 0x08: unsigned byte.
    case unsignedByte = 0x08
    /// 0x0B: short, a signed 16-bit big-endian integer.
    case int16 = 0x0B
    /// 0x0C: int, a signed 32-bit big-endian integer.
    case int32 = 0x0C

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .unsignedByte: 1
        case .int16: 2
        case .int32: 4
        }
    }

    /// What the elements are, for messages.
    var name: String {
        switch self {
        case .unsignedByte: "unsigned bytes"
        case .int16: "16-bit integers"
        case .int32: "32-bit integers"
        }
    }
}

/// An n-dimensional array read from an IDX file.
public struct IDXArray: Sendable, Equatable {
    /// Sizes of the dimensions, outermost first (for images: count, rows, columns).
    public var dimensions: [Int]
    /// The data after the header, in row-major order; `bytes.count` is the product of `dimensions`
    /// times `elementType.size`.
    public var bytes: [UInt8]
    public var elementType: IDXElementType

    public init(dimensions: [Int], bytes: [UInt8], elementType: IDXElementType = .unsignedByte) {
        self.dimensions = dimensions
        self.bytes = bytes
        self.elementType = elementType
    }

    /// The number of elements (the product of the dimensions).
    public var count: Int { bytes.count / elementType.size }

    /// The elements as integers: bytes as 0...255, 16- and 32-bit elements big-endian and signed
    /// (two's complement), as the IDX format defines its short and int types.
    public var integers: [Int32] {
        switch elementType {
        case .unsignedByte: bytes.map { Int32($0) }
        case .int16: (0..<count).map { Int32(Int16(bitPattern: UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]))) }
        case .int32: (0..<count).map { Int32(bitPattern: IDXReader.bigEndianUInt32(bytes, at: 4 * $0)) }
        }
    }
}

/// Reads IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/,
/// "The IDX file format"), raw or gzipped: a file starting with gzip's magic bytes `1f 8b` is
/// inflated (`Gzip`), any other is read as it is, whatever its name.
///
/// Layout, all integers big-endian:
///
///     byte 0-1   0x00 0x00
///     byte 2     element type: 0x08 = unsigned byte, 0x09 = signed byte, 0x0B = short (2 bytes),
///                0x0C = int (4 bytes), 0x0D = float, 0x0E = double (nntrain reads 0x08, 0x0B, 0x0C)
///     byte 3     number of dimensions d
///     byte 4...  d sizes, 4 bytes each (UInt32)
///     then       the data, product-of-sizes elements, last dimension fastest
///
/// So images are magic 0x00000803 (count × rows × columns) and labels 0x00000801 (count).
public enum IDXReader {
    /// The default bound on the decoded size of a file (1 GiB), against gz bombs.
    public static let defaultMaxBytes = 1 << 30

    /// Reads the IDX file at `path`, raw or gzipped, which must hold elements of one of
    /// `elementTypes` in `expectedDimensions` dimensions and exactly as many data bytes as the
    /// dimensions say.
    ///
    /// Nothing is sized from the header before it is checked: the header is read from the first
    /// bytes, its dimensions multiplied with overflow checks and their product compared with
    /// `maxBytes`. A raw file's size is then compared with the header's; a gzipped one is inflated
    /// only until the output passes the size the header gives, so neither a header claiming 2^32
    /// images nor a small file that inflates to gigabytes (a gz bomb) can make the reader allocate
    /// more than `maxBytes`.
    ///
    /// A file that starts neither `1f 8b` nor `00 00` (the IDX magic's first bytes) is refused as
    /// not gzip when its name ends in `.gz`, and by its magic number otherwise.
    ///
    /// - Parameter maxBytes: the largest decoded file (header included) accepted.
    public static func read(
        path: String, expectedDimensions: Int, maxBytes: Int = defaultMaxBytes,
        elementTypes: [IDXElementType] = [.unsignedByte]
    ) throws(NNTrainError) -> IDXArray {
        precondition((1...255).contains(expectedDimensions), "IDXReader.read: 1...255 dimensions")
        precondition(!elementTypes.isEmpty, "IDXReader.read: no element type")
        let expectation = Expectation(path: path, dimensions: expectedDimensions, elementTypes: elementTypes,
                                      maxBytes: maxBytes)
        let file = try InputFile(path: path, expected: "an IDX file (raw or gzipped)")
        if try isGzipped(file) { return try readGzipped(path: path, expectation) }
        guard let header = try Header(file.read(at: 0, count: min(file.size, expectation.headerSize)), expectation) else {
            throw .data(path, "the file is \(file.size) bytes; \(expectation.headerNeeded(having: file.size))")
        }
        try header.checkDataSize(present: file.size - header.size, path: path)
        let bytes = try file.read(at: header.size, count: header.dataSize)
        // The file may have changed since it was measured.
        try header.checkDataSize(present: bytes.count, path: path)
        return IDXArray(dimensions: header.dimensions, bytes: bytes, elementType: header.elementType)
    }

    /// Whether `file` is read as gzip: it starts `1f 8b`, or it is named `.gz` and does not start
    /// `00 00` as an IDX file does (so that its refusal says it is not gzip).
    static func isGzipped(_ file: borrowing InputFile) throws(NNTrainError) -> Bool {
        isGzipped(head: try file.read(at: 0, count: 2), name: file.path)
    }

    /// `isGzipped` for an input named `name` whose first bytes are `head` (2, or fewer if it is shorter).
    static func isGzipped(head: [UInt8], name: String) -> Bool {
        head == [0x1f, 0x8b] || (head != [0, 0] && name.hasSuffix(".gz"))
    }

    /// `read` for a gzipped file: its header is judged from the first decoded bytes.
    private static func readGzipped(path: String, _ expectation: Expectation) throws(NNTrainError) -> IDXArray {
        var bytes = try Gzip.decompress(path: path, expectedSize: expectation.maxBytes) { decoded throws(NNTrainError) in
            guard let header = try Header(decoded, expectation) else { return nil }
            return Gzip.OutputLimit(size: header.fileSize, refusal: header.trailingDataRefusal)
        }
        guard let header = try Header(bytes, expectation) else {
            throw .data(path, "decoded data is \(bytes.count) bytes; \(expectation.headerNeeded(having: bytes.count))")
        }
        // Gzip stops at the first output past the header's size, so a longer file is a last line of defence.
        try header.checkDataSize(present: bytes.count - header.size, path: path)
        bytes.removeFirst(header.size)
        return IDXArray(dimensions: header.dimensions, bytes: bytes, elementType: header.elementType)
    }

    /// What the caller accepts.
    struct Expectation {
        var path: String
        var dimensions: Int
        var elementTypes: [IDXElementType]
        var maxBytes: Int

        /// The header's length: the magic number and 4 bytes per dimension.
        var headerSize: Int { 4 + 4 * dimensions }

        /// What a file of `count` bytes, too short for the header, lacks.
        func headerNeeded(having count: Int) -> String {
            count < 4 ? "an IDX file starts with a 4-byte magic number"
                : "the header of an IDX file with \(dimensions) dimensions is \(headerSize) bytes"
        }
    }

    /// An IDX header, checked.
    struct Header {
        var dimensions: [Int]
        var elementType: IDXElementType
        /// The header's length in bytes (4 + 4 per dimension).
        var size: Int
        /// The product of the dimensions times the element size.
        var dataSize: Int

        var fileSize: Int { size + dataSize }
        var shape: String { dimensions.map(String.init).joined(separator: "×") }
        var trailingDataRefusal: String {
            "byte \(fileSize): trailing data after the \(dataSize) bytes of data for dimensions \(shape); "
                + "expected the file to end there"
        }

        /// Refuses `present` data bytes after the header when the dimensions need another number.
        func checkDataSize(present: Int, path: String) throws(NNTrainError) {
            guard present >= dataSize else {
                throw .data(
                    path,
                    "truncated IDX data: dimensions \(shape) need \(dataSize) bytes after the \(size)-byte "
                        + "header, but the file has \(present)")
            }
            guard present == dataSize else { throw .data(path, trailingDataRefusal) }
        }

        /// The header at the start of `bytes`, nil while `bytes` is too short to hold it; throws for
        /// a wrong magic number or dimensions describing more than `maxBytes` (with the header).
        init?(_ bytes: [UInt8], _ expected: Expectation) throws(NNTrainError) {
            guard bytes.count >= 4 else { return nil }
            let magic = IDXReader.bigEndianUInt32(bytes, at: 0)
            let magics = expected.elementTypes.map { UInt32($0.rawValue) << 8 | UInt32(expected.dimensions) }
            guard let type = magics.firstIndex(of: magic).map({ expected.elementTypes[$0] }) else {
                let plural = expected.dimensions == 1 ? "" : "s"
                let names = expected.elementTypes.map(\.name), codes = magics.map { hexadecimal($0, digits: 8) }
                throw .data(
                    expected.path,
                    "byte 0: magic number \(hexadecimal(magic, digits: 8)) is not an IDX file of \(listed(names, "or")) "
                        + "with \(expected.dimensions) dimension\(plural); expected \(listed(codes, "or"))")
            }
            elementType = type
            size = expected.headerSize
            guard bytes.count >= size else { return nil }
            dimensions = (0..<expected.dimensions).map { Int(IDXReader.bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
            let sizes = "bytes 4-\(size - 1): dimensions \(dimensions.map(String.init).joined(separator: "×"))"
            // Each size is below 2^32, but a product of several can overflow Int, which would trap.
            var product = type.size
            for dimension in dimensions {
                let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .data(expected.path, "\(sizes) describe more bytes than any file can hold") }
                product = next
            }
            dataSize = product
            guard dataSize <= expected.maxBytes - size else {
                throw .data(
                    expected.path,
                    "\(sizes) describe \(dataSize) bytes of data, more than the limit of \(expected.maxBytes) bytes for a "
                        + "decoded file (header included); refusing before decoding them")
            }
        }
    }

    /// The big-endian `UInt32` at `offset`; the caller has checked `offset + 4 <= bytes.count`.
    static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// "a", "a or b", "a, b or c".
func listed(_ items: [String], _ conjunction: String) -> String {
    items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " \(conjunction) \(items.last ?? "")"
}
