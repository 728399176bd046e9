import Foundation
import FoundationXML
import Testing
@testable import NNTrain

/// Parses SVG text twice: with the streaming XMLParser, which stops at the first well-formedness
/// error (corelibs' XMLDocument parses with libxml2's recovery on and would accept `<a>&</a>`), then
/// into an XMLDocument for the tests to read.
enum SVGCheck {
    struct NotWellFormed: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> XMLDocument {
        let parser = XMLParser(data: Data(text.utf8))
        guard parser.parse(), parser.parserError == nil else {
            throw NotWellFormed(description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        let document = try XMLDocument(data: Data(text.utf8), options: [])
        guard document.rootElement()?.localName == "svg" else { throw NotWellFormed(description: "root is not <svg>") }
        return document
    }

    /// Every element named `name` under `node`, in document order.
    static func elements(_ name: String, in node: XMLNode) -> [XMLElement] {
        var found: [XMLElement] = []
        for child in node.children ?? [] {
            if let element = child as? XMLElement {
                if element.localName == name { found.append(element) }
                found += elements(name, in: element)
            }
        }
        return found
    }

    /// The value of `element`'s attribute `name` (corelibs' `attribute(forName:)` finds none in a
    /// document with a default namespace, so the list is searched).
    static func attribute(_ name: String, of element: XMLElement) -> String? {
        element.attributes?.first { $0.name == name }?.stringValue
    }

    /// The elements `name` under `node` whose class attribute is `className`.
    static func elements(_ name: String, ofClass className: String, in node: XMLNode) -> [XMLElement] {
        elements(name, in: node).filter { attribute("class", of: $0) == className }
    }

    /// The text of every `<text>` element.
    static func texts(in document: XMLDocument) -> [String] {
        elements("text", in: document).compactMap(\.stringValue)
    }
}

@Suite struct SVGTests {
    static let odd = "T-shirt/top & <\"odd\">"

    @Test func theCheckerRefusesWhatXMLDocumentWouldRecoverFrom() throws {
        #expect(throws: SVGCheck.NotWellFormed.self) { try SVGCheck.parse("<svg>&</svg>") }
        #expect(throws: SVGCheck.NotWellFormed.self) { try SVGCheck.parse("<svg><g></svg>") }
        #expect(throws: (any Error).self) { try SVGCheck.parse("<svg x=\"<\"/>") }
        _ = try SVGCheck.parse("<svg/>")
    }

    @Test func everyTextIsEscapedAndReadsBackTheSame() throws {
        #expect(SVGElement.escaped(Self.odd, inAttribute: false) == "T-shirt/top &amp; &lt;\"odd\"&gt;")
        #expect(SVGElement.escaped("a'b\"c\td", inAttribute: true) == "a&apos;b&quot;c&#9;d")
        #expect(SVGElement.escaped("bell\u{7} fffe\u{FFFE}", inAttribute: false) == "bell\u{FFFD} fffe\u{FFFD}")
        let name = Self.odd + " 'quoted' \u{1}\r\n日本"
        let text = SVGElement.document(width: 10, height: 10, title: name, children: [
            SVGElement("text", ["class": name], text: name),
        ])
        let document = try SVGCheck.parse(text)
        let element = try #require(SVGCheck.elements("text", in: document).first)
        let read = Self.odd + " 'quoted' \u{FFFD}\r\n日本"
        #expect(element.stringValue == read)
        #expect(SVGCheck.attribute("class", of: element) == read)
        #expect(SVGCheck.elements("title", in: document).first?.stringValue == read)
    }

    @Test func coordinatesAreRoundedToHundredthsWithoutLocale() {
        #expect(SVGElement.number(12) == "12")
        #expect(SVGElement.number(12.5) == "12.5")
        #expect(SVGElement.number(-0.25) == "-0.25")
        #expect(SVGElement.number(3.14159) == "3.14")
        #expect(SVGElement.number(0.05) == "0.05")
        #expect(SVGElement.number(-0.004) == "0")
        #expect(SVGElement.number(.nan) == "0")
    }

    // MARK: Axes

    static func labels(_ layout: AxisLayout) -> [String] { layout.ticks.map(\.label) }

