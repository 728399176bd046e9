/// The normalisation of each hidden layer, between its product and its activation (`model.norm`):
/// none, nn.BatchNorm1d (`BatchNorm`) or nn.LayerNorm (`LayerNorm`); either has γ and β named `norms.<i>`.
public enum NormKind: String, CaseIterable, Sendable {
    case none, batch, layer
}

/// A stack of layers applied in order, with every intermediate buffer owned here and sized once
/// for the largest batch (`reserve(rows:)`), so that forward and backward passes allocate nothing.
///
/// The multilayer perceptron of a config is `Network.mlp`: Dense layers of widths
/// input → hidden… → output, the config's activation after each hidden layer and none after the
/// last (the loss takes raw logits or values, as nn.CrossEntropyLoss and nn.MSELoss do).
///
/// In mixed precision (`precision` fp16 or bf16; see `Precision` for the whole list) activations
/// and their gradients are stored as PyTorch's autocast stores them, in the low precision: the
/// network rounds its input (the first product's operand) into a buffer of its own, the loss
/// gradient dL/d(output) as it enters back-propagation, and every layer's dL/dx; each layer
/// stores its own output rounded (`Layer`); `finishGradients` rounds the linear layers' parameter
/// gradients.
public final class Network {
    public let parameters: ParameterStore
    public let layers: [any Layer]
    /// The format activations and their gradients are stored in; fp32 for plain training.
    public let precision: Precision
    /// When set, every rounding of an activation gradient (dL/d(output) and each layer's dL/dx)
    /// adds to this tally (`logging.precision_stats`); nil counts nothing.
    public var gradientRoundingCounts: RoundingCounts?
    /// outputs[i] holds layer i's output; gradients[i] holds dL/d(outputs[i]).
    private var outputs: [FloatBuffer] = []
    private var gradients: [FloatBuffer] = []
    /// The last input rounded to `precision` (unused in fp32).
    private var roundedInput = FloatBuffer(count: 0)
    public private(set) var rowCapacity = 0
    private var lastRows = 0

    init(parameters: ParameterStore, layers: [any Layer], precision: Precision) {
        self.parameters = parameters
        self.layers = layers
        self.precision = precision
    }

    /// The shape of a multilayer perceptron, as a config describes it.
    public struct MLPShape: Equatable, Sendable {
        public var inputWidth: Int
        public var hidden: [Int]
        public var outputWidth: Int
        public var activation: Activation
        /// Dropout probability after each hidden layer (0: no dropout layers).
        public var dropout: Float = 0
        /// The normalisation between each hidden layer's product and its activation (`model.norm`).
        public var norm: NormKind = .none
        /// Whether `norm` is batch normalisation (the older `model.batch_norm`); setting false leaves a layer norm.
        public var batchNorm: Bool {
            get { norm == .batch }
            set { if newValue { norm = .batch } else if norm == .batch { norm = .none } }
        }
        /// The format of the products and stored activations (mixed-precision emulation).
        public var precision: Precision = .fp32
        /// A standardised regression target's y = σ·z + μ after the output layer (`TargetAffine`); nil: none.
        public var targetScaling: TargetScaling? = nil

        public init(inputWidth: Int, hidden: [Int], outputWidth: Int, activation: Activation,
                    dropout: Float = 0, batchNorm: Bool = false, norm: NormKind = .none, precision: Precision = .fp32,
                    targetScaling: TargetScaling? = nil) {
            self.inputWidth = inputWidth
            self.hidden = hidden
            self.outputWidth = outputWidth
            self.activation = activation
            self.dropout = dropout
            self.norm = batchNorm ? .batch : norm
            self.precision = precision
            self.targetScaling = targetScaling
        }
    }

