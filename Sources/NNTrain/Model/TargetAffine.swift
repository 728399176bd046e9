/// The parameter-free last step of a network trained on a standardised regression target
/// (`TargetScaling`): y = σ·z + μ for every element of the last linear layer's output z, so the
/// network's output, and everything computed from it, is in the target's units.
///
///     forward:   y = σ·z + μ     [B, out]
///     backward:  dz = σ·dy
///
/// In mixed precision (fp16, bf16) z arrives as the last linear layer stored it, rounded to the
/// low precision; the affine is computed and y stored in fp32 (as autocast leaves an fp32 loss's
/// inputs: σ·z + μ could leave fp16's range, where an fp16 y would be inf). dz is rounded by
/// `Network`, as every layer's dL/dx is. It has no state and no parameters, so checkpoints hold
/// only σ and μ (`target.scale`, `target.shift`), never a tensor of this layer.
public final class TargetAffine: Layer {
    public let inputWidth: Int
    public var outputWidth: Int { inputWidth }
    public let scaling: TargetScaling

    public init(width: Int, scaling: TargetScaling) {
        inputWidth = width
        self.scaling = scaling
    }

    public func reserve(rows: Int) {}

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        let input = x.base, output = y.base
        for i in 0..<x.count { output[i] = scaling.apply(input[i]) }
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        guard let dx else { return }
        let gradient = dy.base, result = dx.base, scale = scaling.scale
        for i in 0..<dy.count { result[i] = scale * gradient[i] }
    }
}
