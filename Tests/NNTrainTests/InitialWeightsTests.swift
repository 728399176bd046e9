import Foundation
import Testing
@testable import NNTrain

/// `model.init_from`: a new run starting from trained weights. Copies bit for bit from a checkpoint and from a
/// safetensors state_dict; a changed head equal to the fresh initialisation of the same seed; `init_layers`;
/// refusals naming both shapes; `init_normalizer`; a resume bit for bit; the provenance in the checkpoint and
/// in inspect, end to end.
@Suite struct InitialWeightsTests {
    /// ResumeTests' blobs (16 features) with `classes` classes (labels i mod classes).
    static func data(classes: Int = 4, features: Int = 16, seed: UInt64 = 21) -> TrainingData {
        var random = RandomGenerator(seed: seed)
        let values = (0..<(60 * features)).map { _ in Float(random.nextGaussian()) }
        let labels = (0..<60).map { Int32($0 % classes) }
        let all = Dataset(name: "blobs", features: .floats(values), featureCount: features, targets: .classes(labels),
                          classNames: (0..<classes).map { "c\($0)" })
        let train = all.subset(Array(0..<48)), validation = all.subset(Array(48..<60))
        return TrainingData(train: train, validation: validation, test: validation,
                            normalizer: Normalizer(fitting: train, mode: .standardize))
    }

    /// The source run: ResumeTests' SGD config (hidden [24, 12], batch norm, dropout) trained 2 epochs on
    /// 4 classes, written to `path`; returns its checkpoint.
    @discardableResult
    static func writeSource(to path: String) throws -> Checkpoint {
        var config = ResumeTests.sgdConfig()
        config.training.epochs = 2
        let trainer = Trainer(configuration: config, data: data())
        try trainer.train()
        let checkpoint = Checkpoint(trainer: trainer, bestRecord: nil, reason: .final)
        try checkpoint.write(to: path)
        return checkpoint
    }

    /// The fine-tuning config: the source's shape, another seed and optimizer, from `path`.
    static func fineTuning(from path: String) -> Configuration {
        var config = ResumeTests.sgdConfig()
        config.seed = 99
        config.optimizer.name = .adam
        config.optimizer.lr = 1e-3
        config.optimizer.nesterov = false
        config.optimizer.momentum = 0
        config.scheduler.name = .constant
        config.model.initFrom = path
        return config
    }

    static func load(_ config: Configuration, _ data: TrainingData) throws -> InitialWeights {
        try #require(try InitialWeights.load(for: config, data: data, file: "config.yaml"))
    }

    /// A tensor of `network` by name, as bit patterns.
    static func bits(_ network: Network, _ name: String) throws -> [UInt32] {
        let tensor = try #require(network.parameters.tensor(named: name))
        return network.parameters.valuesArray(of: tensor).map(\.bitPattern)
    }

    /// A tensor of a checkpoint's served model by name, as bit patterns.
    static func bits(_ checkpoint: Checkpoint, _ name: String) throws -> [UInt32] {
        var offset = 0
        for (tensorName, shape) in checkpoint.parameterLayout {
            let count = shape.reduce(1, *)
            if tensorName == name {
                return checkpoint.servedModel.parameters[offset..<offset + count].map(\.bitPattern)
            }
            offset += count
        }
        Issue.record("no tensor \(name)")
        return []
    }

    static let allTensors = ["layers.0.weight", "layers.0.bias", "norms.0.weight", "norms.0.bias", "layers.1.weight",
                             "layers.1.bias", "norms.1.weight", "norms.1.bias", "layers.2.weight", "layers.2.bias"]

    // MARK: - Copies

