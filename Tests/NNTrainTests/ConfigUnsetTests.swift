import Testing
@testable import NNTrain

/// YAML's null (`--set key=null`, `~`, nothing, or `key:` in the file) unsets a key that may be
/// left out, and is refused for a key that always holds a value; every key says what it means.
@Suite struct ConfigUnsetTests {
    /// A value for each key that may be unset, different from what leaving it out gives.
    static let samples: [String: String] = [
        "data.path": "elsewhere", "data.class_names": "[a, b]", "data.target": "y", "data.features": "[a, b]",
        "data.test_path": "test.csv", "data.test_split": "0.3", "data.validation_split": "0.2", "data.folds": "5",
        "data.fold": "2",
        "data.standardize_target": "false",
        "optimizer.lr": "0.5", "optimizer.eps": "0.1", "optimizer.weight_decay": "0.5",
        "optimizer.alpha": "0.5",
        "scheduler.step_size": "3", "scheduler.gamma": "0.5", "scheduler.t_max": "7", "scheduler.t_0": "3",
        "scheduler.max_lr": "0.5", "scheduler.base_lr": "0.01", "scheduler.base_momentum": "0.5",
        "scheduler.max_momentum": "0.97", "scheduler.step_size_down": "5", "scheduler.mode": "triangular2",
        "scheduler.factor": "0.5", "loss_weights": "balanced",
        "scheduler.monitor": "train_loss", "training.loss_scale": "none", "training.clip.norm": "1",
        "training.clip.value": "1", "training.max_seconds": "60", "early_stopping.monitor": "train_loss",
        "early_stopping.mode": "max", "early_stopping.patience": "3", "checkpoint.monitor": "train_loss",
        "checkpoint.mode": "max", "output.dir": "out", "distillation.teacher": "teacher.bin",
        "data.files.train_images": "a", "data.files.train_labels": "b",
        "data.files.test_images": "c", "data.files.test_labels": "d", "pruning.method": "magnitude",
        "pruning.end_epoch": "1", "swa.start_epoch": "1", "swa.lr": "0.05",
        "data.augment.crop_scale": "[0.8, 1.0]", "model.batch_norm": "true", "optimizer.max_eval": "5",
        "model.init_from": "a.bin", "model.init_layers": "[0]", "training.freeze": "[0]", "training.freeze_epochs": "1",
        "optimizer.layer_lr": "[0.1, 0.5, 1]",
    ]

    /// What a choice needs besides (unless it is the key unset): idx has no default folder, csv needs its target.
    static let requiredWithChoice = ["idx": ["data.path=set"], "csv": ["data.target=y"], "gradual": ["pruning.method=magnitude"],
                                      "lbfgs": ["training.batch_size=full"]]

    static func parse(_ overrides: [String]) -> Result<Configuration, NNTrainError> {
        Result { () throws(NNTrainError) in try Configuration.parse(yaml: "seed: 1\n", source: "c.yaml", overrides: overrides) }
    }

    static let unsettable = Configuration.keys.valueEntries.filter { $0.key.unsetMeaning != nil }

