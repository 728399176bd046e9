import Foundation

/// A file in the safetensors layout (https://github.com/huggingface/safetensors, "Format"), which
/// Python's safetensors, numpy and PyTorch open without nntrain:
///
///     8 bytes   N, the header's length, a little-endian UInt64
///     N bytes   a JSON object: for each tensor {"dtype": "F32", "shape": [256, 784],
///               "data_offsets": [begin, end]}, plus "__metadata__": {string: string}; padded with
///               spaces to a multiple of 8 bytes, as the reference writer does
///     the data  each tensor's bytes, little-endian and row-major, at [begin, end) counted from the
///               end of the header; the tensors tile the data exactly, with no gap or overlap
///
/// `decode` checks every one of those rules and refuses a file that breaks one with a one-line
/// error naming the file, the tensor and what was expected; it bounds the header's length before
/// reading it (by the file's size and by safetensors' own limit of 100 MB), so a hostile length
/// field cannot make it allocate, and checks each tensor's shape and offsets against the bytes
/// the file holds, with overflow-checked products, before copying anything.
public struct SafeTensors: Equatable, Sendable {
    /// The longest header accepted, as the reference implementation's MAX_HEADER_SIZE.
    public static let maxHeaderLength = 100_000_000

    /// The element types nntrain writes (safetensors' names). F16 (IEEE binary16) is written only by
    /// `nntrain export --quantize fp16`; `decode` accepts it only when asked (`DType.checkpointTypes`).
    public enum DType: String, CaseIterable, Sendable {
        case f16 = "F16", f32 = "F32", f64 = "F64", i32 = "I32", i64 = "I64", u64 = "U64", u8 = "U8"

        /// The types `decode` accepts by default: those a checkpoint may hold, F16 left out.
        public static let checkpointTypes: [DType] = [.f32, .f64, .i32, .i64, .u64, .u8]

        public var size: Int {
            switch self {
            case .u8: 1
            case .f16: 2
            case .f32, .i32: 4
            case .f64, .i64, .u64: 8
            }
        }
    }

    public struct Tensor: Equatable, Sendable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// A float32 tensor of `shape` holding `values`.
        public init(_ values: [Float], shape: [Int]? = nil) {
            self.init(dtype: .f32, shape: shape ?? [values.count], bytes: values.withUnsafeBytes { Array($0) })
        }

        /// A float16 tensor of `shape` holding `values` rounded to binary16, to nearest even (the
        /// bits `torch.Tensor.half()` gives: Swift's `Float16(_:)` conversion, IEEE 754 roundTiesToEven).
        public init(float16 values: [Float], shape: [Int]? = nil) {
            let bits = values.map { Float16($0).bitPattern.littleEndian }
            self.init(dtype: .f16, shape: shape ?? [values.count], bytes: bits.withUnsafeBytes { Array($0) })
        }

        /// An int64 scalar (shape `[]`, one element), as PyTorch stores a counter such as batch norm's
        /// `num_batches_tracked`.
        public init(scalar value: Int64) {
            self.init(dtype: .i64, shape: [], bytes: withUnsafeBytes(of: value.littleEndian) { Array($0) })
        }

        /// A uint64 tensor holding `values` (generator states, counters).
        public init(_ values: [UInt64]) {
            self.init(dtype: .u64, shape: [values.count], bytes: values.withUnsafeBytes { Array($0) })
        }

        /// An int32 tensor holding `values` (orders of rows, labels).
        public init(_ values: [Int32]) {
            self.init(dtype: .i32, shape: [values.count], bytes: values.withUnsafeBytes { Array($0) })
        }

        public var elementCount: Int { shape.reduce(1, *) }

