import Foundation

/// The targets of one batch, gathered into buffers the trainer owns.
public enum TargetBatch {
    /// Class indices, one per row.
    case classes(UnsafePointer<Int32>)
    /// Mixup's two labels per row and the weight λ of the first: the target is λ·onehot(a) + (1 − λ)·onehot(b).
    case mixedClasses(UnsafePointer<Int32>, partners: UnsafePointer<Int32>, lambda: Float)
    /// Regression targets, one per row per output.
    case values(UnsafePointer<Float>)
}

/// What a loss reports for one batch: the sum over rows (so epoch means weight every row equally,
/// whatever the batch sizes) and, for classification, how many rows were predicted right (under
/// mixup, λ for a prediction of the first label plus 1 − λ for the second).
public struct LossSums: Equatable, Sendable, Codable {
    public var loss: Double = 0
    public var correct: Double = 0
    public var rows: Int = 0

    /// The memberwise initialiser, visible to the package's other modules (the kernel benchmarks).
    package init(loss: Double = 0, correct: Double = 0, rows: Int = 0) {
        self.loss = loss
        self.correct = correct
        self.rows = rows
    }
}

/// The training objectives, each fused with its gradient so the output is read once. B is the
/// number of rows, K the number of outputs per row, d = ŷ − y.
public enum Loss: Equatable, Sendable {
    /// Softmax cross-entropy over class logits z with label smoothing ε (nn.CrossEntropyLoss with
    /// label_smoothing, reduction "mean"): the target distribution is q = (1 − ε)·onehot(y) + ε/C,
    /// label-smoothing regularisation as Szegedy, Vanhoucke, Ioffe, Shlens & Wojna define it in
    /// "Rethinking the Inception Architecture for Computer Vision", CVPR 2016 (arXiv:1512.00567), section 7,
    ///
    ///     ℓᵢ = log Σ_c exp(z_ic) − Σ_c q_ic·z_ic          L = (1/B) Σᵢ ℓᵢ
    ///     ∂L/∂z_ic = (softmax(zᵢ)_c − q_ic) / B
    ///
    /// (for ε = 0, ℓᵢ = logsumexp(zᵢ) − z_i,yᵢ), with the row maximum subtracted before exp. Under
    /// mixup, onehot(y) is λ·onehot(a) + (1 − λ)·onehot(b), which equals λ·ℓ(a) + (1 − λ)·ℓ(b).
    case crossEntropy(labelSmoothing: Float)
    /// `crossEntropy` with class weights w (nn.CrossEntropyLoss(weight=w, label_smoothing=ε), reduction
    /// "mean"), as `cross_entropy_loss_label_smoothing` (aten/src/ATen/native/LossNLL.cpp) computes it: with
    /// log p = log_softmax(z), C classes, W = Σᵢ w_yᵢ and S = Σ_c w_c,
    ///
    ///     L(y) = (1 − ε) · Σᵢ w_yᵢ·(−log p_iyᵢ) / W  +  (ε/C) · Σᵢ Σ_c w_c·(−log p_ic) / W
    ///     ∂L/∂z_ic = [(1 − ε)·w_yᵢ·(p_ic − [c = yᵢ]) + (ε/C)·(S·p_ic − w_c)] / W
    ///
    /// (nll_loss's weighted mean, and the smoothing term torch divides by the same W). Under mixup the
    /// loss is λ·L(a) + (1 − λ)·L(b), each term with its own W, as a PyTorch user writes
    /// `lam * criterion(out, y_a) + (1 - lam) * criterion(out, y_b)`. The batch's loss is not a sum of
    /// row terms, so each row adds B times its share of L, and a batch's rows add to B·L (`LossSums`' sum).
    case weightedCrossEntropy(labelSmoothing: Float, weights: [Float])
    /// Mean squared error (nn.MSELoss): L = (1/(B·K)) Σ d²,  ∂L/∂ŷ = 2d/(B·K).
    case mse
    /// Mean absolute error (nn.L1Loss): L = (1/(B·K)) Σ |d|,  ∂L/∂ŷ = sign(d)/(B·K), sign(0) = 0.
    case mae
    /// Huber loss (nn.HuberLoss) with threshold δ: h(d) = ½d² if |d| < δ, else δ(|d| − ½δ);
    /// L = (1/(B·K)) Σ h(d),  ∂L/∂ŷ = (d if |d| < δ, else δ·sign(d)) / (B·K).
    case huber(delta: Float)

