import Foundation

/// curves.svg: a run's metrics.csv (see `MetricsLog`) drawn against the epoch, one panel a figure:
///
/// - loss: `train_loss` and `val_loss`, on a log axis when every loss is positive and the largest is
///   more than 100 times the smallest (a fall over decades would otherwise flatten the end of
///   training into the axis), or when asked (`nntrain plot --log-y`);
/// - classification: accuracy in % (`train_acc`, `val_acc` × 100); regression: `val_mae` and
///   `val_r2`, each in its own panel, as their units differ;
/// - learning rate (`lr`), on a log axis when every rate is positive and the largest is more than ten
///   times the smallest (a decay over decades would otherwise look like a step).
///
/// With the run's summary.json (see `RunSummary`; only when it describes the epochs metrics.csv
/// holds, since a resumed run still training has an older one), the loss panel marks the best epoch
/// (lowest validation loss, or training loss without validation) and an early stop; a run without
/// validation shows its test figures (loss, accuracy, R²) as one point each, named "test", at the
/// epoch whose weights were tested (the last, or the one restore_best put back).
///
/// The file is read by its header, so columns may come in any order and extra columns (the
/// mixed-precision ones) are ignored. An empty cell is a missing value (a validation figure of a run
/// without a validation split): the series has no point there; a column with no value at all draws
/// no series, and a panel with no series is left out (the loss panel always stays). `nan` and `inf`,
/// which a diverging run writes, are read and skipped by the chart.
public struct LearningCurves: Equatable, Sendable {
    /// The header's column names, in file order.
    public var columns: [String]
    /// Each data row's values, in the header's order; nil for an empty cell.
    public var rows: [[Double?]]

