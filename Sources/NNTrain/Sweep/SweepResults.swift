import Foundation

/// What a sweep's trial folders say, the only state a sweep keeps (so any runner, and any shared
/// filesystem, works): a trial is finished when its summary.json says training completed or stopped
/// early; failed when it diverged, or when its `error.txt` holds the one-line error of its last
/// attempt; changed when its folder holds another trial (the sweep file was edited since:
/// `trial.txt` records the overrides a folder was started with); pruned when the median stopping rule
/// stopped it (`pruned.txt`, see `MedianPruning`: done, never resumed); unfinished otherwise (never
/// started, interrupted, a time limit, or running now).
public struct SweepTrialOutcome: Equatable, Sendable {
    public enum Status: String, Sendable {
        case finished, pruned, failed, changed, unfinished
    }

    public var trial: SweepTrial
    public var status: Status
    /// The sweep's metric: the best epoch's for train_* and val_* (the lowest or highest in metrics.csv
    /// as the sweep's mode says), the final model's for test_* (summary.json); nil when unknown. A
    /// pruned trial's is its best so far.
    public var metric: Double?
    /// The epoch of `metric` (test_*: summary.json's best epoch).
    public var bestEpoch: Int?
    public var seconds: Double?
    /// How training ended (summary.json's `ended`), the failure's one line, or pruned.txt's line.
    public var note: String

    /// The file a failed attempt leaves in the trial's folder, and the one a start writes: the trial's
    /// overrides, one `--set` value a line.
    public static let errorFile = "error.txt"
    public static let trialFile = "trial.txt"

    /// `trial`'s overrides as `trialFile` holds them.
    public static func record(of trial: SweepTrial) -> String { trial.arguments.map { $0 + "\n" }.joined() }

    /// An outcome as given (a report of outcomes known otherwise, tests).
    public init(trial: SweepTrial, status: Status, metric: Double?, bestEpoch: Int?, seconds: Double?, note: String) {
        self.trial = trial
        self.status = status
        self.metric = metric
        self.bestEpoch = bestEpoch
        self.seconds = seconds
        self.note = note
    }

    /// The outcome of `trial` from its folder `directory`, for `metric` in `mode`.
    public init(trial: SweepTrial, directory: String, metric: SweepSpec.Metric, mode: SweepSpec.Mode) {
        self.trial = trial
        if let data = FileManager.default.contents(atPath: directory + "/" + Self.trialFile),
           String(decoding: data, as: UTF8.self) != Self.record(of: trial)
        {
            status = .changed
            note = "the folder holds another trial (" + String(decoding: data, as: UTF8.self).split(separator: "\n")
                .joined(separator: " ") + "): the sweep file changed; move or delete the folder to run this one"
            return
        }
        if let data = FileManager.default.contents(atPath: directory + "/" + MedianPruning.prunedFile) {
            status = .pruned
            note = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            seconds = FileManager.default.contents(atPath: directory + "/summary.json")
                .flatMap { try? RunSummary.decode($0) }?.trainSeconds
            (self.metric, bestEpoch) = Self.value(of: metric, mode: mode, summary: nil, metricsCSV: directory + "/metrics.csv")
            return
        }
        if let data = FileManager.default.contents(atPath: directory + "/summary.json"),
           let summary = try? RunSummary.decode(data),
           !summary.ended.hasPrefix("interrupted"), !summary.ended.hasPrefix("time limit")
        {
            note = summary.ended
            seconds = summary.trainSeconds
            guard !summary.ended.hasPrefix("diverged") else {
                status = .failed
                return
            }
            status = .finished
            (self.metric, bestEpoch) = Self.value(of: metric, mode: mode, summary: summary,
                                                  metricsCSV: directory + "/metrics.csv")
            return
        }
        if let data = FileManager.default.contents(atPath: directory + "/" + Self.errorFile) {
            status = .failed
            note = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            status = .unfinished
            note = FileManager.default.fileExists(atPath: directory + "/checkpoints/last.bin") ? "interrupted" : "not started"
        }
    }

