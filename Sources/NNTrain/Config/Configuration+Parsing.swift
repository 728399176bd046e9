import Foundation
import Yams

/// Reading the YAML config file (plus `--set` overrides) into a validated `Configuration`.
///
/// The text is composed into a Yams node tree, so every value keeps its line number; overrides
/// replace or add keys in that tree; then the tree is walked against the key tables
/// (`Configuration.keys`), each entry reading and validating its own value, and finally the rules
/// between keys are checked. The first problem found stops the reading with a one-line
/// `NNTrainError` of kind `.config`: `FILE:LINE: key.path: what is wrong; expected what`.
extension Configuration {
    /// What a config file has to be, ending the errors for one that is empty or not a mapping.
    private static let expectedDocument = "expected a YAML mapping with sections like data:, model:, optimizer:, training:"

    /// The longest config file read (1 MiB; configs are a few hundred bytes), so that a path such
    /// as /dev/zero or a huge file given by mistake is refused rather than read into memory.
    public static let maxFileSize = 1 << 20

    /// Reads and validates the config file at `path`, then applies `overrides` (`section.key=value`).
    public static func load(path: String, overrides: [String] = []) throws(NNTrainError) -> Configuration {
        try parse(yaml: readYAMLFile(path: path, expected: "a YAML config file"), source: path, overrides: overrides)
    }

    /// The text of the YAML file at `path` (a config, a sweep file), refused when missing, a folder,
    /// unreadable, larger than `maxFileSize` or not UTF-8; messages end with "(expected \(expected))".
    static func readYAMLFile(path: String, expected: String) throws(NNTrainError) -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw .missingFile(path, expected: expected)
        }
        guard !isFolder.boolValue else { throw .config(path, line: nil, "is a folder; expected \(expected)") }
        // A pipe (`nntrain run <(...)`) is fine; reading stops one byte past the limit.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw NNTrainError(.missingFile,
                               "\(path): cannot read: \(String(cString: strerror(errno))) (expected \(expected))")
        }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: maxFileSize + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes {
                Foundation.read(descriptor, $0.baseAddress.map { $0 + filled }, $0.count - filled)
            }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw NNTrainError(.missingFile,
                                   "\(path): cannot read: \(String(cString: strerror(errno))) (expected \(expected))")
            }
            filled += count
        }
        guard filled <= maxFileSize else {
            throw .config(path, line: nil,
                          "is larger than \(maxFileSize) bytes; expected \(expected) (a few hundred bytes)")
        }
        bytes.removeLast(bytes.count - filled)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw notUTF8(bytes, path: path) }
        return text
    }

    /// The error for a config that is not UTF-8, naming the line and the byte offset of the first
    /// byte that is not.
    private static func notUTF8(_ bytes: [UInt8], path: String) -> NNTrainError {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0, line = 1
        while case .valid(let scalar) = parser.parseScalar(from: &iterator) {
            offset += scalar.count
            if scalar.count == 1, scalar.first == UInt8(ascii: "\n") { line += 1 }
        }
        let byte = bytes.indices.contains(offset) ? " (\(hexadecimal(bytes[offset], digits: 2)))" : ""
        return .config(path, line: line, "byte \(offset)\(byte) is not UTF-8; expected a YAML config file in UTF-8")
    }

    /// Reads and validates config text; `source` is the file name that errors name. Each override
    /// (`section.key=value`, the value read as YAML so `model.hidden=[64,32]` works) replaces or
    /// adds its key before validation, so it is checked exactly as if it had been in the file.
    public static func parse(yaml: String, source: String, overrides: [String] = []) throws(NNTrainError) -> Configuration {
        let file = ConfigSource.file(path: source, line: nil)
        guard let document = try YAMLDocument.compose(yaml, source: file), !document.isNull else {
            throw file.error("the config is empty; \(expectedDocument)")
        }
        guard case .mapping(var root) = document else {
            throw file.atLine(document.mark?.line).error("the config is \(document.describedForMessages); \(expectedDocument)")
        }
        var reader = ConfigurationReader(file: source)
        for argument in overrides {
            let override = try ConfigOverride(argument)
            root = root.setting(override.value, at: override.keyPath[...])
            reader.overrideArguments[override.keyPath.joined(separator: ".")] = argument
        }
        try reader.read(root, keys: keys, section: [])
        var configuration = reader.configuration
        try configuration.applyRulesBetweenKeys(given: reader.givenValues, file: source)
        return configuration
    }
}

/// Walks a config mapping against the key tables, each table entry reading its own value into
/// `configuration`, and notes which keys were given, for the rules between keys.
struct ConfigurationReader {
    let file: String
    /// The `--set` argument that gave each overridden key path; errors about it name the argument.
    var overrideArguments: [String: String] = [:]
    private(set) var configuration = Configuration()
    /// Every key path given by the file or an override, with its value.
    private(set) var givenValues: [String: ConfigValue] = [:]

