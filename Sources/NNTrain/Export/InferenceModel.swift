import Foundation

/// A checkpoint's model as it runs at inference, the one form every export and every quantized
/// evaluation starts from: the input normalisation, then the linear layers with batch norm folded
/// in and dropout gone (both are what `model.eval()` makes of them), then the standardised target's
/// affine. Its layers are plain arrays, so the ONNX graph, the quantizer and the int8 simulation
/// read the same numbers.
///
///     x' = (x − shift) ⊙ scale                          [N, in]     the checkpoint's Normalizer
///     h₀ = x',  hₖ₊₁ = fₖ(hₖ Wₖᵀ + bₖ)                  Wₖ [out, in], bₖ [out], fₖ the layer's activation
///                                                       (prelu: its learned slopes aₖ [out], `slopes`)
///     y = σ·h_L + μ                                     a standardised regression target only
///
/// Batch norm in evaluation mode after a linear layer z = Wx + b is the affine γ(z − m)/√(v + ε) + β
/// (Ioffe & Szegedy 2015, section 3.1), which folds into the linear layer with a = γ/√(v + ε):
///
///     W'ⱼ = aⱼ·Wⱼ           b'ⱼ = aⱼ·(bⱼ − mⱼ) + βⱼ
///
/// computed in Double and rounded to Float once, as `torch.ao.quantization.fuse_modules` and ONNX
/// Runtime's Gemm–BatchNormalization fusion fold it.
///
/// A layer norm (`model.norm: layer`) cannot fold: its μ and σ² are each row's own. It stays an operation
/// of its layer, between the product and the activation (`Layer.layerNorm`):
///
///     z = hₖ Wₖᵀ + bₖ,  hₖ₊₁ = fₖ(γ ⊙ (z − μ(z)) / √(σ²(z) + ε) + β)   μ, σ² (biased) over each row, ε = 1e-5
///
/// A residual model (`model.residual`, `Network.mlp`) adds each hidden layer k ≥ 1's input after its activation
/// (`Layer.shortcut`; dropout, the identity in evaluation, changes nothing):
///
///     hₖ₊₁ = fₖ(hₖ Wₖᵀ + bₖ) + hₖ          identity shortcut (widths agree)
///     hₖ₊₁ = fₖ(hₖ Wₖᵀ + bₖ) + hₖ Pₖᵀ      projection shortcut, Pₖ [out, in] (`shortcuts.<k>.weight`, no bias)
public struct InferenceModel: Sendable, Equatable {
    /// One linear layer and the activation after it (`.identity` for the output layer).
    public struct Layer: Sendable, Equatable {
        public var inputs: Int
        public var outputs: Int
        /// [outputs, inputs], row-major, as nn.Linear's weight.
        public var weight: [Float]
        /// [outputs].
        public var bias: [Float]
        public var activation: Activation
        /// The layer norm between the product and the activation (γ, β [outputs]); nil: none.
        public var layerNorm: LayerNormAffine?
        /// prelu's learned slope of each output [outputs] (nn.PReLU's weight); [] for other activations.
        public var slopes: [Float]
        /// A residual block's skip connection, added to the output after the activation; nil: none.
        public var shortcut: Shortcut?

        public init(inputs: Int, outputs: Int, weight: [Float], bias: [Float], activation: Activation,
                    layerNorm: LayerNormAffine? = nil, slopes: [Float] = [], shortcut: Shortcut? = nil) {
            precondition(weight.count == inputs * outputs && bias.count == outputs,
                         "InferenceModel.Layer: \(weight.count) weights and \(bias.count) biases for \(inputs)→\(outputs)")
            precondition(slopes.isEmpty || slopes.count == outputs,
                         "InferenceModel.Layer: \(slopes.count) slopes for \(outputs) outputs")
            self.inputs = inputs
            self.outputs = outputs
            self.weight = weight
            self.bias = bias
            self.activation = activation
            self.layerNorm = layerNorm
            self.slopes = slopes
            self.shortcut = shortcut
            if case .projection(let p) = shortcut {
                precondition(p.count == inputs * outputs,
                             "InferenceModel.Layer: \(p.count) projection weights for \(inputs)→\(outputs)")
            } else if shortcut == .identity {
                precondition(inputs == outputs, "InferenceModel.Layer: an identity shortcut for \(inputs)→\(outputs)")
            }
        }

