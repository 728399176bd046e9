import Foundation
import FoundationXML
import Testing
@testable import NNTrain

/// What curves.svg and lr_find.svg show beyond the curves: a log loss axis, the best epoch, an early
/// stop, the test figures, and every lr-find suggestion with its value.
@Suite struct PictureTests {
    /// summary.json as nntrain run writes it, with the figures the pictures read.
    static func summary(epochs: Int, best: Int?, bestLoss: Double?, ended: String = "completed",
                        test: String? = nil, restoredBest: Int? = nil) -> String {
        var fields = [
            "\"nntrain_version\": \"0\"", "\"config\": \"c.txt\"", "\"run_directory\": \"runs/c\"", "\"dataset\": \"bonus\"",
            "\"ended\": \"\(ended)\"", "\"epochs_completed\": \(epochs)", "\"parameters\": 6", "\"layer_widths\": [5, 1]",
            "\"load_seconds\": 0.1", "\"train_seconds\": 1", "\"wall_seconds\": 1.5", "\"samples_per_second\": 1000",
            "\"blas_kernel\": \"SkylakeX\"", "\"blas_threads\": 2",
        ]
        if let best, let bestLoss { fields += ["\"best_epoch\": \(best)", "\"best_loss\": \(bestLoss)"] }
        if let test { fields.append("\"test\": \(test)") }
        if let restoredBest { fields.append("\"restored_best_epoch\": \(restoredBest)") }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// A run directory holding `metrics` as metrics.csv and, if given, `summary` as summary.json;
    /// returns the parsed curves.svg `LearningCurves.write` draws from it.
    static func draw(metrics: String, summary: String?, logScaleLoss: Bool = false) throws -> XMLDocument {
        let folder = try TemporaryFolder()
        _ = try folder.write(metrics, to: "metrics.csv")
        if let summary { _ = try folder.write(summary, to: "summary.json") }
        let path = try LearningCurves.write(runDirectory: folder.path, logScaleLoss: logScaleLoss)
        return try SVGCheck.parse(String(contentsOfFile: path, encoding: .utf8))
    }

    /// The panels of a chart: the `<g transform=...>` children of the root, in order.
    static func panels(_ document: XMLDocument) -> [XMLElement] {
        (document.rootElement()?.children ?? []).compactMap { $0 as? XMLElement }.filter { $0.localName == "g" }
    }

    /// The x of the tick label `label` under the panel's x axis (its labels are centred on the tick).
    static func tickX(_ label: String, in panel: XMLElement) -> String? {
        let ticks = SVGCheck.elements("g", ofClass: "ticks", in: panel).first
        return ticks.flatMap { group in
            SVGCheck.elements("text", in: group).first {
                $0.stringValue == label && SVGCheck.attribute("text-anchor", of: $0) == "middle"
            }.flatMap { SVGCheck.attribute("x", of: $0) }
        }
    }

    /// Each marker of `panel`: its title and the x of its vertical line.
    static func markers(in panel: XMLElement) -> [(title: String, x: String)] {
        SVGCheck.elements("g", ofClass: "marker", in: panel).map { group in
            (SVGCheck.elements("title", in: group).first?.stringValue ?? "",
             SVGCheck.elements("line", in: group).first.flatMap { SVGCheck.attribute("x1", of: $0) } ?? "")
        }
    }

    static let validated = """
        epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second
        1,0.01,0.9,0.8,0.7,0.1,1,1,0.1,1000
        2,0.01,0.7,0.6,0.6,0.3,1,1,0.1,1000
        3,0.01,0.6,0.4,0.5,0.5,1,1,0.1,1000
        4,0.01,0.5,0.45,0.5,0.5,1,1,0.1,1000
        5,0.01,0.45,0.5,0.5,0.5,1,1,0.1,1000

        """

    // MARK: Log loss axis

    @Test func aLossOverMoreThanTwoDecadesIsDrawnOnALogAxis() throws {
        // 20 down to 0.15: a ratio of 133, over two decades.
        let falling = """
            epoch,lr,train_loss
            1,0.1,20
            2,0.1,1.5
            3,0.1,0.15

            """
        let document = try Self.draw(metrics: falling, summary: nil)
        let texts = SVGCheck.texts(in: document)
        #expect(texts.contains("loss (log scale)") && !texts.contains("loss"))
        for decade in ["0.1", "1", "10", "100"] { #expect(texts.contains(decade), "\(decade)") }
        // 20 down to 0.25, a ratio of 80: linear, unless asked.
        let gentle = falling.replacing("0.15", with: "0.25")
        #expect(SVGCheck.texts(in: try Self.draw(metrics: gentle, summary: nil)).contains("loss"))
        let forced = SVGCheck.texts(in: try Self.draw(metrics: gentle, summary: nil, logScaleLoss: true))
        #expect(forced.contains("loss (log scale)") && forced.contains("100") && forced.contains("0.1"))
    }

    // MARK: Best epoch and early stop

    @Test func theBestEpochAndAnEarlyStopAreMarkedAtTheirEpochs() throws {
        let document = try Self.draw(metrics: Self.validated, summary: Self.summary(
            epochs: 5, best: 3, bestLoss: 0.4, ended: "early stop at epoch 5"))
        let loss = try #require(Self.panels(document).first)
        let marks = Self.markers(in: loss)
        #expect(marks.map(\.title) == ["best epoch 3 (val 0.4)", "early stop after epoch 5"])
        #expect(marks.map(\.x) == [Self.tickX("3", in: loss), Self.tickX("5", in: loss)])
        #expect(!marks[0].x.isEmpty && marks[0].x != marks[1].x)
        // The best epoch's point sits on its loss: the hollow circle's centre is the marker's x.
        let best = try #require(SVGCheck.elements("g", ofClass: "marker", in: loss).first)
        #expect(SVGCheck.elements("circle", in: best).first.flatMap { SVGCheck.attribute("cx", of: $0) } == marks[0].x)
        let legend = SVGCheck.texts(in: document)
        #expect(legend.contains("best epoch 3 (val 0.4)") && legend.contains("early stop after epoch 5"))
        // Only the loss panel is marked.
        #expect(Self.panels(document).dropFirst().allSatisfy { SVGCheck.elements("g", ofClass: "marker", in: $0).isEmpty })
    }

    @Test func withoutASummaryOrWithAnOlderOneNothingIsMarked() throws {
        let none = try Self.draw(metrics: Self.validated, summary: nil)
        #expect(SVGCheck.elements("g", ofClass: "marker", in: none).isEmpty)
        // A summary of 4 epochs beside 5 rows: a resumed run still training; its marks would be stale.
        let older = try Self.draw(metrics: Self.validated, summary: Self.summary(
            epochs: 4, best: 3, bestLoss: 0.4, ended: "early stop at epoch 4", test: "{\"rows\": 10, \"loss\": 0.3}"))
        #expect(SVGCheck.elements("g", ofClass: "marker", in: older).isEmpty)
        #expect(!SVGCheck.texts(in: older).contains("test"))
    }

    @Test func aBrokenSummaryIsADataError() throws {
        let folder = try TemporaryFolder()
        _ = try folder.write(Self.validated, to: "metrics.csv")
        let path = try folder.write("{\"ended\": 3}", to: "summary.json")
        #expect(throws: NNTrainError.self) { try LearningCurves.write(runDirectory: folder.path) }
        do { try LearningCurves.write(runDirectory: folder.path) } catch {
            #expect(error.kind == .data && error.message.hasPrefix(path + ": not a summary.json nntrain run writes ("))
        }
    }

    // MARK: Test figures

    static let unvalidated = """
        epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second
        1,0.01,0.9,0.6,,,1,1,0.1,1000
        2,0.01,0.7,0.7,,,1,1,0.1,1000
        3,0.01,0.6,0.75,,,1,1,0.1,1000

        """

    @Test func aRunWithoutValidationShowsItsTestFiguresAsPoints() throws {
        let summary = Self.summary(epochs: 3, best: 3, bestLoss: 0.6, test: "{\"rows\": 50, \"loss\": 0.65, \"accuracy\": 0.72}")
        let folder = try TemporaryFolder()
        _ = try folder.write(Self.unvalidated, to: "metrics.csv")
        let chart = try LearningCurves.read(metricsPath: folder.file("metrics.csv"))
            .chart(title: nil, summary: try RunSummary.decode(Data(summary.utf8)))
        #expect(chart.panels[0].series.map(\.name) == ["train loss", "test"])
        #expect(chart.panels[0].series[1].points == [LineChart.Point(x: 3, y: 0.65)])
        #expect(chart.panels[1].series.map(\.name) == ["train accuracy", "test"])
        #expect(chart.panels[1].series[1].points == [LineChart.Point(x: 3, y: 72)])

        let document = try Self.draw(metrics: Self.unvalidated, summary: summary)
        #expect(SVGCheck.texts(in: document).filter { $0 == "test" }.count == 2)  // a legend entry in each panel
        for panel in Self.panels(document).prefix(2) {
            let test = try #require(SVGCheck.elements("g", ofClass: "series", in: panel).first {
                SVGCheck.elements("title", in: $0).first?.stringValue == "test"
            })
            // One square, centred on epoch 3: its corners are 4.25 either side of the tick.
            let square = try #require(
                SVGCheck.elements("polygon", in: test).first.flatMap { SVGCheck.attribute("points", of: $0) })
            let xs = square.split(separator: " ").compactMap { $0.split(separator: ",").first.flatMap { Double($0) } }
            let tick = try #require(Self.tickX("3", in: panel).flatMap(Double.init))
            #expect(xs.count == 4 && abs((xs.min() ?? 0) + (xs.max() ?? 0) - 2 * tick) < 0.02, "\(square) around \(tick)")
        }
        // With restore_best, the test point is at the epoch put back.
        let restored = try LearningCurves.read(metricsPath: folder.file("metrics.csv")).chart(title: nil, summary:
            try RunSummary.decode(Data(Self.summary(epochs: 3, best: 2, bestLoss: 0.7, test: "{\"rows\": 50, \"loss\": 0.7}",
                                                    restoredBest: 2).utf8)))
        #expect(restored.panels[0].series[1].points == [LineChart.Point(x: 2, y: 0.7)])
    }

    @Test func aRegressionWithoutValidationShowsItsTestR2AndAValidatedRunNoTestPoint() throws {
        let regression = """
            epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second
            1,0.05,4.0,,,,1,1,0.1,1000
            2,0.05,2.5,,,,1,1,0.1,1000

            """
        let folder = try TemporaryFolder()
        let curves = try LearningCurves.read(metricsPath: folder.write(regression, to: "r.csv"))
        let chart = curves.chart(title: nil, summary: try RunSummary.decode(Data(Self.summary(
            epochs: 2, best: 2, bestLoss: 2.5, test: "{\"rows\": 50, \"loss\": 2.7, \"mae\": 1.2, \"r2\": 0.91}").utf8)))
        #expect(chart.panels.map(\.title) == ["Loss", "Test R²", "Learning rate"])
        #expect(chart.panels[1].series.map(\.name) == ["test"] && chart.panels[1].series[0].points == [.init(x: 2, y: 0.91)])
        // With validation the test split stays out of the picture.
        let validated = try LearningCurves.read(metricsPath: folder.write(Self.validated, to: "v.csv"))
            .chart(title: nil, summary: try RunSummary.decode(Data(Self.summary(
                epochs: 5, best: 3, bestLoss: 0.4, test: "{\"rows\": 50, \"loss\": 0.5, \"r2\": 0.4}").utf8)))
        #expect(validated.panels.allSatisfy { !$0.series.map(\.name).contains("test") })
        #expect(validated.panels.map(\.title) == ["Loss", "Validation MAE", "Validation R²", "Learning rate"])
    }

    // MARK: lr-find suggestions

    /// The shape of a marker's symbol: "circle", or "polygon" with its number of corners.
    static func symbolShapes(_ document: XMLDocument) -> [String] {
        SVGCheck.elements("g", ofClass: "marker", in: document).map { group in
            if !SVGCheck.elements("circle", in: group).isEmpty { return "circle" }
            let points = SVGCheck.elements("polygon", in: group).first.flatMap { SVGCheck.attribute("points", of: $0) } ?? ""
            return "polygon \(points.split(separator: " ").count)"
        }
    }

    @Test func everySuggestionHasItsOwnSymbolAndItsRateInTheLegend() throws {
        let result = try LRFinderTests.simulated()
        let document = try SVGCheck.parse(result.svg())
        let texts = SVGCheck.texts(in: document)
        #expect(result.suggestions.count == 4)
        for suggestion in result.suggestions {
            let label = "\(suggestion.method.rawValue): " + String(format: "%.4g", suggestion.learningRate)
                + (suggestion.method == .minimum ? " (marked lr / 10)" : "")
            #expect(texts.contains(label), "\(label)")
        }
        // valley ○, slide □, minimum ◇, steep △.
        #expect(Self.symbolShapes(document) == ["circle", "polygon 4", "polygon 4", "polygon 3"])
        let polygons = SVGCheck.elements("g", ofClass: "marker", in: document).compactMap {
            SVGCheck.elements("polygon", in: $0).first.flatMap { SVGCheck.attribute("points", of: $0) }
        }
        #expect(Set(polygons).count == 3)
        // The legend shows each symbol again, hollow beside its dashed line.
        let legend = try #require(SVGCheck.elements("g", ofClass: "legend", in: document).first)
        #expect(SVGCheck.elements("circle", in: legend).count == 1 && SVGCheck.elements("polygon", in: legend).count == 3)
    }

    @Test func suggestionsAtTheSamePointBothStayVisibleAndNamed() throws {
        var result = try LRFinderTests.simulated()
        let valley = try #require(result.suggestion(.valley))
        result.suggestions = [valley, LRSuggestion(method: .slide, learningRate: valley.learningRate,
                                                   pointLearningRate: valley.pointLearningRate, pointLoss: valley.pointLoss)]
        let document = try SVGCheck.parse(result.svg())
        let rate = String(format: "%.4g", valley.learningRate)
        let texts = SVGCheck.texts(in: document)
        #expect(texts.contains("valley: \(rate)") && texts.contains("slide: \(rate) (same point as valley)"))
        let groups = SVGCheck.elements("g", ofClass: "marker", in: document)
        #expect(groups.count == 2)
        // Both hollow, different shapes, around the same centre.
        let circle = try #require(SVGCheck.elements("circle", in: groups[0]).first)
        let square = try #require(SVGCheck.elements("polygon", in: groups[1]).first)
        #expect(SVGCheck.attribute("fill", of: circle) == "none" && SVGCheck.attribute("fill", of: square) == "none")
        let corners = (SVGCheck.attribute("points", of: square) ?? "").split(separator: " ").map {
            $0.split(separator: ",").compactMap { Double($0) }
        }
        let cx = try #require(SVGCheck.attribute("cx", of: circle).flatMap(Double.init))
        let cy = try #require(SVGCheck.attribute("cy", of: circle).flatMap(Double.init))
        #expect(corners.count == 4 && corners.allSatisfy { $0.count == 2 })
        #expect(abs(corners.map { $0.first ?? 0 }.reduce(0, +) / 4 - cx) < 0.02)
        #expect(abs(corners.map { $0.last ?? 0 }.reduce(0, +) / 4 - cy) < 0.02)
        // The later symbol is drawn 1.6 times the size, around the first: a square of half-side
        // 0.85 · 5 · 1.6 = 6.8 pixels around a circle of radius 5.
        #expect(SVGCheck.attribute("r", of: circle) == "5")
        #expect(abs((corners.map { $0.first ?? 0 }.max() ?? 0) - cx - 6.8) < 0.02)
    }
}