    /// The loss of `kind`; `classWeights` (one per class) makes cross-entropy `weightedCrossEntropy`.
    public init(_ kind: LossKind, labelSmoothing: Double = 0, huberDelta: Double = 1, classWeights: [Double]? = nil) {
        switch kind {
        case .crossEntropy:
            if let classWeights {
                self = .weightedCrossEntropy(labelSmoothing: Float(labelSmoothing), weights: classWeights.map(Float.init))
            } else {
                self = .crossEntropy(labelSmoothing: Float(labelSmoothing))
            }
        case .mse: self = .mse
        case .mae: self = .mae
        case .huber: self = .huber(delta: Float(huberDelta))
        }
    }

    /// Adds this batch's sums to `sums`, and writes ∂L/∂output (of the batch-mean loss) into
    /// `gradient` when it is given (same shape as `output`). Each row's reported loss is its mean
    /// over the K outputs, so that epoch sums divide to the same mean as L.
    public func evaluate(output: MatrixView, targets: TargetBatch, gradient: MatrixView?, into sums: inout LossSums) {
        switch (self, targets) {
        case (.crossEntropy(let smoothing), .classes(let labels)):
            Self.crossEntropy(output, labels, labels, lambda: 1, smoothing: smoothing, gradient, &sums)
        case (.crossEntropy(let smoothing), .mixedClasses(let labels, let partners, let lambda)):
            Self.crossEntropy(output, labels, partners, lambda: lambda, smoothing: smoothing, gradient, &sums)
        case (.weightedCrossEntropy(let smoothing, let weights), .classes(let labels)):
            Self.weightedCrossEntropy(output, labels, labels, lambda: 1, smoothing: smoothing, weights: weights, gradient, &sums)
        case (.weightedCrossEntropy(let smoothing, let weights), .mixedClasses(let labels, let partners, let lambda)):
            Self.weightedCrossEntropy(output, labels, partners, lambda: lambda, smoothing: smoothing, weights: weights,
                                      gradient, &sums)
        case (.mse, .values(let y)):
            Self.elementwise(output, y, gradient, &sums) { d in (d * d, 2 * d) }
        case (.mae, .values(let y)):
            Self.elementwise(output, y, gradient, &sums) { d in (abs(d), d > 0 ? 1 : (d < 0 ? -1 : 0)) }
        case (.huber(let delta), .values(let y)):
            Self.elementwise(output, y, gradient, &sums) { d in
                abs(d) < delta ? (0.5 * d * d, d) : (delta * (abs(d) - 0.5 * delta), d > 0 ? delta : -delta)
            }
        case (.crossEntropy, .values), (.weightedCrossEntropy, .values), (.mse, _), (.mae, _), (.huber, _):
            preconditionFailure("loss and targets disagree; Configuration validation rules this out")
        }
        sums.rows += output.rows
    }

    private static func crossEntropy(
        _ output: MatrixView, _ labels: UnsafePointer<Int32>, _ partners: UnsafePointer<Int32>, lambda: Float,
        smoothing: Float, _ gradient: MatrixView?, _ sums: inout LossSums
    ) {
        let rows = output.rows, width = output.columns
        let invRows = 1 / Float(rows), uniform = smoothing / Float(width), keep = 1 - smoothing
        for i in 0..<rows {
            let z = output.base + i * width
            let a = Int(labels[i]), b = Int(partners[i])
            var maxValue = z[0], argmax = 0
            for c in 1..<max(width, 1) where z[c] > maxValue { maxValue = z[c]; argmax = c }
            var sumExp: Float = 0, sumLogits: Float = 0
            for c in 0..<width {
                sumExp += expf(z[c] - maxValue)
                sumLogits += z[c]
            }
            let logSumExp = maxValue + logf(sumExp)
            // Σ_c q_c z_c with q = keep·(λ·onehot(a) + (1 − λ)·onehot(b)) + uniform.
            let targetLogit = keep * (lambda * z[a] + (1 - lambda) * z[b]) + uniform * sumLogits
            sums.loss += Double(logSumExp - targetLogit)
            if argmax == a { sums.correct += Double(lambda) }
            if argmax == b { sums.correct += Double(1 - lambda) }
            if let gradient {
                let g = gradient.base + i * width
                for c in 0..<width { g[c] = (expf(z[c] - logSumExp) - uniform) * invRows }
                g[a] -= keep * lambda * invRows
                g[b] -= keep * (1 - lambda) * invRows
            }
        }
    }