    /// An MLP: for each hidden width, Dense → [BatchNorm | LayerNorm] → activation → [Dropout], then a Dense
    /// output layer with no activation, then [TargetAffine] with the shape's `targetScaling`. The activation is
    /// fused into the Dense or norm before it, except prelu, a `PReLU` layer of its own. Parameter names
    /// follow PyTorch's: `layers.<i>.weight` [out, in] and `layers.<i>.bias` [out] for the linear layers,
    /// `norms.<i>.weight` (γ) and `norms.<i>.bias` (β) for batch or layer norms, `activations.<i>.weight` [out]
    /// for prelu's slopes. Parameters are zero until initialised
    /// (see `Initialization`); dropout masks come from streams of `dropoutSeed`, one per dropout layer.
    public static func mlp(_ shape: MLPShape, dropoutSeed: UInt64 = 0) -> Network {
        let widths = [shape.inputWidth] + shape.hidden + [shape.outputWidth]
        let linearCount = widths.count - 1
        var specs: [(name: String, shape: [Int], role: ParameterStore.Tensor.Role)] = []
        for i in 0..<linearCount {
            specs.append(("layers.\(i).weight", [widths[i + 1], widths[i]], .weight))
            specs.append(("layers.\(i).bias", [widths[i + 1]], .bias))
            if shape.norm != .none, i < linearCount - 1 {
                specs.append(("norms.\(i).weight", [widths[i + 1]], .normScale))
                specs.append(("norms.\(i).bias", [widths[i + 1]], .normShift))
            }
            if case .prelu = shape.activation, i < linearCount - 1 {
                specs.append(("activations.\(i).weight", [widths[i + 1]], .slope))
            }
        }
        let store = ParameterStore(specs)
        var layers: [any Layer] = []
        var tensors = store.tensors.makeIterator()
        for i in 0..<linearCount {
            let isHidden = i < linearCount - 1
            guard let weight = tensors.next(), let bias = tensors.next() else { break }
            // A fused activation: prelu's slopes are parameters, so it is a layer of its own (`PReLU`).
            let fused: Activation = if case .prelu = shape.activation { .identity } else { shape.activation }
            let denseActivation: Activation = !isHidden || shape.norm != .none ? .identity : fused
            layers.append(Dense(parameters: store, weight: weight, bias: bias, activation: denseActivation,
                                precision: shape.precision))
            guard isHidden else { continue }
            if shape.norm != .none, let gamma = tensors.next(), let beta = tensors.next() {
                let norm: any Layer = shape.norm == .layer
                    ? LayerNorm(parameters: store, scale: gamma, shift: beta, activation: fused, precision: shape.precision)
                    : BatchNorm(parameters: store, scale: gamma, shift: beta, activation: fused, precision: shape.precision)
                layers.append(norm)
            }
            if case .prelu = shape.activation, let slope = tensors.next() {
                layers.append(PReLU(parameters: store, slope: slope, precision: shape.precision))
            }
            if shape.dropout > 0 {
                layers.append(Dropout(width: widths[i + 1], probability: shape.dropout,
                                      random: RandomGenerator(seed: dropoutSeed, stream: UInt64(i)), precision: shape.precision))
            }
        }
        if let scaling = shape.targetScaling { layers.append(TargetAffine(width: shape.outputWidth, scaling: scaling)) }
        return Network(parameters: store, layers: layers, precision: shape.precision)
    }

    public var inputWidth: Int { layers.first?.inputWidth ?? 0 }
    public var outputWidth: Int { layers.last?.outputWidth ?? 0 }
    /// The target scaling its last step applies (`TargetAffine`), nil when its output is the last linear layer's.
    public var targetScaling: TargetScaling? { (layers.last as? TargetAffine)?.scaling }

    /// Sizes every buffer for batches of up to `rows` rows (a no-op when already large enough).
    public func reserve(rows: Int) {
        guard rows > rowCapacity else { return }
        rowCapacity = rows
        outputs = layers.map { FloatBuffer(count: rows * $0.outputWidth) }
        gradients = layers.map { FloatBuffer(count: rows * $0.outputWidth) }
        if precision != .fp32 { roundedInput = FloatBuffer(count: rows * inputWidth) }
        for layer in layers { layer.reserve(rows: rows) }
    }

