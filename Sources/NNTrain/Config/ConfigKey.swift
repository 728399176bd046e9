/// One entry of the config's key tables (`Configuration.keys`): a key that holds a value, with
/// how to read it into a `Configuration` and write it back as YAML, or a section of further keys.
///
/// The parser, the `--set` overrides, the error messages ("expected one of: ..."),
/// `resolvedYAML()` and `defaultsYAML()` all walk the same tables, so a new key is one entry made
/// by one of the factories below, with its one-line help (and `whenUnset` if it may be left out).
struct ConfigKey: Sendable {
    /// Reads a value (already placed for error messages) into the configuration, validating it.
    typealias Read = @Sendable (ConfigValue, inout Configuration) throws(NNTrainError) -> Void
    /// The value's YAML text in the resolved config, or nil to leave the key out.
    typealias Write = @Sendable (Configuration) -> String?

    enum Kind: Sendable {
        case value(read: Read, write: Write)
        case section([ConfigKey])
    }

    let name: String
    let kind: Kind
    /// What the key means, in one line (`nntrain config --defaults` prints it beside the key).
    let help: String
    /// The values it takes, as error messages word them: `an integer >= 1`, `one of: sgd, adam`.
    let allowed: String
    /// When the key applies, if not always; see `onlyWhen(_:is:)`.
    private(set) var condition: KeyCondition?
    /// What leaving the key out means (`off`, `optimizer.lr`), for a key that may be left out
    /// or unset with YAML's null (`--set training.clip.norm=null`); nil for a key that always
    /// holds a value. See `whenUnset(_:)`.
    private(set) var unsetMeaning: String?

    init(name: String, kind: Kind, help: String, allowed: String = "") {
        self.name = name
        self.kind = kind
        self.help = help
        self.allowed = allowed
    }

    /// This key, applying only while the choice key at `keyPath` is one of `choices`
    /// (`momentum` only for `optimizer.name: sgd`). Given otherwise, it is refused as a mistake,
    /// as PyTorch's optimizer constructors refuse arguments they do not take; the resolved YAML
    /// writes it as a comment.
    func onlyWhen<Choice: RawRepresentable>(_ keyPath: String, is choices: Choice...) -> ConfigKey
    where Choice.RawValue == String {
        var key = self
        key.condition = KeyCondition(keyPath: keyPath, choices: choices.map(\.rawValue))
        return key
    }

    /// This key, applying only while the boolean key at `keyPath` is `value` (`ema.decay` only with
    /// `ema.enabled: true`); refused otherwise, and written as a comment, as `onlyWhen(_:is:)`.
    func onlyWhen(_ keyPath: String, is value: Bool) -> ConfigKey {
        var key = self
        key.condition = KeyCondition(keyPath: keyPath, choices: ["\(value)"])
        return key
    }

    /// This key, applying only while the key at `keyPath` is set (`distillation.temperature` only
    /// with a `distillation.teacher`); refused otherwise, and written as a comment, as `onlyWhen(_:is:)`.
    func onlyWhenSet(_ keyPath: String) -> ConfigKey {
        var key = self
        key.condition = KeyCondition(keyPath: keyPath, choices: nil)
        return key
    }

    /// This key, applying only while the key at `keyPath` is unset (`data.validation_split` only
    /// without `data.folds`, whose fold replaces it); given otherwise it is refused, and written as a
    /// comment, as `onlyWhen(_:is:)`.
    func onlyWhenUnset(_ keyPath: String) -> ConfigKey {
        var key = self
        key.condition = KeyCondition(keyPath: keyPath, choices: nil, requiresUnset: true)
        return key
    }

    /// This key, which may be left out or unset with null (`~`, `null` or nothing), meaning
    /// `meaning`: its field keeps its default, nil ("off", "work it out") or a value derived from
    /// other keys, exactly as when the key is absent. A null for any other key is refused.
    func whenUnset(_ meaning: String) -> ConfigKey {
        var key = self
        key.unsetMeaning = meaning
        return key
    }

