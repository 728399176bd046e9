/// The per-feature affine map x'_j = (x_j − shift_j) × scale_j that turns stored features into
/// model inputs, with `shift` and `scale` fitted on the training split only (so validation and test
/// rows are mapped with statistics they did not contribute to).
///
/// | mode          | bytes (images)                              | floats (CSV columns)                      |
/// |---------------|---------------------------------------------|-------------------------------------------|
/// | `none`        | shift 0, scale 1                            | shift 0, scale 1                          |
/// | `scale`       | shift 0, scale 1/255                        | shift min_j, scale 1/(max_j − min_j)      |
/// | `standardize` | one μ, σ over every pixel: shift μ, scale 1/σ | per column: shift mean_j, scale 1/std_j |
///
/// Standard deviations are population ones (divide by n, NumPy's default, with which the usual
/// per-channel dataset statistics are computed); sums are taken in Double (exact integers for
/// bytes). A constant column (or an empty dataset) has no spread: it keeps scale 1, and its shift
/// (min or mean) maps it to 0.
public struct Normalizer: Sendable, Equatable {
    public var shift: [Float]
    public var scale: [Float]

    public init(shift: [Float], scale: [Float]) {
        precondition(shift.count == scale.count, "Normalizer: \(shift.count) shifts but \(scale.count) scales")
        self.shift = shift
        self.scale = scale
    }

    /// This map with the inputs where `asIs` is true left unchanged (shift 0, scale 1): one-hot
    /// indicators, which stay 0/1 whatever the mode (as scikit-learn's ColumnTransformer scales only
    /// the numeric columns).
    public func leavingAsIs(_ asIs: [Bool]) -> Normalizer {
        precondition(asIs.count == shift.count, "Normalizer.leavingAsIs: \(asIs.count) flags for \(shift.count) inputs")
        var result = self
        for (index, keep) in asIs.enumerated() where keep { (result.shift[index], result.scale[index]) = (0, 1) }
        return result
    }

    /// The normaliser of `mode` with the statistics of `dataset` (the training split).
    public init(fitting dataset: Dataset, mode: Normalization) {
        let width = dataset.featureCount
        let rows = dataset.count
        switch (mode, dataset.features) {
        case (.none, _):
            self.init(shift: Array(repeating: 0, count: width), scale: Array(repeating: 1, count: width))
        case (.scale, .bytes):
            self.init(shift: Array(repeating: 0, count: width), scale: Array(repeating: 1 / 255, count: width))
        case (.scale, .floats(let values)):
            var low = [Float](repeating: .infinity, count: width)
            var high = [Float](repeating: -.infinity, count: width)
            for row in 0..<rows {
                for column in 0..<width {
                    let x = values[row * width + column]
                    low[column] = min(low[column], x)
                    high[column] = max(high[column], x)
                }
            }
            let maps = (0..<width).map {
                rows == 0
                    ? (shift: 0, scale: 1)
                    : Normalizer.map(center: Double(low[$0]), spread: Double(high[$0]) - Double(low[$0]))
            }
            self.init(shift: maps.map(\.shift), scale: maps.map(\.scale))
        case (.standardize, .bytes(let values)):
            var sum: UInt64 = 0
            var sumOfSquares: UInt64 = 0
            values.withUnsafeBufferPointer { pixels in
                for pixel in pixels {
                    sum &+= UInt64(pixel)
                    sumOfSquares &+= UInt64(pixel) * UInt64(pixel)
                }
            }
            let n = Double(values.count)
            let mean = values.isEmpty ? 0 : Double(sum) / n
            let variance = values.isEmpty ? 0 : max(0, Double(sumOfSquares) / n - mean * mean)
            let map = Normalizer.map(center: mean, spread: variance.squareRoot())
            self.init(shift: Array(repeating: map.shift, count: width), scale: Array(repeating: map.scale, count: width))
        case (.standardize, .floats(let values)):
            var means = [Double](repeating: 0, count: width)
            for row in 0..<rows {
                for column in 0..<width { means[column] += Double(values[row * width + column]) }
            }
            means = means.map { rows == 0 ? 0 : $0 / Double(rows) }
            var squares = [Double](repeating: 0, count: width)
            for row in 0..<rows {
                for column in 0..<width {
                    let deviation = Double(values[row * width + column]) - means[column]
                    squares[column] += deviation * deviation
                }
            }
            let maps = (0..<width).map {
                Normalizer.map(center: means[$0], spread: rows == 0 ? 0 : (squares[$0] / Double(rows)).squareRoot())
            }
            self.init(shift: maps.map(\.shift), scale: maps.map(\.scale))
        }
    }

    /// shift = center, scale = 1/spread; scale 1 when there is no usable spread (0, or so small that
    /// its reciprocal is not a finite Float).
    private static func map(center: Double, spread: Double) -> (shift: Float, scale: Float) {
        let reciprocal = Float(1 / spread)
        return (Float(center), spread > 0 && reciprocal.isFinite ? reciprocal : 1)
    }

