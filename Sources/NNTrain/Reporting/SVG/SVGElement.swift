/// One element of an SVG 1.1 document (https://www.w3.org/TR/SVG11/): a name, attributes in the
/// order given, then either child elements or text. `document(width:height:)` renders a whole file.
///
/// Everything written is well-formed XML 1.0 (https://www.w3.org/TR/xml/) whatever the strings hold:
/// `&`, `<` and `>` are escaped everywhere, `"` and `'` in attribute values too, tabs and line ends in
/// attribute values become character references (a parser would otherwise normalise them to spaces),
/// and a character XML 1.0 forbids (the C0 controls but tab, line feed and carriage return; U+FFFE,
/// U+FFFF) becomes U+FFFD REPLACEMENT CHARACTER. Attributes keep their order and numbers are written by
/// `SVGElement.number`, so the same input gives the same bytes.
struct SVGElement: Equatable, Sendable {
    var name: String
    var attributes: [Attribute]
    var children: [SVGElement]
    var text: String?

    struct Attribute: Equatable, Sendable {
        var name: String
        var value: String
    }

    init(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], children: [SVGElement] = [],
         text: String? = nil) {
        self.name = name
        self.attributes = attributes.map { Attribute(name: $0.key, value: $0.value) }
        self.children = children
        self.text = text
    }

    // MARK: Shapes

    static func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
                     dashed: Bool = false) -> SVGElement {
        var element = SVGElement("line", [
            "x1": number(x1), "y1": number(y1), "x2": number(x2), "y2": number(y2),
            "stroke": stroke, "stroke-width": number(width),
        ])
        if dashed { element.attributes.append(Attribute(name: "stroke-dasharray", value: "4 3")) }
        return element
    }

    static func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                     stroke: String? = nil) -> SVGElement {
        var element = SVGElement("rect", [
            "x": number(x), "y": number(y), "width": number(width), "height": number(height), "fill": fill,
        ])
        if let stroke { element.attributes.append(Attribute(name: "stroke", value: stroke)) }
        return element
    }

    static func circle(x: Double, y: Double, radius: Double, fill: String) -> SVGElement {
        SVGElement("circle", ["cx": number(x), "cy": number(y), "r": number(radius), "fill": fill])
    }

    /// Text at (x, y): `anchor` is start, middle or end; `rotation` in degrees about (x, y).
    static func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                     fill: String = "#222222", bold: Bool = false, rotation: Double = 0) -> SVGElement {
        var element = SVGElement("text", [
            "x": number(x), "y": number(y), "font-size": number(size), "text-anchor": anchor, "fill": fill,
        ], text: content)
        if bold { element.attributes.append(Attribute(name: "font-weight", value: "bold")) }
        if rotation != 0 {
            element.attributes.append(Attribute(
                name: "transform", value: "rotate(\(number(rotation)) \(number(x)) \(number(y)))"))
        }
        return element
    }

    /// A group whose children inherit `attributes`.
    static func group(_ attributes: KeyValuePairs<String, String> = [:], _ children: [SVGElement]) -> SVGElement {
        SVGElement("g", attributes, children: children)
    }

    /// A `<title>` child: the tooltip viewers show on hover, and the text screen readers read.
    static func title(_ text: String) -> SVGElement { SVGElement("title", text: text) }

    // MARK: Writing

    /// The whole file: the XML declaration, then an `<svg>` root of the given size in pixels holding
    /// `children` on a white background.
    static func document(width: Double, height: Double, title: String?, children: [SVGElement]) -> String {
        let root = SVGElement("svg", [
            "xmlns": "http://www.w3.org/2000/svg", "version": "1.1",
            "width": number(width), "height": number(height), "viewBox": "0 0 \(number(width)) \(number(height))",
            "font-family": "DejaVu Sans, Helvetica, Arial, sans-serif",
        ], children: (title.map { [SVGElement.title($0)] } ?? [])
            + [rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")] + children)
        var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        root.write(to: &output, depth: 0)
        return output
    }

    /// Writes the element at `depth`, indented two spaces a level, one element per line.
    func write(to output: inout String, depth: Int) {
        let indent = String(repeating: "  ", count: depth)
        output += indent + "<" + name
        for attribute in attributes {
            output += " \(attribute.name)=\"\(Self.escaped(attribute.value, inAttribute: true))\""
        }
        if let text {
            output += ">" + Self.escaped(text, inAttribute: false) + "</\(name)>\n"
        } else if children.isEmpty {
            output += "/>\n"
        } else {
            output += ">\n"
            for child in children { child.write(to: &output, depth: depth + 1) }
            output += indent + "</\(name)>\n"
        }
    }

    /// `text` as XML character data or, with `inAttribute`, as a double-quoted attribute value.
    static func escaped(_ text: String, inAttribute: Bool) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"" where inAttribute: output += "&quot;"
            case "'" where inAttribute: output += "&apos;"
            case "\t" where inAttribute: output += "&#9;"
            case "\n" where inAttribute: output += "&#10;"
            case "\r": output += "&#13;"  // a raw CR would be read back as a line feed
            default: output.unicodeScalars.append(isXMLCharacter(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return output
    }

    /// XML 1.0's `Char` production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
    /// (Swift's scalars already exclude the surrogates).
    static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// A coordinate or length in pixels, rounded to hundredths with trailing zeros dropped (`12`,
    /// `12.5`, `-0.25`), built from integers so the text never depends on locale or on how a float
    /// prints. Values beyond ±10⁷ are clamped, and a non-finite value writes `0`; charts only pass
    /// finite coordinates, so these are guards, not behaviour.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let hundredths = Int((min(max(value, -1e7), 1e7) * 100).rounded())
        let magnitude = abs(hundredths), whole = magnitude / 100, fraction = magnitude % 100
        let sign = hundredths < 0 ? "-" : ""
        if fraction == 0 { return "\(sign)\(whole)" }
        if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The width of `text` at `size` pixels, estimated at 0.6 em a character (a little over the
    /// average advance of DejaVu Sans and Helvetica), for laying out margins without font metrics.
    static func estimatedWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.6
    }
}