    @Test func linearTicksStepBy125() {
        // Span 0.68: a fifth is 0.136, so the step is 0.2 (1, 2, 5 × 10⁻¹); 0.23 → 0.2, 0.91 → 1.0.
        let accuracy = AxisLayout(values: [0.23, 0.91, .nan], axis: ChartAxis(title: ""))
        #expect(Self.labels(accuracy) == ["0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(accuracy.lower == 0.2 && abs(accuracy.upper - 1) < 1e-15)
        // Epochs 1…50: a fifth is 9.8, so the step is 10.
        #expect(Self.labels(AxisLayout(values: [1, 50], axis: ChartAxis(title: "", integerTicks: true)))
            == ["0", "10", "20", "30", "40", "50"])
        // Epochs 1…3: a fifth is 0.4, but whole-number ticks step by 1.
        #expect(Self.labels(AxisLayout(values: [1, 2, 3], axis: ChartAxis(title: "", integerTicks: true))) == ["1", "2", "3"])
        // One epoch: a span of one each side.
        #expect(Self.labels(AxisLayout(values: [3], axis: ChartAxis(title: "", integerTicks: true))) == ["2", "3", "4"])
        // 1e-6…5e-6: a fifth is 8e-7, so the step is 1e-6, labelled in %g form.
        #expect(Self.labels(AxisLayout(values: [1e-6, 5e-6], axis: ChartAxis(title: "")))
            == ["1e-06", "2e-06", "3e-06", "4e-06", "5e-06"])
        // −3…7: step 2 from −4 to 8, and 0 is written "0", not "-0".
        #expect(Self.labels(AxisLayout(values: [-3, 7], axis: ChartAxis(title: ""))) == ["-4", "-2", "0", "2", "4", "6", "8"])
        // Nothing to place: 0…1.
        #expect(Self.labels(AxisLayout(values: [.infinity], axis: ChartAxis(title: ""))).first == "0.0")
    }

    @Test func logTicksAreDecades() {
        // 1e-7…10: nine decades labelled in %g form; more than 6 decades, so no minor ticks.
        let lr = AxisLayout(values: [1e-7, 3e-4, 10], axis: ChartAxis(title: "", scale: .log10))
        #expect(Self.labels(lr) == ["1e-07", "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10"])
        #expect(lr.minorTicks.isEmpty)
        // 0.002…0.05 lies in 1e-3…1e-1, with minor ticks 2…9 × 10⁻³ and × 10⁻²; 0 and −1 are skipped.
        let narrow = AxisLayout(values: [0.002, 0.05, 0, -1], axis: ChartAxis(title: "", scale: .log10))
        #expect(Self.labels(narrow) == ["0.001", "0.01", "0.1"])
        #expect(narrow.minorTicks.count == 16 && narrow.minorTicks.first == 0.002)
        #expect(abs(narrow.fraction(0.01) - 0.5) < 1e-12)
        // One exact power of ten: a decade each side.
        #expect(Self.labels(AxisLayout(values: [1], axis: ChartAxis(title: "", scale: .log10))) == ["0.1", "1", "10"])
        // Twenty decades: every third labelled.
        #expect(AxisLayout(values: [1e-10, 1e10], axis: ChartAxis(title: "", scale: .log10)).ticks.count == 7)
    }

    // MARK: Line chart

    static let chart = LineChart(title: "Curves of " + odd, panels: [
        LineChart.Panel(
            title: "loss", x: ChartAxis(title: "epoch", integerTicks: true), y: ChartAxis(title: "loss"),
            series: [
                .init(name: "train " + odd, points: [.init(x: 1, y: 2), .init(x: 2, y: 1.5), .init(x: 3, y: .nan),
                                                     .init(x: 4, y: 0.9), .init(x: 5, y: 0.8), .init(x: 6, y: .infinity),
                                                     .init(x: 7, y: 0.7)]),
                .init(name: "validation", points: []),
            ]),
        LineChart.Panel(
            title: "lr", x: ChartAxis(title: "learning rate", scale: .log10), y: ChartAxis(title: "loss"),
            series: [.init(name: "smoothed", points: [.init(x: 0, y: 1), .init(x: 1e-5, y: 1), .init(x: 1e-3, y: 0.5),
                                                      .init(x: 1e-1, y: 2)])],
            markers: [.init(label: "valley", x: 1e-3, y: 0.5), .init(label: "minimum", x: 1e-4)]),
        LineChart.Panel(title: "empty", x: ChartAxis(title: "x"), y: ChartAxis(title: "y"), series: []),
    ])

