import Foundation

/// sweep.svg: the sweep's metric (y) against each swept key's value (x), one scatter panel per key
/// (as Optuna's `plot_slice`), each trial a point in every panel.
///
/// x: a key whose values are all numbers is placed on a linear axis, or on a log axis when it is
/// drawn `log_uniform`, or when its listed values (grid, choice) are all positive and the largest is
/// at least 100 times the smallest; any other key (texts, booleans, lists such as `model.hidden`) is
/// categorical: its values evenly spaced in the sweep file's order and labelled. y: the metric, on a
/// log axis when every value is positive and the largest is more than 100 times the smallest (as
/// curves.svg's loss). Finished trials are filled circles, pruned ones triangles at their best so far;
/// the best trial (`SweepSpec.best`) is marked in every panel; trials without the metric (failed,
/// unfinished, changed) are left out, and the caption says how many.
public struct SweepChart: Equatable, Sendable {
    /// How one key's values are placed along x.
    public enum KeyAxis: Equatable, Sendable {
        case linear
        case log
        /// The values (YAML texts) in order, each at its index.
        case categorical([String])
    }

    public var spec: SweepSpec
    public var outcomes: [SweepTrialOutcome]

    public init(spec: SweepSpec, outcomes: [SweepTrialOutcome]) {
        self.spec = spec
        self.outcomes = outcomes
    }

    /// The x placement of swept `key`.
    public func keyAxis(_ key: String) -> KeyAxis {
        if let grid = spec.grid.first(where: { $0.key == key }) { return Self.listed(grid.values) }
        switch spec.random?.keys.first(where: { $0.key == key })?.distribution {
        case .uniform, .intUniform: return .linear
        case .logUniform: return .log
        case .choice(let values): return Self.listed(values)
        case nil: return .categorical([])
        }
    }

    /// Listed values: numbers on a linear axis, or a log one when all are positive and span ≥ 100×;
    /// anything else categorical, each distinct text once in order.
    static func listed(_ values: [String]) -> KeyAxis {
        let numbers = values.compactMap(number)
        guard numbers.count == values.count, let low = numbers.min(), let high = numbers.max() else {
            var seen: Set<String> = []
            return .categorical(values.filter { seen.insert($0).inserted })
        }
        return low > 0 && high >= 100 * low ? .log : .linear
    }

    /// A YAML text that is a finite number (`0.001`, `1.0e-5`, `32`), else nil.
    static func number(_ text: String) -> Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The chart: one panel per swept key that takes more than one value (a grid key of one value
    /// only sets it for every trial); nil when the sweep varies nothing.
    public func chart() -> LineChart? {
        let keys = spec.sweptKeys.filter { key in
            Set(outcomes.compactMap { $0.trial.overrides.first(where: { $0.key == key })?.value }).count > 1
        }
        guard !keys.isEmpty else { return nil }
        let metric = spec.metric.rawValue
        let drawn = outcomes.filter { $0.metric?.isFinite == true && [.finished, .pruned].contains($0.status) }
        let best = spec.best(outcomes)
        let ys = drawn.compactMap(\.metric)
        let low = ys.min() ?? 0, high = ys.max() ?? 0
        let yTitle = "\(metric) (\(spec.mode == .min ? "lower" : "higher") is better)"
        let yAxis = low > 0 && high > 100 * low ? ChartAxis(title: yTitle + ", log scale", scale: .log10)
            : ChartAxis(title: yTitle)
        var panels: [LineChart.Panel] = []
        for key in keys {
            let placement = keyAxis(key)
            let xAxis: ChartAxis
            switch placement {
            case .linear: xAxis = ChartAxis(title: key)
            case .log: xAxis = ChartAxis(title: key + " (log scale)", scale: .log10)
            case .categorical(let values): xAxis = ChartAxis(title: key, categories: values)
            }
            func x(_ outcome: SweepTrialOutcome) -> Double {
                let text = outcome.trial.overrides.first { $0.key == key }?.value ?? ""
                if case .categorical(let values) = placement { return values.firstIndex(of: text).map(Double.init) ?? .nan }
                return Self.number(text) ?? .nan
            }
            func points(_ status: SweepTrialOutcome.Status) -> [LineChart.Point] {
                drawn.filter { $0.status == status }.map { LineChart.Point(x: x($0), y: $0.metric ?? .nan) }
            }
            var series = [LineChart.Series(name: "finished", points: points(.finished), symbol: .circle)]
            if drawn.contains(where: { $0.status == .pruned }) {
                series.append(LineChart.Series(name: "pruned (best so far)", points: points(.pruned), symbol: .triangle))
            }
            let markers = best.flatMap { best in
                best.metric.map {
                    [LineChart.Marker(label: "best \(best.trial.folderName)", x: x(best), y: $0, symbol: .diamond)]
                }
            } ?? []
            panels.append(LineChart.Panel(title: key, x: xAxis, y: yAxis, series: series, markers: markers))
        }
        let left = outcomes.count - drawn.count
        let bestText = best.flatMap { best in
            best.metric.map { "; best \(best.trial.folderName) \(metric) \(ConsoleFormat.significant($0))" }
        } ?? ""
        let caption = "\(outcomes.count) trial\(outcomes.count == 1 ? "" : "s"): \(drawn.count) drawn, "
            + (left == 0 ? "none left out" : "\(left) without \(metric) left out (failed, unfinished or changed)") + bestText
        return LineChart(title: "Sweep: \(metric) against each swept key", panels: panels, panelWidth: 460,
                         panelHeight: 320, caption: caption)
    }
}

extension SweepChart {
    /// The file written beside results.csv.
    public static let fileName = "sweep.svg"

    /// Writes the chart of `outcomes` to `directory`/sweep.svg (atomically); returns its path, nil when
    /// the sweep varies nothing (no file then).
    @discardableResult
    public static func write(spec: SweepSpec, outcomes: [SweepTrialOutcome], directory: String) throws(NNTrainError)
        -> String?
    {
        guard let chart = SweepChart(spec: spec, outcomes: outcomes).chart() else { return nil }
        let path = directory + "/" + fileName
        try OutputFile.write(Array(chart.svg().utf8), to: path)
        return path
    }
}
