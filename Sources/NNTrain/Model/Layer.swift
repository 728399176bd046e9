/// One stage of a network. A layer reads its input rows and writes its output rows into buffers
/// the `Network` owns and sizes once, so a training step allocates nothing.
///
/// Shapes: the input is `rows × inputWidth`, the output `rows × outputWidth`, row-major; `rows` is
/// the batch size (at most what `reserve(rows:)` was given).
public protocol Layer: AnyObject {
    var inputWidth: Int { get }
    var outputWidth: Int { get }

    /// Sizes the layer's own per-row scratch buffers for batches of up to `rows` rows.
    func reserve(rows: Int)

    /// y = layer(x). `training` distinguishes train from eval mode (dropout, batch norm). In mixed
    /// precision (see `Precision`) x arrives rounded and y is stored rounded.
    func forward(_ x: MatrixView, into y: MatrixView, training: Bool)

    /// Back-propagation. Given x, y and dL/dy (which the layer may overwrite as scratch), sets
    /// the gradients of the layer's parameters and, when `inputGradient` is given, dL/dx.
    func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                  inputGradient dx: MatrixView?)
}

/// A layer with parameters of its own (`Dense`, `BatchNorm`, `LayerNorm`, `PReLU`), which `training.freeze`
/// can freeze (`Network.freeze(layers:)`), as a PyTorch user sets `requires_grad_(False)` on a module.
public protocol TrainableLayer: Layer {
    /// The linear layer its parameters go with, the `<i>` of their names (`ParameterStore.Tensor.layer`).
    var layerIndex: Int { get }
    /// While true, back-propagation computes none of the layer's parameter gradients (they stay zero, and the
    /// optimizer skips them), though it still passes dL/dx on when asked; a batch norm normalises with its
    /// running statistics and leaves them as they are (eval mode, as fastai freezes a batch norm).
    var frozen: Bool { get set }
}
