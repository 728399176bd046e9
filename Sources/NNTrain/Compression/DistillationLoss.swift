import Foundation

/// Knowledge distillation's training objective: the student's own loss (`hard`, label smoothing and
/// mixup included as they are without a teacher) mixed with a term that pulls the student's outputs z_s
/// towards the teacher's, as Hinton, Vinyals & Dean define it in "Distilling the Knowledge in a Neural
/// Network" (2015, arXiv:1503.02531), section 2. B is the number of rows, K the outputs per row.
///
/// Classification, with p_t the teacher's softened probabilities softmax(z_t/T) (an ensemble's: the
/// mean over its members of softmax(z_m/T)) and q = softmax(z_s/T):
///
///     L = α·T²·KL(p_t ‖ q) + (1 − α)·CE(y, z_s)          KL(p ‖ q) = (1/B) Σᵢ Σ_c p_ic·(log p_ic − log q_ic)
///     ∂L/∂z_s = α·T·(q − p_t)/B + (1 − α)·∂CE/∂z_s
///
/// which is PyTorch's usual `F.kl_div(F.log_softmax(s/T, 1), F.softmax(t/T, 1), reduction="batchmean") * T * T`
/// (kl_div's `xlogy`: a zero p_ic adds nothing). The T² keeps the soft term's gradient of the order of
/// the hard term's as T changes (Hinton et al., end of section 2).
///
/// Regression, with z_t the teacher's outputs (an ensemble's mean), in the target's units as the
/// student's: L = α·MSE(z_s, z_t) + (1 − α)·loss(z_s, y), ∂/∂z_s of the first term 2α(z_s − z_t)/(B·K).
///
/// The reported loss is this L (per row: its share of the sum, each term averaged over K as `Loss`
/// reports); `correct` is the student's own, from `hard`.
public struct DistillationLoss: Equatable, Sendable {
    /// The student's own loss on the targets.
    public var hard: Loss
    /// T > 0: the softmax temperature of both sides (classification).
    public var temperature: Float
    /// α in [0, 1]: the weight of the teacher's term.
    public var alpha: Float

    public init(hard: Loss, temperature: Float, alpha: Float) {
        self.hard = hard
        self.temperature = temperature
        self.alpha = alpha
    }

    /// Whether the teacher side is probabilities (cross-entropy) rather than outputs (regression).
    public var usesProbabilities: Bool {
        switch hard {
        case .crossEntropy, .weightedCrossEntropy: true
        case .mse, .mae, .huber: false
        }
    }

    /// Adds this batch's sums to `sums` and writes ∂L/∂output into `gradient` when given (the shape of
    /// `output`). `teacher` is [B, K]: p_t for classification, z_t for regression (see `Teacher.outputs`).
    public func evaluate(output: MatrixView, teacher: MatrixView, targets: TargetBatch, gradient: MatrixView?,
                         into sums: inout LossSums) {
        precondition(teacher.rows == output.rows && teacher.columns == output.columns,
                     "DistillationLoss: teacher [\(teacher.rows), \(teacher.columns)] for [\(output.rows), \(output.columns)]")
        var own = LossSums()
        hard.evaluate(output: output, targets: targets, gradient: gradient, into: &own)
        let soft = usesProbabilities
            ? softTerm(output, teacher, gradient)
            : squaredTerm(output, teacher, gradient)
        sums.loss += Double(1 - alpha) * own.loss + Double(alpha) * soft
        sums.correct += own.correct
        sums.rows += own.rows
    }

    /// Σᵢ T²·KL(p_tᵢ ‖ qᵢ) (summed over rows); turns `gradient` (holding ∂CE/∂z) into ∂L/∂z.
    private func softTerm(_ output: MatrixView, _ teacher: MatrixView, _ gradient: MatrixView?) -> Double {
        let rows = output.rows, width = output.columns
        let inverseT = 1 / temperature, keep = 1 - alpha, softScale = alpha * temperature / Float(rows)
        var total: Double = 0
        for i in 0..<rows {
            let z = output.base + i * width, p = teacher.base + i * width
            var maxValue = -Float.infinity
            for c in 0..<width { maxValue = max(maxValue, z[c] * inverseT) }
            var sumExp: Float = 0
            for c in 0..<width { sumExp += expf(z[c] * inverseT - maxValue) }
            let logSumExp = maxValue + logf(sumExp)
            var kl: Float = 0
            for c in 0..<width where p[c] > 0 { kl += p[c] * (logf(p[c]) - (z[c] * inverseT - logSumExp)) }
            total += Double(temperature * temperature * kl)
            if let gradient {
                let g = gradient.base + i * width
                for c in 0..<width { g[c] = keep * g[c] + softScale * (expf(z[c] * inverseT - logSumExp) - p[c]) }
            }
        }
        return total
    }

    /// Σᵢ (1/K) Σ_k (z_s − z_t)² (summed over rows); turns `gradient` (holding the hard loss's) into ∂L/∂z.
    private func squaredTerm(_ output: MatrixView, _ teacher: MatrixView, _ gradient: MatrixView?) -> Double {
        let rows = output.rows, width = output.columns
        let keep = 1 - alpha, scale = 2 * alpha / Float(rows * width)
        var total: Double = 0
        for i in 0..<rows {
            var rowSum: Float = 0
            for k in 0..<width {
                let index = i * width + k
                let d = output.base[index] - teacher.base[index]
                rowSum += d * d
                if let gradient { gradient.base[index] = keep * gradient.base[index] + scale * d }
            }
            total += Double(rowSum) / Double(width)
        }
        return total
    }
}
