import Foundation

/// What `nntrain run` does, from a config file to a run directory holding
///
///     config.yaml     the resolved config (every key, defaults filled in, overrides applied)
///     metrics.csv     one row per epoch (see MetricsLog)
///     steps.csv       every N-th step, with logging.every_n_steps (see StepLog)
///     summary.json    final test figures, best epoch, timings, BLAS kernel (see RunSummary)
public enum TrainingRun {
    /// What a run is about to do, for the progress display.
    public struct Plan: Sendable {
        public var runDirectory: String
        public var dataset: String
        public var layerWidths: [Int]
        public var parameterCount: Int
        public var trainRows: Int, validationRows: Int, testRows: Int
        public var loadSeconds: Double
        public var blasKernel: String
        public var blasThreads: Int
    }

    public static func execute(configPath: String, overrides: [String], observer: (any TrainingObserver & RunObserver)?)
        throws(NNTrainError) -> RunSummary
    {
        let wallStart = Date()
        let configuration = try Configuration.load(path: configPath, overrides: overrides)
        let directory = configuration.runDirectory(configPath: configPath)
        try createDirectory(directory)
        var resolved = configuration
        resolved.output.dir = directory
        try write(resolved.resolvedYAML(), to: directory + "/config.yaml")

        let data = try TrainingData.load(configuration.data, seed: configuration.seed)
        let trainer = Trainer(configuration: configuration, data: data)
        if let problem = trainer.schedule.validate() { throw NNTrainError.config(configPath, line: nil, problem) }
        let widths = [trainer.network.inputWidth] + configuration.model.hidden + [trainer.network.outputWidth]
        observer?.runStarted(Plan(
            runDirectory: directory, dataset: configuration.data.dataset.rawValue, layerWidths: widths,
            parameterCount: trainer.network.parameters.count, trainRows: data.train.count,
            validationRows: data.validation.count, testRows: data.test.count, loadSeconds: data.loadSeconds,
            blasKernel: BLAS.kernelName, blasThreads: BLAS.threadCount))

        let precision = configuration.training.precision
        let log = try MetricsLog(path: directory + "/metrics.csv", columns: MetricsLog.Columns(
            classification: data.isClassification, mixedPrecision: precision != .fp32,
            precisionStats: configuration.logging.precisionStats))
        let stepLog = configuration.logging.everyNSteps > 0
            ? try StepLog(path: directory + "/steps.csv", every: configuration.logging.everyNSteps) : nil
        let history = try trainer.train(observer: observer, stepLog: stepLog) { (metrics) throws(NNTrainError) in
            try stepLog?.flush()
            try log.append(metrics)
        }
        let best = history.min { bestLoss(of: $0) < bestLoss(of: $1) }.unsafelyUnwrapped  // epochs ≥ 1
        let trainSeconds = history.reduce(0) { $0 + $1.epochSeconds }
        let summary = RunSummary(
            nntrainVersion: NNTrainVersion.string, config: configPath, runDirectory: directory,
            dataset: configuration.data.dataset.rawValue, ended: trainer.endReason, epochsCompleted: history.count,
            bestEpoch: best.epoch, bestLoss: bestLoss(of: best), restoredBestEpoch: trainer.restoredEpoch,
            test: trainer.evaluate(data.test),
            weights: weightRecovery(trainer),
            mixedPrecision: precision == .fp32 ? nil : RunSummary.MixedPrecision(
                precision: precision.rawValue, lossScale: trainer.gradScaler.map { Double($0.scale) },
                skippedSteps: trainer.gradScaler?.skippedSteps ?? 0),
            parameters: trainer.network.parameters.count, layerWidths: widths, loadSeconds: data.loadSeconds,
            trainSeconds: trainSeconds, wallSeconds: Date().timeIntervalSince(wallStart),
            samplesPerSecond: Double(data.train.count * history.count) / max(trainSeconds, 1e-9),
            blasKernel: BLAS.kernelName, blasThreads: BLAS.threadCount)
        try OutputFile.write(Array(summary.json()), to: directory + "/summary.json")
        return summary
    }

    private static func bestLoss(of metrics: EpochMetrics) -> Double {
        metrics.validation?.loss ?? metrics.trainLoss
    }

    /// Learned against true weights, for a linear model (no hidden layer) on data with known truth.
    static func weightRecovery(_ trainer: Trainer) -> [RunSummary.WeightRecovery]? {
        guard let truth = trainer.data.bonusTruth, trainer.network.layers.count == 1,
              let weight = trainer.network.parameters.tensor(named: "layers.0.weight"),
              let bias = trainer.network.parameters.tensor(named: "layers.0.bias")
        else { return nil }
        let store = trainer.network.parameters
        let raw = trainer.data.normalizer.denormalizeLinear(weights: store.valuesArray(of: weight),
                                                             bias: store.valuesArray(of: bias)[0])
        var rows: [RunSummary.WeightRecovery] = []
        for (name, learned) in zip(trainer.data.train.featureNames, raw.weights) {
            guard let trueWeight = truth.weight(named: name) else { continue }
            rows.append(recovery(name, Double(learned), trueWeight))
        }
        rows.append(recovery("bias", Double(raw.bias), truth.bias))
        return rows
    }

    private static func recovery(_ name: String, _ learned: Double, _ truth: Double) -> RunSummary.WeightRecovery {
        RunSummary.WeightRecovery(name: name, learned: learned, truth: truth,
                                  relativeError: abs(learned - truth) / max(abs(truth), .leastNormalMagnitude))
    }

    static func createDirectory(_ path: String) throws(NNTrainError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw NNTrainError.cannotWrite(path, "cannot create the run directory (\(error.localizedDescription))")
        }
    }

    /// Writes `text` whole through a temporary file renamed into place (see OutputFile), so a
    /// reader never sees half a file.
    static func write(_ text: String, to path: String) throws(NNTrainError) {
        try OutputFile.write(Array(text.utf8), to: path)
    }
}

/// Receives the plan of a run before its first epoch.
public protocol RunObserver: AnyObject {
    func runStarted(_ plan: TrainingRun.Plan)
}