    /// Every tensor and running statistic of the checkpoint's model lands bit for bit in the new trainer, before
    /// any step; the record holds the path, the checkpoint's own CRC-32 and the layers.
    @Test func aCheckpointsWeightsAreCopiedBitForBit() throws {
        let folder = try TemporaryFolder()
        let source = try Self.writeSource(to: folder.file("a.bin"))
        let config = Self.fineTuning(from: folder.file("a.bin"))
        let initial = try Self.load(config, Self.data())
        let trainer = Trainer(configuration: config, data: Self.data(), initialWeights: initial)
        for name in Self.allTensors { #expect(try Self.bits(trainer.network, name) == Self.bits(source, name), "\(name)") }
        #expect(trainer.network.snapshot().runningStatistics == source.servedModel.runningStatistics)
        let crc = try #require(CheckpointFile.read(path: folder.file("a.bin")).metadata["nntrain.crc32"])
        #expect(initial.record == InitialWeights.Record(path: folder.file("a.bin"), crc32: crc, layers: [0, 1, 2],
                                                        normalizer: false))
        #expect(initial.summary == "init_from \(folder.file("a.bin")) (CRC-32 \(crc)): layers 0, 1, 2 copied; "
            + "input normalisation: the new data's")
        // Without init_from the same seed gives other weights: the copy is not the initialiser's by chance.
        var fresh = config
        fresh.model.initFrom = nil
        #expect(try Self.bits(Trainer(configuration: fresh, data: Self.data()).network, "layers.0.weight")
            != Self.bits(source, "layers.0.weight"))
    }

    /// `nntrain export --format safetensors` (the nn.Sequential's positions: 0 Linear, 1 BatchNorm1d, 2 relu,
    /// 3 Dropout, 4 Linear, ...) maps back to the same tensors, bit for bit in fp32, and as binary16 rounds
    /// them with --quantize fp16.
    @Test func aSafetensorsStateDictMapsBackToTheLayers() throws {
        let folder = try TemporaryFolder()
        let source = try Self.writeSource(to: folder.file("a.bin"))
        let crc = try #require(CheckpointFile.read(path: folder.file("a.bin")).metadata["nntrain.crc32"])
        for quantization in [QuantizationMode.none, .fp16] {
            let export = try StateDictExport(checkpoint: source, fingerprint: crc, path: "a.bin", quantization: quantization)
            #expect(export.contents["4.weight"]?.shape == [12, 24])  // the Sequential's names, not nntrain's
            let bytes = export.encoded()
            try Data(bytes).write(to: URL(fileURLWithPath: folder.file("a.safetensors")))
            let config = Self.fineTuning(from: folder.file("a.safetensors"))
            let initial = try Self.load(config, Self.data())
            let trainer = Trainer(configuration: config, data: Self.data(), initialWeights: initial)
            func rounded(_ bits: [UInt32]) -> [UInt32] {
                quantization == .none ? bits : bits.map { Float(Float16(Float(bitPattern: $0))).bitPattern }
            }
            for name in Self.allTensors {
                #expect(try Self.bits(trainer.network, name) == rounded(Self.bits(source, name)), "\(name)")
            }
            let statistics = source.servedModel.runningStatistics.map {
                quantization == .none ? $0 : $0.map { Float(Float16($0)) }
            }
            #expect(trainer.network.snapshot().runningStatistics == statistics)
            // The fingerprint of a safetensors file: the CRC-32 of its data section, as zlib computes it.
            let expected = CheckpointFile.hex(CheckpointFile.crc32(SafeTensors.dataSection(of: bytes)))
            #expect(initial.record.crc32 == expected && initial.record.layers == [0, 1, 2])
        }
    }

    /// prelu's slopes (`activations.<i>.weight`) and a residual block's projection (`shortcuts.1.weight`, hidden
    /// 24 → 12) come with their layer, bit for bit, from the checkpoint and from its safetensors export (where a
    /// position holding a 1-D weight without a bias is nn.PReLU, and the ResidualMLP nests its blocks).
    @Test(arguments: ["prelu", "residual"])
    func preluSlopesAndResidualProjectionsComeWithTheirLayer(kind: String) throws {
        let folder = try TemporaryFolder()
        func shaped(_ config: Configuration) -> Configuration {
            var config = config
            if kind == "prelu" { config.model.activation = .prelu } else { config.model.residual = true }
            return config
        }
        var sourceConfig = shaped(ResumeTests.sgdConfig())
        sourceConfig.training.epochs = 2
        let trainer = Trainer(configuration: sourceConfig, data: Self.data())
        try trainer.train()
        let source = Checkpoint(trainer: trainer, bestRecord: nil, reason: .final)
        try source.write(to: folder.file("a.bin"))
        let export = try StateDictExport(checkpoint: source, fingerprint: "0", path: "a.bin", quantization: .none)
        try Data(export.encoded()).write(to: URL(fileURLWithPath: folder.file("a.safetensors")))
        let names = kind == "prelu" ? ["activations.0.weight", "activations.1.weight"] : ["shortcuts.1.weight"]
        for file in ["a.bin", "a.safetensors"] {
            let config = shaped(Self.fineTuning(from: folder.file(file)))
            let initial = try Self.load(config, Self.data())
            let network = Trainer(configuration: config, data: Self.data(), initialWeights: initial).network
            for name in names + Self.allTensors {
                #expect(try Self.bits(network, name) == Self.bits(source, name), "\(file) \(name)")
            }
            #expect(!initial.summary.contains("fresh") && !initial.summary.contains("unused"), "\(initial.summary)")
        }
        // A model without prelu (or without the projection) leaves the file's tensors unused, and says so.
        let plain = Self.fineTuning(from: folder.file("a.safetensors"))
        let summary = try Self.load(plain, Self.data()).summary
        #expect(summary.contains(kind == "prelu" ? "activations.0 of the file unused" : "shortcuts.1 of the file unused"))
    }

    /// A state_dict as PyTorch saves an nn.Sequential without norms, its keys in safetensors' sorted order
    /// (0.bias before 0.weight, 10 before 2): positions 0 and 2 are the linear layers 0 and 1.
    @Test func aPlainSequentialLoadsWhateverTheKeyOrder() throws {
        let folder = try TemporaryFolder()
        let w0 = (0..<(5 * 16)).map { Float($0) * 0.01 - 0.3 }, b0 = (0..<5).map { Float($0) * 0.1 }
        let w1 = (0..<(4 * 5)).map { Float($0) * -0.02 }, b1: [Float] = [0.5, -0.5, 0.25, 0]
        let file = SafeTensors(tensors: [("0.bias", .init(b0)), ("0.weight", .init(w0, shape: [5, 16])),
                                         ("2.bias", .init(b1)), ("2.weight", .init(w1, shape: [4, 5]))],
                               metadata: ["format": "pt"])
        try Data(file.encoded()).write(to: URL(fileURLWithPath: folder.file("torch.safetensors")))
        var config = Configuration()
        config.model.hidden = [5]
        config.model.initFrom = folder.file("torch.safetensors")
        let trainer = Trainer(configuration: config, data: Self.data(), initialWeights: try Self.load(config, Self.data()))
        #expect(try Self.bits(trainer.network, "layers.0.weight") == w0.map(\.bitPattern))
        #expect(try Self.bits(trainer.network, "layers.0.bias") == b0.map(\.bitPattern))
        #expect(try Self.bits(trainer.network, "layers.1.weight") == w1.map(\.bitPattern))
        #expect(try Self.bits(trainer.network, "layers.1.bias") == b1.map(\.bitPattern))
        // init_normalizer needs the normaliser this file does not have: refused at that key.
        config.model.initNormalizer = true
        #expect { _ = try InitialWeights.load(for: config, data: Self.data(), file: "config.yaml") } throws: { error in
            (error as? NNTrainError)?.message.contains("has no input normalisation") == true
        }
        // Damaged files: a position spelled twice, normaliser metadata of unequal lengths.
        func message(_ tensors: [(String, SafeTensors.Tensor)], _ metadata: [String: String]) -> String? {
            let file = SafeTensors(tensors: tensors, metadata: metadata)
            try? Data(file.encoded()).write(to: URL(fileURLWithPath: folder.file("bad.safetensors")))
            var bad = Configuration()
            bad.model.hidden = [5]
            bad.model.initFrom = folder.file("bad.safetensors")
            do { _ = try InitialWeights.load(for: bad, data: Self.data(), file: "config.yaml") } catch { return error.message }
            return nil
        }
        let plain: [(String, SafeTensors.Tensor)] = [("0.bias", .init(b0)), ("0.weight", .init(w0, shape: [5, 16])),
                                                     ("2.bias", .init(b1)), ("2.weight", .init(w1, shape: [4, 5]))]
        #expect(message(plain + [("00.weight", .init(w0, shape: [5, 16]))], [:])?
            .contains("tensor 00.weight repeats position 0 under another spelling") == true)
        #expect(message(plain, ["nntrain.normalizer.shift": "[0, 0]", "nntrain.normalizer.scale": "[1]"])?
            .contains("nntrain.normalizer.shift and .scale hold 2 and 1 numbers") == true)
    }

    /// A norm is copied into a norm of its kind only: the file's batch norm (it has running statistics) leaves a
    /// layer norm fresh, and the start line says so.
    @Test func aNormOfAnotherKindStaysFresh() throws {
        let folder = try TemporaryFolder()
        try Self.writeSource(to: folder.file("a.bin"))  // batch norms
        var config = Self.fineTuning(from: folder.file("a.bin"))
        config.model.norm = .layer
        let initial = try Self.load(config, Self.data())
        #expect(initial.summary.contains("norms.0 fresh: the file's is a batch norm, this model's a layer norm"))
        let network = Trainer(configuration: config, data: Self.data(), initialWeights: initial).network
        #expect(try Self.bits(network, "norms.0.weight") == [Float](repeating: 1, count: 24).map(\.bitPattern))
    }

    // MARK: - The head and init_layers

    /// Another number of classes: the hidden layers come from the file, the head [3, 12] is exactly the head a
    /// run of the same seed without init_from starts with, and the line says so with both shapes.
    @Test func aChangedHeadIsTheFreshInitialisationOfTheSeed() throws {
        let folder = try TemporaryFolder()
        let source = try Self.writeSource(to: folder.file("a.bin"))
        let config = Self.fineTuning(from: folder.file("a.bin")), three = Self.data(classes: 3)
        let initial = try Self.load(config, three)
        let tuned = Trainer(configuration: config, data: three, initialWeights: initial)
        var plain = config
        plain.model.initFrom = nil
        let fresh = Trainer(configuration: plain, data: three)
        for name in Self.allTensors.prefix(8) { #expect(try Self.bits(tuned.network, name) == Self.bits(source, name)) }
        for name in ["layers.2.weight", "layers.2.bias"] {
            #expect(try Self.bits(tuned.network, name) == Self.bits(fresh.network, name))
            #expect(try Self.bits(tuned.network, name).count == (name.hasSuffix("weight") ? 36 : 3))
        }
        #expect(initial.record.layers == [0, 1])
        #expect(initial.summary.hasSuffix("layers 0, 1 copied; layer 2 (head) fresh: [4, 12] vs [3, 12]; "
            + "input normalisation: the new data's"))
    }

    /// `init_layers: [0]`: layer 0 and its batch norm (γ, β, running statistics) from the file; layer 1, its norm
    /// and the head as the initialiser of the seed made them.
    @Test func initLayersCopiesOnlyThoseLayersWithTheirNorms() throws {
        let folder = try TemporaryFolder()
        let source = try Self.writeSource(to: folder.file("a.bin"))
        var config = Self.fineTuning(from: folder.file("a.bin"))
        config.model.initLayers = [0]
        let initial = try Self.load(config, Self.data())
        let tuned = Trainer(configuration: config, data: Self.data(), initialWeights: initial)
        var plain = config
        plain.model.initFrom = nil
        plain.model.initLayers = nil
        let fresh = Trainer(configuration: plain, data: Self.data())
        for name in Self.allTensors.prefix(4) { #expect(try Self.bits(tuned.network, name) == Self.bits(source, name)) }
        for name in Self.allTensors.dropFirst(4) { #expect(try Self.bits(tuned.network, name) == Self.bits(fresh.network, name)) }
        let statistics = tuned.network.snapshot().runningStatistics
        #expect(statistics[0...1] == source.servedModel.runningStatistics[0...1])
        #expect(statistics[2] == [Float](repeating: 0, count: 12) && statistics[3] == [Float](repeating: 1, count: 12))
        #expect(source.servedModel.runningStatistics[2] != statistics[2])
        #expect(initial.summary.contains("layer 0 copied; layers 1, 2 initialised (not in model.init_layers)"))
    }

    // MARK: - Refusals

    /// A hidden width that differs names the layer and both shapes; so does another input width; a missing file
    /// keeps its kind, a foreign one is a data error, both placed at model.init_from.
    @Test func mismatchedShapesAndBadFilesAreRefused() throws {
        let folder = try TemporaryFolder()
        try Self.writeSource(to: folder.file("a.bin"))
        var config = Self.fineTuning(from: folder.file("a.bin"))
        config.model.hidden = [24, 10]
        #expect { _ = try InitialWeights.load(for: config, data: Self.data(), file: "config.yaml") } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .config && error?.message.contains("layers.1.weight: the file's [12, 24], this "
                + "model's [10, 24]") == true
        }
        config.model.initLayers = [0]  // without layer 1, the rest fits
        #expect(try Self.load(config, Self.data()).record.layers == [0])
        // Another number of layers: matched by index, the file's hidden layer 1 would become this model's head.
        config = Self.fineTuning(from: folder.file("a.bin"))
        config.model.hidden = [24]
        #expect { _ = try InitialWeights.load(for: config, data: Self.data(), file: "config.yaml") } throws: {
            ($0 as? NNTrainError)?.message.contains("has 3 linear layers, this model 2 (model.hidden [24]); expected as "
                + "many, or model.init_layers naming the layers to copy") == true
        }
        config.model.initLayers = [0]
        #expect(try Self.load(config, Self.data()).record.layers == [0])
        config = Self.fineTuning(from: folder.file("a.bin"))
        #expect { _ = try InitialWeights.load(for: config, data: Self.data(features: 9), file: "config.yaml") } throws: {
            let message = ($0 as? NNTrainError)?.message ?? ""
            return message.contains("takes 16 inputs") && message.contains("gives 9")
                && message.contains("the file's [24, 16], this model's [24, 9]")
        }
        config.model.initFrom = folder.file("missing.bin")
        #expect { _ = try InitialWeights.load(for: config, data: Self.data(), file: "config.yaml") } throws: {
            ($0 as? NNTrainError)?.kind == .missingFile
        }
        try "data: {path: x}\n".write(toFile: folder.file("config.txt"), atomically: true, encoding: .utf8)
        config.model.initFrom = folder.file("config.txt")
        #expect { _ = try InitialWeights.load(for: config, data: Self.data(), file: "config.yaml") } throws: {
            let error = $0 as? NNTrainError
            return error?.kind == .data && error?.message.contains("neither an nntrain checkpoint nor a safetensors") == true
        }
    }

    /// The config: init_layers and init_normalizer only with init_from; an index beyond the model refused at its line.
    @Test func theKeysAreValidated() throws {
        let parsed = try Configuration.parse(yaml: "model: {hidden: [8], init_from: a.bin, init_layers: [0]}\n",
                                             source: "c.yaml")
        #expect(parsed.model.initFrom == "a.bin" && parsed.model.initLayers == [0] && !parsed.model.initNormalizer)
        #expect(try Configuration.parse(yaml: "model: {init_from: a.bin, init_layers: all}\n", source: "c.yaml")
            .model.initLayers == nil)
        #expect { _ = try Configuration.parse(yaml: "model: {init_layers: [0]}\n", source: "c.yaml") } throws: {
            ($0 as? NNTrainError)?.message.contains("model.init_from") == true
        }
        #expect { _ = try Configuration.parse(yaml: "model:\n  hidden: [8]\n  init_from: a.bin\n  init_layers: [2]\n",
                                              source: "c.yaml") } throws: {
            let message = ($0 as? NNTrainError)?.message ?? ""
            return message.hasPrefix("c.yaml:4:") && message.contains("names layer 2")
        }
        #expect { _ = try Configuration.parse(yaml: "model: {init_from: a.bin, init_layers: [0, 0]}\n", source: "c.yaml") }
            throws: { ($0 as? NNTrainError)?.message.contains("repeats a layer") == true }
    }

    // MARK: - Normaliser, resume, end to end

    /// init_normalizer: the file's statistics (from a checkpoint, and from an export's metadata), not the data's.
    @Test func initNormalizerTakesTheFilesStatistics() throws {
        let folder = try TemporaryFolder()
        let source = try Self.writeSource(to: folder.file("a.bin"))
        let other = Self.data(seed: 3)
        #expect(other.normalizer != source.normalizer)
        var config = Self.fineTuning(from: folder.file("a.bin"))
        config.model.initNormalizer = true
        let initial = try Self.load(config, other)
        #expect(initial.normalizer == source.normalizer && initial.record.normalizer)
        #expect(initial.summary.hasSuffix("input normalisation: the file's"))
        let export = try StateDictExport(checkpoint: source, fingerprint: "0", path: "a.bin", quantization: .none)
        try Data(export.encoded()).write(to: URL(fileURLWithPath: folder.file("a.safetensors")))
        config.model.initFrom = folder.file("a.safetensors")
        #expect(try Self.load(config, other).normalizer == source.normalizer)
    }

    /// A fine-tuning run (fp16 with dynamic loss scaling, so mixed precision too) stopped mid-epoch and at an
    /// epoch's end, resumed through checkpoint bytes by trainers that do not read the file again (as a resume
    /// does), ends bit for bit as the run that never stopped, and keeps the record.
    @Test func aFineTuningRunResumesBitForBit() throws {
        let folder = try TemporaryFolder()
        try Self.writeSource(to: folder.file("a.bin"))
        var config = Self.fineTuning(from: folder.file("a.bin"))
        config.training.precision = .fp16
        config.training.lossScale = .dynamic
        config.training.epochs = 4
        let data = Self.data(classes: 3)
        let initial = try Self.load(config, data)
        let straight = Trainer(configuration: config, data: data, initialWeights: initial)
        try straight.train()
        var trainer = Trainer(configuration: config, data: data, initialWeights: initial)
        for stop in [3, 10] {
            trainer.observers = [StopWhen { $0.stepCount == stop }]
            try trainer.train()
            let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted).contents())
            let checkpoint = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
            #expect(checkpoint.initialWeights == initial.record)
            trainer = Trainer(configuration: config, data: data)
            try checkpoint.restore(into: trainer, path: "last.bin")
        }
        trainer.observers = []
        try trainer.train()
        #expect(straight.state.model.parameters.map(\.bitPattern) == trainer.state.model.parameters.map(\.bitPattern))
        #expect(straight.state.model.runningStatistics == trainer.state.model.runningStatistics)
        #expect(ResumeTests.withoutTimings(straight.history) == ResumeTests.withoutTimings(trainer.history))
        #expect(straight.state.optimizer == trainer.state.optimizer && trainer.initialWeightsRecord == initial.record)
    }

    /// `nntrain run` with model.init_from: the run prints the line, its checkpoint records the file (inspect shows
    /// it), eval reads the fine-tuned checkpoint, and a resume with another init_from is refused.
    @Test func aRunStartsFromACheckpointEndToEnd() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let (sourceRun, _) = try CheckpointEvaluationTests.trainedRun(folder)
        let sourcePath = sourceRun + "/checkpoints/last.bin"
        let source = try Checkpoint.read(path: sourcePath)
        func config(_ initFrom: String, epochs: Int) throws -> String {
            try folder.write("""
                data: {path: \(folder.path), validation_split: 0.25}
                model: {hidden: [12], batch_norm: true, init_from: \(initFrom), init_normalizer: true}
                training: {epochs: \(epochs), batch_size: 15}
                seed: 5
                output: {dir: \(folder.file("tuned")), plots: false}
                """, to: "tuned.txt")
        }
        let observer = Notes()
        let outcome = try TrainingRun.execute(configPath: try config(sourcePath, epochs: 1), overrides: [],
                                              observers: [observer])
        #expect(try #require(outcome.summary).epochsCompleted == 1)
        let crc = try #require(CheckpointFile.read(path: sourcePath).metadata["nntrain.crc32"])
        #expect(observer.notes.contains("init_from \(sourcePath) (CRC-32 \(crc)): layers 0, 1 copied; "
            + "input normalisation: the file's"))
        let tunedPath = folder.file("tuned/checkpoints/last.bin")
        let tuned = try Checkpoint.read(path: tunedPath)
        #expect(tuned.initialWeights == InitialWeights.Record(path: sourcePath, crc32: crc, layers: [0, 1], normalizer: true))
        #expect(tuned.normalizer == source.normalizer)
        #expect(try CheckpointDescription.read(path: tunedPath).text()
            .contains("\ninitial weights: \(sourcePath) (CRC-32 \(crc)), layers 0, 1 copied, its input normalisation"))
        // eval reads the fine-tuned run's checkpoint (its normaliser the source's) as any other.
        #expect(try CheckpointEvaluation.run(checkpointPath: tunedPath, split: .test).checkpoint == tunedPath)
        // A resume with the same config goes on; with another init_from it is refused.
        #expect {
            _ = try TrainingRun.execute(configPath: try config(folder.file("other.bin"), epochs: 2), overrides: [],
                                        start: .resumeLast)
        } throws: { ($0 as? NNTrainError)?.message.contains("model.init_from") == true }
        let resumed = try TrainingRun.execute(configPath: try config(sourcePath, epochs: 2), overrides: [], start: .resumeLast)
        #expect(try #require(resumed.summary).epochsCompleted == 2)
        #expect(try Checkpoint.read(path: tunedPath).initialWeights == tuned.initialWeights)
    }
}

/// Collects the plan's notes (the data's and init_from's line).
private final class Notes: TrainingObserver, @unchecked Sendable {
    var notes: [String] = []
    func runStarted(_ plan: TrainingRun.Plan) { notes += plan.dataNotes }
}
