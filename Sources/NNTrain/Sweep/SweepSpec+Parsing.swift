import Foundation
import Yams

extension SweepSpec {
    /// The top-level keys of a sweep file, in the order messages list them.
    static let topLevelKeys = ["base", "output", "metric", "mode", "grid", "random", "prune", "prune_startup_trials",
                               "prune_warmup_epochs"]
    static let randomKeys = ["trials", "seed", "params"]
    /// The most trials a sweep file may expand to (random draws, and grid points × draws).
    public static let maxTrials = 100_000
    static let expectedDocument = "expected a mapping with base and grid or random, e.g. base: configs/fashion-mnist.txt, "
        + "grid: {optimizer.lr: [0.001, 0.003]}"

    /// Reads a sweep file's text (`source` names it in messages, `path:line: ...`). Every swept key
    /// must be a key of the config file (`nntrain config --defaults` lists them), refused at its line
    /// otherwise; what each value must be is checked with the trials' configs (`checkTrials`).
    public static func parse(yaml: String, source: String) throws(NNTrainError) -> SweepSpec {
        let file = ConfigSource.file(path: source, line: nil)
        guard let document = try YAMLDocument.compose(yaml, source: file), !document.isNull else {
            throw file.error("the sweep file is empty; \(expectedDocument)")
        }
        guard case .mapping(let root) = document else {
            throw file.atLine(document.mark?.line)
                .error("the sweep file is \(document.describedForMessages); \(expectedDocument)")
        }
        let entries = try Self.entries(of: root, allowed: topLevelKeys, place: "at top level", source: file)
        guard let baseValue = entries["base"] else { throw file.error("no base; \(expectedDocument)") }
        let base: Base
        if case .mapping = baseValue.node {
            do {
                base = .inline(try Yams.serialize(node: baseValue.node))
            } catch {
                throw baseValue.problem("cannot be written back as YAML (\(error)); expected a config mapping or a path")
            }
        } else {
            base = .path(try baseValue.path())
        }
        let metric: Metric = try entries["metric"]?.choice() ?? .valLoss
        let mode: Mode = try entries["mode"]?.choice() ?? metric.defaultMode
        let output = try entries["output"]?.path()
        var grid: [GridKey] = []
        if let gridValue = entries["grid"] {
            for (key, value) in try sweptKeys(gridValue) {
                let values = try value.list(expecting: "a list of the values to try, like [0.001, 0.003]") {
                    (element) throws(NNTrainError) in try element.yamlText()
                }
                guard !values.isEmpty else { throw value.problem("has no values; expected at least one value to try") }
                grid.append(GridKey(key: key, values: values, line: value.node.mark?.line))
            }
        }
        var random: RandomSearch?
        if let randomValue = entries["random"] {
            let fields = try Self.entries(of: randomValue, allowed: randomKeys)
            guard let trials = fields["trials"], let params = fields["params"] else {
                throw randomValue.problem("expected trials and params, e.g. {trials: 8, seed: 0, params: "
                    + "{optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}}}")
            }
            var keys: [RandomKey] = []
            for (key, value) in try sweptKeys(params) {
                keys.append(RandomKey(key: key, distribution: try value.distribution(), line: value.node.mark?.line))
            }
            let count = try trials.integer(atLeast: 1)
            guard count <= maxTrials else {
                throw trials.problem("\(count) is out of range; expected at most \(maxTrials) trials")
            }
            random = RandomSearch(trials: count, seed: try fields["seed"]?.integer(atLeast: 0) ?? 0, keys: keys)
        }
        let spec = SweepSpec(base: base, output: output, metric: metric, mode: mode, grid: grid, random: random,
                             source: source, pruning: try pruning(entries, metric: metric))
        // Counted in Double: a grid of a few long lists could overflow Int's product.
        let total = spec.grid.reduce(Double(spec.random?.trials ?? 1)) { $0 * Double($1.values.count) }
        if total > Double(maxTrials) {
            throw file.error("the grid and random draws make more than \(maxTrials) trials; expected fewer")
        }
        let swept = spec.grid.map(\.key) + (spec.random?.keys.map(\.key) ?? [])
        if let repeated = swept.first(where: { key in swept.filter { $0 == key }.count > 1 }) {
            throw file.error("\(repeated) is in both grid and random; expected each key swept one way")
        }
        return spec
    }

