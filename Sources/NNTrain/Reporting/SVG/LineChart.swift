/// Line charts as SVG: one or more panels laid out in a grid, each with its own axes, named series of
/// (x, y) points (joined by a line, or drawn as symbols), a legend, and optional markers (a dashed
/// vertical line, and a hollow symbol where the marker has a y) such as the learning rates lr-find
/// suggests or the best epoch of a run. Markers at the same point stay visible: their symbols differ
/// in shape, are hollow, and each one drawn where an earlier one is grows by 60% of the base size, so
/// they nest; each has its legend entry.
///
/// A point an axis cannot place (NaN, ±infinity, or ≤ 0 on a log axis) is skipped and breaks its
/// series there: the line stops before it and starts again after it; a point with no neighbour to join
/// is drawn as a dot. An empty series still has its legend entry; a panel with nothing to draw says
/// "no data". Axes span the placed points and markers, widened to round ticks (see `AxisLayout`); a
/// categorical axis (`ChartAxis.categories`) places the value i at its i-th label instead. A series
/// drawn as symbols alone is a scatter plot (sweep.svg). An optional caption goes under the panels.
/// The same chart always renders to the same bytes.
public struct LineChart: Equatable, Sendable {
    /// A chart's title, drawn above the panels; nil for none.
    public var title: String?
    public var panels: [Panel]
    /// Panels per row of the grid.
    public var columns: Int
    /// Size of each panel in pixels, legend included.
    public var panelWidth: Double
    public var panelHeight: Double
    /// A line of text under the panels (what the chart leaves out, say); nil for none.
    public var caption: String?

    public init(title: String? = nil, panels: [Panel], columns: Int? = nil,
                panelWidth: Double = 520, panelHeight: Double = 340, caption: String? = nil) {
        self.title = title
        self.panels = panels
        self.columns = max(1, columns ?? min(panels.count, 2))
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
        self.caption = caption
    }

    /// One (x, y) point.
    public struct Point: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// The shape drawn at a point: matplotlib's markers 'o', 's', 'D' and '^', about 10 pixels across.
    public enum Symbol: Equatable, Sendable {
        case circle, square, diamond, triangle
    }

    /// A named line; with `symbol`, the points alone, each drawn as that symbol (a figure measured
    /// once, such as the final test loss).
    public struct Series: Equatable, Sendable {
        public var name: String
        public var points: [Point]
        public var symbol: Symbol?
        public init(name: String, points: [Point], symbol: Symbol? = nil) {
            self.name = name
            self.points = points
            self.symbol = symbol
        }
    }

    /// A vertical dashed line at `x` across the plot, with a hollow `symbol` at (x, y) when `y` is
    /// given; `label` names it in the legend and in the tooltip.
    public struct Marker: Equatable, Sendable {
        public var label: String
        public var x: Double
        public var y: Double?
        public var symbol: Symbol
        public init(label: String, x: Double, y: Double? = nil, symbol: Symbol = .circle) {
            self.label = label
            self.x = x
            self.y = y
            self.symbol = symbol
        }
    }

    public struct Panel: Equatable, Sendable {
        public var title: String
        public var x: ChartAxis
        public var y: ChartAxis
        public var series: [Series]
        public var markers: [Marker]
        public init(title: String, x: ChartAxis, y: ChartAxis, series: [Series], markers: [Marker] = []) {
            self.title = title
            self.x = x
            self.y = y
            self.series = series
            self.markers = markers
        }
    }

    /// Colours of series and then markers, in order: matplotlib's "tab10" cycle (Tableau 10).
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The SVG document.
    public func svg() -> String {
        let titleBand: Double = title == nil ? 0 : 36
        let rows = (panels.count + columns - 1) / columns
        let width = panelWidth * Double(min(columns, max(panels.count, 1)))
        let captionBand: Double = caption == nil ? 0 : 28
        let height = titleBand + panelHeight * Double(max(rows, 1)) + captionBand
        var children: [SVGElement] = []
        if let title {
            children.append(.text(title, x: width / 2, y: 24, size: 18, anchor: "middle", bold: true))
        }
        for (index, panel) in panels.enumerated() {
            let left = panelWidth * Double(index % columns), top = titleBand + panelHeight * Double(index / columns)
            children.append(.group(["transform": "translate(\(SVGElement.number(left)) \(SVGElement.number(top)))"],
                                   draw(panel)))
        }
        if let caption {
            children.append(SVGElement.group(["class": "caption"], [
                .text(caption, x: 14, y: height - 10, size: 12, fill: "#444444"),
            ]))
        }
        return SVGElement.document(width: width, height: height, title: title, children: children)
    }