        /// y = f(z + b) in place over `z` [rows, outputs], fp32, with prelu's slopes (`Activation.applyWithBias`):
        /// `slopes`, or the layer's own when nil.
        func activate(_ z: MatrixView, bias: UnsafePointer<Float>, preActivation: MatrixView?, slopes: [Float]? = nil) {
            let slopes = slopes ?? self.slopes
            guard !slopes.isEmpty else {
                activation.applyWithBias(z, bias: bias, preActivation: preActivation, precision: .fp32)
                return
            }
            slopes.withUnsafeBufferPointer { a in
                activation.applyWithBias(z, bias: bias, preActivation: preActivation, precision: .fp32, slopes: a.baseAddress)
            }
        }

        /// f(z) for output `unit` alone, by the kernel the network runs (fp32), with the unit's own slope.
        func value(at z: Float, unit: Int) -> Float {
            guard slopes.indices.contains(unit) else { return activation.value(at: z) }
            var output: Float = 0
            var bias = z
            slopes.withUnsafeBufferPointer { a in
                withUnsafeMutablePointer(to: &output) { pointer in
                    activation.applyWithBias(MatrixView(base: pointer, rows: 1, columns: 1), bias: &bias, preActivation: nil,
                                             precision: .fp32, slopes: a.baseAddress.map { $0 + unit })
                }
            }
            return output
        }
    }

    /// What a residual layer adds to its output y = f(x Wᵀ + b) (`Network.Skip`): x itself, or x Pᵀ.
    public enum Shortcut: Sendable, Equatable {
        /// y + x (inputs == outputs).
        case identity
        /// y + x Pᵀ, P [outputs, inputs] row-major (nn.Linear(inputs, outputs, bias=False)'s weight).
        case projection([Float])
    }

    /// γ and β of a layer norm (nn.LayerNorm's weight and bias), [width] each.
    public struct LayerNormAffine: Sendable, Equatable {
        public var scale: [Float]
        public var shift: [Float]

        public init(scale: [Float], shift: [Float]) {
            self.scale = scale
            self.shift = shift
        }
    }

    public var normalizer: Normalizer
    public var layers: [Layer]
    public var targetScaling: TargetScaling?
    /// How raw input becomes the normaliser's input (image pixels, or a table's columns).
    public var schema: InputSchema
    /// The classes by output index; `[]` for a regression model.
    public var classNames: [String]
    /// "784-256-128-10 gelu, batch norm (folded)": what the metadata says of the model.
    public var architecture: String
    /// The nntrain version that wrote the checkpoint.
    public var trainedWith: String
    /// The checkpoint's own CRC-32 of its data section (`nntrain.crc32`), eight hex digits: which
    /// checkpoint a file exported from it came from.
    public var fingerprint: String

    public init(normalizer: Normalizer, layers: [Layer], targetScaling: TargetScaling?, schema: InputSchema,
                classNames: [String], architecture: String, trainedWith: String, fingerprint: String) {
        self.normalizer = normalizer
        self.layers = layers
        self.targetScaling = targetScaling
        self.schema = schema
        self.classNames = classNames
        self.architecture = architecture
        self.trainedWith = trainedWith
        self.fingerprint = fingerprint
    }

    public var task: PredictionTask { classNames.isEmpty ? .regression : .classification }
    public var inputWidth: Int { layers.first?.inputs ?? normalizer.scale.count }
    public var outputWidth: Int { layers.last?.outputs ?? 0 }

    /// The checkpoint at `path`, read and checked as `nntrain eval` reads it, in inference form.
    public init(checkpointPath path: String) throws(NNTrainError) {
        let file = try CheckpointFile.read(path: path)
        let checkpoint = try Checkpoint(contents: file, path: path)
        try self.init(checkpoint: checkpoint, fingerprint: file.metadata[CheckpointFile.checksumKey] ?? "", path: path)
    }