    /// `prune: median` with its `prune_startup_trials` and `prune_warmup_epochs` (Optuna's defaults, 5
    /// and 0), or nil for `prune: none` (the default). Refused at its line: pruning with a test_*
    /// metric (it has no value per epoch), and the two numbers without `prune: median`.
    private static func pruning(_ entries: [String: ConfigValue], metric: Metric) throws(NNTrainError) -> MedianPruning? {
        let rule: PruneRule = try entries["prune"]?.choice() ?? PruneRule.none
        guard rule == .median else {
            for key in ["prune_startup_trials", "prune_warmup_epochs"] {
                if let value = entries[key] { throw value.problem("applies only with prune: median; expected it removed") }
            }
            return nil
        }
        if metric == .testLoss || metric == .testAcc, let value = entries["prune"] {
            throw value.problem("median needs the metric at every epoch, which \(metric.rawValue) has not (it is the final "
                + "model's); expected a train_* or val_* metric, or no prune")
        }
        let defaults = MedianPruning()
        return MedianPruning(startupTrials: try entries["prune_startup_trials"]?.integer(atLeast: 0) ?? defaults.startupTrials,
                             warmupEpochs: try entries["prune_warmup_epochs"]?.integer(atLeast: 0) ?? defaults.warmupEpochs)
    }

    /// The values of `prune`: none, or the median stopping rule.
    enum PruneRule: String, CaseIterable { case none, median }

    /// A mapping's entries by name, each a `ConfigValue` placed at its line; a name not in `allowed`
    /// is refused naming the ones that are.
    private static func entries(of mapping: Node.Mapping, allowed: [String], place: String, source: ConfigSource)
        throws(NNTrainError) -> [String: ConfigValue]
    {
        var entries: [String: ConfigValue] = [:]
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            guard allowed.contains(name) else {
                throw source.atLine(keyNode.mark?.line).error("unknown key \(quoted(name)) \(place); expected one of: "
                    + allowed.joined(separator: ", "))
            }
            entries[name] = ConfigValue(node: valueNode, keyPath: name, source: source.atLine(valueNode.mark?.line))
        }
        return entries
    }

    private static func entries(of value: ConfigValue, allowed: [String]) throws(NNTrainError) -> [String: ConfigValue] {
        guard case .mapping(let mapping) = value.node else { throw value.shapeProblem(expecting: "a mapping") }
        var entries = try entries(of: mapping, allowed: allowed, place: "in \(value.keyPath)", source: value.source)
        for (name, entry) in entries {
            entries[name] = ConfigValue(node: entry.node, keyPath: "\(value.keyPath).\(name)", source: entry.source)
        }
        return entries
    }

    /// The config keys of a `grid:` or `params:` mapping, in file order, each with its value; a key that
    /// is not a config key (`optimizer.lrr`) is refused at its line.
    private static func sweptKeys(_ value: ConfigValue) throws(NNTrainError) -> [(String, ConfigValue)] {
        guard case .mapping(let mapping) = value.node else {
            throw value.shapeProblem(expecting: "a mapping of config keys, like {optimizer.lr: [0.001, 0.003]}")
        }
        var keys: [(String, ConfigValue)] = []
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            let place = value.source.atLine(keyNode.mark?.line)
            guard Configuration.keysByPath[key] != nil else {
                throw place.error("\(value.keyPath): \(quoted(key)) is not a config key; expected a key as --set names it, "
                    + "like optimizer.lr (nntrain config --defaults lists them)")
            }
            keys.append((key, ConfigValue(node: valueNode, keyPath: "\(value.keyPath).\(key)",
                                          source: value.source.atLine(valueNode.mark?.line))))
        }
        guard !keys.isEmpty else { throw value.problem("is empty; expected at least one config key") }
        return keys
    }
}

extension ConfigValue {
    /// The value as YAML text that reads back as the same value in a `--set`: a plain scalar as
    /// written, a quoted one quoted, a list or mapping in flow style (`[256, 128]`).
    func yamlText() throws(NNTrainError) -> String {
        switch node {
        case .scalar(let scalar):
            return scalar.style == .plain ? scalar.string : yamlQuoted(scalar.string)
        case .sequence(let elements):
            var texts: [String] = []
            for element in elements { texts.append(try ConfigValue(node: element, keyPath: keyPath, source: source).yamlText()) }
            return "[" + texts.joined(separator: ", ") + "]"
        case .mapping(let mapping):
            var texts: [String] = []
            for (key, value) in mapping {
                let valueText = try ConfigValue(node: value, keyPath: keyPath, source: source).yamlText()
                texts.append("\(yamlQuoted(key.string ?? "")): \(valueText)")
            }
            return "{" + texts.joined(separator: ", ") + "}"
        case .alias:
            throw problem("is an alias; expected the value written out")
        }
    }