    /// The value's YAML text in `configuration`, nil for a section or a value left out.
    func yamlText(in configuration: Configuration) -> String? {
        guard case .value(_, let write) = kind else { return nil }
        return write(configuration)
    }

    // MARK: Factories, one per kind of value

    /// A section: a mapping of further keys, each optional.
    static func section(_ name: String, help: String = "", _ keys: [ConfigKey]) -> ConfigKey {
        ConfigKey(name: name, kind: .section(keys), help: help)
    }

    /// An integer >= `minimum`, written in decimal.
    static func integer<Integer: FixedWidthInteger & Sendable>(
        _ name: String, _ field: WritableKeyPath<Configuration, Integer> & Sendable, atLeast minimum: Integer, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "an integer >= \(minimum)",
              read: { value throws(NNTrainError) in try value.integer(atLeast: minimum) }, write: { "\($0)" })
    }

    /// A number within `bounds`, written with Swift's shortest text that reads back exactly.
    static func number(
        _ name: String, _ field: WritableKeyPath<Configuration, Double> & Sendable, _ bounds: NumberBounds, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a number \(bounds.description)",
              read: { value throws(NNTrainError) in try value.number(bounds) }, write: { "\($0)" })
    }

    /// An integer >= `minimum` whose absence (nil) means "work it out from other keys", so the
    /// resolved YAML leaves it out when unset.
    static func optionalInteger(
        _ name: String, _ field: WritableKeyPath<Configuration, Int?> & Sendable, atLeast minimum: Int, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "an integer >= \(minimum)",
              read: { value throws(NNTrainError) in try value.integer(atLeast: minimum) }, write: { $0.map { "\($0)" } })
    }

    /// A number within `bounds` whose absence (nil) means "work it out" (or "off"), left out of
    /// the resolved YAML when unset.
    static func optionalNumber(
        _ name: String, _ field: WritableKeyPath<Configuration, Double?> & Sendable, _ bounds: NumberBounds, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a number \(bounds.description)",
              read: { value throws(NNTrainError) in try value.number(bounds) }, write: { $0.map { "\($0)" } })
    }

    /// `true` or `false`.
    static func boolean(_ name: String, _ field: WritableKeyPath<Configuration, Bool> & Sendable, help: String) -> ConfigKey {
        value(name, field, help: help, allowed: "true or false",
              read: { value throws(NNTrainError) in try value.boolean() }, write: { "\($0)" })
    }

    /// `true` or `false` under an older name of the key `target` (`model.batch_norm` of `model.norm`),
    /// read into `field` (a computed field that sets `target`) and never written back: the resolved YAML
    /// has `target` only. A config or checkpoint of an older version still reads; giving both with
    /// values that disagree is refused by the rules between keys.
    static func alias(
        _ name: String, _ field: WritableKeyPath<Configuration, Bool> & Sendable, of target: String, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "true or false",
              read: { value throws(NNTrainError) in try value.boolean() }, write: { _ in nil })
            .whenUnset("\(target) alone decides")
    }

    /// `true` or `false`, or nil (left out of the resolved YAML) when its default depends on the data.
    static func optionalBoolean(
        _ name: String, _ field: WritableKeyPath<Configuration, Bool?> & Sendable, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "true or false",
              read: { value throws(NNTrainError) in try value.boolean() }, write: { $0.map { "\($0)" } })
    }

    /// Rows per batch: an integer >= 1 or `full`.
    static func batchSize(
        _ name: String, _ field: WritableKeyPath<Configuration, BatchSize> & Sendable, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "an integer >= 1, or full",
              read: { value throws(NNTrainError) in try value.batchSize() }, write: { size in
            switch size {
            case .full: "full"
            case .rows(let rows): "\(rows)"
            }
        })
    }

    /// `dynamic`, `none`, or a fixed scale (`training.loss_scale`).
    static func lossScaling(
        _ name: String, _ field: WritableKeyPath<Configuration, LossScaling> & Sendable, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "dynamic, none or a number from 1e-30 to 1e30",
              read: { value throws(NNTrainError) in try value.lossScaling() }, write: { scaling in
            switch scaling {
            case .none: "none"
            case .dynamic: "dynamic"
            case .fixed(let scale): "\(scale)"
            }
        })
    }

    /// One of an enumeration's raw values, or nil (left out of the resolved YAML) when unset.
    static func optionalChoice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ field: WritableKeyPath<Configuration, Choice?> & Sendable, help: String
    ) -> ConfigKey where Choice.RawValue == String {
        value(name, field, help: help, allowed: oneOf(Choice.self),
              read: { value throws(NNTrainError) in try value.choice() }, write: { $0?.rawValue })
    }

    /// A word whose values (`allowed`, for people) depend on another key, which may come later in the
    /// file (`scheduler.mode` on `scheduler.name`): read here only as a single word, it is turned into
    /// the field's type by the rules between keys, from the given value; `word` writes it back, and the
    /// resolved YAML leaves it out when unset.
    static func dependentWord<Value>(
        _ name: String, _ field: KeyPath<Configuration, Value?> & Sendable, allowed: String, help: String,
        word: @escaping @Sendable (Value) -> String
    ) -> ConfigKey {
        ConfigKey(name: name, kind: .value(
            read: { value, _ throws(NNTrainError) in _ = try value.scalarText(expecting: "a single word") },
            write: { $0[keyPath: field].map(word) }), help: help, allowed: allowed)
    }

    /// One of an enumeration's raw values.
    static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ field: WritableKeyPath<Configuration, Choice> & Sendable, help: String
    ) -> ConfigKey where Choice.RawValue == String {
        value(name, field, help: help, allowed: oneOf(Choice.self),
              read: { value throws(NNTrainError) in try value.choice() }, write: \.rawValue)
    }

    /// A file or folder path, written quoted so that any text reads back unchanged.
    static func path(_ name: String, _ field: WritableKeyPath<Configuration, String> & Sendable, help: String) -> ConfigKey {
        value(name, field, help: help, allowed: "a path",
              read: { value throws(NNTrainError) in try value.path() }, write: yamlQuoted)
    }

    /// A path whose absence (nil) means "work it out", so the resolved YAML leaves it out when unset.
    static func optionalPath(
        _ name: String, _ field: WritableKeyPath<Configuration, String?> & Sendable, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a path",
              read: { value throws(NNTrainError) in try value.path() }, write: { $0.map(yamlQuoted) })
    }

    /// A single text (a column name) whose absence (nil) means "work it out" or "not given".
    static func optionalText(
        _ name: String, _ field: WritableKeyPath<Configuration, String?> & Sendable, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a name", read: { value throws(NNTrainError) in
            let text = try value.scalarText(expecting: "a name")
            guard !text.isEmpty else { throw value.problem("is empty; expected a name") }
            return text
        }, write: { $0.map(yamlQuoted) })
    }

    /// A list of texts (column or class names, missing-value tokens), none repeated; each element
    /// any single value, written quoted so that it reads back unchanged; `example` shows the syntax.
    static func textList(
        _ name: String, _ field: WritableKeyPath<Configuration, [String]> & Sendable, example: String, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a list of names, like \(example)",
              read: { value throws(NNTrainError) in try value.texts(example: example) },
              write: { "[" + $0.map(yamlQuoted).joined(separator: ", ") + "]" })
    }

    /// `textList` whose absence (nil) means "work it out", so the resolved YAML leaves it out when unset.
    static func optionalTextList(
        _ name: String, _ field: WritableKeyPath<Configuration, [String]?> & Sendable, example: String, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a list of names, like \(example)",
              read: { value throws(NNTrainError) in try value.texts(example: example) },
              write: { $0.map { "[" + $0.map(yamlQuoted).joined(separator: ", ") + "]" } })
    }

    /// One path or a list of distinct paths, read as a list either way (`[]`: none given); written back
    /// as the path alone when there is one, and left out when there is none.
    static func pathOrPaths(
        _ name: String, _ field: WritableKeyPath<Configuration, [String]> & Sendable, example: String, help: String
    ) -> ConfigKey {
        value(name, field, help: help, allowed: "a path or a list of paths, like \(example)",
              read: { value throws(NNTrainError) in
                  if case .sequence = value.node {
                      let paths = try value.list(expecting: "a path or a list of paths, like \(example)") {
                          element throws(NNTrainError) in try element.path()
                      }
                      guard !paths.isEmpty else { throw value.problem("is an empty list; expected at least one path") }
                      var seen = Set<String>()
                      if let repeated = paths.first(where: { !seen.insert($0).inserted }) {
                          throw value.problem("lists \(quoted(repeated)) twice; expected each path once")
                      }
                      return paths
                  }
                  return [try value.path()]
              },
              write: { paths in
                  switch paths.count {
                  case 0: nil
                  case 1: yamlQuoted(paths[0])
                  default: "[" + paths.map(yamlQuoted).joined(separator: ", ") + "]"
                  }
              })
    }

    /// A list of integers, each >= `minimum`; `example` shows the syntax in error messages.
    static func integerList(
        _ name: String, _ field: WritableKeyPath<Configuration, [Int]> & Sendable, atLeast minimum: Int, example: String,
        help: String
    ) -> ConfigKey {
        let expectation = "a list of integers >= \(minimum), like \(example)"
        return value(name, field, help: help, allowed: expectation, read: { value throws(NNTrainError) in
            try value.list(expecting: expectation) { element throws(NNTrainError) in
                try element.integer(atLeast: minimum)
            }
        }, write: yamlFlowList)
    }

    /// A list of exactly `count` numbers within `bounds`; `example` shows the syntax in error messages.
    static func numberList(
        _ name: String, _ field: WritableKeyPath<Configuration, [Double]> & Sendable,
        count: Int, _ bounds: NumberBounds, example: String, help: String
    ) -> ConfigKey {
        let expectation = "a list of exactly \(count) numbers \(bounds.description), like \(example)"
        return value(name, field, help: help, allowed: expectation, read: { value throws(NNTrainError) in
            try value.list(expecting: expectation, count: count) { element throws(NNTrainError) in try element.number(bounds) }
        }, write: yamlFlowList)
    }

    /// `numberList` whose absence (nil) means "off" (or "work it out"), left out of the resolved YAML when unset;
    /// a nil `count` takes a list of any length (the rules between keys check it).
    static func optionalNumberList(
        _ name: String, _ field: WritableKeyPath<Configuration, [Double]?> & Sendable,
        count: Int?, _ bounds: NumberBounds, example: String, help: String
    ) -> ConfigKey {
        let expectation = "a list of \(count.map { "exactly \($0) " } ?? "")numbers \(bounds.description), like \(example)"
        return value(name, field, help: help, allowed: expectation, read: { value throws(NNTrainError) in
            try value.list(expecting: expectation, count: count) { element throws(NNTrainError) in try element.number(bounds) }
        }, write: { $0.map(yamlFlowList) })
    }

    /// `balanced`, or a list of class weights >= 0, not all 0 (`loss_weights`); nil (left out) when unset.
    static func lossWeights(
        _ name: String, _ field: WritableKeyPath<Configuration, LossWeights?> & Sendable, help: String
    ) -> ConfigKey {
        let expectation = "balanced or a list of numbers >= 0, one per class, like [1, 2.5, 1]"
        return value(name, field, help: help, allowed: expectation, read: { value throws(NNTrainError) in
            guard case .sequence = value.node else {
                let text = try value.scalarText(expecting: expectation)
                guard text == "balanced" else { throw value.problem("\(quoted(text)) is not \(expectation)") }
                return .balanced
            }
            let weights = try value.list(expecting: expectation) { element throws(NNTrainError) in
                try element.number(.nonNegative)
            }
            guard weights.contains(where: { $0 > 0 }) else {
                throw value.problem("has no weight above 0; expected at least one class to count")
            }
            return .given(weights)
        }, write: { weights in
            switch weights {
            case nil: nil
            case .balanced: "balanced"
            case .given(let list): yamlFlowList(list)
            }
        })
    }

    /// `all` (nil) or a list of distinct layer indices >= 0, like [0, 1] (`model.init_layers`).
    static func layerSelection(
        _ name: String, _ field: WritableKeyPath<Configuration, [Int]?> & Sendable, help: String
    ) -> ConfigKey {
        let expectation = "all or a list of distinct layer indices >= 0, like [0, 1]"
        return value(name, field, help: help, allowed: expectation, read: { value throws(NNTrainError) in
            guard case .sequence = value.node else {
                let text = try value.scalarText(expecting: expectation)
                guard text == "all" else { throw value.problem("\(quoted(text)) is not \(expectation)") }
                return nil
            }
            return try layerIndices(value, expecting: expectation)
        }, write: { $0.map(yamlFlowList) ?? "all" })
    }

    /// A list of distinct layer indices >= 0, like [0, 1] (`training.freeze`); nil (left out) when unset.
    static func layerList(
        _ name: String, _ field: WritableKeyPath<Configuration, [Int]?> & Sendable, help: String
    ) -> ConfigKey {
        let expectation = "a list of distinct layer indices >= 0, like [0, 1]"
        return value(name, field, help: help, allowed: expectation, read: { value throws(NNTrainError) in
            try layerIndices(value, expecting: expectation)
        }, write: { $0.map(yamlFlowList) })
    }

    /// A non-empty list of distinct integers >= 0.
    private static func layerIndices(_ value: ConfigValue, expecting expectation: String) throws(NNTrainError) -> [Int] {
        let indices = try value.list(expecting: expectation) { element throws(NNTrainError) in
            try element.integer(atLeast: 0)
        }
        guard !indices.isEmpty else { throw value.problem("is an empty list; expected \(expectation)") }
        guard Set(indices).count == indices.count else { throw value.problem("repeats a layer; expected \(expectation)") }
        return indices
    }

    /// A key holding the `Configuration` field at `field`: `read` validates a config value into
    /// the field's type, `write` gives the field's YAML text (nil to leave the key out); `help`
    /// and `allowed` say what it means and takes.
    private static func value<Value>(
        _ name: String, _ field: WritableKeyPath<Configuration, Value> & Sendable, help: String, allowed: String,
        read: @escaping @Sendable (ConfigValue) throws(NNTrainError) -> Value,
        write: @escaping @Sendable (Value) -> String?
    ) -> ConfigKey {
        ConfigKey(name: name, kind: .value(
            read: { value, configuration throws(NNTrainError) in configuration[keyPath: field] = try read(value) },
            write: { write($0[keyPath: field]) }), help: help, allowed: allowed)
    }

    /// `one of: sgd, adam, ...`: the values of a choice key, in its messages and its help.
    static func oneOf<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type) -> String
    where Choice.RawValue == String {
        "one of: " + Choice.allCases.map(\.rawValue).joined(separator: ", ")
    }
}

