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
///
/// Skip connections (`skips`, a residual MLP's) are added after the layer that ends a block: that layer
/// writes its own output, and the network stores h + output (or P·h + output) in a buffer of its own,
/// which the next layer reads; back-propagation adds the gradient that reaches the sum to dL/dh (through
/// Pᵀ) and sets dP. In mixed precision P·h is rounded (P rounded as a Dense rounds W), the sum is rounded
/// as every stored activation is, and so are P's contribution to dL/dh and dL/dh after the addition
/// (autograd's accumulation of a tensor used twice, in its own dtype).
public final class Network {
    public let parameters: ParameterStore
    public let layers: [any Layer]
    /// The skip connections, in layer order (empty for a plain MLP).
    public let skips: [Skip]
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
    /// For each layer, the index in `skips` of the skip ending at it (nil: none), and of the skip starting at it.
    private let skipEnding: [Int?]
    private let skipStarting: [Int?]
    /// Per skip: the residual sum (the block's output as the next layer reads it), the gradient the
    /// shortcut carries back to h (dL/d(sum), or dL/d(sum)·P), and P rounded to `precision` (unused in fp32).
    private var sums: [FloatBuffer] = []
    private var skipGradients: [FloatBuffer] = []
    private var roundedProjections: [FloatBuffer] = []
    /// The linear layers frozen by `freeze(layers:)` (`training.freeze`); empty: all train.
    public private(set) var frozenLayers: Set<Int> = []
    /// The lowest layer back-propagation reaches: the first with a parameter that trains. Below it every layer is
    /// frozen or has no parameters, so neither their parameter gradients nor any dL/dx are needed there.
    private var backwardFloor = 0

    /// A skip connection: the output of layer `to` (the last layer of a residual block) gets h added, where h
    /// is what layer `from` passes on (its output, or its own skip's sum); with `projection` P [out, in]
    /// (where the block changes the width) P·h is added instead: y = block(h) + h, or block(h) + h·Pᵀ by rows.
    public struct Skip: Equatable, Sendable {
        public var from: Int
        public var to: Int
        public var projection: ParameterStore.Tensor?
    }

    init(parameters: ParameterStore, layers: [any Layer], precision: Precision, skips: [Skip] = []) {
        self.parameters = parameters
        self.layers = layers
        self.precision = precision
        self.skips = skips
        var ending = [Int?](repeating: nil, count: layers.count), starting = ending
        for (s, skip) in skips.enumerated() {
            precondition(0 <= skip.from && skip.from < skip.to && skip.to < layers.count
                         && ending[skip.to] == nil && starting[skip.from] == nil, "Network: skips out of order")
            precondition(layers[skip.to].outputWidth == (skip.projection?.shape[0] ?? layers[skip.from].outputWidth)
                         && layers[skip.from].outputWidth == (skip.projection?.shape[1] ?? layers[skip.to].outputWidth),
                         "Network: a skip's widths do not agree")
            ending[skip.to] = s
            starting[skip.from] = s
        }
        skipEnding = ending
        skipStarting = starting
        if precision != .fp32 { roundedProjections = skips.map { FloatBuffer(count: $0.projection?.count ?? 0) } }
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
        /// Skip connections around each hidden block after the first (`model.residual`; see `mlp`).
        public var residual = false

        public init(inputWidth: Int, hidden: [Int], outputWidth: Int, activation: Activation,
                    dropout: Float = 0, batchNorm: Bool = false, norm: NormKind = .none, precision: Precision = .fp32,
                    targetScaling: TargetScaling? = nil, residual: Bool = false) {
            self.residual = residual
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
    ///
    /// With `residual` (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016, in its
    /// MLP form), hidden block i ≥ 1 (f_i = Dense → [norm] → activation → [Dropout], whatever layers it holds)
    /// outputs
    ///
    ///     h_{i+1} = f_i(h_i) + h_i          when widths agree (identity shortcut)
    ///     h_{i+1} = f_i(h_i) + P_i h_i      when they do not: P_i [out, in], `shortcuts.<i>.weight`, no bias
    ///
    /// so f(x) is taken after the activation and after dropout: h + Dropout(σ(W h + b)). P_i is torchvision's
    /// projection shortcut (`torchvision/models/resnet.py`, `downsample`: a 1×1 convolution, bias=False) as an
    /// nn.Linear(in, out, bias=False). The first hidden layer (input → hidden) and the output layer have no
    /// shortcut. The projections come after every other tensor in the flat buffer, so a plain MLP's layout
    /// (and its initialisation) is unchanged.
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
        let changesWidth = { (i: Int) in shape.residual && i >= 1 && i < linearCount - 1 && widths[i] != widths[i + 1] }
        for i in 0..<linearCount where changesWidth(i) {
            specs.append(("shortcuts.\(i).weight", [widths[i + 1], widths[i]], .shortcut))
        }
        let store = ParameterStore(specs)
        var layers: [any Layer] = []
        var blockEnds: [Int] = []  // each hidden block's last layer
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
            blockEnds.append(layers.count - 1)
        }
        let skips = !shape.residual ? [] : blockEnds.indices.dropFirst().map { i in
            Skip(from: blockEnds[i - 1], to: blockEnds[i],
                 projection: changesWidth(i) ? store.tensor(named: "shortcuts.\(i).weight") : nil)
        }
        if let scaling = shape.targetScaling { layers.append(TargetAffine(width: shape.outputWidth, scaling: scaling)) }
        return Network(parameters: store, layers: layers, precision: shape.precision, skips: skips)
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
        sums = skips.map { FloatBuffer(count: rows * layers[$0.to].outputWidth) }
        skipGradients = skips.map { FloatBuffer(count: rows * layers[$0.from].outputWidth) }
        for layer in layers { layer.reserve(rows: rows) }
    }

