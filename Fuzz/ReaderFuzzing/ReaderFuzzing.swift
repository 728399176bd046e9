import CZlib
import Foundation
import NNTrain
import Synchronization

/// The readers nntrain points at files it did not write, as the fuzzers see them: valid inputs to
/// start from (`seeds`) and one call through the reader and what consumes its result (`read`).
/// The mutation tests (Tests/NNTrainTests/ReaderMutationTests.swift) and the libFuzzer targets
/// (Fuzz/Fuzz*) share them.
///
/// The property every input must keep: the reader returns or throws an `NNTrainError` of the
/// reader's kinds with a one-line message; it never traps, hangs or allocates without bound. A trap
/// kills the process, which is how both fuzzers see it; `check` turns the other violations
/// (an internal error, a message on two lines, an accepted config whose resolved YAML reads back
/// otherwise) into a description.
public enum FuzzedReader: String, CaseIterable, Sendable {
    /// `Configuration.load` on a YAML file; an accepted config's resolved YAML must read back equal.
    case config
    /// `IDXReader.read` on a file, raw or gzipped. The first byte chooses: bit 0 set, the rest is
    /// the decoded IDX, gzipped here, so that a fuzzer mutates headers and not only deflate; bit 1
    /// set, labels (1 dimension, bytes or 16- or 32-bit integers), else images (3); bit 2 set, the
    /// file is named `data` rather than `data.gz` (a raw file is read raw under either name; the
    /// name only words the refusal of a file that is neither). Images go through `IDXImageStream`
    /// too.
    case idx
    /// A CSV file as a csv dataset (`TrainingData.load` with target b, imputing, so text and
    /// missing values take the one-hot and imputation paths), `CSVReader.read` on it (columns a and
    /// b), and `Prediction.run` on it with a model of a table whose columns are a (numeric) and b
    /// (categorical), as `nntrain predict` reads it; the first refusal counts.
    case csv
    /// A checkpoint's bytes: `CheckpointFile.verify`, and (skipping the checksum, which a mutation
    /// rarely keeps) `SafeTensors.decode`, `Checkpoint(contents:)`, restoring into a trainer and
    /// training a step, rebuilding eval's model and running it, and exporting it (`export`).
    case checkpoint
}

public enum ReaderFuzzing {
    /// What one input did.
    public enum Outcome: Sendable {
        case accepted
        case refused(NNTrainError)
    }

    // MARK: Seeds

    /// Valid inputs of `reader`.
    public static func seeds(for reader: FuzzedReader) -> [[UInt8]] {
        switch reader {
        case .config: configSeeds.map { Array($0.utf8) }
        case .idx: idxSeeds
        case .csv: csvSeeds.map { Array($0.utf8) }
        case .checkpoint: checkpointSeeds
        }
    }

    static let configSeeds: [String] = [
        Configuration().resolvedYAML(),
        sgdConfiguration.resolvedYAML(),
        adamConfiguration.resolvedYAML(),
        """
        seed: 7
        data: {dataset: bonus, path: b.csv, validation_split: 0.1, test_split: 0.2, normalize: standardize}
        model: {hidden: [8, 4], activation: leaky_relu, leaky_slope: 0.2, init: uniform, init_range: [-0.5, 0.5], dropout: 0.1}
        loss: huber
        huber_delta: 2
        optimizer: {name: rmsprop, lr: 0.01, momentum: 0.5, centered: true}
        scheduler: {name: cyclic, base_lr: 0.001, max_lr: 0.01, step_size_up: 4, mode: exp_range, gamma: 0.99, warmup_steps: 3}
        training: {epochs: 3, batch_size: full, precision: bf16, clip: {norm: 1.0, value: 0.5}}
        early_stopping: {patience: 2, monitor: val_loss, restore_best: true}
        checkpoint: {every_n_epochs: 2, keep_last: 1, save_best: true}
        logging: {every_n_steps: 5}
        output: {dir: runs/x, plots: false}
        """,
        """
        # an anchor, one_cycle, fp16 with a fixed scale
        optimizer:
          name: sgd
          lr: &lr 0.003
          momentum: 0.9
          nesterov: true
        scheduler:
          name: one_cycle
          max_lr: *lr
          warmup_epochs: 1
        training:
          precision: fp16
          loss_scale: 1024
        """,
        """
        scheduler: {name: multistep, milestones: [2, 4], gamma: 0.5}
        model:
          hidden: []
          init: kaiming_normal
        regularization: {l1: 0.001, label_smoothing: 0.1}
        """,
    ]

