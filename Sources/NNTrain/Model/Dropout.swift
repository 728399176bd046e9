/// Inverted dropout (nn.Dropout): in training, each element is kept with probability 1 − p and
/// scaled by 1/(1 − p), or zeroed; in evaluation it passes through unchanged, so no rescaling is
/// needed at test time. Dropout is Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov,
/// "Dropout: A Simple Way to Prevent Neural Networks from Overfitting", JMLR 15 (2014); the paper
/// scales the weights by 1 − p at test time, which the inverted form moves into training.
///
///     training:  y = x ⊙ m,  m_ij = 1/(1 − p) with probability 1 − p, else 0;   dx = dy ⊙ m
///     eval:      y = x
///
/// The mask is drawn from the layer's own generator (its own stream of the run's seed), one
/// uniform per element in row-major order, so the same seed drops the same units. In mixed
/// precision the training output x·m is stored rounded (`Network` rounds dx).
public final class Dropout: Layer {
    public let inputWidth: Int
    public var outputWidth: Int { inputWidth }
    public let probability: Float
    /// The format the training output is rounded to; fp32 for plain training.
    public let precision: Precision
    /// The generator the masks are drawn from; a checkpoint carries its state.
    public var random: RandomGenerator
    /// The last training mask, m above.
    private var mask = FloatBuffer(count: 0)

    public init(width: Int, probability: Float, random: RandomGenerator, precision: Precision = .fp32) {
        inputWidth = width
        self.probability = probability
        self.random = random
        self.precision = precision
    }

    public func reserve(rows: Int) { mask = FloatBuffer(count: rows * inputWidth) }

    public func forward(_ x: MatrixView, into y: MatrixView, training: Bool) {
        let n = x.count, input = x.base, output = y.base
        guard training, probability > 0 else {
            output.update(from: input, count: n)
            return
        }
        let keep = 1 / (1 - probability), p = probability, m = mask.base
        for i in 0..<n {
            m[i] = random.nextUnitFloat() < p ? 0 : keep
            output[i] = input[i] * m[i]
        }
        precision.format?.round(output, count: n)
    }

    public func backward(input x: MatrixView, output y: MatrixView, outputGradient dy: MatrixView,
                         inputGradient dx: MatrixView?) {
        guard let dx else { return }
        let n = dy.count, g = dy.base, m = mask.base, out = dx.base
        if probability > 0 {
            for i in 0..<n { out[i] = g[i] * m[i] }
        } else {
            out.update(from: g, count: n)
        }
    }
}