    /// What layer `index` passes on in the last forward pass: its output, or for the end of a residual
    /// block the sum with its shortcut.
    private func passedOn(byLayer index: Int) -> MatrixView {
        guard let s = skipEnding[index] else { return lastOutput(ofLayer: index) }
        return sums[s].matrix(rows: lastRows, columns: layers[index].outputWidth)
    }

    /// Skip `s`'s sum y + h (or y + h·Pᵀ) from its block's output y and its input h, into `sums[s]`.
    private func addShortcut(_ s: Int) {
        let skip = skips[s]
        let y = lastOutput(ofLayer: skip.to), h = passedOn(byLayer: skip.from)
        let sum = sums[s].matrix(rows: lastRows, columns: y.columns)
        if let p = skip.projection {
            let weights = projectionOperand(s)
            BLAS.gemm(transposeA: false, transposeB: true, m: lastRows, n: y.columns, k: h.columns, alpha: 1,
                      a: h.base, lda: h.columns, b: weights, ldb: p.shape[1], beta: 0, c: sum.base, ldc: y.columns)
            precision.format?.round(sum.base, count: sum.count)
            for k in 0..<sum.count { sum.base[k] += y.base[k] }
        } else {
            for k in 0..<sum.count { sum.base[k] = y.base[k] + h.base[k] }
        }
        precision.format?.round(sum.base, count: sum.count)
    }

    /// Skip `s`'s P as the products read it: the master values in fp32, else refreshed into its rounded copy.
    private func projectionOperand(_ s: Int) -> UnsafePointer<Float> {
        guard let p = skips[s].projection else { preconditionFailure("Network: skip \(s) has no projection") }
        let master = parameters.values.base + p.offset
        guard let format = precision.format else { return UnsafePointer(master) }
        format.round(master, into: roundedProjections[s].base, count: p.count)
        return UnsafePointer(roundedProjections[s].base)
    }

    /// Back-propagation through skip `s`'s shortcut, from dL/d(sum) (`gradients[to]`, read before the block's
    /// last layer uses it as scratch): dP = dL/d(sum)ᵀ · h and the gradient the shortcut carries to h,
    /// dL/d(sum) or dL/d(sum) · P, kept in `skipGradients[s]` until h's own gradient is written.
    private func backShortcut(_ s: Int) {
        let skip = skips[s]
        let g = gradients[skip.to].matrix(rows: lastRows, columns: layers[skip.to].outputWidth)
        let h = passedOn(byLayer: skip.from)
        let carried = skipGradients[s].matrix(rows: lastRows, columns: h.columns)
        guard let p = skip.projection else {
            carried.base.update(from: g.base, count: g.count)
            return
        }
        let weights = precision == .fp32 ? UnsafePointer(parameters.values.base + p.offset)
            : UnsafePointer(roundedProjections[s].base)
        if !projectionFrozen(s) {
            BLAS.gemm(transposeA: true, transposeB: false, m: g.columns, n: h.columns, k: lastRows, alpha: 1,
                      a: g.base, lda: g.columns, b: h.base, ldb: h.columns, beta: 0,
                      c: parameters.gradients.base + p.offset, ldc: h.columns)
        }
        BLAS.gemm(transposeA: false, transposeB: false, m: lastRows, n: h.columns, k: g.columns, alpha: 1,
                  a: g.base, lda: g.columns, b: weights, ldb: h.columns, beta: 0, c: carried.base, ldc: h.columns)
        roundGradient(carried)
    }

