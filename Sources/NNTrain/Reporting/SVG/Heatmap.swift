import Foundation

/// A table of counts drawn as coloured cells, as a confusion matrix is shown: row labels down the
/// left (true classes), column labels under the cells (predicted classes), the count written in each
/// cell, a title, and a colour bar.
///
/// Colour: a cell's count c is placed on ColorBrewer's sequential "Blues" scheme (9 classes,
/// Cynthia Brewer, https://colorbrewer2.org; matplotlib's `Blues`) at t = c / max, interpolated
/// linearly in sRGB between the scheme's nine colours, from near-white at 0 to dark blue at the
/// largest count. Text colour: black or white, whichever contrasts more with the cell by WCAG 2.1's
/// contrast ratio (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio), so every count stays legible.
///
/// Rows shorter than the column labels read as 0 in the missing cells; labels missing for a row or
/// column are its index. The same heatmap always renders to the same bytes.
public struct Heatmap: Equatable, Sendable {
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// The axis titles.
    public var rowTitle: String
    public var columnTitle: String
    /// `counts[row][column]`.
    public var counts: [[Int]]

    public init(title: String, rowLabels: [String], columnLabels: [String], counts: [[Int]],
                rowTitle: String = "true class", columnTitle: String = "predicted class") {
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.counts = counts
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
    }

    /// A confusion matrix: true classes on the rows, predicted classes on the columns.
    public init(confusion: ConfusionMatrix, classNames: [String], title: String = "Confusion matrix") {
        self.init(title: title, rowLabels: classNames, columnLabels: classNames, counts: confusion.counts)
    }

    /// An sRGB colour, components in 0…1.
    struct Colour: Equatable {
        var red: Double
        var green: Double
        var blue: Double

        /// From `0xRRGGBB`.
        init(_ rgb: UInt32) {
            red = Double(rgb >> 16 & 0xff) / 255
            green = Double(rgb >> 8 & 0xff) / 255
            blue = Double(rgb & 0xff) / 255
        }

        init(red: Double, green: Double, blue: Double) {
            self.red = red
            self.green = green
            self.blue = blue
        }

        /// `#rrggbb`.
        var hex: String {
            let digits = Array("0123456789abcdef")
            return "#" + [red, green, blue].map { component in
                let byte = Int((min(max(component, 0), 1) * 255).rounded())
                return String([digits[byte / 16], digits[byte % 16]])
            }.joined()
        }

        /// WCAG 2.1 relative luminance: 0.2126 R + 0.7152 G + 0.0722 B of the linearised components
        /// (c ≤ 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055)^2.4).
        var luminance: Double {
            func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
            return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
        }

        /// Black or white, whichever has the larger contrast ratio (L₁ + 0.05) / (L₂ + 0.05) with
        /// this colour of luminance L: black when (L + 0.05) / 0.05 ≥ 1.05 / (L + 0.05).
        var textColour: String {
            let l = luminance
            return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#ffffff"
        }
    }

    /// ColorBrewer Blues, 9 classes, lightest first.
    static let blues: [Colour] = [0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b]
        .map { Colour($0) }

    /// The colour at `t` in 0…1 (clamped).
    static func colour(at t: Double) -> Colour {
        let position = min(max(t.isFinite ? t : 0, 0), 1) * Double(blues.count - 1)
        let index = min(Int(position), blues.count - 2), f = position - Double(index)
        let a = blues[index], b = blues[index + 1]
        return Colour(red: a.red + (b.red - a.red) * f, green: a.green + (b.green - a.green) * f,
                      blue: a.blue + (b.blue - a.blue) * f)
    }

    /// The SVG document.
    public func svg() -> String {
        let rows = counts.count
        let columns = max(columnLabels.count, counts.map(\.count).max() ?? 0)
        let rowNames = (0..<rows).map { $0 < rowLabels.count ? rowLabels[$0] : "\($0)" }
        let columnNames = (0..<columns).map { $0 < columnLabels.count ? columnLabels[$0] : "\($0)" }
        let largest = counts.flatMap { $0 }.max() ?? 0
        let cell = max(16, min(48, 560 / Double(max(rows, columns, 1)))).rounded()
        let labelSize = 12.0, countSize = min(12, (cell * 0.3).rounded())

        let left = 30 + (rowNames.map { SVGElement.estimatedWidth($0, size: labelSize) }.max() ?? 0) + 8
        let top = 44.0
        let gridWidth = cell * Double(columns), gridHeight = cell * Double(rows)
        let bottom = top + gridHeight + 8 + (columnNames.map { SVGElement.estimatedWidth($0, size: labelSize) }.max() ?? 0)
        let barX = left + gridWidth + 24, barWidth = 14.0
        let largestText = "\(largest)"
        let width = barX + barWidth + 8 + SVGElement.estimatedWidth(largestText, size: labelSize) + 16
        let height = bottom + 36

        var elements: [SVGElement] = [
            .text(title, x: width / 2, y: 26, size: 16, anchor: "middle", bold: true),
        ]
        var cells: [SVGElement] = []
        for row in 0..<rows {
            for column in 0..<columns {
                let count = column < counts[row].count ? counts[row][column] : 0
                let colour = Self.colour(at: largest > 0 ? Double(count) / Double(largest) : 0)
                let x = left + cell * Double(column), y = top + cell * Double(row)
                cells.append(.group([:], [
                    .title("true \(rowNames[row]), predicted \(columnNames[column]): \(count)"),
                    .rect(x: x, y: y, width: cell, height: cell, fill: colour.hex, stroke: "#ffffff"),
                    .text("\(count)", x: x + cell / 2, y: y + cell / 2 + countSize * 0.35, size: countSize,
                          anchor: "middle", fill: colour.textColour),
                ]))
            }
        }
        elements.append(.group(["class": "cells"], cells))
        var labels: [SVGElement] = []
        for (row, name) in rowNames.enumerated() {
            labels.append(.text(name, x: left - 8, y: top + cell * (Double(row) + 0.5) + 4, size: labelSize, anchor: "end"))
        }
        for (column, name) in columnNames.enumerated() {
            let x = left + cell * (Double(column) + 0.5) + 4, y = top + gridHeight + 8
            labels.append(.text(name, x: x, y: y, size: labelSize, anchor: "end", rotation: -90))
        }
        elements.append(.group(["class": "labels"], labels))
        elements.append(.text(rowTitle, x: 14, y: top + gridHeight / 2, size: labelSize, anchor: "middle", bold: true,
                              rotation: -90))
        elements.append(.text(columnTitle, x: left + gridWidth / 2, y: height - 12, size: labelSize, anchor: "middle",
                              bold: true))

        // Colour bar: 32 bands from 0 (bottom) to the largest count (top).
        let bands = 32, barHeight = max(gridHeight, 64)
        var bar: [SVGElement] = []
        for band in 0..<bands {
            let t = (Double(band) + 0.5) / Double(bands)
            let y = top + barHeight * (1 - Double(band + 1) / Double(bands))
            bar.append(.rect(x: barX, y: y, width: barWidth, height: barHeight / Double(bands) + 0.5,
                             fill: Self.colour(at: t).hex))
        }
        bar.append(.rect(x: barX, y: top, width: barWidth, height: barHeight, fill: "none", stroke: "#444444"))
        bar.append(.text(largestText, x: barX + barWidth + 6, y: top + 10, size: labelSize))
        bar.append(.text("0", x: barX + barWidth + 6, y: top + barHeight, size: labelSize))
        elements.append(.group(["class": "colour-bar"], bar))
        return SVGElement.document(width: width, height: height, title: title, children: elements)
    }
}