    /// Writes the normalised features of `rows` of `dataset` to `destination`, row-major
    /// (rows.count × featureCount). Runs once per batch: allocates nothing, and makes one pass over
    /// each source row (bytes are converted to Float and mapped in the same pass).
    public func gather(rows: UnsafeBufferPointer<Int32>, from dataset: Dataset, into destination: UnsafeMutablePointer<Float>) {
        let width = dataset.featureCount
        precondition(width == shift.count, "Normalizer: fitted for \(shift.count) features, \(dataset.name) has \(width)")
        shift.withUnsafeBufferPointer { shift in
            scale.withUnsafeBufferPointer { scale in
                switch dataset.features {
                case .bytes(let values):
                    values.withUnsafeBufferPointer { source in
                        Normalizer.map(rows, of: dataset, source, shift, scale, into: destination)
                    }
                case .floats(let values):
                    values.withUnsafeBufferPointer { source in
                        Normalizer.map(rows, of: dataset, source, shift, scale, into: destination)
                    }
                }
            }
        }
    }

    /// The loop of `gather`, specialised for each element type.
    @inline(__always)
    private static func map<Element: FeatureElement>(
        _ rows: UnsafeBufferPointer<Int32>, of dataset: Dataset, _ source: UnsafeBufferPointer<Element>,
        _ shift: UnsafeBufferPointer<Float>, _ scale: UnsafeBufferPointer<Float>,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let width = shift.count
        guard width > 0, let sourceBase = source.baseAddress, let shiftBase = shift.baseAddress,
            let scaleBase = scale.baseAddress
        else { return }
        // Rows split over the cores once a piece holds about 16k values (Parallel).
        Parallel.forEachPiece(of: rows.count, minimumPiece: max(1, 16_384 / width)) { positions in
            for position in positions {
                let row = rows[position]
                dataset.checkRow(row)
                let from = sourceBase + Int(row) * width
                let to = destination + position * width
                for column in 0..<width {
                    to[column] = Normalizer.normalized(from[column].floatValue, shiftBase[column], scaleBase[column])
                }
            }
        }
    }

    /// The map of one feature, written once for `gather` and `normalize`, so that features
    /// normalised either way are equal to the last bit.
    @inline(__always)
    private static func normalized(_ x: Float, _ shift: Float, _ scale: Float) -> Float { (x - shift) * scale }

    /// Normalises rows of raw features in place ([rows, featureCount]): what `gather` does to rows
    /// of a dataset, for rows read one batch at a time (`nntrain predict`).
    public func normalize(_ rows: MatrixView) {
        precondition(rows.columns == shift.count, "Normalizer: fitted for \(shift.count) features, rows have \(rows.columns)")
        for row in 0..<rows.rows {
            let values = rows.base + row * rows.columns
            for column in 0..<rows.columns {
                values[column] = Self.normalized(values[column], shift[column], scale[column])
            }
        }
    }

    /// Writes the class labels of `rows` to `destination` (rows.count of them).
    /// `dataset` must have class targets.
    public func gatherTargets(
        rows: UnsafeBufferPointer<Int32>, from dataset: Dataset, intoClasses destination: UnsafeMutablePointer<Int32>
    ) {
        guard case .classes(let labels) = dataset.targets else {
            preconditionFailure("Normalizer.gatherTargets: \(dataset.name) has values, not classes")
        }
        Normalizer.copy(rows, of: dataset, labels, into: destination)
    }

    /// Writes the target values of `rows` to `destination` (rows.count of them).
    /// `dataset` must have value targets.
    public func gatherTargets(
        rows: UnsafeBufferPointer<Int32>, from dataset: Dataset, intoValues destination: UnsafeMutablePointer<Float>
    ) {
        guard case .values(let values) = dataset.targets else {
            preconditionFailure("Normalizer.gatherTargets: \(dataset.name) has classes, not values")
        }
        Normalizer.copy(rows, of: dataset, values, into: destination)
    }

    private static func copy<T>(
        _ rows: UnsafeBufferPointer<Int32>, of dataset: Dataset, _ targets: [T], into destination: UnsafeMutablePointer<T>
    ) {
        targets.withUnsafeBufferPointer { source in
            for (position, row) in rows.enumerated() {
                dataset.checkRow(row)
                destination[position] = source[Int(row)]
            }
        }
    }

    /// For a linear model y = Σ_j w_j x'_j + b trained on normalised inputs x'_j = (x_j − shift_j) × scale_j,
    /// the same model on raw inputs: y = Σ_j (w_j scale_j) x_j + (b − Σ_j w_j scale_j shift_j).
    /// Computed in Double. Used to compare learned with true weights of the bonus data.
    public func denormalizeLinear(weights: [Float], bias: Float) -> (weights: [Float], bias: Float) {
        precondition(weights.count == scale.count, "Normalizer: \(weights.count) weights for \(scale.count) features")
        let raw = (0..<weights.count).map { Double(weights[$0]) * Double(scale[$0]) }
        let offset = (0..<weights.count).reduce(0.0) { $0 + raw[$1] * Double(shift[$1]) }
        return (raw.map { Float($0) }, Float(Double(bias) - offset))
    }
}

/// A stored feature type that `Normalizer.gather` can read.
protocol FeatureElement {
    var floatValue: Float { get }
}

extension UInt8: FeatureElement {
    @inline(__always) var floatValue: Float { Float(self) }
}

extension Float: FeatureElement {
    @inline(__always) var floatValue: Float { self }
}

extension Dataset {
    /// Stops the program if `row` is not a row of this dataset: indices come from nntrain's own
    /// code (permutations of `0..<count`), never from a file, so a bad one is a bug, and checking it
    /// keeps the unchecked pointer loops that use it in bounds.
    @inline(__always)
    func checkRow(_ row: Int32) {
        precondition(row >= 0 && Int(row) < count, "Dataset \(name): row \(row) is outside 0..<\(count)")
    }
}
