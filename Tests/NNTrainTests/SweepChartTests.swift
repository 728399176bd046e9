import Foundation
import FoundationXML
import Testing
@testable import NNTrain

/// sweep.svg (`SweepChart`) on hand-built outcomes: where each trial's point lands in each panel, by
/// the axes worked out by hand, and what is left out.
@Suite struct SweepChartTests {
    /// lr on a log axis (0.001…0.1 spans 100×: the decades 10⁻³…10⁻¹, so the three values at x = 0,
    /// ½, 1 of the plot), model.hidden categorical ([4] at ¼, [8, 4] at ¾ of −½…1½); the metrics 0.25…0.6
    /// give the linear axis 0.2…0.6 (step 0.1), so y = (m − 0.2) / 0.4 of the plot's height.
    static let spec = try! SweepSpec.parse(yaml: """
        base: c.txt
        grid:
          optimizer.lr: [0.001, 0.01, 0.1]
          model.hidden: [[4], [8, 4]]
        """, source: "s.yaml")

    static func outcomes() -> [SweepTrialOutcome] {
        let trials = spec.trials()
        let table: [(SweepTrialOutcome.Status, Double?)] = [
            (.finished, 0.5), (.finished, 0.4), (.pruned, 0.6), (.finished, 0.3), (.failed, nil), (.finished, 0.25),
        ]
        return zip(trials, table).map { trial, row in
            SweepTrialOutcome(trial: trial, status: row.0, metric: row.1, bestEpoch: nil, seconds: nil, note: "")
        }
    }

    struct Fraction: Hashable, CustomStringConvertible {
        var x: Double
        var y: Double
        /// Rounded to thousandths: pixels are written to hundredths over a plot of some 300 pixels.
        init(_ x: Double, _ y: Double) {
            self.x = (x * 1000).rounded() / 1000
            self.y = (y * 1000).rounded() / 1000
        }
        var description: String { "(\(x), \(y))" }
    }