    /// For every key that may be unset: a null after a value gives exactly what leaving the key out
    /// gives (the same configuration, or the same error), and not what the value gave.
    @Test(arguments: unsettable.map(\.path))
    func nullUnsetsAKeyThatMayBeLeftOut(path: String) throws {
        let sample = try #require(Self.samples[path], "no sample value for \(path): add one to ConfigUnsetTests.samples")
        let key = try #require(Configuration.keys.valueEntries.first { $0.path == path }?.key)
        // A choice the key applies to, so that giving it is not refused as a key of another choice:
        // the first with which the sample value gives a valid config.
        let choices = key.condition.map { condition in
            condition.choices?.map {
                ["\(condition.keyPath)=\($0)"] + (Self.requiredWithChoice[$0] ?? []).filter { !$0.hasPrefix(path + "=") }
            } ?? [["\(condition.keyPath)=\(Self.samples[condition.keyPath] ?? "")"]]
        } ?? [[]]
        let choice = choices.first { (try? Self.parse($0 + ["\(path)=\(sample)"]).get()) != nil } ?? choices[0]
        let absent = Self.parse(choice)
        for null in ["null", "~", "", "Null"] {
            #expect(Self.parse(choice + ["\(path)=\(sample)", "\(path)=\(null)"]) == absent, "\(path)=\(null)")
        }
        #expect(Self.parse(choice + ["\(path)=\(sample)"]) != absent, "the sample for \(path) changes nothing")
        // A null in the file is the same as leaving the key out.
        let sections = path.split(separator: ".").map(String.init)
        var yaml = "seed: 1\n"
        for (depth, name) in sections.enumerated() {
            yaml += String(repeating: "  ", count: depth) + name + ":" + (depth == sections.count - 1 ? " ~\n" : "\n")
        }
        let fromFile = Result { () throws(NNTrainError) in
            try Configuration.parse(yaml: yaml, source: "c.yaml", overrides: choice)
        }
        #expect(fromFile == absent, "\(path): ~ in the file")
    }

    /// A key that always holds a value refuses a null, naming the key and its default.
    @Test func nullIsRefusedForAKeyThatAlwaysHoldsAValue() {
        let always = Configuration.keys.valueEntries.filter { $0.key.unsetMeaning == nil }
        #expect(always.count > 50)
        for (path, _) in always {
            guard case .failure(let error) = Self.parse(["\(path)=null"]) else {
                Issue.record("\(path)=null was accepted")
                continue
            }
            #expect(error.kind == .config)
            #expect(error.message.hasPrefix("--set \(path)=null: \(path): has no value (null), but it cannot be unset: "
                + "it always holds a value"), "\(error.message)")
        }
        #expect(Self.parse(["training.epochs=null"]) == .failure(NNTrainError(.config, "--set training.epochs=null: "
            + "training.epochs: has no value (null), but it cannot be unset: it always holds a value, 15 by default; "
            + "expected an integer >= 1")))
        #expect(throws: NNTrainError(.config, "c.yaml:3: training.epochs: has no value (null), but it cannot be unset: "
            + "it always holds a value, 15 by default; expected an integer >= 1")) {
            try Configuration.parse(yaml: "seed: 1\ntraining:\n  epochs:\n", source: "c.yaml")
        }
    }

    /// A fine-tuning config's from-scratch control is the same file with two nulls: `init_layers`
    /// applies only with `init_from`, so unsetting `init_from` alone is refused, and with both unset the
    /// config equals the file without them (configs/transfer-finetune.txt's control run).
    @Test func fineTuningConfigUnsetsIntoItsFromScratchControl() throws {
        let fineTuning = "seed: 1\nmodel:\n  init_from: a.bin\n  init_layers: [0, 1]\n"
        let control = try Configuration.parse(yaml: "seed: 1\n", source: "c.yaml")
        #expect(throws: NNTrainError(.config, "c.yaml:4: model.init_layers: applies only with model.init_from, "
            + "which is not set")) {
            try Configuration.parse(yaml: fineTuning, source: "c.yaml", overrides: ["model.init_from=null"])
        }
        let unset = try Configuration.parse(yaml: fineTuning, source: "c.yaml",
                                            overrides: ["model.init_from=null", "model.init_layers=null"])
        #expect(unset == control)
        #expect(unset.model.initFrom == nil && unset.model.initLayers == nil)
    }

    /// Every key has a meaning and its allowed values; a key whose default is "nothing" (left out
    /// of config.yaml) says what that means.
    @Test func everyKeyIsDocumentedAndEveryUnsetDefaultExplained() throws {
        let defaults = try Configuration.parse(yaml: "{}", source: "c.yaml")
        for (path, key) in Configuration.keys.valueEntries {
            #expect(!key.help.isEmpty && !key.allowed.isEmpty, "\(path)")
            if key.yamlText(in: defaults) == nil { #expect(key.unsetMeaning != nil, "\(path) is unset by default") }
        }
        #expect(Set(Self.samples.keys) == Set(Self.unsettable.map(\.path)))
    }
}