    init(file: String) {
        self.file = file
    }

    /// Reads `mapping`, whose keys belong to `keys`, the table of `section` (`[]` for the top level).
    mutating func read(_ mapping: Node.Mapping, keys: [ConfigKey], section: [String]) throws(NNTrainError) {
        for (keyNode, valueNode) in mapping {
            let keyLine = ConfigSource.file(path: file, line: keyNode.mark?.line)
            guard case .scalar(let keyScalar) = keyNode else {
                throw keyLine.error("\(keyNode.describedForMessages) cannot be a key \(placeName(section)); "
                    + "expected one of: \(keys.map(\.name).joined(separator: ", "))")
            }
            let entry = try keys.entry(named: keyScalar.string, inSection: section, source: keyLine)
            let path = section + [entry.name]
            let keyPath = path.joined(separator: ".")
            let source = overrideArguments[keyPath].map { ConfigSource.override(argument: $0) } ?? keyLine
            let value = ConfigValue(node: valueNode, keyPath: keyPath, source: source)
            switch entry.kind {
            case .value(let readValue, _):
                if valueNode.isNull {
                    // Unset (`--set key=null`, `key: ~`, `key:`): the field keeps its default, as if absent.
                    guard entry.unsetMeaning == nil else { continue }
                    let defaultText = entry.yamlText(in: Configuration()).map { ", \($0) by default" } ?? ""
                    throw value.problem("has no value (null), but it cannot be unset: it always holds a value"
                        + "\(defaultText); expected \(entry.allowed)")
                }
                try readValue(value, &configuration)
                givenValues[keyPath] = value
            case .section(let sectionKeys):
                if case .mapping(let sectionMapping) = valueNode {
                    try read(sectionMapping, keys: sectionKeys, section: path)
                } else if !valueNode.isNull {  // an empty section (`data:` alone) is all defaults
                    let keyNames = sectionKeys.map(\.name).joined(separator: ", ")
                    throw value.shapeProblem(expecting: "a section (a mapping with some of: \(keyNames))")
                }
            }
        }
    }
}

/// One `--set section.key=value` argument, with its key path checked against the key tables and
/// its value composed as YAML.
struct ConfigOverride {
    let keyPath: [String]
    let value: Node

    private static let expectedForm = "expected section.key=value, like training.epochs=1"

    init(_ argument: String) throws(NNTrainError) {
        let source = ConfigSource.override(argument: argument)
        guard let equalsSign = argument.firstIndex(of: "=") else {
            throw source.error("missing '='; \(Self.expectedForm)")
        }
        let keyText = argument[..<equalsSign].trimmingCharacters(in: .whitespaces)
        guard !keyText.isEmpty else { throw source.error("the key before '=' is empty; \(Self.expectedForm)") }
        keyPath = keyText.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try Self.checkNamesValue(keyPath, source: source)
        let valueText = String(argument[argument.index(after: equalsSign)...])
        // Nothing after '=' composes to no document: an empty value, which is YAML's null (unset).
        value = try YAMLDocument.compose(valueText, source: source) ?? Node("", .implicit, .plain)
    }

    /// Checks that `keyPath` leads through sections to a key that holds a value.
    private static func checkNamesValue(_ keyPath: [String], source: ConfigSource) throws(NNTrainError) {
        var keys = Configuration.keys
        for (depth, name) in keyPath.enumerated() {
            let pathSoFar = keyPath[...depth].joined(separator: ".")
            let entry = try keys.entry(named: name, inSection: Array(keyPath[..<depth]), source: source)
            let isLast = depth == keyPath.count - 1
            switch entry.kind {
            case .value where !isLast:
                throw source.error("'\(pathSoFar)' holds a value, not keys; expected \(pathSoFar)=value")
            case .section(let sectionKeys) where isLast:
                let keyNames = sectionKeys.map(\.name).joined(separator: ", ")
                throw source.error("'\(pathSoFar)' is a section; expected \(pathSoFar).KEY=value with KEY one of: \(keyNames)")
            case .section(let sectionKeys):
                keys = sectionKeys
            case .value:
                break
            }
        }
    }
}

extension Node.Mapping {
    /// This mapping with `value` at `path` (replacing the key or adding it), creating missing or
    /// empty sections on the way. A section that is something else is left for the reader to refuse.
    func setting(_ value: Node, at path: ArraySlice<String>) -> Node.Mapping {
        guard let name = path.first else { return self }
        var mapping = self
        let rest = path.dropFirst()
        if rest.isEmpty {
            mapping[name] = value
        } else if case .mapping(let section)? = mapping[name] {
            mapping[name] = .mapping(section.setting(value, at: rest))
        } else if mapping[name]?.isNull ?? true {
            mapping[name] = .mapping(Node.Mapping([]).setting(value, at: rest))
        }
        return mapping
    }
}
