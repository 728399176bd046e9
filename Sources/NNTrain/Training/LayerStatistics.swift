/// Per-layer diagnostics (`logging.layer_stats`, issue 19): what TensorBoard's per-layer scalars and
/// histograms show in PyTorch tutorials, as CSV columns and three one-line warnings.
///
/// "Layer i" is linear layer i of the MLP, `layers.<i>.weight` [out, in] and `layers.<i>.bias` [out],
/// i = 0 … hidden.count (the output layer included), and with `model.residual` the projection of layer i's
/// block, `shortcuts.<i>.weight`, in its gradient norm (not its weight norm). Norms' γ and β and prelu's slopes
/// belong to no layer, so with `model.norm` batch or layer, or prelu, Σᵢ ‖gᵢ‖² falls short of the global
/// grad_norm² by their share.
///
/// - Gradient norm of a step: ‖gᵢ‖ = sqrt(Σ g² over dWᵢ and dbᵢ), taken where the global grad_norm is
///   (after unscaling, the pruning mask and L1, before clipping), so sqrt(Σᵢ ‖gᵢ‖²) is the step's global
///   norm (`torch.nn.utils.clip_grad_norm_`'s `total_norm` over the layers' parameters alone; a
///   tutorial's `p.grad.norm()` per layer). A step the loss scaler skipped adds nothing. Per epoch: the
///   mean over its steps, as `grad_norm_mean` is of the global norm.
/// - Weight norm: sqrt(Σ w²) over Wᵢ (not the bias) at the epoch's end, of the model being trained
///   (not an EMA or SWA average).
/// - Dead units: for each hidden layer whose activation is relu, on the output of the layer that
///   applies it (the Dense, or the BatchNorm or LayerNorm after it with `norm`; before dropout), a unit is dead
///   in a batch when its output is 0 for every row of the batch; the batch's dead fraction is dead
///   units / width, the epoch's the mean over its batches (skipped steps' batches included: their
///   forward pass ran). Only relu's: its gradient is exactly 0 below zero, so a unit that is 0 for every
///   row passes no gradient and its weights stop learning. leaky_relu, gelu, silu, tanh and sigmoid pass
///   a gradient below zero (0.01, GELU's and SiLU's negative lobes, tanh's and sigmoid's never-zero
///   slope), so a unit of theirs is never dead in this sense; those layers and the output layer have
///   no dead fraction (nil, no column).
///
/// The per-step figures live here (`lastStepGradientNorms`, updated in place); the epoch's running sums
/// in `EpochProgress.layers` (`LayerSums`), which a checkpoint carries, so a run resumed mid-epoch
/// reports the same figures. Every buffer is sized in `init`: a step allocates nothing.
public final class LayerStatistics {
    /// Each linear layer's gradient norm at the last step taken (not a skipped one); zeros before the first.
    public private(set) var lastStepGradientNorms: [Double]
    /// Each linear layer's dead-unit fraction in the last batch (nil: not a relu layer; 0 before the first).
    public private(set) var lastBatchDeadFractions: [Double?]
    /// The gradient buffer's ranges of each linear layer: weight, then bias.
    private let weightRanges: [Range<Int>]
    private let biasRanges: [Range<Int>]
    /// Each linear layer's residual projection (`shortcuts.<i>.weight`; empty for a layer without one).
    private let shortcutRanges: [Range<Int>]
    /// For each relu layer: its linear index and the index in `Network.layers` of the layer applying relu.
    private let reluLayers: [(linear: Int, layer: Int)]
    /// Scratch: 1 where a unit of the layer being measured was non-zero in some row.
    private var alive: [UInt8]