    /// `weightedCrossEntropy`'s sums and gradient (see the case); W_a and W_b, the label weights' sums of the
    /// batch, are added first so each row's gradient is written in one pass.
    private static func weightedCrossEntropy(
        _ output: MatrixView, _ labels: UnsafePointer<Int32>, _ partners: UnsafePointer<Int32>, lambda: Float,
        smoothing: Float, weights w: [Float], _ gradient: MatrixView?, _ sums: inout LossSums
    ) {
        let rows = output.rows, width = output.columns
        guard rows > 0, w.count == width else { return }
        var weightA: Float = 0, weightB: Float = 0, weightSum: Float = 0
        for i in 0..<rows {
            weightA += w[Int(labels[i])]
            weightB += w[Int(partners[i])]
        }
        for c in 0..<width { weightSum += w[c] }
        // λ/W_a and (1 − λ)/W_b; a batch whose labels all weigh 0 gives 0/0 in torch (NaN), here no gradient.
        let scaleA = weightA > 0 ? lambda / weightA : 0, scaleB = weightB > 0 ? (1 - lambda) / weightB : 0
        let keep = 1 - smoothing, perClass = smoothing / Float(width)
        for i in 0..<rows {
            let z = output.base + i * width
            let a = Int(labels[i]), b = Int(partners[i])
            var maxValue = z[0], argmax = 0
            for c in 1..<max(width, 1) where z[c] > maxValue { maxValue = z[c]; argmax = c }
            var sumExp: Float = 0
            for c in 0..<width { sumExp += expf(z[c] - maxValue) }
            let logSumExp = maxValue + logf(sumExp)
            // Σ_c w_c·(−log p_ic), the smoothing term's row sum.
            var smoothSum: Float = 0
            for c in 0..<width { smoothSum += w[c] * (logSumExp - z[c]) }
            let termA = keep * w[a] * (logSumExp - z[a]) + perClass * smoothSum
            let termB = keep * w[b] * (logSumExp - z[b]) + perClass * smoothSum
            sums.loss += Double(rows) * (Double(scaleA) * Double(termA) + Double(scaleB) * Double(termB))
            if argmax == a { sums.correct += Double(lambda) }
            if argmax == b { sums.correct += Double(1 - lambda) }
            if let gradient {
                let g = gradient.base + i * width
                let scaleSum = scaleA + scaleB
                for c in 0..<width {
                    let p = expf(z[c] - logSumExp)
                    g[c] = scaleSum * perClass * (weightSum * p - w[c])
                        + scaleA * keep * w[a] * p + scaleB * keep * w[b] * p
                }
                g[a] -= scaleA * keep * w[a]
                g[b] -= scaleB * keep * w[b]
            }
        }
    }

    /// A loss that is a mean of per-element terms: `term(d)` gives (value, ∂value/∂d).
    @inline(__always)
    private static func elementwise(
        _ output: MatrixView, _ y: UnsafePointer<Float>, _ gradient: MatrixView?, _ sums: inout LossSums,
        _ term: (Float) -> (value: Float, derivative: Float)
    ) {
        let rows = output.rows, width = output.columns, scale = 1 / Float(rows * width)
        for i in 0..<rows {
            var rowSum: Float = 0
            for k in 0..<width {
                let index = i * width + k
                let (value, derivative) = term(output.base[index] - y[index])
                rowSum += value
                gradient?.base[index] = scale * derivative
            }
            sums.loss += Double(rowSum) / Double(width)
        }
    }
}