    /// Three rows or more each, so test_split 0.2 holds out a row (an empty test split is refused).
    static let csvSeeds: [String] = [
        "a,b\n1,2\n3.5,-4e-3\n2,1\n",
        "\u{FEFF}id,\"b\",a,note\r\n1,\"2\",3,\"x, \"\"y\"\"\r\nz\"\r\n\r\n2, 5 ,6e1,\r\n3,7,8,w\r\n",
        "b,a\n0,0\n1e38,-1e-38\n+1,.5\n",
    ]

    static var idxSeeds: [[UInt8]] {
        let images = idxFile([2, 28, 28], data: (0..<(2 * 784)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let labels = idxFile([5], data: [3, 1, 4, 1, 5])
        // 16-bit labels: magic 0x00000B01, 3 labels.
        let wideLabels: [UInt8] = [0, 0, 0x0B, 1, 0, 0, 0, 3, 0x01, 0x2B, 0, 7, 0, 0]
        // The first byte: bit 0 for decoded IDX rather than .gz, bit 1 for labels, bit 2 for a raw name.
        return [
            [0] + gzip(images), [2] + gzip(labels), [1] + images, [3] + labels,
            [0] + gzip(Array(images.prefix(100))) + gzip(Array(images.dropFirst(100))),
            [4] + images, [6] + labels, [6] + wideLabels, [3] + wideLabels,
        ]
    }

    /// Two checkpoints written three steps into training, the same bytes on every call: the time
    /// trained (the one figure a run does not repeat) is zeroed, so a mutation with a given seed
    /// always meets the same file.
    static var checkpointSeeds: [[UInt8]] {
        [sgdTrainer(), adamTrainer()].compactMap { trainer in
            trainer.observers = [StopWhen { $0.stepCount == 3 }]
            _ = try? trainer.train()
            var checkpoint = Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted)
            checkpoint.state.trainingSeconds = 0
            return try? CheckpointFile.encode(checkpoint.contents())
        }
    }

    /// An IDX file of unsigned bytes with `dimensions`.
    public static func idxFile(_ dimensions: [Int], data: [UInt8]) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        return bigEndian(0x0800 | UInt32(dimensions.count))
            + dimensions.flatMap { bigEndian(UInt32(truncatingIfNeeded: $0)) } + data
    }

    /// `bytes` as one gzip member (zlib's deflate with windowBits 15 + 16, RFC 1952); empty if zlib
    /// fails. Level 1 by default, as the fuzzers call it on every IDX input; the tests' fixtures use
    /// zlib's default, 6.
    public static func gzip(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        var input = bytes
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return [] }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    // MARK: The training side of checkpoints

