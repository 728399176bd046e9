/// A row-major view of `rows × columns` floats stored elsewhere (a `FloatBuffer`), with row stride
/// `columns`. Views are what layers, losses and the GEMM wrapper pass around: they never allocate.
public struct MatrixView {
    public var base: UnsafeMutablePointer<Float>
    public var rows: Int
    public var columns: Int

    public init(base: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        self.base = base
        self.rows = rows
        self.columns = columns
    }

    public var count: Int { rows * columns }
    public var elements: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    @inline(__always)
    public subscript(row: Int, column: Int) -> Float {
        get { base[row * columns + column] }
        nonmutating set { base[row * columns + column] = newValue }
    }
}

/// Heap storage for floats, allocated once (per batch capacity) and reused for every batch, so that
/// the training step allocates nothing. Zero-filled at creation.
public final class FloatBuffer {
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(count: Int) {
        storage = UnsafeMutableBufferPointer.allocate(capacity: max(count, 1))
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    public var count: Int { storage.count }
    public var base: UnsafeMutablePointer<Float> { storage.baseAddress.unsafelyUnwrapped }

    /// The first `rows × columns` floats viewed as a matrix; the caller keeps within capacity.
    public func matrix(rows: Int, columns: Int) -> MatrixView {
        precondition(rows * columns <= storage.count, "matrix view beyond its buffer")
        return MatrixView(base: base, rows: rows, columns: columns)
    }
}