    /// `checkpoint`'s model in inference form; `path` names it in errors.
    public init(checkpoint: Checkpoint, fingerprint: String, path: String) throws(NNTrainError) {
        let configuration = try checkpoint.configuration(path: path)
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: configuration, path: path)
        guard checkpoint.normalizer.scale.count == network.inputWidth else {
            throw .data(path, "its normaliser has \(checkpoint.normalizer.scale.count) features but the model takes "
                + "\(network.inputWidth) inputs; expected a checkpoint written by nntrain run")
        }
        let values = network.parameters.values.base
        func array(_ tensor: ParameterStore.Tensor) -> [Float] {
            Array(UnsafeBufferPointer(start: values + tensor.offset, count: tensor.count))
        }
        var layers: [Layer] = []
        var inferenceIndex: [Int] = []  // per network layer, the inference layer it ends up in (-1: before any)
        for layer in network.layers {
            defer { inferenceIndex.append(layers.count - 1) }
            switch layer {
            case let dense as Dense:
                layers.append(Layer(inputs: dense.inputWidth, outputs: dense.outputWidth, weight: array(dense.weight),
                                    bias: array(dense.bias), activation: dense.activation))
            case let norm as BatchNorm:
                guard let last = layers.popLast() else {
                    throw .data(path, "a batch norm comes before any linear layer; expected a checkpoint written by nntrain run")
                }
                layers.append(Self.folding(norm, gamma: array(norm.scale), beta: array(norm.shift), into: last))
            case let norm as LayerNorm:
                guard var last = layers.popLast(), last.outputs == norm.inputWidth, last.layerNorm == nil else {
                    throw .data(path, "a layer norm does not follow a linear layer of its width; expected a checkpoint "
                        + "written by nntrain run")
                }
                last.layerNorm = LayerNormAffine(scale: array(norm.scale), shift: array(norm.shift))
                last.activation = norm.activation
                layers.append(last)
            case let prelu as PReLU:
                guard var last = layers.popLast(), last.outputs == prelu.inputWidth else {
                    throw .data(path, "a prelu does not follow a linear layer of its width; expected a checkpoint written "
                        + "by nntrain run")
                }
                last.activation = configuration.model.activationFunction
                last.slopes = array(prelu.slope)
                layers.append(last)
            case is Dropout, is TargetAffine:
                continue  // dropout is the identity in evaluation; the target affine is `targetScaling`
            default:
                throw .data(path, "its model has a layer export cannot express (\(type(of: layer))); expected linear "
                    + "layers, batch or layer norms, activations and dropout")
            }
        }
        for skip in network.skips {
            let k = inferenceIndex[skip.to]
            guard k >= 1, inferenceIndex[skip.from] == k - 1, layers[k].inputs == layers[k].outputs || skip.projection != nil
            else {
                throw .data(path, "a skip connection does not span one linear layer; expected a checkpoint written by "
                    + "nntrain run")
            }
            layers[k].shortcut = skip.projection.map { .projection(array($0)) } ?? .identity
        }
        var architecture = checkpoint.architecture
        if !checkpoint.batchNormNames.isEmpty { architecture += ", batch norm (folded)" }
        if configuration.pruning.method == .neurons {
            layers = Self.droppingPrunedUnits(layers, pruned: Self.prunedUnits(layers, masks: checkpoint.state.pruningMasks))
            architecture += " (pruned: " + ([layers.first?.inputs ?? 0] + layers.map(\.outputs)).map(String.init)
                .joined(separator: "-") + ")"
        }
        self.init(normalizer: checkpoint.normalizer, layers: layers, targetScaling: checkpoint.targetScaling,
                  schema: checkpoint.inputSchema, classNames: checkpoint.classNames, architecture: architecture,
                  trainedWith: checkpoint.nntrainVersion, fingerprint: fingerprint)
    }

    /// `linear` followed by `norm` in evaluation mode, as one linear layer with `norm`'s activation.
    static func folding(_ norm: BatchNorm, gamma: [Float], beta: [Float], into linear: Layer) -> Layer {
        var folded = linear
        for j in 0..<linear.outputs {
            let a = Double(gamma[j]) / (Double(norm.runningVariance[j]) + Double(BatchNorm.epsilon)).squareRoot()
            for i in 0..<linear.inputs {
                folded.weight[j * linear.inputs + i] = Float(a * Double(linear.weight[j * linear.inputs + i]))
            }
            folded.bias[j] = Float(a * (Double(linear.bias[j]) - Double(norm.runningMean[j])) + Double(beta[j]))
        }
        folded.activation = norm.activation
        return folded
    }

    /// The hidden units `neurons` pruning removed, by layer index: the rows of `layers.<k>.weight_mask`
    /// that are all zero, for every layer but the last (whose outputs are the model's).
    static func prunedUnits(_ layers: [Layer], masks: [String: [Float]]) -> [Int: Set<Int>] {
        var pruned: [Int: Set<Int>] = [:]
        for (k, layer) in layers.enumerated().dropLast() {
            guard let mask = masks["layers.\(k).weight_mask"], mask.count == layer.outputs * layer.inputs else { continue }
            let rows = (0..<layer.outputs).filter { j in
                mask[(j * layer.inputs)..<((j + 1) * layer.inputs)].allSatisfy { $0 == 0 }
            }
            if !rows.isEmpty { pruned[k] = Set(rows) }
        }
        return pruned
    }

    /// `layers` without the hidden units `pruned` names, computing the same function. A pruned unit j
    /// of layer k has a zero weight row, so its output is the constant c_j = f(b'_j) (b' its bias after
    /// batch-norm folding, f layer k's activation, prelu with unit j's slope, computed by the network's own
    /// kernel; the unit's slope goes with it); layer k+1
    /// then receives W_{k+1}[:, j]·c_j whatever the input, which is added to its bias, and row j of
    /// layer k and column j of layer k+1 are dropped: y_{k+1} = W'x' + (b + Σ_j W[:, j]·c_j). With
    /// the next layer's columns masked as `Pruner` masks them the added term is zero; the fold makes
    /// the result exact whatever the columns hold (up to the order of the float sums). A layer keeps
    /// at least one unit.
    static func droppingPrunedUnits(_ layers: [Layer], pruned: [Int: Set<Int>]) -> [Layer] {
        var layers = layers
        for k in pruned.keys.sorted() where k + 1 < layers.count {
            let layer = layers[k], next = layers[k + 1]
            var dropped = (pruned[k] ?? []).filter { $0 < layer.outputs }
            if dropped.count == layer.outputs, let keep = dropped.min() { dropped.remove(keep) }
            guard !dropped.isEmpty else { continue }
            let kept = (0..<layer.outputs).filter { !dropped.contains($0) }
            var nextBias = next.bias.map(Double.init)
            for j in dropped.sorted() {
                let constant = Double(layer.value(at: layer.bias[j], unit: j))
                for output in 0..<next.outputs {
                    nextBias[output] += Double(next.weight[output * next.inputs + j]) * constant
                }
            }
            layers[k] = Layer(inputs: layer.inputs, outputs: kept.count,
                              weight: kept.flatMap { j in layer.weight[(j * layer.inputs)..<((j + 1) * layer.inputs)] },
                              bias: kept.map { layer.bias[$0] }, activation: layer.activation,
                              slopes: layer.slopes.isEmpty ? [] : kept.map { layer.slopes[$0] })
            let nextWeight = (0..<next.outputs).flatMap { output in kept.map { next.weight[output * next.inputs + $0] } }
            layers[k + 1] = Layer(inputs: kept.count, outputs: next.outputs, weight: nextWeight,
                                  bias: nextBias.map(Float.init), activation: next.activation, slopes: next.slopes)
        }
        return layers
    }
}

extension Activation {
    /// f(z) for one value, by the kernel the network runs (fp32): z = 0 plus a bias of `z`.
    func value(at z: Float) -> Float {
        var output: Float = 0
        var bias = z
        withUnsafeMutablePointer(to: &output) { pointer in
            applyWithBias(MatrixView(base: pointer, rows: 1, columns: 1), bias: &bias, preActivation: nil, precision: .fp32)
        }
        return output
    }
}
