import Yams

/// Where a config value came from, which an error message names first: a line of the config
/// file, or a `--set` argument (which has no lines of its own).
enum ConfigSource {
    case file(path: String, line: Int?)
    case override(argument: String)

    /// The same source at another line of the file; an override stays the whole argument.
    func atLine(_ line: Int?) -> ConfigSource {
        switch self {
        case .file(let path, _): .file(path: path, line: line)
        case .override: self
        }
    }

    /// A config error placed here, `path:line: message` or `--set argument: message`, squashed
    /// onto one line because a message with a line break would break scripts that read stderr.
    func error(_ message: String) -> NNTrainError {
        var error: NNTrainError
        switch self {
        case .file(let path, let line): error = .config(path, line: line, message)
        case .override(let argument): error = .config("--set \(argument)", line: nil, message)
        }
        error.message = String(error.message.map { $0.isNewline ? " " : $0 })
        return error
    }
}

/// Where each key path the file or a `--set` gave was written (`scheduler.pct_start` at line 7),
/// kept on the `Configuration` for the checks that can only be made once the data is loaded
/// (`checkScheduleFitsTheData`), so that their errors name a line as parsing's do. It is not part of
/// the configuration's value: any two compare equal, so a configuration read back from its resolved
/// YAML still equals the one it was written from.
struct KeySources: Equatable, Sendable {
    var sources: [String: ConfigSource] = [:]

    static func == (_: KeySources, _: KeySources) -> Bool { true }

    /// An error about `keyPath`, `place: keyPath: message`, placed where the first of `keyPath` and
    /// `fallbacks` was given, or at `file` without a line when none was.
    func problem(_ keyPath: String, _ message: String, placedAt fallbacks: [String] = [],
                 file: String) -> NNTrainError {
        let source = ([keyPath] + fallbacks).lazy.compactMap { sources[$0] }.first
        return (source ?? .file(path: file, line: nil)).error("\(keyPath): \(message)")
    }
}

/// Which numbers a number key accepts, with the words error messages use for them.
struct NumberBounds: Sendable {
    /// `> 0`, `>= 0 and < 1`, ...: follows "a number" in messages.
    let description: String
    let contains: @Sendable (Double) -> Bool

    static let positive = NumberBounds(description: "> 0") { $0 > 0 }
    static let nonNegative = NumberBounds(description: ">= 0") { $0 >= 0 }
    static let atLeastZeroBelowOne = NumberBounds(description: ">= 0 and < 1") { $0 >= 0 && $0 < 1 }
    static let aboveZeroBelowOne = NumberBounds(description: "> 0 and < 1") { $0 > 0 && $0 < 1 }
    static let aboveZeroAtMostOne = NumberBounds(description: "> 0 and <= 1") { $0 > 0 && $0 <= 1 }
    static let atLeastZeroAtMostOne = NumberBounds(description: ">= 0 and <= 1") { $0 >= 0 && $0 <= 1 }
    static let any = NumberBounds(description: "(any finite value)") { _ in true }
}

/// One value of the config (a YAML node from the file or from a `--set` argument) with the key
/// path and place its error messages name. Its readers check the value's shape, type and range,
/// and throw one-line errors of the form `place: key.path: what is wrong; expected what`.
struct ConfigValue {
    let node: Node
    /// `optimizer.lr`, or `model.hidden[1]` for an element of a list.
    let keyPath: String
    let source: ConfigSource

    /// An error about this value: `place: key.path: message`.
    func problem(_ message: String) -> NNTrainError {
        source.error("\(keyPath): \(message)")
    }

    /// The error for a value of the wrong shape: nothing, a list or a mapping where something else
    /// belongs, or a single value where a list or a mapping belongs.
    func shapeProblem(expecting expectation: String) -> NNTrainError {
        if node.isNull { return problem("has no value; expected \(expectation)") }
        switch node {
        case .sequence: return problem("expected \(expectation), not a list")
        case .mapping: return problem("expected \(expectation), not a mapping")
        case .scalar, .alias: return problem("expected \(expectation)")
        }
    }

    /// The text of a single value. Quoting does not matter (`"0.1"` reads as 0.1): each reader
    /// interprets the text itself, so `15.5` is refused for an integer even though YAML calls it a float.
    func scalarText(expecting expectation: String) throws(NNTrainError) -> String {
        guard case .scalar(let scalar) = node, !node.isNull else { throw shapeProblem(expecting: expectation) }
        return scalar.string
    }

    /// A decimal integer >= `minimum` (`015` is 15, not YAML 1.1's octal 13).
    func integer<Integer: FixedWidthInteger>(atLeast minimum: Integer) throws(NNTrainError) -> Integer {
        let expectation = "an integer >= \(minimum)"
        let text = try scalarText(expecting: expectation)
        guard let value = Integer(text) else {
            let digits = text.first.map { "+-".contains($0) } == true ? text.dropFirst() : Substring(text)
            let isIntegerOutOfRange = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
            throw problem(isIntegerOutOfRange
                ? "\(shown(text)) is out of range; expected \(expectation)"
                : "\(quoted(text)) is not an integer; expected \(expectation)")
        }
        guard value >= minimum else { throw problem("\(shown(text)) is out of range; expected \(expectation)") }
        return value
    }