    /// The statistics of `network`'s linear layers (`layers.<i>.weight`, `layers.<i>.bias`).
    public init(network: Network) {
        var weights: [Range<Int>] = [], biases: [Range<Int>] = []
        let tensors = network.parameters.tensors
        for i in 0... {
            guard let weight = tensors.first(where: { $0.name == "layers.\(i).weight" }),
                  let bias = tensors.first(where: { $0.name == "layers.\(i).bias" }) else { break }
            weights.append(weight.offset..<(weight.offset + weight.count))
            biases.append(bias.offset..<(bias.offset + bias.count))
        }
        weightRanges = weights
        biasRanges = biases
        shortcutRanges = weights.indices.map { i in
            tensors.first { $0.name == "shortcuts.\(i).weight" }.map { $0.offset..<($0.offset + $0.count) } ?? 0..<0
        }
        var relu: [(linear: Int, layer: Int)] = [], linear = -1, widest = 0
        for (index, layer) in network.layers.enumerated() {
            let activation: Activation?
            if let dense = layer as? Dense {
                linear += 1
                activation = dense.activation
            } else {
                activation = (layer as? BatchNorm)?.activation ?? (layer as? LayerNorm)?.activation
            }
            if case .relu? = activation, linear >= 0 {
                relu.append((linear, index))
                widest = max(widest, layer.outputWidth)
            }
        }
        reluLayers = relu
        alive = [UInt8](repeating: 0, count: widest)
        lastStepGradientNorms = [Double](repeating: 0, count: weights.count)
        var dead = [Double?](repeating: nil, count: weights.count)
        for (i, _) in relu where i < dead.count { dead[i] = 0 }
        lastBatchDeadFractions = dead
    }

    /// The number of linear layers.
    public var count: Int { weightRanges.count }

    /// The linear layers whose activation is relu (the ones with a dead fraction), as a config's
    /// `model` section makes them: every hidden layer when `model.activation` is relu, none otherwise.
    /// The output layer has no activation.
    public static func deadUnitLayers(of model: Configuration.ModelSection) -> [Int] {
        model.activation == .relu ? Array(model.hidden.indices) : []
    }

    /// The per-layer columns of a config (`MetricsLog.Columns.layers`), for metrics.csv with
    /// `logging.layer_stats` and TensorBoard's scalars; none when the statistics are not computed.
    public static func columns(of configuration: Configuration) -> MetricsLog.LayerColumns? {
        guard configuration.logging.computesLayerStatistics else { return nil }
        return MetricsLog.LayerColumns(count: configuration.model.hidden.count + 1,
                                       deadUnitLayers: deadUnitLayers(of: configuration.model))
    }

    /// Fresh running sums for an epoch of this network.
    func makeSums() -> LayerSums {
        LayerSums(layers: count, deadUnitLayers: reluLayers.map(\.linear))
    }

    /// Sets `lastStepGradientNorms` from the flat gradient buffer `gradients`.
    func measureGradients(_ gradients: UnsafePointer<Float>) {
        lastStepGradientNorms.withUnsafeMutableBufferPointer { norms in
            for i in norms.indices {
                norms[i] = (Self.sumOfSquares(gradients, weightRanges[i]) + Self.sumOfSquares(gradients, biasRanges[i])
                    + Self.sumOfSquares(gradients, shortcutRanges[i])).squareRoot()
            }
        }
    }

    /// Sets `lastBatchDeadFractions` from the activations of `network`'s last forward pass.
    func measureDeadUnits(_ network: Network) {
        for (linear, layer) in reluLayers {
            let y = network.lastOutput(ofLayer: layer)
            let width = y.columns
            let dead = alive.withUnsafeMutableBufferPointer { alive -> Int in
                for j in 0..<width { alive[j] = 0 }
                for r in 0..<y.rows {
                    let row = y.base + r * width
                    for j in 0..<width where row[j] != 0 { alive[j] = 1 }
                }
                var dead = 0
                for j in 0..<width where alive[j] == 0 { dead += 1 }
                return dead
            }
            lastBatchDeadFractions[linear] = width == 0 ? 0 : Double(dead) / Double(width)
        }
    }

