import Foundation

/// k-fold cross-validation (`nntrain cv CONFIG --folds K`): K runs of one config, run k with
/// `data.folds: K, data.fold: k` (fold k of the training rows is its validation split, see
/// `Dataset.folds`), each a normal run directory `RUN_DIR/fold-k` run as a sweep's trial is
/// (`SweepTrial`, its folder the only state: resume, locks, trial.txt, error.txt). Then cv.csv and
/// cv.json (`CrossValidationReport`).
public struct CrossValidation: Sendable {
    /// K, at least 2.
    public var folds: Int
    /// The `--set` values given for every fold (without `output.dir`, which is each fold's folder).
    public var overrides: [(key: String, value: String)]

    /// The most folds `nntrain cv` runs.
    public static let maxFolds = 1000

    /// `folds` folds of the config with the `--set` values `arguments` (`KEY=VALUE`); `data.folds` and
    /// `data.fold` are the command's own and refused here (`.usage`), and `output.dir` only names RUN_DIR.
    public init(folds: Int, arguments: [String]) throws(NNTrainError) {
        self.folds = folds
        overrides = []
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw NNTrainError(.usage, "--set \(argument): expected KEY=VALUE, e.g. --set optimizer.lr=0.01")
            }
            let key = String(argument[..<equals]), value = String(argument[argument.index(after: equals)...])
            if key == "data.folds" || key == "data.fold" || key == "data.validation_split" {
                throw NNTrainError(.usage, "--set \(argument): nntrain cv sets \(key) of each fold itself; expected "
                    + "--folds K (and --fold k to run one fold)")
            }
            if key != "output.dir" { overrides.append((key, value)) }
        }
    }

    /// fold-1 … fold-K: the user's overrides, then `data.validation_split=null` (the fold replaces
    /// whatever split the config gives, so any config cross-validates as it is), `data.folds=K` and
    /// `data.fold=k`, in folder `fold-k`.
    public var trials: [SweepTrial] {
        (1...max(folds, 1)).map { k in
            SweepTrial(number: k, overrides: overrides + [("data.validation_split", "null"), ("data.folds", "\(folds)"),
                                                          ("data.fold", "\(k)")],
                       folderName: "fold-\(k)")
        }
    }

    /// Checks every fold's config (the config at `configPath` with the fold's overrides) before any
    /// fold runs, as a sweep checks its trials; the first error is thrown as it is (its file and line,
    /// or its `--set`). Returns the first fold's configuration (its seed is cv.json's).
    @discardableResult
    public func checkFolds(configPath: String) throws(NNTrainError) -> Configuration {
        var first: Configuration?
        for trial in trials {
            let configuration = try Configuration.load(path: configPath, overrides: trial.arguments)
            first = first ?? configuration
        }
        return first ?? Configuration()
    }
}

/// The figures of one split, as cv.csv and cv.json give them: the loss, the accuracy
/// (classification) or the MAE and R² (regression); nil when unknown.
public struct FoldFigures: Codable, Equatable, Sendable {
    public var loss: Double?
    public var accuracy: Double?
    public var mae: Double?
    public var r2: Double?

    public init(loss: Double? = nil, accuracy: Double? = nil, mae: Double? = nil, r2: Double? = nil) {
        (self.loss, self.accuracy, self.mae, self.r2) = (loss, accuracy, mae, r2)
    }
}

/// One fold's outcome from its folder: its status as a sweep's trial has it (`SweepTrialOutcome`),
/// the best epoch (the lowest val_loss in metrics.csv, the first on a tie) with that epoch's
/// validation figures, and the final model's test figures (summary.json).
public struct FoldResult: Equatable, Sendable {
    public var trial: SweepTrial
    public var fold: Int { trial.number }
    public var status: SweepTrialOutcome.Status
    /// How training ended, or why the fold failed or is unfinished.
    public var note: String
    public var bestEpoch: Int?
    public var seconds: Double?
    public var validation = FoldFigures()
    public var test = FoldFigures()

    /// A fold's outcome as given (the report's arithmetic on hand-made figures).
    init(trial: SweepTrial, status: SweepTrialOutcome.Status, note: String, bestEpoch: Int? = nil, seconds: Double? = nil,
         validation: FoldFigures = FoldFigures(), test: FoldFigures = FoldFigures()) {
        (self.trial, self.status, self.note, self.bestEpoch, self.seconds) = (trial, status, note, bestEpoch, seconds)
        (self.validation, self.test) = (validation, test)
    }

    /// The fold `trial`'s outcome from its folder `directory`.
    public init(trial: SweepTrial, directory: String) {
        let outcome = SweepTrialOutcome(trial: trial, directory: directory, metric: .valLoss, mode: .min)
        self.trial = trial
        (status, note, bestEpoch, seconds) = (outcome.status, outcome.note, outcome.bestEpoch, outcome.seconds)
        if status == .changed {
            let record = FileManager.default.contents(atPath: directory + "/" + SweepTrialOutcome.trialFile)
                .map { String(decoding: $0, as: UTF8.self).split(separator: "\n").joined(separator: " ") } ?? ""
            note = "the folder holds another cross-validation's fold (\(record)): --set or --folds changed; move or "
                + "delete the folder to run this one"
        }
        guard status == .finished else { return }
        if let epoch = bestEpoch, let row = Self.metricsRow(epoch: epoch, path: directory + "/metrics.csv") {
            validation = FoldFigures(loss: row["val_loss"], accuracy: row["val_acc"], mae: row["val_mae"], r2: row["val_r2"])
        }
        if let data = FileManager.default.contents(atPath: directory + "/summary.json"),
           let summary = try? RunSummary.decode(data), let figures = summary.test
        {
            test = FoldFigures(loss: figures.loss, accuracy: figures.accuracy, mae: figures.meanAbsoluteError, r2: figures.r2)
        }
    }

    /// The numbers of metrics.csv's row of `epoch`, by column name; nil when there is none.
    static func metricsRow(epoch: Int, path: String) -> [String: Double]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = lines.first, let row = lines.dropFirst().first(where: { $0.first.flatMap { Int($0) } == epoch })
        else { return nil }
        var values: [String: Double] = [:]
        for (name, field) in zip(header, row) { values[String(name)] = Double(field) }
        return values
    }
}