extension [ConfigKey] {
    /// The entry called `name` in this table (the keys of `section`, `[]` for the top level), or
    /// an error at `source` listing the keys there are and suggesting the one probably meant.
    func entry(named name: String, inSection section: [String], source: ConfigSource) throws(NNTrainError) -> ConfigKey {
        if let entry = first(where: { $0.name == name }) { return entry }
        let names = map(\.name)
        var message = "unknown key \(quoted(name)) \(placeName(section)); expected one of: \(names.joined(separator: ", "))"
        if let nearest = names.filter({ editDistance($0, name) <= 2 })
            .min(by: { editDistance($0, name) < editDistance($1, name) }) {
            message += " (did you mean '\(nearest)'?)"
        } else if let elsewhere = Configuration.keys.valueEntries.first(where: { $0.key.name == name }) {
            message += " ('\(name)' belongs \(placeName(elsewhere.path.split(separator: ".").dropLast().map(String.init))))"
        }
        throw source.error(message)
    }

    /// Every key that holds a value with its path, depth first in table order: `seed`, `data.dataset`, ...
    var valueEntries: [(path: String, key: ConfigKey)] {
        flatMap { key -> [(path: String, key: ConfigKey)] in
            switch key.kind {
            case .value: [(key.name, key)]
            case .section(let keys): keys.valueEntries.map { ("\(key.name).\($0.path)", $0.key) }
            }
        }
    }
}

