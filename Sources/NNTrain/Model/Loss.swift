import Foundation

/// The targets of one batch, gathered into buffers the trainer owns.
public enum TargetBatch {
    /// Class indices, one per row.
    case classes(UnsafePointer<Int32>)
    /// Regression targets, one per row per output.
    case values(UnsafePointer<Float>)
}

/// What a loss reports for one batch: the sum over rows (so epoch means weight every row equally,
/// whatever the batch sizes) and, for classification, how many rows were predicted right.
public struct LossSums: Equatable {
    public var loss: Double = 0
    public var correct: Int = 0
    public var rows: Int = 0
}

/// The training objectives, each fused with its gradient so the output is read once.
public enum Loss: Equatable, Sendable {
    /// Softmax cross-entropy over class logits z (nn.CrossEntropyLoss, reduction "mean"):
    ///
    ///     ℓᵢ = log Σ_c exp(z_ic) − z_i,yᵢ            L = (1/B) Σᵢ ℓᵢ
    ///     ∂L/∂z_ic = (softmax(zᵢ)_c − [c = yᵢ]) / B
    ///
    /// computed with the row maximum subtracted first, so no exp overflows.
    case crossEntropy
    /// Mean squared error (nn.MSELoss, reduction "mean") over B rows × K outputs:
    ///
    ///     L = (1/(B·K)) Σᵢₖ (ŷ_ik − y_ik)²        ∂L/∂ŷ_ik = 2(ŷ_ik − y_ik) / (B·K)
    ///
    /// The sum reported per row is Σₖ(ŷ − y)²/K, so epoch sums divide to the same mean.
    case mse

    public init(_ kind: LossKind) {
        switch kind {
        case .crossEntropy: self = .crossEntropy
        case .mse: self = .mse
        }
    }

    /// Adds this batch's sums to `sums`, and writes ∂L/∂output (of the batch-mean loss) into
    /// `gradient` when it is given (same shape as `output`).
    public func evaluate(output: MatrixView, targets: TargetBatch, gradient: MatrixView?, into sums: inout LossSums) {
        let rows = output.rows, width = output.columns
        let invRows = 1 / Float(rows)
        switch (self, targets) {
        case (.crossEntropy, .classes(let labels)):
            for i in 0..<rows {
                let z = output.base + i * width
                let label = Int(labels[i])
                var maxValue = z[0], argmax = 0
                for c in 1..<width where z[c] > maxValue { maxValue = z[c]; argmax = c }
                var sumExp: Float = 0
                for c in 0..<width { sumExp += expf(z[c] - maxValue) }
                let logSumExp = maxValue + logf(sumExp)
                sums.loss += Double(logSumExp - z[label])
                if argmax == label { sums.correct += 1 }
                if let gradient {
                    let g = gradient.base + i * width
                    for c in 0..<width { g[c] = expf(z[c] - logSumExp) * invRows }
                    g[label] -= invRows
                }
            }
        case (.mse, .values(let y)):
            let scale = 2 / Float(rows * width)
            for i in 0..<rows {
                var rowSum: Float = 0
                for k in 0..<width {
                    let diff = output.base[i * width + k] - y[i * width + k]
                    rowSum += diff * diff
                    gradient?.base[i * width + k] = scale * diff
                }
                sums.loss += Double(rowSum) / Double(width)
            }
        case (.crossEntropy, .values), (.mse, .classes):
            preconditionFailure("loss and targets disagree; Configuration validation rules this out")
        }
        sums.rows += rows
    }
}
