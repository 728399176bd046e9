/// Writing a configuration back out as YAML (for the run folder, so a run records exactly what it
/// did), and where a run's files go.
extension Configuration {
    /// The complete configuration as YAML: every key in table order with defaults filled in, which
    /// `parse` reads back to an equal `Configuration`. Keys that do not apply (`momentum` for
    /// adam) are written as comments, since giving them is an error. `output.dir` is written only
    /// when set: unset, the run directory depends on the config file's name (`runDirectory`), so
    /// callers set it to the resolved run directory before writing the run's copy.
    public func resolvedYAML() -> String {
        yamlLines(for: Self.keys, indentation: "").map { $0 + "\n" }.joined()
    }

    /// Every key with its default, the values it takes and what it means, as a config file that
    /// `parse` accepts as it is (`nntrain config --defaults`). Keys that apply only to other choices
    /// (`momentum` with the default adam) and keys unset by default (`training.clip.norm`) are
    /// comments, the first with their default, the second with what leaving them out means.
    public static func defaultsYAML() -> String {
        let header = [
            "# nntrain config: every key with its default, the values it takes and what it means.",
            "# 'nntrain run' reads this file as it is. A commented-out key applies only to other choices",
            "# (shown with its default) or is unset by default (the comment says what unset means).",
        ]
        return (header + resolvedDefaults.yamlLines(for: keys, indentation: "", annotated: true)).map { $0 + "\n" }.joined()
    }

    /// The run directory: `output.dir`, or `runs/<config file name without extension>`.
    public func runDirectory(configPath: String) -> String {
        if let dir = output.dir { return dir }
        let fileName = configPath.split(separator: "/").last.map(String.init) ?? configPath
        // A leading dot starts a hidden file's name rather than an extension.
        guard let extensionDot = fileName.lastIndex(of: "."), extensionDot != fileName.startIndex else {
            return "runs/\(fileName)"
        }
        return "runs/\(fileName[..<extensionDot])"
    }

    /// The YAML lines of the keys of one table, indented by `indentation`; `annotated` adds each
    /// key's allowed values and meaning as a comment and writes unset keys as comments too.
    private func yamlLines(for keys: [ConfigKey], indentation: String, annotated: Bool = false) -> [String] {
        keys.flatMap { key -> [String] in
            switch key.kind {
            case .value(_, let write):
                let text = write(self)
                let otherCondition = key.condition?.failingLink(in: self)
                guard annotated else {
                    guard let text else { return [] }
                    guard let otherCondition else { return ["\(indentation)\(key.name): \(text)"] }
                    return ["\(indentation)# \(key.name): \(text) (applies only \(otherCondition.scope()))"]
                }
                let appliesOnly = otherCondition.map { "only " + $0.scope(preposition: "for") }
                let notes = [appliesOnly, key.unsetMeaning.map { "unset: \($0)" }, key.help, key.allowed]
                // A key of another choice whose value is derived (loss_scale under fp32) shows no value: its own is not this one.
                let shown = appliesOnly != nil && key.unsetMeaning != nil ? nil : text
                let line = (shown == nil || appliesOnly != nil ? "# " : "") + "\(key.name):" + (shown.map { " \($0)" } ?? "")
                return [Self.withComment(indentation + line, notes.compactMap { $0 }.joined(separator: "; "))]
            case .section(let sectionKeys):
                let lines = yamlLines(for: sectionKeys, indentation: indentation + "  ", annotated: annotated)
                guard annotated else {
                    return lines.isEmpty ? ["\(indentation)\(key.name): {}"] : ["\(indentation)\(key.name):"] + lines
                }
                let heading = "\(indentation)\(key.name):"
                return [key.help.isEmpty ? heading : Self.withComment(heading, key.help)] + lines
            }
        }
    }

    /// `line` with `# comment` after it, aligned at column 35 (as the README's config reference) when it fits.
    private static func withComment(_ line: String, _ comment: String) -> String {
        line + String(repeating: " ", count: max(2, 34 - line.count)) + "# " + comment
    }
}