    /// 60 random 28×28 images in Fashion-MNIST's 10 classes (so that a checkpoint's config, which
    /// names fashion-mnist, fits them as eval requires): 48 train (batches of 10 or 8), 12
    /// validation and test.
    static let data: TrainingData = {
        var random = RandomGenerator(seed: 21)
        let pixels = (0..<(60 * 784)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let all = Dataset(name: "images", features: .bytes(pixels), featureCount: 784,
                          targets: .classes((0..<60).map { Int32($0 % 10) }), classNames: FashionMNIST.classNames)
        let train = all.subset(Array(0..<48)), validation = all.subset(Array(48..<60))
        return TrainingData(train: train, validation: validation, test: validation,
                            normalizer: Normalizer(fitting: train, mode: .scale), schema: .images(rows: 28, columns: 28))
    }()

    /// SGD with Nesterov momentum, reduce_on_plateau, dropout, batch norm, early stopping with restore_best,
    /// and half the hidden units pruned at the first step (neurons: masks with whole rows and columns of zeros).
    static let sgdConfiguration: Configuration = {
        var config = Configuration()
        config.pruning.method = .neurons
        config.pruning.schedule = .once
        config.pruning.sparsity = 0.5
        config.model.hidden = [4, 3]
        config.model.dropout = 0.25
        config.model.batchNorm = true
        config.optimizer.name = .sgd
        config.optimizer.lr = 0.05
        config.optimizer.momentum = 0.9
        config.optimizer.nesterov = true
        config.scheduler.name = .reduceOnPlateau
        config.scheduler.monitor = .valLoss
        config.scheduler.mode = .plateau(.min)
        config.training.epochs = 2
        config.training.batchSize = .rows(10)
        config.earlyStopping.patience = 5
        config.earlyStopping.monitor = .valLoss
        config.earlyStopping.restoreBest = true
        return config
    }()

    /// Adam with amsgrad, fp16 with dynamic loss scaling, one_cycle, gradual global magnitude pruning
    /// from the first step, one pruning step each step.
    static let adamConfiguration: Configuration = {
        var config = Configuration()
        config.pruning.method = .magnitude
        config.pruning.scope = .global
        config.pruning.everyNSteps = 1
        config.model.hidden = [2]
        config.optimizer.name = .adam
        config.optimizer.amsgrad = true
        config.scheduler.name = .oneCycle
        config.scheduler.maxLR = 0.01
        config.training.precision = .fp16
        config.training.lossScale = .dynamic
        config.logging.precisionStats = true
        config.training.epochs = 2
        config.training.batchSize = .rows(8)
        return config
    }()

    static func sgdTrainer() -> Trainer { Trainer(configuration: sgdConfiguration, data: data) }
    static func adamTrainer() -> Trainer { Trainer(configuration: adamConfiguration, data: data) }

    // MARK: Reading

    /// Runs `bytes` through `reader` (see FuzzedReader) and returns the first refusal, or
    /// `.accepted` if every step took it.
    public static func read(_ reader: FuzzedReader, _ bytes: [UInt8]) -> Outcome {
        do throws(NNTrainError) {
            switch reader {
            case .config: try readConfig(bytes)
            case .idx: try readIDX(bytes)
            case .csv: try readCSV(bytes)
            case .checkpoint: try readCheckpoint(bytes)
            }
            return .accepted
        } catch {
            return .refused(error)
        }
    }

    /// What is wrong with `outcome` of `reader`, nil when it keeps the property: a refusal of one of
    /// the reader's kinds on one non-empty line.
    public static func check(_ outcome: Outcome, of reader: FuzzedReader) -> String? {
        guard case .refused(let error) = outcome else { return nil }
        let kinds: [NNTrainError.Kind] = switch reader {
        case .config: [.config]
        case .idx: [.data]
        case .csv: [.data, .config]  // a header without the target b, or no training rows left, is the config's error
        case .checkpoint: [.data, .config, .diverged]  // a state that does not fit the config is .config; training may diverge
        }
        if !kinds.contains(error.kind) { return "kind \(error.kind) (\(error.exitStatus)): \(error.message)" }
        if error.message.isEmpty || error.message.contains(where: \.isNewline) { return "not one line: \(error.message)" }
        return nil
    }

    static func readConfig(_ bytes: [UInt8]) throws(NNTrainError) {
        let configuration = try withFile(bytes, named: "c.yaml") { path throws(NNTrainError) in
            try Configuration.load(path: path)
        }
        // What nntrain writes as config.yaml must read back as the same config.
        let resolved = configuration.resolvedYAML()
        let readBack: Configuration
        do throws(NNTrainError) { readBack = try Configuration.parse(yaml: resolved, source: "config.yaml") } catch {
            throw NNTrainError(.internal, "the resolved YAML of an accepted config is refused: \(error.message)")
        }
        guard readBack == configuration else {
            throw NNTrainError(.internal, "the resolved YAML of an accepted config reads back otherwise")
        }
    }

    static func readIDX(_ bytes: [UInt8]) throws(NNTrainError) {
        guard let mode = bytes.first else { return }
        let file = mode & 1 == 0 ? Array(bytes.dropFirst()) : gzip(Array(bytes.dropFirst()))
        let isLabels = mode & 2 != 0
        try withFile(file, named: mode & 4 == 0 ? "data.gz" : "data") { path throws(NNTrainError) in
            // A small bound, so that a fuzzer does not spend its time decoding big valid files.
            // Images also through the stream that reads them a batch at a time (predict's reader).
            var streamError: NNTrainError?
            if !isLabels {
                do throws(NNTrainError) {
                    let stream = try IDXImageStream(path: path)
                    while try !stream.next(maxImages: 3).isEmpty {}
                } catch {
                    streamError = error
                }
            }
            _ = try IDXReader.read(path: path, expectedDimensions: isLabels ? 1 : 3, maxBytes: 1 << 20,
                                   elementTypes: isLabels ? IDXElementType.allCases : [.unsignedByte])
            if let streamError { throw streamError }
        }
    }

    /// Both readings of a CSV file; the first refusal is thrown.
    static func readCSV(_ bytes: [UInt8]) throws(NNTrainError) {
        try withFile(bytes, named: "t.csv") { path throws(NNTrainError) in
            var firstError: NNTrainError?
            var configuration = Configuration()
            configuration.data.dataset = .csv
            configuration.data.path = path
            configuration.data.target = "b"
            configuration.data.missing = .impute
            do throws(NNTrainError) {
                _ = try TrainingData.load(for: &configuration, file: path)
            } catch {
                firstError = error
            }
            do throws(NNTrainError) {
                _ = try CSVReader.read(path: path, requiredColumns: ["a", "b"])
            } catch {
                firstError = firstError ?? error
            }
            do throws(NNTrainError) {
                _ = try Prediction.run(checkpointPath: tableModel, inputPath: path,
                                       options: .init(probabilities: true, topK: 2, batchSize: 2)) { _ in }
            } catch {
                firstError = firstError ?? error
            }
            if let firstError { throw firstError }
        }
    }

    /// The checkpoint of a model of a table, written once: a numeric (missing: 0), b categorical over
    /// "2" and "x" (missing: "x"), target `note` in classes p and q; untrained. Each input loads it
    /// anew, as predict does (a model kept for the whole run was reported by LeakSanitizer at exit
    /// as leaked: two arrays of its decoded input schema).
    static let tableModel: String = {
        let table = TableSchema(columns: [.init(name: "a", encoding: .numeric(fill: 0)),
                                          .init(name: "b", encoding: .categorical(categories: ["2", "x"], fill: "x"))],
                                target: "note", task: .classification, missingValues: ["", "NA"])
        let dataset = Dataset(name: "table", features: .floats([1, 1, 0, -2, 0, 1, 0.5, 1, 0, 3, 0, 1]), featureCount: 3,
                              featureNames: table.encodedNames, targets: .classes([0, 1, 0, 1]), classNames: ["p", "q"],
                              targetName: "note")
        let data = TrainingData(train: dataset, validation: dataset.subset([]), test: dataset,
                                normalizer: Normalizer(fitting: dataset, mode: .standardize), schema: .table(table))
        var configuration = Configuration()
        configuration.model.hidden = [2]
        let path = (folder as NSString).appendingPathComponent("table-model.bin")
        try? Checkpoint(trainer: Trainer(configuration: configuration, data: data), bestRecord: nil, reason: .epoch)
            .write(to: path)
        return path
    }()

    static func readCheckpoint(_ bytes: [UInt8]) throws(NNTrainError) {
        var firstError: NNTrainError?
        do throws(NNTrainError) {
            _ = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
        } catch {
            firstError = error
        }
        // The rest as if the checksum were right.
        let checkpoint = try Checkpoint(contents: SafeTensors.decode(bytes, path: "last.bin"), path: "last.bin")
        // Into both trainers: one of them has the checkpoint's model, and must take it.
        var restoreError: NNTrainError?
        for trainer in [sgdTrainer(), adamTrainer()] {
            do throws(NNTrainError) {
                try checkpoint.restore(into: trainer, path: "last.bin")
                trainer.observers = [StopWhen { _ in true }]
                try trainer.train()
                restoreError = nil
                break
            } catch {
                restoreError = restoreError ?? error
            }
        }
        firstError = firstError ?? restoreError
        // What nntrain eval does with the checkpoint, on the training rows.
        do throws(NNTrainError) {
            let configuration: Configuration
            do throws(NNTrainError) {
                configuration = try Configuration.parse(yaml: checkpoint.configurationYAML, source: "last.bin (its config)")
            } catch {
                throw NNTrainError.data("last.bin", "its config cannot be read by this nntrain (\(error.message))")
            }
            guard checkpoint.parameterLayout.first?.shape.last == data.train.featureCount,
                  checkpoint.normalizer.scale.count == data.train.featureCount else {
                throw NNTrainError.data("last.bin", "the model does not take the data's 784 features")
            }
            let network = try CheckpointEvaluation.model(of: checkpoint, configuration: configuration, path: "last.bin")
            _ = CheckpointEvaluation.outputs(of: network, on: data.train, normalizer: checkpoint.normalizer,
                                             loss: Loss(configuration.loss, huberDelta: configuration.huberDelta))
        } catch {
            firstError = firstError ?? error
        }
        do throws(NNTrainError) { try export(checkpoint) } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }

    /// What `nntrain export` does with a checkpoint the reader accepted: the model in inference form,
    /// the state_dict in float32 and float16 (which must read back as safetensors) with its Python,
    /// and the ONNX file with fp32, fp16 and int8 weights (int8 from `int8WithoutData`).
    static func export(_ checkpoint: Checkpoint) throws(NNTrainError) {
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "00000000", path: "last.bin")
        for mode in [QuantizationMode.none, .fp16] {
            let stateDict = try StateDictExport(checkpoint: checkpoint, fingerprint: "00000000", path: "last.bin",
                                                quantization: mode)
            do throws(NNTrainError) {
                _ = try SafeTensors.decode(stateDict.encoded(), path: "m.safetensors", dtypes: SafeTensors.DType.allCases)
            } catch {
                throw NNTrainError(.internal, "the state_dict export does not read back: \(error.message)")
            }
            _ = stateDict.python(path: "m.safetensors", schema: model.schema)
        }
        for weights in [ExportedWeights.fp32, .fp16, .int8(int8WithoutData(model))] {
            _ = try ONNXExport.encode(model, weights: weights, opset: ONNXExport.defaultOpset)
        }
    }

