import Yams

/// Turns YAML text into a Yams node tree, whose nodes keep their line numbers, and Yams' errors
/// into one-line config errors: invalid YAML, tabs used for indentation, duplicate keys.
enum YAMLDocument {
    /// The document's root node, nil for a text with no document (empty, or only comments).
    /// `source` places errors: the file (lines are filled in) or a `--set` argument.
    static func compose(_ text: String, source: ConfigSource) throws(NNTrainError) -> Node? {
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
            let place = source.atLine(mark.line)
            if lineIsIndentedWithTab(mark.line, in: text) {
                return place.error("invalid YAML: this line is indented with a tab; expected spaces (YAML forbids tabs in indentation)")
            }
            // An override's value is one line, so only the file's lines are worth naming.
            let contextText = context.map { context in
                if case .file = source { "\(context.text) at line \(context.mark.line): " } else { "\(context.text): " }
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
