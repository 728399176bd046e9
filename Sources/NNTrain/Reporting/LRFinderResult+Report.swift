import Foundation

extension LRFinderResult {
    /// lr_find.csv: `lr,loss,smoothed_loss`, a row per step, numbers in full precision (Swift's
    /// shortest round-trip form, `nan` and `inf` as Swift writes them).
    public func csv() -> String {
        "lr,loss,smoothed_loss\n" + points.map { "\($0.learningRate),\($0.loss),\($0.smoothedLoss)\n" }.joined()
    }

    /// The JSON text (see ReportJSON: pretty, sorted snake_case keys, inf and nan as strings).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "lr-find result")
    }

    /// The plot of fastai's `plot_lr_find(skip_end=5)`: smoothed loss against lr on a log axis,
    /// without the last 5 steps (where a diverging loss would squash the curve), and each suggestion
    /// marked at its point with a symbol of its own (valley ○, slide □, minimum ◇, steep △), and in the
    /// legend with its method and rate to four significant digits (`minimum` marks the lowest loss and
    /// suggests a tenth of its rate, which the label says). Suggestions that mark the same point stay
    /// apart: the symbols are hollow and differ in shape, and the later one's label names the earlier.
    public func chart(title: String = "Learning-rate range test") -> LineChart {
        let shown = points.count > 5 ? points.dropLast(5) : points[...]
        let curve = LineChart.Series(name: "smoothed loss",
                                     points: shown.map { LineChart.Point(x: $0.learningRate, y: $0.smoothedLoss) })
        func symbol(_ method: LRSuggestion.Method) -> LineChart.Symbol {
            switch method {
            case .valley: .circle
            case .slide: .square
            case .minimum: .diamond
            case .steep: .triangle
            }
        }
        let markers = suggestions.enumerated().map { index, suggestion in
            let same = suggestions[..<index].first {
                $0.pointLearningRate == suggestion.pointLearningRate && $0.pointLoss == suggestion.pointLoss
            }
            return LineChart.Marker(label: "\(suggestion.method.rawValue): " + ConsoleFormat.significant(suggestion.learningRate)
                                        + (suggestion.method == .minimum ? " (marked lr / 10)" : "")
                                        + (same.map { " (same point as \($0.method.rawValue))" } ?? ""),
                                    x: suggestion.pointLearningRate, y: suggestion.pointLoss,
                                    symbol: symbol(suggestion.method))
        }
        return LineChart(title: title, panels: [
            LineChart.Panel(title: "Smoothed loss (β = 0.98) by learning rate",
                            x: ChartAxis(title: "learning rate (log scale)", scale: .log10),
                            y: ChartAxis(title: "smoothed training loss"), series: [curve], markers: markers),
        ], panelWidth: 720, panelHeight: 440)
    }

    /// `chart()` as an SVG document.
    public func svg() -> String { chart().svg() }
}
