/// Every trainable parameter of a model in one flat buffer, with a gradient buffer of the same
/// layout (as llm.c does): the optimizer is one loop over contiguous memory, clipping one norm,
/// and a checkpoint one write.
public final class ParameterStore {
    /// One named tensor inside the flat buffers, e.g. `layers.0.weight` of shape [256, 784].
    public struct Tensor: Equatable, Sendable {
        /// What the tensor is: a linear layer's weight or bias, a batch or layer norm's scale γ or shift β, a
        /// PReLU's learned negative slopes (`PReLU`), or a residual block's projection P (`shortcuts.<i>.weight`;
        /// a weight for decay and mixed precision, not pruned).
        public enum Role: String, Sendable {
            case weight, bias, normScale, normShift, slope, shortcut
            public var isBatchNorm: Bool { self == .normScale || self == .normShift }
            /// Whether weight decay (and the L1 penalty) reach it: never a PReLU slope, a batch norm's
            /// parameters only when `decayBatchNorm`.
            func takesWeightDecay(decayBatchNorm: Bool) -> Bool {
                switch self {
                case .weight, .bias, .shortcut: true
                case .normScale, .normShift: decayBatchNorm
                case .slope: false
                }
            }
        }
        public var name: String
        public var shape: [Int]
        public var role: Role
        /// Index of the tensor's first element in `values` and `gradients`.
        public var offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// The linear layer the tensor belongs to, the `<i>` of its name: `layers.<i>.*`, and the norm
        /// (`norms.<i>.*`), PReLU slopes (`activations.<i>.weight`) and residual projection (`shortcuts.<i>.weight`)
        /// that go with linear layer i. What `training.freeze` and `optimizer.layer_lr` index.
        public var layer: Int? {
            let parts = name.split(separator: ".")
            return parts.count >= 2 ? Int(parts[1]) : nil
        }
    }

    public let tensors: [Tensor]
    public let values: FloatBuffer
    public let gradients: FloatBuffer

    /// Lays out `specs` (name, shape, role) one after another.
    public init(_ specs: [(name: String, shape: [Int], role: Tensor.Role)]) {
        var offset = 0
        var tensors: [Tensor] = []
        for spec in specs {
            let tensor = Tensor(name: spec.name, shape: spec.shape, role: spec.role, offset: offset)
            tensors.append(tensor)
            offset += tensor.count
        }
        self.tensors = tensors
        values = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset)
    }

    /// Total number of scalar parameters.
    public var count: Int { tensors.last.map { $0.offset + $0.count } ?? 0 }

    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// The runs of the flat buffer for an optimizer: weight decay (and the L1 penalty) apply to
    /// linear layers' weights and biases, to batch-norm parameters only when `decayBatchNorm`, and never
    /// to PReLU slopes (a torch user puts nn.PReLU's weight in a param group with weight_decay 0, as He
    /// et al. 2015, section 2.1, advise: decay would push the slopes towards 0, towards relu).
    /// Consecutive tensors with the same answer are merged into one run; `byLayer` also keeps tensors of
    /// different linear layers (`Tensor.layer`) apart, each group saying its layer, for the trainer to freeze
    /// layers or give them their own learning rates.
    public func groups(decayBatchNorm: Bool, byLayer: Bool = false) -> [ParameterGroup] {
        var groups: [ParameterGroup] = []
        for tensor in tensors {
            let decays = tensor.role.takesWeightDecay(decayBatchNorm: decayBatchNorm)
            let range = tensor.offset..<(tensor.offset + tensor.count)
            let layer = byLayer ? tensor.layer : nil
            if let last = groups.last, last.weightDecay == decays, last.layer == layer,
               last.range.upperBound == range.lowerBound {
                groups[groups.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                groups.append(ParameterGroup(range: range, weightDecay: decays, layer: layer))
            }
        }
        return groups
    }

    /// The values of one tensor, as an array (for reports and tests; not for the hot path).
    public func valuesArray(of tensor: Tensor) -> [Float] {
        Array(UnsafeBufferPointer(start: values.base + tensor.offset, count: tensor.count))
    }
}
