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