/// When a key applies: while another key holds one of some choices (`optimizer.name` is `sgd`), or
/// while another key is set at all (`distillation.temperature` with a `distillation.teacher`).
struct KeyCondition: Sendable {
    /// The deciding key's path, like `optimizer.name`.
    let keyPath: String
    /// The deciding key's values, as written in YAML, for which the key applies; nil: any value.
    let choices: [String]?
    /// The key applies only while the deciding key is unset (`onlyWhenUnset`), rather than set.
    var requiresUnset = false

    /// The deciding key's value in `configuration`, as written in YAML (nil when unset).
    func currentChoice(in configuration: Configuration) -> String? {
        Configuration.keysByPath[keyPath]?.yamlText(in: configuration)
    }

    /// True when the deciding key applies itself (its own condition holds: `pruning.every_n_steps`
    /// needs `pruning.schedule: gradual`, which needs a `pruning.method`) and is set in
    /// `configuration`, to one of `choices` if there are any.
    func holds(in configuration: Configuration) -> Bool { failingLink(in: configuration) == nil }

    /// The first condition of the chain that does not hold in `configuration`, the deciding key's own
    /// before this one (so a key of a section that is off is named as such); nil when all hold.
    func failingLink(in configuration: Configuration) -> KeyCondition? {
        if requiresUnset { return currentChoice(in: configuration) == nil ? nil : self }
        if let outer = Configuration.keysByPath[keyPath]?.condition?.failingLink(in: configuration) { return outer }
        guard let current = currentChoice(in: configuration), choices?.contains(current) ?? true else { return self }
        return nil
    }