    /// Each panel's points as fractions of its plot frame, by series or marker title.
    static func points(_ svg: String) throws -> [[String: Set<Fraction>]] {
        let document = try SVGCheck.parse(svg)
        let root = try #require(document.rootElement())
        let panels = (root.children ?? []).compactMap { $0 as? XMLElement }
            .filter { $0.localName == "g" && SVGCheck.attribute("transform", of: $0)?.hasPrefix("translate") == true }
        return try panels.map { panel in
            let frame = try #require(SVGCheck.elements("rect", in: panel).first {
                SVGCheck.attribute("fill", of: $0) == "none" && SVGCheck.attribute("stroke", of: $0) == "#444444"
            })
            func number(_ name: String, _ element: XMLElement) -> Double {
                Double(SVGCheck.attribute(name, of: element) ?? "") ?? .nan
            }
            let left = number("x", frame), top = number("y", frame), width = number("width", frame)
            let height = number("height", frame)
            func fraction(_ x: Double, _ y: Double) -> Fraction { Fraction((x - left) / width, (top + height - y) / height) }
            var found: [String: Set<Fraction>] = [:]
            for group in SVGCheck.elements("g", in: panel)
            where ["series", "marker"].contains(SVGCheck.attribute("class", of: group) ?? "") {
                let name = SVGCheck.elements("title", in: group).first?.stringValue ?? "?"
                var set: Set<Fraction> = []
                for circle in SVGCheck.elements("circle", in: group) {
                    set.insert(fraction(number("cx", circle), number("cy", circle)))
                }
                // A triangle's or a diamond's first corner is 6 pixels above its centre.
                for polygon in SVGCheck.elements("polygon", in: group) {
                    let first = (SVGCheck.attribute("points", of: polygon) ?? "").split(separator: " ")[0]
                        .split(separator: ",").compactMap { Double($0) }
                    set.insert(fraction(first[0], first[1] + 6))
                }
                found[name] = set
            }
            return found
        }
    }

    @Test func pointsLandWhereTheAxesPutThem() throws {
        let chart = try #require(SweepChart(spec: Self.spec, outcomes: Self.outcomes()).chart())
        let svg = chart.svg()
        let panels = try Self.points(svg)
        #expect(panels.count == 2)
        func y(_ metric: Double) -> Double { (metric - 0.2) / 0.4 }
        // lr: trials 1, 2 at 0.001, trial 4 at 0.01, trial 6 at 0.1; trial 5 (failed) left out.
        #expect(panels[0]["finished"] == [Fraction(0, y(0.5)), Fraction(0, y(0.4)), Fraction(0.5, y(0.3)),
                                          Fraction(1, y(0.25))])
        #expect(panels[0]["pruned (best so far)"] == [Fraction(0.5, y(0.6))])
        #expect(panels[0]["best trial-0006"] == [Fraction(1, y(0.25))])
        // model.hidden: [4] (trials 1, 3, 5) at ¼, [8, 4] (2, 4, 6) at ¾.
        #expect(panels[1]["finished"] == [Fraction(0.25, y(0.5)), Fraction(0.75, y(0.4)), Fraction(0.75, y(0.3)),
                                          Fraction(0.75, y(0.25))])
        #expect(panels[1]["pruned (best so far)"] == [Fraction(0.25, y(0.6))])
        #expect(panels[1]["best trial-0006"] == [Fraction(0.75, y(0.25))])
        let texts = SVGCheck.texts(in: try SVGCheck.parse(svg))
        #expect(texts.contains("[4]") && texts.contains("[8, 4]") && texts.contains("optimizer.lr (log scale)"))
        #expect(texts.contains("6 trials: 5 drawn, 1 without val_loss left out (failed, unfinished or changed); "
            + "best trial-0006 val_loss 0.25"))
    }

    /// A pruned trial is never marked best, however good its figure so far; with nothing swept there
    /// is no chart.
    @Test func prunedIsNotBestAndNothingSweptDrawsNothing() throws {
        var outcomes = Self.outcomes()
        outcomes[2].metric = 0.1
        let panels = try Self.points(try #require(SweepChart(spec: Self.spec, outcomes: outcomes).chart()).svg())
        #expect(panels[0]["best trial-0006"] != nil && panels[0]["pruned (best so far)"]?.count == 1)
        let none = try SweepSpec.parse(yaml: "base: c.txt\n", source: "s.yaml")
        #expect(SweepChart(spec: none, outcomes: []).chart() == nil)
    }

    /// A grid key of one value sets it for every trial: no panel of its own.
    @Test func aKeyOfOneValueHasNoPanel() throws {
        let spec = try SweepSpec.parse(yaml: """
            base: c.txt
            grid:
              training.epochs: [5]
              optimizer.lr: [0.001, 0.01, 0.1]
            """, source: "s.yaml")
        let outcomes = zip(spec.trials(), [0.5, 0.4, 0.3]).map { trial, metric in
            SweepTrialOutcome(trial: trial, status: .finished, metric: metric, bestEpoch: nil, seconds: nil, note: "")
        }
        let svg = try #require(SweepChart(spec: spec, outcomes: outcomes).chart()).svg()
        #expect(try Self.points(svg).count == 1)
        #expect(svg.contains("optimizer.lr") && !svg.contains("training.epochs"))
    }

    @Test func eachKeysAxis() throws {
        #expect(SweepChart.listed(["1", "50"]) == .linear)
        #expect(SweepChart.listed(["1", "100"]) == .log)
        #expect(SweepChart.listed(["-1", "1000"]) == .linear)
        #expect(SweepChart.listed(["relu", "gelu", "relu"]) == .categorical(["relu", "gelu"]))
        #expect(SweepChart.listed(["0.1", "true"]) == .categorical(["0.1", "true"]))
        let spec = try SweepSpec.parse(yaml: """
            base: c.txt
            random:
              trials: 2
              params:
                optimizer.lr: {log_uniform: [1.0e-4, 1.0e-3]}
                model.dropout: {uniform: [0.0, 0.5]}
                training.batch_size: {int_uniform: [16, 64]}
                model.activation: {choice: [relu, gelu]}
                training.epochs: {choice: [1, 1000]}
            """, source: "s.yaml")
        let chart = SweepChart(spec: spec, outcomes: [])
        #expect(chart.keyAxis("optimizer.lr") == .log && chart.keyAxis("model.dropout") == .linear
            && chart.keyAxis("training.batch_size") == .linear && chart.keyAxis("training.epochs") == .log)
        #expect(chart.keyAxis("model.activation") == .categorical(["relu", "gelu"]))
    }
}
