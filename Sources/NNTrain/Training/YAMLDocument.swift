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
                return place.error("invalid YAML: lists or mappings nested more than 1000 levels deep; expected a config a few levels deep")
            }
            if lineIsIndentedWithTab(mark.line, in: text) {
                return place.error("invalid YAML: this line is indented with a tab; expected spaces (YAML forbids tabs in indentation)")
            }
            // An override's value is one line, so only the file's lines are worth naming.
            let contextText = context.map { context in
                if case .file = source { "\(context.text) at line \(min(context.mark.line, lastLine)): " } else { "\(context.text): " }
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

    /// Refuses a text whose aliases (`*name`) expand it past `maxExpandedValues` values, counting
    /// from libyaml's events with each anchor's expanded size, so nothing is expanded to count it.
    /// A text libyaml cannot parse passes: composing it reports the error.
    private static func checkExpandedSize(of text: String, source: ConfigSource) throws(NNTrainError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { (buffer) throws(NNTrainError) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var sizes: [String: Int] = [:]  // by anchor name
            var open: [(anchor: String?, size: Int)] = []  // the lists and mappings being read
            var total = 0
            func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String? { anchor.map { String(cString: $0) } }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                let finished: (anchor: String?, size: Int)
                switch event.type {
                case YAML_STREAM_END_EVENT: return
                case YAML_SCALAR_EVENT: finished = (name(event.data.scalar.anchor), 1)
                case YAML_ALIAS_EVENT: finished = (nil, name(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1)
                case YAML_SEQUENCE_START_EVENT:
                    open.append((name(event.data.sequence_start.anchor), 1))
                    continue
                case YAML_MAPPING_START_EVENT:
                    open.append((name(event.data.mapping_start.anchor), 1))
                    continue
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let last = open.popLast() else { return }
                    finished = last
                default: continue
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
            }
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
    /// one first copy (and not the earliest in the document). So each first copy Yams reports is
    /// renamed with a numbered marker until the text composes; then every key has its original
    /// name again and the copy that comes earliest is reported. If that fails (a marker can break
    /// unusual YAML), the error names the first copy Yams reported.
    private static func duplicateKeyError(named name: String, firstAt firstMark: Mark, in text: String, source: ConfigSource) -> NNTrainError {
        let fallback = source.atLine(firstMark.line).error("duplicate key \(quoted(name)); expected each key once per mapping")
        var markedText = text
        var markedNames: [(marker: String, name: String)] = []
        var (mark, duplicateName) = (firstMark, name)
        // Each round renames one copy; a config with more duplicates than this is not worth the time.
        for markerNumber in 0..<100 {
            let marker = "nntrain-duplicate-\(markerNumber)-"
            guard let next = inserting(marker, atLine: mark.line, column: mark.column, in: markedText) else { return fallback }
            markedText = next
            markedNames.append((marker, duplicateName))
            do {
                guard let root = try Yams.compose(yaml: markedText) else { return fallback }
                let originalName = { (key: Node) -> String? in
                    let keyText = key.scalar?.string
                    return markedNames.first { keyText?.hasPrefix($0.marker) == true }?.name ?? keyText
                }
                guard let duplicate = earliestRepeatedKey(in: root, originalName: originalName) else { return fallback }
                return source.atLine(duplicate.second.line)
                    .error("duplicate key \(quoted(duplicate.name)) (first at line \(duplicate.first.line))")
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                (mark, duplicateName) = (context.mark, duplicates.first ?? "")
            } catch {
                return fallback
            }
        }
        return fallback
    }

    /// Of the keys that repeat an earlier key of their mapping, the one earliest in the document,
    /// with where its first copy is; keys are compared by `originalName`.
    private static func earliestRepeatedKey(
        in root: Node, originalName: (Node) -> String?
    ) -> (name: String, first: Mark, second: Mark)? {
        var earliest: (name: String, first: Mark, second: Mark)?
        for mapping in mappings(in: root) {
            var firstCopies: [String: Mark] = [:]
            for key in mapping.map(\.key) {
                guard let name = originalName(key), let mark = key.mark else { continue }
                guard let firstCopy = firstCopies[name] else {
                    firstCopies[name] = mark
                    continue
                }
                if earliest.map({ (mark.line, mark.column) < ($0.second.line, $0.second.column) }) ?? true {
                    earliest = (name, firstCopy, mark)
                }
                break
            }
        }
        return earliest
    }

    /// Every mapping in the tree, parents before children.
    private static func mappings(in node: Node) -> [Node.Mapping] {
        switch node {
        case .mapping(let mapping): [mapping] + mapping.flatMap { mappings(in: $0.key) + mappings(in: $0.value) }
        case .sequence(let sequence): sequence.flatMap { mappings(in: $0) }
        case .scalar, .alias: []
        }
    }

    /// `text` with `insertion` at a Yams mark (1-based line and column, columns counting Unicode
    /// scalars as libyaml does), or nil if the text has no such place.
    private static func inserting(_ insertion: String, atLine line: Int, column: Int, in text: String) -> String? {
        var result = text
        let scalars = result.unicodeScalars
        var (currentLine, currentColumn) = (1, 1)
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if currentLine == line && currentColumn == column {
                result.unicodeScalars.insert(contentsOf: insertion.unicodeScalars, at: index)
                return result
            }
            let scalar = scalars[index]
            index = scalars.index(after: index)
            let isCarriageReturnBeforeLineFeed = scalar == "\r" && index < scalars.endIndex && scalars[index] == "\n"
            if !isCarriageReturnBeforeLineFeed && ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) {
                (currentLine, currentColumn) = (currentLine + 1, 1)
            } else {
                currentColumn += 1
            }
        }
        return nil
    }
}