    /// The elements of one panel, in its own coordinates (0…panelWidth, 0…panelHeight).
    private func draw(_ panel: Panel) -> [SVGElement] {
        let xs = panel.series.flatMap { $0.points.map(\.x) } + panel.markers.map(\.x)
        let ys = panel.series.flatMap { $0.points.filter { panel.x.accepts($0.x) }.map(\.y) }
            + panel.markers.compactMap { marker in marker.y.flatMap { panel.x.accepts(marker.x) ? $0 : nil } }
        let xAxis = AxisLayout(values: xs, axis: panel.x)
        let yAxis = AxisLayout(values: ys, axis: panel.y)

        // Margins: the y title and tick labels on the left, the legend on the right.
        let tickSize = 11.0, labelSize = 12.0
        let widestTick = yAxis.ticks.map { SVGElement.estimatedWidth($0.label, size: tickSize) }.max() ?? 0
        let legend = legendEntries(panel)
        let legendWidth = legend.isEmpty ? 0
            : 34 + (legend.map { SVGElement.estimatedWidth($0.label, size: tickSize) }.max() ?? 0)
        let plotLeft = 26 + widestTick + 8, plotTop = 34.0
        let plotRight = panelWidth - 14 - min(legendWidth, panelWidth * 0.4)
        let plotBottom = panelHeight - 46
        let plotWidth = max(plotRight - plotLeft, 1), plotHeight = max(plotBottom - plotTop, 1)
        func px(_ x: Double) -> Double { plotLeft + xAxis.fraction(x) * plotWidth }
        func py(_ y: Double) -> Double { plotBottom - yAxis.fraction(y) * plotHeight }

        var elements: [SVGElement] = [
            .text(panel.title, x: (plotLeft + plotRight) / 2, y: 20, size: 14, anchor: "middle", bold: true),
        ]
        // Grid and ticks.
        var grid: [SVGElement] = [], ticks: [SVGElement] = []
        // A category's label is shortened with "…" to its share of the width (the whole in its tooltip).
        let labelCharacters = panel.x.categories.map { categories in
            max(3, Int(plotWidth / Double(max(categories.count, 1)) / (tickSize * 0.6)))
        }
        for tick in xAxis.ticks {
            let x = px(tick.value)
            grid.append(.line(x1: x, y1: plotTop, x2: x, y2: plotBottom, stroke: "#e6e6e6"))
            ticks.append(.line(x1: x, y1: plotBottom, x2: x, y2: plotBottom + 5, stroke: "#444444"))
            if let limit = labelCharacters, tick.label.count > limit {
                ticks.append(.group([:], [.title(tick.label), .text(tick.label.prefix(limit - 1) + "…", x: x,
                                                                     y: plotBottom + 18, size: tickSize, anchor: "middle")]))
            } else {
                ticks.append(.text(tick.label, x: x, y: plotBottom + 18, size: tickSize, anchor: "middle"))
            }
        }
        for tick in yAxis.ticks {
            let y = py(tick.value)
            grid.append(.line(x1: plotLeft, y1: y, x2: plotRight, y2: y, stroke: "#e6e6e6"))
            ticks.append(.line(x1: plotLeft - 5, y1: y, x2: plotLeft, y2: y, stroke: "#444444"))
            ticks.append(.text(tick.label, x: plotLeft - 8, y: y + 4, size: tickSize, anchor: "end"))
        }
        for value in xAxis.minorTicks {
            let x = px(value)
            ticks.append(.line(x1: x, y1: plotBottom, x2: x, y2: plotBottom + 3, stroke: "#444444"))
        }
        for value in yAxis.minorTicks {
            let y = py(value)
            ticks.append(.line(x1: plotLeft - 3, y1: y, x2: plotLeft, y2: y, stroke: "#444444"))
        }
        elements.append(.group(["class": "grid"], grid))
        elements.append(.rect(x: plotLeft, y: plotTop, width: plotWidth, height: plotHeight, fill: "none", stroke: "#444444"))
        elements.append(.group(["class": "ticks"], ticks))
        elements.append(.text(panel.x.title, x: (plotLeft + plotRight) / 2, y: panelHeight - 10, size: labelSize,
                              anchor: "middle"))
        elements.append(.text(panel.y.title, x: 16, y: (plotTop + plotBottom) / 2, size: labelSize, anchor: "middle",
                              rotation: -90))

        // Series, then markers over them.
        let placed = { (point: Point) in panel.x.accepts(point.x) && panel.y.accepts(point.y) }
        var drawn = false
        for (index, series) in panel.series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            var shapes: [SVGElement] = [.title(series.name)]
            for run in Self.runs(of: series.points, where: placed) {
                if let symbol = series.symbol {
                    shapes += run.map { Self.draw(symbol, x: px($0.x), y: py($0.y), colour: colour, hollow: false) }
                } else if run.count == 1 {
                    shapes.append(.circle(x: px(run[0].x), y: py(run[0].y), radius: 2.5, fill: colour))
                } else {
                    let path = run.enumerated().map { offset, point in
                        "\(offset == 0 ? "M" : "L")\(SVGElement.number(px(point.x))) \(SVGElement.number(py(point.y)))"
                    }.joined(separator: " ")
                    shapes.append(SVGElement("path", ["d": path, "fill": "none", "stroke": colour, "stroke-width": "1.8",
                                                      "stroke-linejoin": "round"]))
                }
                drawn = true
            }
            elements.append(.group(["class": "series"], shapes))
        }
        for (index, marker) in panel.markers.enumerated() where panel.x.accepts(marker.x) {
            let colour = Self.palette[(panel.series.count + index) % Self.palette.count]
            let x = px(marker.x)
            var shapes: [SVGElement] = [
                .title(marker.label),
                .line(x1: x, y1: plotTop, x2: x, y2: plotBottom, stroke: colour, width: 1.2, dashed: true),
            ]
            if let y = marker.y, panel.y.accepts(y) {
                let beneath = panel.markers[..<index].count { $0.x == marker.x && $0.y == y }
                shapes.append(Self.draw(marker.symbol, x: x, y: py(y), colour: colour, hollow: true,
                                        size: 1 + 0.6 * Double(beneath)))
            }
            elements.append(.group(["class": "marker"], shapes))
            drawn = true
        }
        if !drawn {
            elements.append(.text("no data", x: (plotLeft + plotRight) / 2, y: (plotTop + plotBottom) / 2, size: labelSize,
                                  anchor: "middle", fill: "#888888"))
        }