    /// Each linear layer's weight norm sqrt(Σ w²), over `layers.<i>.weight` of `values`.
    func weightNorms(_ values: UnsafePointer<Float>) -> [Double] {
        weightRanges.map { Self.sumOfSquares(values, $0).squareRoot() }
    }

    /// Σ x² over `range` of `x`, as `GradientClipping.norm` sums (16 float lanes per run of 4,096, the runs
    /// added in double), on the calling thread.
    static func sumOfSquares(_ x: UnsafePointer<Float>, _ range: Range<Int>) -> Double {
        var total: Double = 0
        for start in stride(from: range.lowerBound, to: range.upperBound, by: GradientClipping.runLength) {
            let end = min(start + GradientClipping.runLength, range.upperBound)
            total += Double(GradientClipping.runSquares(UnsafeRawPointer(x), start..<end))
        }
        return total
    }
}

/// The per-layer figures of one epoch (metrics.csv's `grad_norm_layer<i>`, `weight_norm_layer<i>`,
/// `dead_units_layer<i>`; see `LayerStatistics` for their definitions). Indexed by linear layer.
public struct LayerMetrics: Equatable, Sendable, Codable {
    /// Mean over the epoch's steps of each layer's gradient norm, before clipping.
    public var gradientNorms: [Double]
    /// Each layer's weight norm sqrt(Σ w²) at the epoch's end.
    public var weightNorms: [Double]
    /// Each layer's mean fraction of dead relu units over the epoch's batches; nil where not relu.
    public var deadFractions: [Double?]

    public init(gradientNorms: [Double], weightNorms: [Double], deadFractions: [Double?]) {
        self.gradientNorms = gradientNorms
        self.weightNorms = weightNorms
        self.deadFractions = deadFractions
    }
}

/// The running per-layer sums of the epoch in progress (in `EpochProgress`, so in checkpoints).
public struct LayerSums: Equatable, Sendable, Codable {
    /// Σ over the steps taken of each layer's gradient norm, and the steps.
    public var gradientNormSums: [Double]
    public var steps = 0
    /// Steps taken at which each layer's gradient norm was below `LayerSums.vanishingRatio` of the
    /// largest layer's (the vanishing-gradient warning fires when that is every step of an epoch).
    public var vanishingSteps: [Int]
    /// Σ over the batches of each layer's dead fraction (nil: not a relu layer), and the batches.
    public var deadFractionSums: [Double?]
    public var batches = 0

    /// A layer whose gradient norm is below this fraction of the largest layer's has vanishing gradients.
    public static let vanishingRatio = 1e-4

    init(layers: Int, deadUnitLayers: [Int]) {
        gradientNormSums = [Double](repeating: 0, count: layers)
        vanishingSteps = [Int](repeating: 0, count: layers)
        deadFractionSums = (0..<layers).map { deadUnitLayers.contains($0) ? 0 : nil }
    }

    /// Adds a step's gradient norms (one per layer).
    mutating func addStep(_ norms: [Double]) {
        guard norms.count == gradientNormSums.count else { return }
        let largest = norms.max() ?? 0
        for i in norms.indices {
            gradientNormSums[i] += norms[i]
            if norms[i] < Self.vanishingRatio * largest { vanishingSteps[i] += 1 }
        }
        steps += 1
    }

    /// Adds a batch's dead fractions (one per layer, nil where not relu).
    mutating func addBatch(_ fractions: [Double?]) {
        guard fractions.count == deadFractionSums.count else { return }
        for i in fractions.indices {
            if let fraction = fractions[i], let sum = deadFractionSums[i] { deadFractionSums[i] = sum + fraction }
        }
        batches += 1
    }

    /// The epoch's figures, with `weightNorms` read at its end.
    func metrics(weightNorms: [Double]) -> LayerMetrics {
        LayerMetrics(gradientNorms: gradientNormSums.map { steps == 0 ? 0 : $0 / Double(steps) },
                     weightNorms: weightNorms,
                     deadFractions: deadFractionSums.map { $0.map { batches == 0 ? 0 : $0 / Double(batches) } })
    }
}