    public init(columns: [String], rows: [[Double?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The values of `column` row by row; nil when the header has no such column.
    public func values(of column: String) -> [Double?]? {
        columns.firstIndex(of: column).map { index in rows.map { $0[index] } }
    }

    // MARK: Reading

    /// Reads metrics.csv at `path`. Errors: `.missingFile` when it does not exist or cannot be read;
    /// `.data` naming the line (and column) of a header without `epoch` or with a repeated name, a
    /// row whose field count differs from the header's, or a cell that is not a number.
    public static func read(metricsPath path: String) throws(NNTrainError) -> LearningCurves {
        let bytes = try InputFile.readAll(path: path, expected: "metrics.csv, written by nntrain run")
        var header: [String]?
        var rows: [[Double?]] = []
        var lineNumber = 0, start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var line = bytes[start..<end]
            start = end + 1
            lineNumber += 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { continue }
            let fields = CSVReader.fields(of: line)
            guard let names = header else {
                header = try checkedHeader(fields, at: "\(path):\(lineNumber)")
                continue
            }
            guard fields.count == names.count else {
                throw .data("\(path):\(lineNumber)", "\(fields.count) fields; expected \(names.count) as in the header")
            }
            var row: [Double?] = []
            for (name, field) in zip(names, fields) {
                row.append(try number(field, column: name, at: "\(path):\(lineNumber)"))
            }
            rows.append(row)
        }
        guard let header else {
            throw .data(path, "empty file; expected a header row starting 'epoch,lr,train_loss'")
        }
        return LearningCurves(columns: header, rows: rows)
    }

    private static func checkedHeader(_ names: [String], at place: String) throws(NNTrainError) -> [String] {
        guard names.contains("epoch") else {
            throw .data(place, "no 'epoch' column; expected metrics.csv's header, "
                + "e.g. \(MetricsLog.header(.init(classification: true)))")
        }
        if let repeated = names.indices.first(where: { names[..<$0].contains(names[$0]) }) {
            throw .data(place, "column '\(names[repeated])' appears twice; expected each column once")
        }
        return names
    }

    /// An empty cell is nil; otherwise a decimal number, or `nan`, `inf`, `-inf` as Swift writes them.
    private static func number(_ field: String, column: String, at place: String) throws(NNTrainError) -> Double? {
        if field.isEmpty { return nil }
        switch field {
        case "nan": return .nan
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        default: break
        }
        guard field.utf8.allSatisfy({ decimalCharacters.contains($0) }), let value = Double(field) else {
            let shown = field.count > 40 ? field.prefix(40) + "…" : field
            throw .data(place, "column '\(column)': '\(shown)' is not a number")
        }
        return value
    }

    private static let decimalCharacters = Set("0123456789.eE+-".utf8)

    // MARK: Drawing

    /// The panels described above, titled `title`, with the marks of `summary` and the loss on a log
    /// axis when `logScaleLoss` (or when it spans more than two decades).
    public func chart(title: String?, summary: RunSummary? = nil, logScaleLoss: Bool = false) -> LineChart {
        let epochs = values(of: "epoch") ?? []
        let summary = summary.flatMap { $0.epochsCompleted == rows.count ? $0 : nil }
        let validated = values(of: "val_loss")?.contains { $0 != nil } ?? false
        // The final test figures, for a run without validation: one point at the epoch tested.
        let lastEpoch: Double? = epochs.last ?? nil
        let testEpoch = summary?.restoredBestEpoch.map(Double.init) ?? lastEpoch
        let test = validated ? nil : summary?.test
        func testPoint(_ value: Double?, factor: Double = 1) -> LineChart.Series? {
            guard let value, let testEpoch else { return nil }
            return LineChart.Series(name: "test", points: [LineChart.Point(x: testEpoch, y: value * factor)], symbol: .square)
        }
        let epochAxis = ChartAxis(title: "epoch", integerTicks: true)
        /// The named column as a series against the epoch, scaled by `factor`; nil when the column is
        /// absent or has no value.
        func series(_ column: String, _ name: String, factor: Double = 1) -> LineChart.Series? {
            guard let values = values(of: column), values.contains(where: { $0 != nil }) else { return nil }
            let points = zip(epochs, values).compactMap { epoch, value in
                value.map { LineChart.Point(x: epoch ?? .nan, y: $0 * factor) }
            }
            return LineChart.Series(name: name, points: points)
        }
        func panel(_ title: String, _ y: ChartAxis, _ series: [LineChart.Series?]) -> LineChart.Panel? {
            let drawn = series.compactMap { $0 }
            return drawn.isEmpty ? nil : LineChart.Panel(title: title, x: epochAxis, y: y, series: drawn)
        }

        let lossSeries = [series("train_loss", "train loss"), series("val_loss", "validation loss"), testPoint(test?.loss)]
            .compactMap { $0 }
        var lossMarkers: [LineChart.Marker] = []
        if let summary, let best = summary.bestEpoch, let loss = summary.bestLoss {
            lossMarkers.append(LineChart.Marker(
                label: "best epoch \(best) (\(validated ? "val" : "train") \(ConsoleFormat.significant(loss)))",
                x: Double(best), y: loss, symbol: .circle))
        }
        if let stop = summary.flatMap({ Self.earlyStopEpoch(ended: $0.ended) }) {
            lossMarkers.append(LineChart.Marker(label: "early stop after epoch \(stop)", x: Double(stop)))
        }
        let lossValues = lossSeries.flatMap { $0.points.map(\.y) } + lossMarkers.compactMap(\.y)
        var panels = [LineChart.Panel(title: "Loss", x: epochAxis,
                                      y: Self.axis(title: "loss", values: lossValues, logAbove: logScaleLoss ? 0 : 100),
                                      series: lossSeries, markers: lossMarkers)]
        let optional = [
            panel("Accuracy", ChartAxis(title: "accuracy (%)"),
                  [series("train_acc", "train accuracy", factor: 100), series("val_acc", "validation accuracy", factor: 100),
                   testPoint(test?.accuracy, factor: 100)]),
            panel("Validation MAE", ChartAxis(title: "mean absolute error (target units)"),
                  [series("val_mae", "validation MAE")]),
            panel(validated ? "Validation R²" : "Test R²", ChartAxis(title: "R² (1 is a perfect fit)"),
                  [series("val_r2", "validation R²"), testPoint(test?.r2)]),
            panel("Learning rate", Self.axis(title: "learning rate", values: (values(of: "lr") ?? []).compactMap { $0 },
                                             logAbove: 10),
                  [series("lr", "learning rate")]),
        ]
        panels += optional.compactMap { $0 }
        return LineChart(title: title, panels: panels)
    }

    /// A log axis, titled "(log scale)", when every finite value is positive and the largest is more
    /// than `logAbove` times the smallest (always, with `logAbove` 0); a linear one otherwise.
    private static func axis(title: String, values: [Double], logAbove ratio: Double) -> ChartAxis {
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 0
        guard ratio == 0 || (low > 0 && high > ratio * low) else { return ChartAxis(title: title) }
        return ChartAxis(title: title + " (log scale)", scale: .log10)
    }

    /// The epoch of summary.json's `ended` when early stopping ended the run (`TrainingEnd`'s
    /// "early stop at epoch N"), else nil.
    static func earlyStopEpoch(ended: String) -> Int? {
        let prefix = TrainingEnd.earlyStopPrefix
        return ended.hasPrefix(prefix) ? Int(ended.dropFirst(prefix.count)) : nil
    }

    // MARK: Writing

    /// Draws `runDirectory`/metrics.csv into `output` (default `runDirectory`/curves.svg), written
    /// atomically, with the marks of `runDirectory`/summary.json when there is one, the loss on a log
    /// axis with `logScaleLoss`; returns the path written. Errors: `.missingFile` for a missing run
    /// directory or metrics.csv, `.data` for a malformed metrics.csv or summary.json, `.cannotWrite`
    /// for the output.
    @discardableResult
    public static func write(runDirectory: String, to output: String? = nil, logScaleLoss: Bool = false)
        throws(NNTrainError) -> String
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory) else {
            throw .missingFile(runDirectory, expected: "a run directory written by nntrain run")
        }
        guard isDirectory.boolValue else {
            throw NNTrainError(.missingFile, "\(runDirectory): not a folder (expected a run directory written by nntrain run)")
        }
        let folder = runDirectory as NSString
        let curves = try read(metricsPath: folder.appendingPathComponent("metrics.csv"))
        let summary = try readSummary(folder.appendingPathComponent("summary.json"))
        let name = (folder.standardizingPath as NSString).lastPathComponent
        let path = output ?? folder.appendingPathComponent("curves.svg")
        let chart = curves.chart(title: "Learning curves: \(name)", summary: summary, logScaleLoss: logScaleLoss)
        try OutputFile.write(Array(chart.svg().utf8), to: path)
        return path
    }

    /// summary.json at `path`; nil when there is none (a run still in its first session).
    private static func readSummary(_ path: String) throws(NNTrainError) -> RunSummary? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes = try InputFile.readAll(path: path, expected: "summary.json, written by nntrain run")
        do { return try RunSummary.decode(Data(bytes)) } catch {
            throw .data(path, "not a summary.json nntrain run writes (\(ReportJSON.describe(error))); "
                + "expected one, or none (then the curves have no marks)")
        }
    }
}