    /// The network's output for the rows of `x` ([rows, inputWidth], rows ≤ rowCapacity).
    public func forward(_ x: MatrixView, training: Bool) -> MatrixView {
        precondition(x.rows <= rowCapacity && x.columns == inputWidth, "batch beyond the reserved shape")
        lastRows = x.rows
        var input = x
        if let format = precision.format {
            input = roundedInput.matrix(rows: x.rows, columns: x.columns)
            format.round(x.base, into: input.base, count: x.count)
        }
        for (i, layer) in layers.enumerated() {
            let output = outputs[i].matrix(rows: x.rows, columns: layer.outputWidth)
            layer.forward(input, into: output, training: training)
            input = output
        }
        return input
    }

    /// What layer `index` of `layers` wrote in the last forward pass ([rows, outputWidth]); it stays
    /// until the next forward pass (back-propagation reads it but does not change it).
    func lastOutput(ofLayer index: Int) -> MatrixView {
        outputs[index].matrix(rows: lastRows, columns: layers[index].outputWidth)
    }

    /// Where the loss writes dL/d(output) for the last forward pass, before `backward`.
    public var outputGradient: MatrixView {
        gradients[layers.count - 1].matrix(rows: lastRows, columns: outputWidth)
    }

    /// Sets every parameter gradient from `outputGradient`, for the input `x` of the last forward pass.
    public func backward(input x: MatrixView) {
        let firstInput = precision == .fp32 ? x : roundedInput.matrix(rows: lastRows, columns: inputWidth)
        roundGradient(outputGradient)
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[i]
            let input = i == 0 ? firstInput : outputs[i - 1].matrix(rows: lastRows, columns: layer.inputWidth)
            let output = outputs[i].matrix(rows: lastRows, columns: layer.outputWidth)
            let dInput = i == 0 ? nil : gradients[i - 1].matrix(rows: lastRows, columns: layer.inputWidth)
            layer.backward(input: input, output: output,
                           outputGradient: gradients[i].matrix(rows: lastRows, columns: layer.outputWidth),
                           inputGradient: dInput)
            if let dInput { roundGradient(dInput) }
        }
    }

    /// Finishes the parameter gradients of a mixed-precision step, in one pass over the flat
    /// buffer: each linear layer's dW and db rounded to `precision` (autocast computes them in the
    /// low precision), then every gradient multiplied by `inverseScale` (GradScaler's 1/S, or 1).
    /// Norm (batch or layer) gradients are fp32 and only scaled; PReLU's slopes are rounded as the linear layers'
    /// (autocast casts them to the low precision, see `PReLU`). Returns whether all gradients are finite.
    public func finishGradients(inverseScale: Float) -> Bool {
        let gradients = parameters.gradients.base
        var finite = true
        for tensor in parameters.tensors {
            let format = tensor.role.isBatchNorm ? Binary32.self : precision.format ?? Binary32.self
            finite = format.roundScaling(gradients + tensor.offset, count: tensor.count, by: inverseScale) && finite
        }
        return finite
    }

    /// Rounds an activation gradient to `precision`, tallying what it loses when counting.
    private func roundGradient(_ gradient: MatrixView) {
        guard let format = precision.format else { return }
        guard var counts = gradientRoundingCounts else {
            format.round(gradient.base, count: gradient.count)
            return
        }
        counts.add(format.roundCounting(gradient.base, count: gradient.count))
        gradientRoundingCounts = counts
    }

    /// The model's state: every parameter and every batch norm's running statistics.
    public struct Snapshot: Equatable, Sendable {
        public var parameters: [Float]
        public var runningStatistics: [[Float]]
    }

    public func snapshot() -> Snapshot {
        Snapshot(parameters: Array(parameters.values.storage.prefix(parameters.count)),
                 runningStatistics: layers.compactMap { $0 as? BatchNorm }.flatMap { [$0.runningMean, $0.runningVariance] })
    }

    /// Puts back a snapshot taken from this network.
    public func restore(_ snapshot: Snapshot) {
        let values = parameters.values.base
        snapshot.parameters.withUnsafeBufferPointer { saved in
            values.update(from: saved.baseAddress.unsafelyUnwrapped, count: min(saved.count, parameters.count))
        }
        var statistics = snapshot.runningStatistics.makeIterator()
        for case let norm as BatchNorm in layers {
            guard let mean = statistics.next(), let variance = statistics.next() else { break }
            norm.runningMean = mean
            norm.runningVariance = variance
        }
    }
}