    /// Freezes the linear layers `layers` (indices of `layers.<i>`) with their norms, PReLU slopes and residual
    /// projections, and unfreezes the others (`TrainableLayer.frozen`), as `requires_grad_(False)` on those
    /// modules: back-propagation computes no gradient for their parameters (their gradients are set to zero here,
    /// and stay zero: clipping's norm and the L1 penalty see nothing of them, as torch's grads stay None), stops
    /// at the lowest layer that trains (the frozen layers below it cost no back-propagation at all), and a
    /// frozen batch norm runs in eval mode.
    public func freeze(layers frozen: Set<Int>) {
        frozenLayers = frozen
        for case let layer as any TrainableLayer in self.layers { layer.frozen = frozen.contains(layer.layerIndex) }
        for tensor in parameters.tensors where tensor.layer.map(frozen.contains) ?? false {
            (parameters.gradients.base + tensor.offset).update(repeating: 0, count: tensor.count)
        }
        // A residual projection goes with its block's Dense, which comes before the block's end, where dP is formed.
        let floor = self.layers.firstIndex { ($0 as? any TrainableLayer).map { !$0.frozen } ?? false } ?? self.layers.count
        backwardFloor = min(floor, self.layers.count - 1)
    }

    /// Whether skip `s`'s projection (if it has one) is frozen with its block's layer.
    private func projectionFrozen(_ s: Int) -> Bool {
        skips[s].projection?.layer.map(frozenLayers.contains) ?? false
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
            if let s = skipEnding[i] {
                addShortcut(s)
                input = passedOn(byLayer: i)
            }
        }
        return input
    }

    /// What layer `index` of `layers` wrote in the last forward pass ([rows, outputWidth]; for the end of a
    /// residual block its own output, before the shortcut is added); it stays until the next forward pass
    /// (back-propagation reads it but does not change it).
    func lastOutput(ofLayer index: Int) -> MatrixView {
        outputs[index].matrix(rows: lastRows, columns: layers[index].outputWidth)
    }

    /// Where the loss writes dL/d(output) for the last forward pass, before `backward`.
    public var outputGradient: MatrixView {
        gradients[layers.count - 1].matrix(rows: lastRows, columns: outputWidth)
    }

    /// Sets every parameter gradient from `outputGradient`, for the input `x` of the last forward pass (those of
    /// frozen layers aside: see `freeze(layers:)`).
    public func backward(input x: MatrixView) {
        let firstInput = precision == .fp32 ? x : roundedInput.matrix(rows: lastRows, columns: inputWidth)
        roundGradient(outputGradient)
        for i in stride(from: layers.count - 1, through: backwardFloor, by: -1) {
            let layer = layers[i]
            let input = i == 0 ? firstInput : passedOn(byLayer: i - 1)
            let output = outputs[i].matrix(rows: lastRows, columns: layer.outputWidth)
            let dInput = i == backwardFloor ? nil : gradients[i - 1].matrix(rows: lastRows, columns: layer.inputWidth)
            if let s = skipEnding[i] { backShortcut(s) }
            layer.backward(input: input, output: output,
                           outputGradient: gradients[i].matrix(rows: lastRows, columns: layer.outputWidth),
                           inputGradient: dInput)
            guard let dInput else { continue }
            roundGradient(dInput)
            if let s = skipStarting[i - 1] {
                let carried = skipGradients[s].base
                for k in 0..<dInput.count { dInput.base[k] += carried[k] }
                roundGradient(dInput)
            }
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