    @Test func seriesBreakAtNonFinitePointsAndEverythingParses() throws {
        let text = Self.chart.svg()
        let document = try SVGCheck.parse(text)
        let texts = SVGCheck.texts(in: document)
        #expect(texts.contains("Curves of " + Self.odd))
        #expect(texts.contains("train " + Self.odd) && texts.contains("validation"))
        #expect(texts.contains("valley") && texts.contains("minimum"))
        #expect(texts.contains("no data"))
        #expect(texts.contains("1e-05") && texts.contains("0.1"))
        let groups = SVGCheck.elements("g", ofClass: "series", in: document)
        #expect(groups.count == 3)
        // train: points 1–2 one line, 4–5 another, 7 alone a dot; validation: nothing drawn.
        #expect(SVGCheck.elements("path", in: groups[0]).count == 2)
        #expect(SVGCheck.elements("circle", in: groups[0]).count == 1)
        #expect(SVGCheck.elements("path", in: groups[1]).isEmpty && SVGCheck.elements("circle", in: groups[1]).isEmpty)
        // smoothed: lr 0 cannot go on a log axis, so one line of three points.
        let smoothed = try #require(SVGCheck.elements("path", in: groups[2]).first.flatMap { SVGCheck.attribute("d", of: $0) })
        #expect(smoothed.split(separator: " ").filter { $0.hasPrefix("L") }.count == 2)
        let markers = SVGCheck.elements("g", ofClass: "marker", in: document)
        #expect(markers.count == 2)
        #expect(SVGCheck.elements("circle", in: markers[0]).count == 1 && SVGCheck.elements("circle", in: markers[1]).isEmpty)
    }

    @Test func theSameChartGivesTheSameBytes() {
        let again = LineChart(title: Self.chart.title, panels: Self.chart.panels)
        #expect(again.svg() == Self.chart.svg())
        #expect(LineChart(panels: []).svg().hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "))
    }

    // MARK: Heatmap

    @Test func aConfusionHeatmapNamesBothAxesAndWritesEveryCount() throws {
        let matrix = try ConfusionMatrix(labels: [0, 0, 0, 1, 2, 2], predictions: [0, 0, 1, 1, 2, 0], classCount: 3)
        let heatmap = Heatmap(confusion: matrix, classNames: [Self.odd, "Trouser", "Bag"], title: "Test " + Self.odd)
        let document = try SVGCheck.parse(heatmap.svg())
        let texts = SVGCheck.texts(in: document)
        #expect(texts.contains("Test " + Self.odd) && texts.contains("true class") && texts.contains("predicted class"))
        #expect(texts.filter { $0 == Self.odd }.count == 2)  // a row label and a column label
        let cells = SVGCheck.elements("g", ofClass: "cells", in: document).first
        let counts = SVGCheck.elements("text", in: try #require(cells)).compactMap(\.stringValue)
        #expect(counts == ["2", "1", "0", "0", "1", "0", "1", "0", "1"])
        let cellTitles = SVGCheck.elements("title", in: try #require(cells)).compactMap(\.stringValue)
        #expect(cellTitles.first == "true \(Self.odd), predicted \(Self.odd): 2")
        #expect(heatmap.svg() == heatmap.svg())
    }

    @Test func textStaysLegibleAcrossTheColourScale() {
        // The largest count sits on ColorBrewer's darkest blue (#08306b) in white; 0 on #f7fbff in black.
        #expect(Heatmap.colour(at: 1).hex == "#08306b" && Heatmap.colour(at: 1).textColour == "#ffffff")
        #expect(Heatmap.colour(at: 0).hex == "#f7fbff" && Heatmap.colour(at: 0).textColour == "#000000")
        // Halfway is the fifth colour, #6baed6: luminance ≈ 0.38, so black (contrast 8.6 against 2.4).
        #expect(Heatmap.colour(at: 0.5).hex == "#6baed6" && Heatmap.colour(at: 0.5).textColour == "#000000")
        // Every colour's chosen text reaches WCAG's 4.5:1 for normal text.
        for step in 0...100 {
            let colour = Heatmap.colour(at: Double(step) / 100), l = colour.luminance
            let contrast = colour.textColour == "#000000" ? (l + 0.05) / 0.05 : 1.05 / (l + 0.05)
            #expect(contrast >= 4.5, "t = \(Double(step) / 100): contrast \(contrast)")
        }
        // Rows shorter than the labels, and labels missing: no trap, the gaps read 0 and the index.
        let ragged = Heatmap(title: "ragged", rowLabels: [], columnLabels: ["a", "b"], counts: [[1], []])
        #expect((try? SVGCheck.parse(ragged.svg())) != nil)
    }
}
