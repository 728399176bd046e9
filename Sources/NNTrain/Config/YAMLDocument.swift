import CYaml
import Yams

/// Turns YAML text into a Yams node tree, whose nodes keep their line numbers, and Yams' errors
/// into one-line config errors: invalid YAML, tabs used for indentation, duplicate keys, nesting
/// deeper than libyaml's limit of 1000 levels, aliases that expand past `maxExpandedValues`.
enum YAMLDocument {
    /// The most values (scalars, lists and mappings) a document may hold once its aliases are
    /// expanded. A config has about a hundred; nine nested lists of ten aliases each (a "billion
    /// laughs") would make a billion, which Yams' duplicate-key check and any walk of the tree would
    /// visit one by one.
    static let maxExpandedValues = 10_000

    /// The document's root node, nil for a text with no document (empty, or only comments).
    /// `source` places errors: the file (lines are filled in) or a `--set` argument.
    static func compose(_ text: String, source: ConfigSource) throws(NNTrainError) -> Node? {
        try checkExpandedSize(of: text, source: source)
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw configError(for: error, in: text, source: source)
        } catch {
            throw source.error("invalid YAML: \(error)")
        }
    }

    /// Yams' error as one line at its line: libyaml's problem and context texts, or the cause
    /// people actually need to hear (a tab in the indentation, a duplicated key).
    private static func configError(for error: YamlError, in text: String, source: ConfigSource) -> NNTrainError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            // libyaml places a problem at the end of the input on the line after the last one
            // when the text does not end with a line break; name the last line instead.
            let lastLine = text.reduce(1) { $1.isNewline ? $0 + 1 : $0 }
            let place = source.atLine(min(mark.line, lastLine))
            if problem.hasPrefix("Maximum nesting level") {
                return place.error("invalid YAML: lists or mappings nested more than 1000 levels deep; "
                    + "expected a config a few levels deep")
            }
            if lineIsIndentedWithTab(mark.line, in: text) {
                return place.error("invalid YAML: this line is indented with a tab; "
                    + "expected spaces (YAML forbids tabs in indentation)")
            }
            // An override's value is one line, so only the file's lines are worth naming.
            let contextText = context.map { context in
                if case .file = source {
                    "\(context.text) at line \(min(context.mark.line, lastLine)): "
                } else {
                    "\(context.text): "
                }
            } ?? ""
            return place.error("invalid YAML: \(contextText)\(problem)")
        case .reader(let problem, let offset, _, _):
            // The offset counts characters; the line is one more than the line breaks before it.
            let line = offset.map { text.prefix($0).filter(\.isNewline).count + 1 }
            return source.atLine(line).error("invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return duplicateKeyError(named: duplicates.first ?? "", firstAt: context.mark, in: text, source: source)
        default:
            return source.error("invalid YAML: \(error)")
        }
    }

    /// Calls `body` with each of libyaml's events for `text`, in document order, until it returns
    /// false; stops quietly where the text does not parse (composing it reports the error).
    private static func forEachEvent(
        in text: String, _ body: (yaml_event_t) throws(NNTrainError) -> Bool
    ) throws(NNTrainError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { (buffer) throws(NNTrainError) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                guard event.type != YAML_STREAM_END_EVENT, try body(event) else { return }
            }
        }
    }

    /// An anchor's or a scalar's text.
    private static func string(_ characters: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        characters.map { String(cString: $0) }
    }

    /// Refuses a text whose aliases (`*name`) expand it past `maxExpandedValues` values, counting
    /// from libyaml's events with each anchor's expanded size, so nothing is expanded to count it.
    private static func checkExpandedSize(of text: String, source: ConfigSource) throws(NNTrainError) {
        var sizes: [String: Int] = [:]  // by anchor name
        var open: [(anchor: String?, size: Int)] = []  // the lists and mappings being read
        var total = 0
        try forEachEvent(in: text) { (event) throws(NNTrainError) -> Bool in
            let finished: (anchor: String?, size: Int)
            switch event.type {
            case YAML_SCALAR_EVENT: finished = (string(event.data.scalar.anchor), 1)
            case YAML_ALIAS_EVENT: finished = (nil, string(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1)
            case YAML_SEQUENCE_START_EVENT:
                open.append((string(event.data.sequence_start.anchor), 1))
                return true
            case YAML_MAPPING_START_EVENT:
                open.append((string(event.data.mapping_start.anchor), 1))
                return true
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let last = open.popLast() else { return false }
                finished = last
            default: return true
            }
            if let anchor = finished.anchor { sizes[anchor] = finished.size }
            // Sizes saturate just past the limit, so no sum can overflow.
            let size: Int
            if open.isEmpty {
                total = min(total + finished.size, maxExpandedValues + 1)
                size = total
            } else {
                open[open.count - 1].size = min(open[open.count - 1].size + finished.size, maxExpandedValues + 1)
                size = open[open.count - 1].size
            }
            guard size <= maxExpandedValues else {
                throw source.atLine(Int(event.start_mark.line) + 1).error(
                    "the aliases (*name) here expand the config to more than \(maxExpandedValues) values; "
                        + "expected a config of at most \(maxExpandedValues) values")
            }
            return true
        }
    }

    /// Whether the 1-based `line` of `text` has a tab among its leading blanks, which libyaml
    /// reports only as a character that "cannot start any token" or "violates indentation".
    private static func lineIsIndentedWithTab(_ line: Int, in text: String) -> Bool {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard lines.indices.contains(line - 1) else { return false }
        return lines[line - 1].prefix { $0 == " " || $0 == "\t" }.contains("\t")
    }

    /// `duplicate key 'lr' (first at line 6)` at the line of the second copy. YAML lets a parser
    /// silently keep either copy, so nntrain refuses both. Yams refuses them too, but reports only
    /// one first copy (and not the earliest in the document), so the text's events are read again
    /// and the first key, in document order, that repeats a plain key of its mapping is reported.
    /// If none is found (keys that are lists or mappings), the copy Yams reported is named.
    private static func duplicateKeyError(
        named name: String, firstAt firstMark: Mark, in text: String, source: ConfigSource
    ) -> NNTrainError {
        guard let duplicate = earliestRepeatedKey(in: text) else {
            return source.atLine(firstMark.line).error("duplicate key \(quoted(name)); expected each key once per mapping")
        }
        return source.atLine(duplicate.second).error("duplicate key \(quoted(duplicate.name)) (first at line \(duplicate.first))")
    }

    /// Of the scalar keys that repeat an earlier key of their mapping, the first in document order,
    /// with the lines of both copies: one pass over libyaml's events.
    private static func earliestRepeatedKey(in text: String) -> (name: String, first: Int, second: Int)? {
        // The mappings being read (lists are nil): their keys so far with their lines, and
        // whether the next node is a key.
        var open: [(keys: [String: Int], expectingKey: Bool)?] = []
        var found: (name: String, first: Int, second: Int)?
        try? forEachEvent(in: text) { event in
            // Every node, scalar or collection, is a key or a value of the mapping it is in.
            let isNode = [YAML_SCALAR_EVENT, YAML_ALIAS_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT]
                .contains(event.type)
            if isNode, case var mapping?? = open.last {
                if mapping.expectingKey, event.type == YAML_SCALAR_EVENT, let key = string(event.data.scalar.value) {
                    let line = Int(event.start_mark.line) + 1
                    if let first = mapping.keys[key] {
                        found = (key, first, line)
                        return false
                    }
                    mapping.keys[key] = line
                }
                mapping.expectingKey.toggle()
                open[open.count - 1] = mapping
            }
            switch event.type {
            case YAML_MAPPING_START_EVENT: open.append((keys: [:], expectingKey: true))
            case YAML_SEQUENCE_START_EVENT: open.append(nil)
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT: _ = open.popLast()
            default: break
            }
            return true
        }
        return found
    }
}
