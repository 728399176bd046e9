/// A stack of layers applied in order, with every intermediate buffer owned here and sized once
/// for the largest batch (`reserve(rows:)`), so that forward and backward passes allocate nothing.
///
/// The multilayer perceptron of a config is `Network.mlp`: Dense layers of widths
/// input → hidden… → output, the config's activation after each hidden layer and none after the
/// last (the loss takes raw logits or values, as nn.CrossEntropyLoss and nn.MSELoss do).
public final class Network {
    public let parameters: ParameterStore
    public let layers: [any Layer]
    /// outputs[i] holds layer i's output; gradients[i] holds dL/d(outputs[i]).
    private var outputs: [FloatBuffer] = []
    private var gradients: [FloatBuffer] = []
    public private(set) var rowCapacity = 0
    private var lastRows = 0

    init(parameters: ParameterStore, layers: [any Layer]) {
        self.parameters = parameters
        self.layers = layers
    }

    /// An MLP with PyTorch's parameter names (`layers.<i>.weight` [out, in], `layers.<i>.bias`
    /// [out]); parameters are zero until initialised (see `Initialization`).
    public static func mlp(inputWidth: Int, hidden: [Int], outputWidth: Int, activation: Activation) -> Network {
        let widths = [inputWidth] + hidden + [outputWidth]
        var specs: [(name: String, shape: [Int], role: ParameterStore.Tensor.Role)] = []
        for i in 0..<(widths.count - 1) {
            specs.append(("layers.\(i).weight", [widths[i + 1], widths[i]], .weight))
            specs.append(("layers.\(i).bias", [widths[i + 1]], .bias))
        }
        let store = ParameterStore(specs)
        let layers: [any Layer] = (0..<(widths.count - 1)).map { i in
            Dense(parameters: store, weight: store.tensors[2 * i], bias: store.tensors[2 * i + 1],
                  activation: i == widths.count - 2 ? .identity : activation)
        }
        return Network(parameters: store, layers: layers)
    }

    public var inputWidth: Int { layers.first?.inputWidth ?? 0 }
    public var outputWidth: Int { layers.last?.outputWidth ?? 0 }

    /// Sizes every buffer for batches of up to `rows` rows (a no-op when already large enough).
    public func reserve(rows: Int) {
        guard rows > rowCapacity else { return }
        rowCapacity = rows
        outputs = layers.map { FloatBuffer(count: rows * $0.outputWidth) }
        gradients = layers.map { FloatBuffer(count: rows * $0.outputWidth) }
        for layer in layers { layer.reserve(rows: rows) }
    }

    /// The network's output for the rows of `x` ([rows, inputWidth], rows ≤ rowCapacity).
    public func forward(_ x: MatrixView, training: Bool) -> MatrixView {
        precondition(x.rows <= rowCapacity && x.columns == inputWidth, "batch beyond the reserved shape")
        lastRows = x.rows
        var input = x
        for (i, layer) in layers.enumerated() {
            let output = outputs[i].matrix(rows: x.rows, columns: layer.outputWidth)
            layer.forward(input, into: output, training: training)
            input = output
        }
        return input
    }

    /// Where the loss writes dL/d(output) for the last forward pass, before `backward`.
    public var outputGradient: MatrixView {
        gradients[layers.count - 1].matrix(rows: lastRows, columns: outputWidth)
    }

    /// Sets every parameter gradient from `outputGradient`, for the input `x` of the last forward pass.
    public func backward(input x: MatrixView) {
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[i]
            let input = i == 0 ? x : outputs[i - 1].matrix(rows: lastRows, columns: layer.inputWidth)
            let output = outputs[i].matrix(rows: lastRows, columns: layer.outputWidth)
            let dInput = i == 0 ? nil : gradients[i - 1].matrix(rows: lastRows, columns: layer.inputWidth)
            layer.backward(input: input, output: output,
                           outputGradient: gradients[i].matrix(rows: lastRows, columns: layer.outputWidth),
                           inputGradient: dInput)
        }
    }
}
