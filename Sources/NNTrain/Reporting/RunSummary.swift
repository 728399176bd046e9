import Foundation

/// summary.json: what a run achieved, for people and scripts. Written once training ends.
public struct RunSummary: Codable, Equatable, Sendable {
    public var nntrainVersion: String
    public var config: String
    public var runDirectory: String
    public var dataset: String
    /// Why training ended: "completed" after all epochs, "early stop at epoch N", "interrupted at
    /// epoch N, step S" (Ctrl-C or SIGTERM; resume with --resume), "time limit at epoch N, step S"
    /// (training.max_seconds; resume with --resume), or "diverged at epoch N, step S"
    /// (the loss or a gradient became NaN or infinite; nntrain exits with status 80).
    public var ended: String
    public var epochsCompleted: Int
    /// The epoch with the lowest validation loss (training loss when there is no validation split);
    /// absent when no epoch finished.
    public var bestEpoch: Int?
    public var bestLoss: Double?
    /// The epoch whose weights early_stopping.restore_best put back before the test evaluation.
    public var restoredBestEpoch: Int?
    /// The run's last checkpoint (checkpoints/last.bin; absent if a run diverged before writing
    /// one) and, with checkpoint.save_best, its best.
    public var checkpoint: String?
    public var bestCheckpoint: String?
    /// The checkpoint this session resumed from, if it did.
    public var resumedFrom: String?
    /// The final model on the test split, with `seconds`, the time that evaluation took; absent when
    /// training diverged (unless restore_best had a best epoch to put back).
    public var test: EvaluationMetrics?
    /// Which weights `test` (and `weights`) are of, the run's final model: `running` (the weights
    /// training ended with), `restored_best` (restore_best's epoch), `ema` or `swa` (an average, see
    /// `FinalModel`); absent when nothing was tested.
    public var testedWeights: String? = nil
    /// For a linear model on the bonus dataset with its true weights beside it: learned against true
    /// weight of each feature, in the raw (un-normalised) units of the CSV, and the bias last.
    public var weights: [WeightRecovery]?
    /// The totals of a mixed-precision run; absent in fp32.
    public var mixedPrecision: MixedPrecision? = nil
    /// What the pruning masks zero at the end (each masked weight tensor, overall, and for neurons the
    /// hidden widths at inference); absent without pruning.
    public var pruning: PruningFigures? = nil
    public var parameters: Int
    public var layerWidths: [Int]
    public var loadSeconds: Double
    public var trainSeconds: Double
    public var wallSeconds: Double
    /// Training rows per second over all epochs (training time only).
    public var samplesPerSecond: Double
    public var blasKernel: String
    public var blasThreads: Int

    /// What mixed precision did over the whole run.
    public struct MixedPrecision: Codable, Equatable, Sendable {
        /// `fp16` or `bf16`.
        public var precision: String
        /// GradScaler's final scale; absent with `loss_scale: none`.
        public var lossScale: Double?
        /// Optimizer steps skipped for inf/NaN gradients.
        public var skippedSteps: Int
    }

    public struct WeightRecovery: Codable, Equatable, Sendable {
        public var name: String
        public var learned: Double
        public var truth: Double
        /// |learned − true| / |true|.
        public var relativeError: Double
    }

    /// The JSON text (see ReportJSON: pretty, sorted snake_case keys, inf and nan as strings).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "summary.json")
    }

    public static func decode(_ data: Data) throws -> RunSummary {
        try ReportJSON.decode(RunSummary.self, from: data)
    }
}

extension RunSummary.WeightRecovery {
    /// Learned against true weights for a linear model (no hidden layer) on data with known truth,
    /// in the raw units of the CSV (see `Normalizer.denormalizeLinear`, then, for a standardised
    /// target, `TargetScaling.denormalizeLinear`), the bias last; nil for other models and data.
    public static func table(network: Network, data: TrainingData) -> [RunSummary.WeightRecovery]? {
        guard let truth = data.bonusTruth, network.parameters.tensors.count == 2,
              let weight = network.parameters.tensor(named: "layers.0.weight"),
              let bias = network.parameters.tensor(named: "layers.0.bias"),
              weight.count == data.normalizer.scale.count
        else { return nil }
        let store = network.parameters
        var raw = data.normalizer.denormalizeLinear(weights: store.valuesArray(of: weight), bias: store.valuesArray(of: bias)[0])
        if let scaling = network.targetScaling { raw = scaling.denormalizeLinear(weights: raw.weights, bias: raw.bias) }
        var rows: [RunSummary.WeightRecovery] = []
        for (name, learned) in zip(data.train.featureNames, raw.weights) {
            guard let trueWeight = truth.weight(named: name) else { continue }
            rows.append(row(name, Double(learned), trueWeight))
        }
        rows.append(row("bias", Double(raw.bias), truth.bias))
        return rows
    }

    private static func row(_ name: String, _ learned: Double, _ truth: Double) -> RunSummary.WeightRecovery {
        RunSummary.WeightRecovery(name: name, learned: learned, truth: truth,
                                  relativeError: abs(learned - truth) / max(abs(truth), .leastNormalMagnitude))
    }
}
