import Foundation

/// What `nntrain cv` writes from the fold folders, RUN_DIR/cv.csv and RUN_DIR/cv.json:
///
///     cv.csv   fold,best_epoch,val_loss,val_acc,test_loss,test_acc,seconds,status
///              (regression: the accuracies empty, then val_mae,val_r2,test_mae,test_r2)
///     cv.json  {"k": K, "seed": s, "std_ddof": 0, "finished_folds": n,
///               "figures": {"val_loss": {"mean": m, "std": sd, "folds": n}, ...},
///               "folds": [{"fold": 1, "best_epoch": e, "validation": {...}, "test": {...}, ...}, ...],
///               "ensemble": {"test": {...}, "members": [...]}}          (with --ensemble)
///              ("ensemble_error": "..." instead when the members' check refused them)
///
/// val_* are the best epoch's (the lowest val_loss of the fold's metrics.csv), test_* the final
/// model's (summary.json). Each figure's mean and standard deviation are over the finished folds
/// that have it: mean = Σx/n, std = √(Σ(x − mean)²/n), the population standard deviation (ddof 0),
/// numpy's `np.std` default, which `cross_val_score(...).std()` reports in scikit-learn's guide.
public struct CrossValidationReport: Codable, Equatable, Sendable {
    /// One figure over the finished folds.
    public struct Summary: Codable, Equatable, Sendable {
        public var mean: Double
        /// The population standard deviation (ddof 0).
        public var std: Double
        /// The folds it is over.
        public var folds: Int
    }

    /// One fold's line, as cv.csv has it.
    public struct Fold: Codable, Equatable, Sendable {
        public var fold: Int
        public var folder: String
        public var status: String
        public var note: String
        public var bestEpoch: Int?
        public var seconds: Double?
        public var validation: FoldFigures
        public var test: FoldFigures
    }

    /// The fold models' final checkpoints (checkpoints/last.bin) as one ensemble on the test split
    /// (`EnsembleEvaluation`: probabilities, or values, averaged), each member's own figures beside it.
    public struct EnsembleResult: Codable, Equatable, Sendable {
        public struct Member: Codable, Equatable, Sendable {
            public var checkpoint: String
            public var test: FoldFigures
        }

        public var test: FoldFigures
        public var members: [Member]

        init(test: FoldFigures, members: [Member]) {
            (self.test, self.members) = (test, members)
        }

        public init(_ evaluation: EnsembleEvaluation) {
            test = Self.figures(evaluation.ensemble)
            members = evaluation.members.map { Member(checkpoint: $0.checkpoint, test: Self.figures($0)) }
        }

        /// Evaluates the checkpoints at `paths` (at least two) as an ensemble on their test split.
        public static func evaluate(checkpoints paths: [String]) throws(NNTrainError) -> EnsembleResult {
            EnsembleResult(try EnsembleEvaluation.run(checkpointPaths: paths, split: .test))
        }

        static func figures(_ e: CheckpointEvaluation) -> FoldFigures {
            FoldFigures(loss: e.loss, accuracy: e.classification?.accuracy, mae: e.regression?.meanAbsoluteError,
                        r2: e.regression?.r2)
        }
    }

    /// K.
    public var k: Int
    /// The config's seed, which draws the folds.
    public var seed: UInt64
    /// The delta degrees of freedom of every `std`: 0.
    public var stdDdof = 0
    public var finishedFolds: Int
    /// Each figure's mean and standard deviation, by its cv.csv column name (val_loss, ...).
    public var figures: [String: Summary]
    public var folds: [Fold]
    public var ensemble: EnsembleResult?
    /// Why `--ensemble` gave no ensemble: the one-line error of the members' check.
    public var ensembleError: String?

    /// The report of the folds `results` (fold order) of a K-fold run with `seed`.
    public init(results: [FoldResult], k: Int, seed: UInt64, ensemble: EnsembleResult? = nil) {
        self.k = k
        self.seed = seed
        self.ensemble = ensemble
        folds = results.map {
            Fold(fold: $0.fold, folder: $0.trial.folderName, status: $0.status.rawValue, note: $0.note, bestEpoch: $0.bestEpoch,
                 seconds: $0.seconds, validation: $0.validation, test: $0.test)
        }
        let finished = folds.filter { $0.status == SweepTrialOutcome.Status.finished.rawValue }
        finishedFolds = finished.count
        var figures: [String: Summary] = [:]
        for name in ["val_loss", "val_acc", "val_mae", "val_r2", "test_loss", "test_acc", "test_mae", "test_r2"] {
            let values = finished.compactMap { Self.value(name, of: $0) }
            guard !values.isEmpty else { continue }
            let (mean, std) = Self.meanAndStandardDeviation(values)
            figures[name] = Summary(mean: mean, std: std, folds: values.count)
        }
        self.figures = figures
    }

    /// Mean and population standard deviation (ddof 0) of `values` (not empty), in two passes.
    public static func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, std: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, (squares / n).squareRoot())
    }

    /// Whether the folds regressed (they have MAEs and no accuracy).
    public var isRegression: Bool {
        let all = folds.flatMap { [$0.validation, $0.test] }
        return all.contains { $0.mae != nil } && !all.contains { $0.accuracy != nil }
    }

    static func value(_ name: String, of fold: Fold) -> Double? {
        let figures = name.hasPrefix("val_") ? fold.validation : fold.test
        switch name.split(separator: "_").last {
        case "loss": return figures.loss
        case "acc": return figures.accuracy
        case "mae": return figures.mae
        case "r2": return figures.r2
        default: return nil
        }
    }

    /// cv.csv: one row per fold in fold order (the type's comment); numbers in Swift's shortest exact form.
    public func csv() -> String {
        let extra = isRegression ? ["val_mae", "val_r2", "test_mae", "test_r2"] : []
        let header = ["fold", "best_epoch", "val_loss", "val_acc", "test_loss", "test_acc", "seconds", "status"] + extra
        var lines = [header.joined(separator: ",")]
        for fold in folds {
            func text(_ name: String) -> String { Self.value(name, of: fold).map { "\($0)" } ?? "" }
            let fields = ["\(fold.fold)", fold.bestEpoch.map(String.init) ?? ""]
                + ["val_loss", "val_acc", "test_loss", "test_acc"].map(text)
                + [fold.seconds.map { String(format: "%.3f", $0) } ?? "", fold.status] + extra.map(text)
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// cv.json's text (ReportJSON: pretty, sorted snake_case keys).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "cv.json")
    }

    /// `cv: 5 folds, val_acc 0.8912 ± 0.0031, test_acc 0.8950 ± 0.0020; ensemble test_acc 0.9031`
    /// (regression: the losses), `3 of 5 folds` while some are not finished.
    public var summaryLine: String {
        let (validation, test) = isRegression ? ("val_loss", "test_loss") : ("val_acc", "test_acc")
        var line = "cv: " + (finishedFolds == k ? "\(k) folds" : "\(finishedFolds) of \(k) folds")
        for name in [validation, test] {
            guard let summary = figures[name] else { continue }
            line += String(format: ", \(name) %.4f ± %.4f", summary.mean, summary.std)
        }
        let ensembleFigure = isRegression ? ensemble?.test.loss : ensemble?.test.accuracy
        if let ensembleFigure { line += String(format: "; ensemble \(test) %.4f", ensembleFigure) }
        return line
    }
}