    /// A random search's distribution: `{choice: [...]}`, `{uniform: [a, b]}`, `{log_uniform: [a, b]}`
    /// (0 < a) or `{int_uniform: [a, b]}`, a < b (a ≤ b for integers).
    func distribution() throws(NNTrainError) -> SweepSpec.Distribution {
        let expectation = "one of {choice: [...]}, {uniform: [a, b]}, {log_uniform: [a, b]}, {int_uniform: [a, b]}"
        guard case .mapping(let mapping) = node, mapping.count == 1,
              let (nameNode, argument) = mapping.first.map({ ($0.key, $0.value) })
        else {
            throw shapeProblem(expecting: expectation)
        }
        let name = nameNode.string ?? ""
        let value = ConfigValue(node: argument, keyPath: "\(keyPath).\(name)", source: source.atLine(argument.mark?.line))
        switch name {
        case "choice":
            let values = try value.list(expecting: "a list of values") { (element) throws(NNTrainError) in
                try element.yamlText()
            }
            guard !values.isEmpty else { throw value.problem("has no values; expected at least one") }
            return .choice(values)
        case "uniform", "log_uniform":
            let bounds = try value.list(expecting: "[low, high]", count: 2) { (element) throws(NNTrainError) in
                try element.number(name == "log_uniform" ? .positive : .any)
            }
            guard bounds[0] < bounds[1] else {
                throw value.problem("low \(bounds[0]) is not below high \(bounds[1]); expected low < high")
            }
            return name == "uniform" ? .uniform(bounds[0], bounds[1]) : .logUniform(bounds[0], bounds[1])
        case "int_uniform":
            let limit = 1 << 53  // integers a Double holds exactly, far beyond any config value
            let bounds = try value.list(expecting: "[low, high]", count: 2) { (element) throws(NNTrainError) in
                let bound = try element.integer(atLeast: -limit)
                guard bound <= limit else { throw element.problem("\(bound) is out of range; expected at most 2^53") }
                return bound
            }
            guard bounds[0] <= bounds[1] else {
                throw value.problem("low \(bounds[0]) is above high \(bounds[1]); expected low <= high")
            }
            return .intUniform(bounds[0], bounds[1])
        default:
            throw source.atLine(nameNode.mark?.line)
                .error("\(keyPath): unknown distribution \(quoted(name)); expected \(expectation)")
        }
    }
}

extension SweepSpec {
    /// Reads the sweep file at `path` (see `parse`).
    public static func load(path: String) throws(NNTrainError) -> SweepSpec {
        try parse(yaml: Configuration.readYAMLFile(path: path, expected: "a YAML sweep file"), source: path)
    }

    /// The sweep folder: `output`, or runs/<the sweep file's name without extension>.
    public var directory: String {
        output ?? Configuration().runDirectory(configPath: source)
    }

    /// Checks every trial's config (the base at `basePath` with the trial's overrides) before any trial
    /// runs, so a value a key does not take is refused at its line of the sweep file, naming the trial:
    /// `sweep.yaml:4: trial-0003: --set optimizer.lr=-1: optimizer.lr: -1 is out of range; ...`. An error
    /// of the base config itself is thrown as it is.
    public func checkTrials(basePath: String) throws(NNTrainError) {
        let lines = Dictionary(grid.map { ($0.key, $0.line) } + (random?.keys.map { ($0.key, $0.line) } ?? []),
                               uniquingKeysWith: { a, _ in a })
        for trial in trials() {
            do {
                _ = try Configuration.load(path: basePath, overrides: trial.arguments)
            } catch {
                guard let key = trial.overrides.map(\.key).first(where: { error.message.hasPrefix("--set \($0)=") }) else {
                    throw error
                }
                throw NNTrainError(.config, "\(source):\((lines[key] ?? nil).map { "\($0):" } ?? "") "
                    + "\(trial.folderName): \(error.message)")
            }
        }
    }
}