    /// Where the key applies, after "applies only" or "only": `to sgd, adam` (`for sgd, adam` with
    /// `preposition` "for") or `with distillation.teacher`.
    func scope(preposition: String = "to") -> String {
        if requiresUnset { return "without \(keyPath)" }
        if choices == ["true"] { return "with \(keyPath): true" }
        return choices.map { "\(preposition) " + $0.joined(separator: ", ") } ?? "with \(keyPath)"
    }
}

/// `text` as a YAML double-quoted scalar, which reads back as exactly `text` whatever it holds
/// (`: `, `#`, quotes, a leading `[`, words like `null`): backslashes and quotes are escaped, and
/// so are the characters YAML does not allow in a file or treats as line breaks.
func yamlQuoted(_ text: String) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\u{0}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}":
            let hex = String(scalar.value, radix: 16, uppercase: true)
            quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: quoted.unicodeScalars.append(scalar)
        }
    }
    return quoted + "\""
}

/// A list as a YAML flow sequence, `[256, 128]`, each element written by its description (for a
/// `Double`, the shortest text that reads back exactly).
func yamlFlowList(_ elements: [some CustomStringConvertible]) -> String {
    "[" + elements.map(\.description).joined(separator: ", ") + "]"
}

/// `at top level` or `in section 'optimizer'`: where a key is, in messages.
func placeName(_ section: [String]) -> String {
    section.isEmpty ? "at top level" : "in section '\(section.joined(separator: "."))'"
}

/// The Levenshtein distance between two strings (insertions, deletions and substitutions of
/// characters), which picks the key a misspelt key probably meant.
func editDistance(_ first: String, _ second: String) -> Int {
    let first = Array(first), second = Array(second)
    // On entering row i, previousRow[j] is the distance between the first i characters of `first`
    // and the first j of `second`.
    var previousRow = Array(0...second.count)
    for (i, firstCharacter) in first.enumerated() {
        var row = [i + 1]
        for (j, secondCharacter) in second.enumerated() {
            let substitution = previousRow[j] + (firstCharacter == secondCharacter ? 0 : 1)
            row.append(Swift.min(substitution, previousRow[j + 1] + 1, row[j] + 1))
        }
        previousRow = row
    }
    return previousRow[second.count]
}
