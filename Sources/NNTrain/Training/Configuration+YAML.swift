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

    /// The YAML lines of the keys of one table, indented by `indentation`.
    private func yamlLines(for keys: [ConfigKey], indentation: String) -> [String] {
        keys.flatMap { key -> [String] in
            switch key.kind {
            case .value(_, let write):
                guard let text = write(self) else { return [] }
                if let condition = key.condition, !condition.holds(in: self) {
                    return ["\(indentation)# \(key.name): \(text) (applies only to \(condition.choices.joined(separator: ", ")))"]
                }
                return ["\(indentation)\(key.name): \(text)"]
            case .section(let sectionKeys):
                let lines = yamlLines(for: sectionKeys, indentation: indentation + "  ")
                return lines.isEmpty ? ["\(indentation)\(key.name): {}"] : ["\(indentation)\(key.name):"] + lines
            }
        }
    }
}
