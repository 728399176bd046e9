extension Configuration {
    /// Every key of the config file, in the order `resolvedYAML()` writes them and error messages
    /// list them. Adding a key to the format is one entry here (plus its field in `Configuration`).
    static let keys: [ConfigKey] = [
        .integer("seed", \.seed, atLeast: 0),
        .section("data", [
            .choice("dataset", \.data.dataset),
            .path("path", \.data.path),
            .number("validation_split", \.data.validationSplit, .atLeastZeroBelowOne),
            .number("test_split", \.data.testSplit, .aboveZeroBelowOne),
            .choice("normalize", \.data.normalize),
        ]),
        .section("model", [
            .integerList("hidden", \.model.hidden, atLeast: 1, example: "[256, 128]"),
            .choice("activation", \.model.activation),
        ]),
        .choice("loss", \.loss),
        .section("optimizer", [
            .choice("name", \.optimizer.name),
            .number("lr", \.optimizer.lr, .positive),
            .number("momentum", \.optimizer.momentum, .atLeastZeroBelowOne)
                .onlyWhen("optimizer.name", is: OptimizerKind.sgd),
            .numberList("betas", \.optimizer.betas, count: 2, .atLeastZeroBelowOne, example: "[0.9, 0.999]")
                .onlyWhen("optimizer.name", is: OptimizerKind.adam),
            .number("eps", \.optimizer.eps, .nonNegative)
                .onlyWhen("optimizer.name", is: OptimizerKind.adam),
            .number("weight_decay", \.optimizer.weightDecay, .nonNegative),
        ]),
        .section("training", [
            .integer("epochs", \.training.epochs, atLeast: 1),
            .integer("batch_size", \.training.batchSize, atLeast: 1),
        ]),
        .section("output", [
            .optionalPath("dir", \.output.dir),
        ]),
    ]

    /// Fills in the defaults that depend on other keys, then checks the rules that tie keys
    /// together. `given` holds every key path the file or a `--set` gave, with its value (for the
    /// place an error names); `file` is the config file, for an error no key can be blamed for.
    mutating func applyRulesBetweenKeys(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        if given["data.path"] == nil { data.path = data.dataset.defaultPath }
        try checkLossFitsDataset(given: given, file: file)
        try checkConditionalKeysApply(given: given)
    }

    /// Cross-entropy needs class labels and MSE needs real-valued targets, so each dataset fits one
    /// loss. The error names the loss key if it was given, else the dataset key.
    private func checkLossFitsDataset(given: [String: ConfigValue], file: String) throws(NNTrainError) {
        let fittingLoss = data.dataset.fittingLoss
        guard loss != fittingLoss else { return }
        let dataset = data.dataset.rawValue + (given["data.dataset"] == nil ? " (the default dataset)" : "")
        if let lossValue = given["loss"] {
            throw lossValue.problem("\(loss.rawValue) does not fit \(dataset), \(data.dataset.summary); "
                + "expected \(fittingLoss.rawValue)")
        }
        let problem = "\(data.dataset.rawValue) is \(data.dataset.summary), but loss is \(loss.rawValue) (the default); "
            + "expected loss: \(fittingLoss.rawValue)"
        // The default loss fits the default dataset, so a mismatch without a loss key means the dataset was given.
        throw given["data.dataset"]?.problem(problem) ?? ConfigSource.file(path: file, line: nil).error("data.dataset: \(problem)")
    }

    /// Refuses a key given where it does not apply (`momentum` with adam, `betas` with sgd), naming
    /// the keys that do apply.
    private func checkConditionalKeysApply(given: [String: ConfigValue]) throws(NNTrainError) {
        let entries = Self.keys.valueEntries
        for (path, key) in entries {
            guard let condition = key.condition, let value = given[path], !condition.holds(in: self) else { continue }
            let current = condition.currentChoice(in: self) ?? ""
            let defaultNote = given[condition.keyPath] == nil ? " (the default)" : ""
            let keysThatApply = entries.filter {
                $0.key.condition?.keyPath == condition.keyPath && $0.key.condition?.holds(in: self) == true
            }.map(\.key.name)
            let usesNote = keysThatApply.isEmpty ? "" : ", which uses \(keysThatApply.joined(separator: ", "))"
            throw value.problem("applies only to \(condition.choices.joined(separator: ", ")), "
                + "not \(current)\(defaultNote)\(usesNote)")
        }
    }
}

extension DatasetKind {
    /// Where the dataset is unless `data.path` says otherwise.
    var defaultPath: String {
        switch self {
        case .fashionMNIST: "data/fashion-mnist"
        case .bonus: "data/bonus.csv"
        }
    }

    /// The loss this dataset's targets call for.
    var fittingLoss: LossKind {
        switch self {
        case .fashionMNIST: .crossEntropy
        case .bonus: .mse
        }
    }

    /// What kind of dataset it is, for messages: "a regression dataset".
    var summary: String {
        switch self {
        case .fashionMNIST: "a 10-class dataset"
        case .bonus: "a regression dataset"
        }
    }
}
