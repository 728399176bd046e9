/// The figures of one pass over a dataset.
///
/// Classification: mean cross-entropy and accuracy. Regression: mean squared error, mean absolute
/// error and the coefficient of determination R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)², with ȳ the mean target
/// of the rows evaluated (scikit-learn's r2_score).
public struct EvaluationMetrics: Equatable, Sendable, Codable {
    public var rows: Int
    public var loss: Double
    public var accuracy: Double?
    public var meanAbsoluteError: Double?
    public var r2: Double?
    /// Seconds the pass took, on the monotonic clock: every batch's gather and normalisation, forward
    /// pass and loss, in the trainer's batch size. Set only where a caller timed the pass (summary.json's
    /// `test` block, see `TrainingRun`); nil, and then absent from JSON, everywhere else, so validation
    /// figures in metrics.csv and in checkpoints stay free of timings.
    public var seconds: Double? = nil

    enum CodingKeys: String, CodingKey {
        case rows, loss, accuracy
        case meanAbsoluteError = "mae"
        case r2, seconds
    }
}

/// One row of metrics.csv: the figures of one epoch.
public struct EpochMetrics: Equatable, Sendable, Codable {
    public var epoch: Int
    /// The learning rate used by the epoch's last step.
    public var learningRate: Double
    /// Mean loss over the epoch's training rows, each batch's loss taken as it was computed
    /// (the model changes during the epoch, as in the usual PyTorch loop).
    public var trainLoss: Double
    /// Fraction of training rows predicted right during the epoch (classification only).
    public var trainAccuracy: Double?
    /// Figures on the validation split after the epoch; nil when validation_split is 0.
    public var validation: EvaluationMetrics?
    /// Mean and maximum over the epoch's steps of the global L2 norm of the gradient, before clipping.
    public var gradientNormMean: Double
    public var gradientNormMax: Double
    /// Training time of the epoch, without validation.
    public var epochSeconds: Double
    public var samplesPerSecond: Double
    /// Loss scaling and rounding figures of a mixed-precision epoch; nil in fp32.
    public var mixedPrecision: MixedPrecisionMetrics? = nil
    /// The pruning masks' sparsity at the end of the epoch; nil without pruning.
    public var pruning: PruningMetrics? = nil
    /// Per linear layer: mean gradient norm, weight norm, dead-unit fraction (see `LayerStatistics`); nil
    /// unless the trainer computes them (`logging.computesLayerStatistics`). Absent from older checkpoints.
    public var layers: LayerMetrics? = nil
}

/// The fraction of weights the pruning masks zero at the end of an epoch (metrics.csv's `sparsity` columns).
public struct PruningMetrics: Equatable, Sendable, Codable {
    /// Over every pruned weight tensor together.
    public var sparsity: Double
    /// Per pruned weight tensor, in `Pruner.layers`' order.
    public var layers: [Double]

    public init(sparsity: Double, layers: [Double]) {
        self.sparsity = sparsity
        self.layers = layers
    }
}

/// The figures of an fp16 or bf16 epoch (metrics.csv's last columns).
public struct MixedPrecisionMetrics: Equatable, Sendable, Codable {
    /// GradScaler's scale S at the end of the epoch; nil without loss scaling.
    public var lossScale: Double?
    /// Steps skipped in the epoch because a gradient was ±inf or NaN.
    public var skippedSteps: Int
    /// With `logging.precision_stats`: of all activation-gradient values rounded in the epoch
    /// (dL/d(output) and each layer's dL/dx, scaled), the fractions that were non-zero and became
    /// zero, and finite and became infinite; nil otherwise.
    public var gradientUnderflow: Double?
    public var gradientOverflow: Double?

    public init(lossScale: Double?, skippedSteps: Int, gradientUnderflow: Double? = nil, gradientOverflow: Double? = nil) {
        self.lossScale = lossScale
        self.skippedSteps = skippedSteps
        self.gradientUnderflow = gradientUnderflow
        self.gradientOverflow = gradientOverflow
    }
}

extension EpochMetrics {
    /// The figure a schedule, early stopping or checkpoint policy watches; nil when the epoch has
    /// none (no validation split, or accuracy of a regression).
    public func value(of metric: MonitoredMetric) -> Double? {
        switch metric {
        case .valLoss: validation?.loss
        case .valAcc: validation?.accuracy
        case .trainLoss: trainLoss
        case .trainAcc: trainAccuracy
        }
    }
}

/// Running sums for regression figures beyond the loss.
struct RegressionSums {
    var absoluteError: Double = 0
    var squaredError: Double = 0
    var targetSum: Double = 0
    var targetSquareSum: Double = 0
    var count = 0

    mutating func add(output: MatrixView, targets: UnsafePointer<Float>) {
        for i in 0..<output.count { add(prediction: output.base[i], target: targets[i]) }
    }

    mutating func add(prediction: Float, target: Float) {
        let y = Double(target), diff = Double(prediction) - y
        absoluteError += abs(diff)
        squaredError += diff * diff
        targetSum += y
        targetSquareSum += y * y
        count += 1
    }

    var meanSquaredError: Double { count == 0 ? 0 : squaredError / Double(count) }

    var meanAbsoluteError: Double { count == 0 ? 0 : absoluteError / Double(count) }

    /// R² = 1 − SS_res / SS_tot, with SS_tot = Σy² − (Σy)²/n.
    var r2: Double {
        let total = targetSquareSum - targetSum * targetSum / Double(max(count, 1))
        return total > 0 ? 1 - squaredError / total : 0
    }
}