    /// test_*: the summary's test figures (and best epoch); the others the best over metrics.csv's
    /// column in `mode`, with its epoch (the earliest on a tie).
    static func value(of metric: SweepSpec.Metric, mode: SweepSpec.Mode, summary: RunSummary?, metricsCSV: String)
        -> (Double?, Int?)
    {
        switch metric {
        case .testLoss: return (summary?.test?.loss, summary?.bestEpoch)
        case .testAcc: return (summary?.test?.accuracy, summary?.bestEpoch)
        case .valLoss, .valAcc, .trainLoss, .trainAcc:
            let rows = epochValues(of: metric, metricsCSV: metricsCSV)
            let best = rows.min { a, b in mode == .min ? a.value < b.value : a.value > b.value }
            return (best?.value, best?.epoch)
        }
    }

    /// The column `metric` of the metrics.csv at `metricsCSV`, epoch by epoch in file order: the rows
    /// whose epoch and value are numbers (`nan` included), of the complete lines only (a line being
    /// written as it is read is left for the next read); none when the file or the column is missing.
    public static func epochValues(of metric: SweepSpec.Metric, metricsCSV: String) -> [(epoch: Int, value: Double)] {
        guard let data = FileManager.default.contents(atPath: metricsCSV) else { return [] }
        var text = String(decoding: data, as: UTF8.self)
        if let end = text.lastIndex(of: "\n") { text = String(text[...end]) } else { return [] }
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = lines.first, let column = header.firstIndex(where: { $0 == metric.rawValue }),
              let epochColumn = header.firstIndex(where: { $0 == "epoch" })
        else {
            return []
        }
        return lines.dropFirst().compactMap { row -> (epoch: Int, value: Double)? in
            guard row.count > max(column, epochColumn), let epoch = Int(row[epochColumn]), let value = Double(row[column])
            else { return nil }
            return (epoch, value)
        }
    }
}

extension SweepSpec {
    /// Whether `a` is a better figure than `b` in the sweep's mode.
    public func isBetter(_ a: Double, than b: Double) -> Bool { mode == .min ? a < b : a > b }

    /// The swept keys, grid then random, in file order.
    public var sweptKeys: [String] { grid.map(\.key) + (random?.keys.map(\.key) ?? []) }

    /// `outcomes` from best to worst by the metric, ties by trial number.
    func ranked(_ outcomes: [SweepTrialOutcome]) -> [SweepTrialOutcome] {
        outcomes.sorted { a, b in
            guard let x = a.metric, let y = b.metric, x != y else { return a.trial.number < b.trial.number }
            return isBetter(x, than: y)
        }
    }

    /// results.csv: `trial,<each swept key>,<metric>,best_epoch,seconds,status,note`, finished trials
    /// first from best to worst by the metric (ties by trial number), then the pruned ones the same way
    /// by their best so far, then the others by number.
    public func resultsCSV(_ outcomes: [SweepTrialOutcome]) -> String {
        let keys = sweptKeys
        let finished = outcomes.filter { $0.metric != nil && $0.status == .finished }
        let pruned = outcomes.filter { $0.metric != nil && $0.status == .pruned }
        let ranked = self.ranked(finished) + self.ranked(pruned)
        let others = outcomes.filter { $0.metric == nil }.sorted { $0.trial.number < $1.trial.number }
        var lines = [(["trial"] + keys + [metric.rawValue, "best_epoch", "seconds", "status", "note"]).joined(separator: ",")]
        for outcome in ranked + others {
            let values = Dictionary(outcome.trial.overrides.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let fields = [outcome.trial.folderName] + keys.map { values[$0] ?? "" }
                + [outcome.metric.map { "\($0)" } ?? "", outcome.bestEpoch.map(String.init) ?? "",
                   outcome.seconds.map { String(format: "%.3f", $0) } ?? "", outcome.status.rawValue, outcome.note]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The best finished trial by the metric (the lower number on a tie); nil when none has the metric.
    /// A pruned trial is never the best, as Optuna's `study.best_trial` considers complete trials only.
    public func best(_ outcomes: [SweepTrialOutcome]) -> SweepTrialOutcome? {
        outcomes.filter { $0.metric != nil && $0.status == .finished }.min { a, b in
            guard let x = a.metric, let y = b.metric, x != y else { return a.trial.number < b.trial.number }
            return isBetter(x, than: y)
        }
    }

    /// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