        /// The elements as `T` (which must match the dtype's size); this code runs on little-endian
        /// machines only (x86-64, arm64), like the files it reads.
        func elements<T>(as type: T.Type) -> [T] {
            bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
        }
    }

    /// Tensors in the order they are laid out in the data section.
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    public static func == (a: SafeTensors, b: SafeTensors) -> Bool {
        a.metadata == b.metadata && a.tensors.map(\.name) == b.tensors.map(\.name)
            && a.tensors.map(\.tensor) == b.tensors.map(\.tensor)
    }

    // MARK: Writing

    /// The file's bytes. The header lists keys sorted, so equal contents give equal files.
    public func encoded() -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in tensors {
            header[name] = [
                "dtype": tensor.dtype.rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.bytes.count],
            ]
            offset += tensor.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        // Only strings, integers, arrays and dictionaries: serialisation cannot fail.
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { Array($0) } ?? Array("{}".utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        bytes.reserveCapacity(8 + json.count + offset)
        bytes += json
        for (_, tensor) in tensors { bytes += tensor.bytes }
        return bytes
    }

    /// The bytes of the data section (everything after the header), for a checksum.
    public static func dataSection(of bytes: [UInt8]) -> ArraySlice<UInt8> {
        guard let length = headerLength(bytes), length <= UInt64(bytes.count - 8) else { return [] }
        return bytes[(8 + Int(length))...]
    }

    /// The little-endian UInt64 in the first 8 bytes; nil for a shorter file.
    private static func headerLength(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count >= 8 else { return nil }
        return bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    // MARK: Reading

    /// Parses and checks a safetensors file's bytes; `path` names the file in errors. A tensor whose
    /// dtype is not one of `dtypes` is refused.
    public static func decode(
        _ bytes: [UInt8], path: String, maxHeaderLength: Int = maxHeaderLength, dtypes: [DType] = DType.checkpointTypes
    ) throws(NNTrainError) -> SafeTensors {
        func fail(_ message: String) -> NNTrainError { .data(path, message) }
        guard let length = headerLength(bytes) else {
            throw fail("\(bytes.count) bytes; a safetensors file starts with an 8-byte header length")
        }
        guard length <= UInt64(bytes.count - 8) else {
            throw fail("bytes 0-7: header length \(length) runs past the end of the \(bytes.count)-byte file; "
                + "expected at most \(bytes.count - 8)")
        }
        guard length <= UInt64(maxHeaderLength) else {
            throw fail("bytes 0-7: header length \(length) is over safetensors' limit; expected at most \(maxHeaderLength)")
        }
        let headerEnd = 8 + Int(length)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = object as? [String: Any]
        else { throw fail("bytes 8-\(headerEnd - 1): the header is not a JSON object; expected safetensors' JSON header") }

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let strings = raw as? [String: String] else {
                throw fail("header: __metadata__ is not a map of strings to strings")
            }
            metadata = strings
        }
        var entries: [(name: String, begin: Int, end: Int, dtype: DType, shape: [Int])] = []
        for (name, value) in header where name != "__metadata__" {
            entries.append(try entry(name: name, value: value, dtypes: dtypes, fail: fail))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        let dataLength = bytes.count - headerEnd
        var expectedBegin = 0
        var tensors: [(name: String, tensor: Tensor)] = []
        for entry in entries {
            guard entry.begin == expectedBegin else {
                throw fail("tensor '\(entry.name)': data_offsets start at \(entry.begin); expected \(expectedBegin) "
                    + (entry.begin < expectedBegin ? "(it overlaps the tensor before it)" : "(a gap before it)"))
            }
            guard entry.end <= dataLength else {
                throw fail("tensor '\(entry.name)': data_offsets end at \(entry.end), past the \(dataLength) bytes of data "
                    + "(the file is truncated or the header is wrong)")
            }
            tensors.append((entry.name, Tensor(dtype: entry.dtype, shape: entry.shape,
                                               bytes: Array(bytes[(headerEnd + entry.begin)..<(headerEnd + entry.end)]))))
            expectedBegin = entry.end
        }
        guard expectedBegin == dataLength else {
            throw fail("\(dataLength - expectedBegin) bytes after the last tensor's data; expected the file to end there")
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// A JSON list of integers that fit in an Int, as JSONSerialization gives it; nil for anything
    /// else, such as 2.5, 2.0, true or 2^64 - 1, which `NSNumber.intValue` would quietly turn into
    /// other integers.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let numbers = value as? [NSNumber] else { return nil }
        var result: [Int] = []
        for number in numbers {
            // Booleans are "c", floating-point numbers "d" or "f"; integers too large for an Int do not cast.
            guard !["c", "d", "f"].contains(String(cString: number.objCType)), let integer = number as? Int else { return nil }
            result.append(integer)
        }
        return result
    }

    /// One tensor's header entry, checked: a dtype of `dtypes`, a shape of non-negative integers whose
    /// element count times the dtype's size equals the length its offsets give.
    private static func entry(name: String, value: Any, dtypes: [DType], fail: (String) -> NNTrainError)
        throws(NNTrainError)
        -> (name: String, begin: Int, end: Int, dtype: DType, shape: [Int])
    {
        guard let fields = value as? [String: Any] else { throw fail("tensor '\(name)': header entry is not an object") }
        guard let dtypeName = fields["dtype"] as? String, let dtype = DType(rawValue: dtypeName), dtypes.contains(dtype) else {
            throw fail("tensor '\(name)': dtype \(fields["dtype"].map { "'\($0)'" } ?? "missing") is not one of: "
                + dtypes.map(\.rawValue).joined(separator: ", "))
        }
        guard let shape = integers(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("tensor '\(name)': shape is missing or not a list of integers >= 0")
        }
        guard let offsets = integers(fields["data_offsets"]), offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0]
        else { throw fail("tensor '\(name)': data_offsets is not [begin, end] with 0 <= begin <= end") }
        var count = dtype.size
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("tensor '\(name)': shape \(shape) is too large") }
            count = product
        }
        guard count == offsets[1] - offsets[0] else {
            throw fail("tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(count) bytes but data_offsets "
                + "\(offsets) hold \(offsets[1] - offsets[0])")
        }
        return (name, offsets[0], offsets[1], dtype, shape)
    }
}