        // Legend, right of the plot.
        var legendElements: [SVGElement] = []
        for (row, entry) in legend.enumerated() {
            let x = plotRight + 12, y = plotTop + 8 + 18 * Double(row)
            if entry.isMarker {
                legendElements.append(.line(x1: x + 9, y1: y - 7, x2: x + 9, y2: y + 7, stroke: entry.colour, width: 1.2,
                                            dashed: true))
            }
            if let symbol = entry.symbol {
                legendElements.append(Self.draw(symbol, x: x + 9, y: y, colour: entry.colour, hollow: entry.isMarker))
            } else if !entry.isMarker {
                legendElements.append(.line(x1: x, y1: y, x2: x + 18, y2: y, stroke: entry.colour, width: 2.5))
            }
            legendElements.append(.text(entry.label, x: x + 24, y: y + 4, size: tickSize))
        }
        if !legendElements.isEmpty { elements.append(.group(["class": "legend"], legendElements)) }
        return elements
    }

    private struct LegendEntry {
        var label: String
        var colour: String
        var isMarker: Bool
        /// The symbol beside the label; nil for a line, or a marker without a point.
        var symbol: Symbol?
    }

    private func legendEntries(_ panel: Panel) -> [LegendEntry] {
        panel.series.enumerated().map { index, series in
            LegendEntry(label: series.name, colour: Self.palette[index % Self.palette.count], isMarker: false,
                        symbol: series.symbol)
        } + panel.markers.enumerated().map { index, marker in
            LegendEntry(label: marker.label, colour: Self.palette[(panel.series.count + index) % Self.palette.count],
                        isMarker: true, symbol: marker.y == nil ? nil : marker.symbol)
        }
    }

    /// `symbol` centred on (x, y), `size` times its base size (5 pixels from centre to side): filled,
    /// or `hollow` (a 1.6-pixel outline on no fill, so a symbol drawn over another at the same point
    /// leaves it visible).
    static func draw(_ symbol: Symbol, x: Double, y: Double, colour: String, hollow: Bool, size: Double = 1) -> SVGElement {
        let r = 5.0 * size
        let corners: [(Double, Double)]
        switch symbol {
        case .circle:
            return SVGElement("circle", ["cx": SVGElement.number(x), "cy": SVGElement.number(y), "r": SVGElement.number(r),
                                         "fill": hollow ? "none" : colour, "stroke": colour,
                                         "stroke-width": hollow ? "1.6" : "0"])
        case .square: corners = [(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)]
        case .diamond: corners = [(0, -1.2), (1.2, 0), (0, 1.2), (-1.2, 0)]
        case .triangle: corners = [(0, -1.2), (1.1, 0.8), (-1.1, 0.8)]
        }
        let points = corners.map { "\(SVGElement.number(x + r * $0.0)),\(SVGElement.number(y + r * $0.1))" }
        return SVGElement("polygon", ["points": points.joined(separator: " "), "fill": hollow ? "none" : colour,
                                      "stroke": colour, "stroke-width": hollow ? "1.6" : "0"])
    }

    /// The maximal runs of consecutive points that `placed` accepts, in order.
    static func runs(of points: [Point], where placed: (Point) -> Bool) -> [[Point]] {
        var runs: [[Point]] = [], current: [Point] = []
        for point in points {
            if placed(point) {
                current.append(point)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}