    /// An int8 quantization of `model` made from its weights alone, for the fuzzer (which has no data
    /// to calibrate on): each output channel's scale max|W[c, :]|/127 (1 for a channel of zeros or of
    /// non-finite values), W_q = round_half_even(W/s) clamped to ±127 (NaN to 0), and every layer's
    /// input scale 1/255 with zero point 128 (the range [−128/255, 127/255]).
    static func int8WithoutData(_ model: InferenceModel) -> Int8Quantization {
        let layers = model.layers.map { layer in
            let width = max(layer.inputs, 1)
            let scales = (0..<layer.outputs).map { channel in
                let largest = layer.weight[(channel * layer.inputs)..<((channel + 1) * layer.inputs)].map(abs).max() ?? 0
                return largest > 0 && largest.isFinite ? largest / 127 : 1
            }
            let weights = layer.weight.enumerated().map { index, w -> Int8 in
                let q = (w / scales[index / width]).rounded(.toNearestOrEven)
                return q.isNaN ? 0 : Int8(max(-127, min(127, q)))
            }
            return Int8Quantization.Layer(inputScale: 1 / 255, inputZeroPoint: 128, weightScales: scales, weights: weights)
        }
        return Int8Quantization(layers: layers, calibrationRows: 0, method: .minMax)
    }