    /// A finite number within `bounds`; integers and exponents (`1e-3`) are numbers too.
    func number(_ bounds: NumberBounds) throws(NNTrainError) -> Double {
        let expectation = "a number \(bounds.description)"
        let text = try scalarText(expecting: expectation)
        guard let value = Double(text), value.isFinite else {
            let isInfinityOrNaN = Double(text) != nil || [".inf", "+.inf", "-.inf", ".nan"].contains(text.lowercased())
            throw problem("\(quoted(text)) is not \(isInfinityOrNaN ? "a finite number" : "a number"); expected \(expectation)")
        }
        guard bounds.contains(value) else { throw problem("\(shown(text)) is out of range; expected \(expectation)") }
        return value
    }

    /// `true` or `false` (YAML 1.2's booleans; yes/no/on/off are refused as ambiguous).
    func boolean() throws(NNTrainError) -> Bool {
        let text = try scalarText(expecting: "true or false")
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw problem("\(quoted(text)) is not true or false; expected true or false")
        }
    }

    /// A number of rows per batch: an integer >= 1, or `full` for the whole training split.
    func batchSize() throws(NNTrainError) -> BatchSize {
        let expectation = "an integer >= 1, or full"
        let text = try scalarText(expecting: expectation)
        if text == "full" { return .full }
        guard let rows = Int(text) else { throw problem("\(quoted(text)) is not an integer or full; expected \(expectation)") }
        guard rows >= 1 else { throw problem("\(shown(text)) is out of range; expected \(expectation)") }
        return .rows(rows)
    }

    /// A loss scaling: `dynamic`, `none`, or a fixed scale from 1e-30 to 1e30 (so that both the
    /// scale and its reciprocal are normal floats).
    func lossScaling() throws(NNTrainError) -> LossScaling {
        let expectation = "dynamic, none or a number from 1e-30 to 1e30"
        let text = try scalarText(expecting: expectation)
        switch text {
        case "dynamic": return .dynamic
        case "none": return .none
        default:
            guard let scale = Double(text), scale.isFinite else {
                throw problem("\(quoted(text)) is not dynamic, none or a number; expected \(expectation)")
            }
            guard scale >= 1e-30, scale <= 1e30 else { throw problem("\(shown(text)) is out of range; expected \(expectation)") }
            return .fixed(scale)
        }
    }

    /// One of an enumeration's spellings, exactly as written in `Configuration.swift`.
    func choice<Choice: RawRepresentable & CaseIterable>() throws(NNTrainError) -> Choice
    where Choice.RawValue == String {
        let expectation = ConfigKey.oneOf(Choice.self)
        let text = try scalarText(expecting: expectation)
        guard let value = Choice(rawValue: text) else { throw problem("\(quoted(text)) is not \(expectation)") }
        return value
    }

    /// A non-empty path (a number such as `2024` is a fine folder name, so any single value is text).
    func path() throws(NNTrainError) -> String {
        let text = try scalarText(expecting: "a path")
        guard !text.isEmpty else { throw problem("is empty; expected a path") }
        return text
    }

    /// A list of texts with no repeats (`[species, island]`); an element names its place in errors.
    func texts(example: String) throws(NNTrainError) -> [String] {
        let expectation = "a list of names, like \(example)"
        let texts = try list(expecting: expectation) { element throws(NNTrainError) in
            try element.scalarText(expecting: "a name")
        }
        var seen = Set<String>()
        if let repeated = texts.first(where: { !seen.insert($0).inserted }) {
            throw problem("lists \(quoted(repeated)) twice; expected each name once")
        }
        return texts
    }

    /// The elements of a list, each read by `readElement` as a value of its own, so an error
    /// names the element (`model.hidden[1]`) and its line.
    func list<Element>(
        expecting expectation: String,
        count requiredCount: Int? = nil,
        _ readElement: (ConfigValue) throws(NNTrainError) -> Element
    ) throws(NNTrainError) -> [Element] {
        guard case .sequence(let elements) = node else { throw shapeProblem(expecting: expectation) }
        if let requiredCount, elements.count != requiredCount {
            throw problem("has \(elements.count) entries; expected \(expectation)")
        }
        var values: [Element] = []
        for (index, element) in elements.enumerated() {
            let source = source.atLine(element.mark?.line)
            values.append(try readElement(ConfigValue(node: element, keyPath: "\(keyPath)[\(index)]", source: source)))
        }
        return values
    }
}

extension Node {
    /// True for YAML's empty value: `key:` with nothing after it, `~` or `null` (unquoted).
    var isNull: Bool { null != nil }

    /// How messages name this node when its kind is what is wrong: `a list`, `a mapping`, or its text.
    var describedForMessages: String {
        switch self {
        case .scalar(let scalar): quoted(scalar.string)
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }
}

/// A value from the input as messages show it: on one line and at most 40 characters, so that a
/// pasted paragraph does not swamp the message.
func shown(_ text: String) -> String {
    let oneLine = String(text.map { $0.isNewline ? " " : $0 })
    return oneLine.count <= 40 ? oneLine : oneLine.prefix(37) + "..."
}

/// `shown(text)` in single quotes, for text that is not what was expected: `'ten' is not an integer`.
func quoted(_ text: String) -> String {
    "'\(shown(text))'"
}
