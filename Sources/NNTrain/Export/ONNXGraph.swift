import Foundation

/// The nodes and initializers of an ONNX graph being laid out, with unique tensor names: what
/// `ONNXExport` builds a model's graph (or an ensemble's) into.
///
/// Every tensor has one name in the graph (ONNX's single-assignment rule); a name asked for that is
/// taken (a graph input or output reserved up front, or a tensor made before) gets `_2`, `_3`, ...
/// Each node is named as its output. Initializers store their elements in `raw_data`,
/// little-endian, as the specification has it for fixed-width types.
struct ONNXGraph {
    /// The TensorProto.DataType values export writes.
    enum DataType: Int32 {
        case float = 1
        case uint8 = 2
        case int8 = 3
        case string = 8
        case float16 = 10
    }

    /// The domain of ONNX's traditional machine-learning operators (Imputer, OneHotEncoder).
    static let mlDomain = "ai.onnx.ml"

    /// The default domain's opset the graph is written for.
    let opset: Int
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    /// Whether a node of `mlDomain` was added (the model must then import that domain).
    private(set) var usesMLDomain = false
    private var taken: Set<String>

    /// An empty graph for `opset` in which `reserved` (its inputs and outputs) are not given to any
    /// other tensor.
    init(opset: Int, reserving reserved: [String]) {
        self.opset = opset
        self.taken = Set(reserved)
    }

    /// `base`, or `base_2`, `base_3`, ... the first not taken; taken from now on.
    private mutating func uniqueName(_ base: String) -> String {
        var name = base
        var suffix = 2
        while taken.contains(name) {
            name = "\(base)_\(suffix)"
            suffix += 1
        }
        taken.insert(name)
        return name
    }

    /// Adds the node `op`(inputs) and returns its output's name (`output` or its unique variant).
    mutating func node(_ op: String, _ inputs: [String], output: String, domain: String = "",
                       attributes: [Onnx_AttributeProto] = []) -> String {
        var node = Onnx_NodeProto()
        node.opType = op
        node.domain = domain
        node.input = inputs
        let name = uniqueName(output)
        node.output = [name]
        node.name = name
        node.attribute = attributes
        nodes.append(node)
        if domain == Self.mlDomain { usesMLDomain = true }
        return name
    }

    /// Makes the tensor `tensor` the graph output `output` (a name reserved at `init`): the last node's
    /// output renamed when it made `tensor`, an Identity node otherwise.
    mutating func nameOutput(_ tensor: String, as output: String) {
        if let last = nodes.indices.last, nodes[last].output == [tensor] {
            nodes[last].output = [output]
            nodes[last].name = output
        } else {
            var node = Onnx_NodeProto()
            node.opType = "Identity"
            node.input = [tensor]
            node.output = [output]
            node.name = output
            nodes.append(node)
        }
    }

    /// A float32 initializer of `shape` ([] a scalar) holding `values` (row-major).
    mutating func floats(_ name: String, _ values: [Float], shape: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            bytes += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                      UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        return tensor(name, type: .float, bytes: bytes, shape: shape)
    }

    /// A float16 initializer of `values` each rounded to the nearest binary16 (ties to even, as
    /// `Binary16.rounded` and PyTorch's `Tensor.half()`; beyond 65504 infinity).
    mutating func halves(_ name: String, _ values: [Float], shape: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 2)
        for value in values {
            let bits = Float16(value).bitPattern
            bytes += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)]
        }
        return tensor(name, type: .float16, bytes: bytes, shape: shape)
    }

    /// An initializer of `type` whose little-endian elements are `bytes`.
    mutating func tensor(_ name: String, type: DataType, bytes: [UInt8], shape: [Int]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = uniqueName(name)
        tensor.dataType = type.rawValue
        tensor.dims = shape.map(Int64.init)
        tensor.rawData = Data(bytes)
        initializers.append(tensor)
        return tensor.name
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Self {
        var attribute = Self()
        (attribute.name, attribute.type, attribute.i) = (name, .int, Int64(value))
        return attribute
    }

    static func float(_ name: String, _ value: Float) -> Self {
        var attribute = Self()
        (attribute.name, attribute.type, attribute.f) = (name, .float, value)
        return attribute
    }

    static func floats(_ name: String, _ values: [Float]) -> Self {
        var attribute = Self()
        (attribute.name, attribute.type, attribute.floats) = (name, .floats, values)
        return attribute
    }

    static func ints(_ name: String, _ values: [Int]) -> Self {
        var attribute = Self()
        (attribute.name, attribute.type, attribute.ints) = (name, .ints, values.map(Int64.init))
        return attribute
    }

    static func string(_ name: String, _ value: String) -> Self {
        var attribute = Self()
        (attribute.name, attribute.type, attribute.s) = (name, .string, Data(value.utf8))
        return attribute
    }

    static func strings(_ name: String, _ values: [String]) -> Self {
        var attribute = Self()
        (attribute.name, attribute.type, attribute.strings) = (name, .strings, values.map { Data($0.utf8) })
        return attribute
    }
}