    // MARK: Files

    private static let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-fuzz-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
    private static let counter = Atomic<Int>(0)

    /// Calls `body` with the path of a file holding `bytes` (unique to the call, removed after).
    static func withFile<T>(
        _ bytes: [UInt8], named name: String, _ body: (String) throws(NNTrainError) -> T
    ) throws(NNTrainError) -> T {
        let number = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let path = (folder as NSString).appendingPathComponent("\(number)-\(name)")
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw NNTrainError(.internal, "\(path): cannot write the fuzzer's input")
        }
        defer { unlink(path) }
        return try body(path)
    }
}

// MARK: - libFuzzer

/// What the libFuzzer targets (Fuzz/Fuzz*/) do with each input and at start-up.
public enum LibFuzzerEntry {
    /// LLVMFuzzerTestOneInput: reads the input; a violation of the property is a crash for
    /// libFuzzer to report (and save as crash-<sha1>).
    public static func testOneInput(_ reader: FuzzedReader, _ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        if let problem = ReaderFuzzing.check(ReaderFuzzing.read(reader, bytes), of: reader) {
            fatalError("\(reader): \(problem)")
        }
        return 0
    }

    /// LLVMFuzzerInitialize: with NNTRAIN_FUZZ_SEEDS=FOLDER, writes the reader's valid inputs
    /// there (seed-N) and exits, so `make fuzz` starts from a corpus made in code.
    public static func initialize(_ reader: FuzzedReader) -> CInt {
        guard let folder = ProcessInfo.processInfo.environment["NNTRAIN_FUZZ_SEEDS"] else { return 0 }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, seed) in ReaderFuzzing.seeds(for: reader).enumerated() {
            _ = FileManager.default.createFile(atPath: "\(folder)/seed-\(index)", contents: Data(seed))
        }
        print("\(reader): \(ReaderFuzzing.seeds(for: reader).count) seeds written to \(folder)")
        exit(0)
    }
}
