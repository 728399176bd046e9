import Foundation
import Testing
@testable import NNTrain

/// The state_dict export (`StateDictExport`): the Sequential's positions and tensor names, shapes,
/// dtypes and values against the checkpoint's own tensors, binary16 bit patterns worked out by hand,
/// num_batches_tracked against the batches counted here, the metadata and the Python.
@Suite struct StateDictExportTests {
    /// 24 rows of 3 numeric features (a table x0, x1, x2) in two classes, or a regression target.
    static func data(regression: Bool) -> TrainingData {
        var random = RandomGenerator(seed: 11)
        let features = (0..<72).map { _ in Float(random.nextGaussian()) * 3 + 1 }
        let targets: Targets = regression
            ? .values((0..<24).map { 40 + 5 * features[3 * $0] - features[3 * $0 + 2] })
            : .classes((0..<24).map { features[3 * $0] > 1 ? 1 : 0 })
        let dataset = Dataset(name: "t", features: .floats(features), featureCount: 3, featureNames: ["x0", "x1", "x2"],
                              targets: targets, classNames: regression ? [] : ["no", "yes"], targetName: "y")
        var targetScaling: TargetScaling?
        if case .values(let values) = targets { targetScaling = TargetScaling(fitting: values) }
        return TrainingData(train: dataset, validation: dataset.subset([]), test: dataset,
                            normalizer: Normalizer(fitting: dataset, mode: .standardize), targetScaling: targetScaling,
                            schema: .columns(of: dataset))
    }

    /// A checkpoint of a 3-4-3-k model trained 2 epochs in batches of 8 (3 batches an epoch), and
    /// the CRC-32 its file records.
    static func checkpoint(batchNorm: Bool, dropout: Double, activation: ActivationKind, regression: Bool = false)
        throws -> (checkpoint: Checkpoint, fingerprint: String)
    {
        var config = Configuration()
        config.model.hidden = [4, 3]
        config.model.batchNorm = batchNorm
        config.model.dropout = dropout
        config.model.activation = activation
        config.model.leakySlope = 0.2
        if regression {  // bonus: a regression dataset, as the config must say for mse
            config.data.dataset = .bonus
            config.loss = .mse
        }
        config.training.epochs = 2
        config.training.batchSize = .rows(8)
        let trainer = Trainer(configuration: config, data: data(regression: regression))
        _ = try trainer.train()
        let folder = try TemporaryFolder()
        let path = folder.file("last.bin")
        try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).write(to: path)
        let file = try CheckpointFile.read(path: path)
        return (try Checkpoint(contents: file, path: path), try #require(file.metadata["nntrain.crc32"]))
    }

    static func export(_ saved: (checkpoint: Checkpoint, fingerprint: String), _ mode: QuantizationMode = .none) throws
        -> StateDictExport
    {
        try StateDictExport(checkpoint: saved.checkpoint, fingerprint: saved.fingerprint, path: "last.bin", quantization: mode)
    }

    /// The checkpoint's tensor `name` as floats.
    static func floats(_ saved: (checkpoint: Checkpoint, fingerprint: String), _ name: String) throws -> [Float] {
        try #require(try saved.checkpoint.contents()[name]).elements(as: Float.self)
    }

    @Test func withBatchNormAndDropoutEveryModuleTakesAPosition() throws {
        let saved = try Self.checkpoint(batchNorm: true, dropout: 0.25, activation: .gelu)
        let export = try Self.export(saved)
        #expect(export.modules == [
            .linear(inputs: 3, outputs: 4), .batchNorm(features: 4), .activation(.gelu), .dropout(probability: 0.25),
            .linear(inputs: 4, outputs: 3), .batchNorm(features: 3), .activation(.gelu), .dropout(probability: 0.25),
            .linear(inputs: 3, outputs: 2),
        ])
        // Read back from the file's bytes, as PyTorch would.
        let file = try SafeTensors.decode(export.encoded(), path: "m.safetensors", dtypes: SafeTensors.DType.allCases)
        let expected: [(String, [Int], String?)] = [
            ("0.weight", [4, 3], "layers.0.weight"), ("0.bias", [4], "layers.0.bias"),
            ("1.weight", [4], "norms.0.weight"), ("1.bias", [4], "norms.0.bias"),
            ("1.running_mean", [4], "norms.0.running_mean"), ("1.running_var", [4], "norms.0.running_var"),
            ("1.num_batches_tracked", [], nil),
            ("4.weight", [3, 4], "layers.1.weight"), ("4.bias", [3], "layers.1.bias"),
            ("5.weight", [3], "norms.1.weight"), ("5.bias", [3], "norms.1.bias"),
            ("5.running_mean", [3], "norms.1.running_mean"), ("5.running_var", [3], "norms.1.running_var"),
            ("5.num_batches_tracked", [], nil),
            ("8.weight", [2, 3], "layers.2.weight"), ("8.bias", [2], "layers.2.bias"),
        ]
        #expect(file.tensors.map(\.name) == expected.map(\.0))
        for (name, shape, source) in expected {
            let tensor = try #require(file[name])
            #expect(tensor.shape == shape, "\(name)")
            if let source {
                #expect(tensor.dtype == .f32, "\(name)")
                #expect(tensor.elements(as: Float.self) == (try Self.floats(saved, source)), "\(name)")
            } else {
                // 2 epochs × 3 batches of 8 rows: six batches seen, an int64 scalar (8 little-endian bytes).
                #expect(tensor.dtype == .i64 && tensor.elementCount == 1)
                #expect(tensor.bytes == [6, 0, 0, 0, 0, 0, 0, 0])
            }
        }
        // Running statistics moved away from their start (0 and 1): the values are the trained ones.
        #expect(try Self.floats(saved, "norms.0.running_mean").contains { $0 != 0 })
    }

    /// Batches whose update fp16's loss scaler skipped were still seen by batch norm: a fixed scale of
    /// 2^40 overflows float16 in every backward pass, so all six steps are skipped and none is taken.
    @Test func numBatchesTrackedCountsTheBatchesTheLossScalerSkipped() throws {
        var config = Configuration()
        config.model.hidden = [4]
        config.model.batchNorm = true
        config.training.precision = .fp16
        config.training.lossScale = .fixed(0x1p40)
        config.training.epochs = 2
        config.training.batchSize = .rows(8)
        let trainer = Trainer(configuration: config, data: Self.data(regression: false))
        _ = try trainer.train()
        let checkpoint = Checkpoint(trainer: trainer, bestRecord: nil, reason: .final)
        #expect(checkpoint.state.stepCount == 0 && checkpoint.state.gradScaler?.skippedSteps == 6)
        let export = try Self.export((checkpoint, "00000000"))
        #expect(export.contents["1.num_batches_tracked"] == SafeTensors.Tensor(scalar: 6))
    }

    @Test(arguments: [
        (0.0, ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]),
        (0.5, ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]),
    ])
    func withoutBatchNormThePositionsCloseUp(dropout: Double, names: [String]) throws {
        let saved = try Self.checkpoint(batchNorm: false, dropout: dropout, activation: .leakyRelu)
        let export = try Self.export(saved)
        let hidden: [StateDictExport.Module] = dropout > 0 ? [.activation(.leakyRelu(slope: 0.2)), .dropout(probability: 0.5)]
            : [.activation(.leakyRelu(slope: 0.2))]
        #expect(export.modules == [.linear(inputs: 3, outputs: 4)] + hidden + [.linear(inputs: 4, outputs: 3)] + hidden
            + [.linear(inputs: 3, outputs: 2)])
        #expect(export.contents.tensors.map(\.name) == names)
        let sources = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"]
        for (name, source) in zip(names, sources) {
            #expect(try #require(export.contents[name]).elements(as: Float.self) == (try Self.floats(saved, source)))
        }
    }

    /// Binary16 bit patterns worked out by hand: exact values, a value between two (0.1), the largest
    /// finite 65504, 65520 (the tie that rounds to infinity), the smallest subnormal 2^-24, what
    /// underflows to zero, −0, and ties to even at 1 + 2^-11 (down) and 1 + 3·2^-11 (up).
    @Test func float16TensorsHoldBinary16BitPatterns() {
        let values: [Float] = [1, -2, 0.1, 65504, 65520, 0x1p-24, 1e-8, -0.0, 1 + 0x1p-11, 1 + 3 * 0x1p-11, .infinity]
        let tensor = SafeTensors.Tensor(float16: values, shape: [11])
        #expect(tensor.dtype == .f16 && tensor.shape == [11] && tensor.bytes.count == 22)
        let bits = stride(from: 0, to: 22, by: 2).map { UInt16(tensor.bytes[$0]) | UInt16(tensor.bytes[$0 + 1]) << 8 }
        #expect(bits == [0x3C00, 0xC000, 0x2E66, 0x7BFF, 0x7C00, 0x0001, 0x0000, 0x8000, 0x3C00, 0x3C02, 0x7C00])
    }

    /// fp16: every floating-point tensor F16, the checkpoint's values rounded to binary16 (the
    /// project's own rounding, `Binary16`, checked against every float elsewhere);
    /// num_batches_tracked stays I64, as `model.half()` leaves it.
    @Test func fp16WritesEveryFloatTensorAsF16() throws {
        let saved = try Self.checkpoint(batchNorm: true, dropout: 0, activation: .relu)
        let half = try Self.export(saved, .fp16), full = try Self.export(saved)
        #expect(half.contents.tensors.map(\.name) == full.contents.tensors.map(\.name))
        #expect(half.contents.metadata["nntrain.weights"] == "fp16" && full.contents.metadata["nntrain.weights"] == "fp32")
        for ((name, tensor), (_, float)) in zip(half.contents.tensors, full.contents.tensors) {
            #expect(tensor.shape == float.shape, "\(name)")
            if name.hasSuffix("num_batches_tracked") {
                #expect(tensor == float)
                continue
            }
            #expect(tensor.dtype == .f16, "\(name)")
            let decoded = tensor.elements(as: UInt16.self).map { Float(Float16(bitPattern: $0)) }
            #expect(decoded == float.elements(as: Float.self).map(Binary16.rounded), "\(name)")
        }
    }

    @Test func int8IsRefusedWithAPointerToONNX() throws {
        let saved = try Self.checkpoint(batchNorm: false, dropout: 0, activation: .relu)
        #expect(throws: NNTrainError(.usage, StateDictExport.int8Refusal)) { try Self.export(saved, .int8) }
        #expect(StateDictExport.int8Refusal.contains("export int8 as ONNX"))
    }

    @Test func theMetadataCarriesWhatTheModulesDoNot() throws {
        let saved = try Self.checkpoint(batchNorm: true, dropout: 0, activation: .silu, regression: true)
        let metadata = try Self.export(saved).contents.metadata
        #expect(Set(metadata.keys) == Set(StateDictExport.metadataKeys + ["format"]))
        #expect(metadata["format"] == "pt")
        func floats(_ key: String) throws -> [Float] {
            let text = try #require(metadata[key])
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Double]).map { Float($0) }
        }
        let normalizer = Self.data(regression: true).normalizer
        #expect(try floats("nntrain.normalizer.shift") == normalizer.shift)
        #expect(try floats("nntrain.normalizer.scale") == normalizer.scale)
        let scaling = try #require(saved.checkpoint.targetScaling)
        #expect(metadata["nntrain.target.shift"].flatMap(Float.init) == scaling.shift)
        #expect(metadata["nntrain.target.scale"].flatMap(Float.init) == scaling.scale)
        #expect(metadata["nntrain.task"] == "regression" && metadata["nntrain.class_names"] == "[]")
        #expect(metadata["nntrain.feature_names"] == #"["x0","x1","x2"]"#)
        let schemaJSON = try #require(metadata["nntrain.input"])
        let schema = try JSONDecoder().decode(InputSchema.self, from: Data(schemaJSON.utf8))
        #expect(schema == .columns(of: Self.data(regression: true).train))
        #expect(metadata["nntrain.architecture"] == "3-4-3-1 silu, batch norm")
        #expect(metadata["nntrain.version"] == saved.checkpoint.nntrainVersion)
        #expect(metadata["nntrain.exported_by"] == NNTrainVersion.string)
        #expect(metadata["nntrain.checkpoint_crc32"] == saved.fingerprint && saved.fingerprint.count == 8)

        let classifier = try Self.export(try Self.checkpoint(batchNorm: false, dropout: 0, activation: .relu)).contents
        #expect(classifier.metadata["nntrain.class_names"] == #"["no","yes"]"#)
        #expect(classifier.metadata["nntrain.task"] == "classification")
        #expect(classifier.metadata["nntrain.target.shift"] == nil)
        #expect(classifier.metadata["nntrain.architecture"] == "3-4-3-2 relu")
    }

    /// Shortest round-trip decimals, and the words Python's json reads for the non-finite values.
    @Test func floatsAreWrittenAsJSONThatReadsBackExactly() {
        #expect(StateDictExport.jsonArray([1, 0.1, 1e-5, 0.003921569, -2.5e10, .nan, .infinity, -.infinity])
            == "[1.0,0.1,1e-05,0.003921569,-2.5e+10,NaN,Infinity,-Infinity]")
        #expect(StateDictExport.jsonArray(["a \"b\"", "c/d"]) == #"["a \"b\"","c/d"]"#)
        #expect(StateDictExport.pythonString("runs/a \"b\"\\c.safetensors") == #""runs/a \"b\"\\c.safetensors""#)
    }

    /// Each activation as its nn module with torch's argument names; Swift's shortest float text is
    /// Python's repr (1.0, 0.25, 20.0).
    @Test func eachActivationIsItsTorchModule() {
        let cases: [(Activation, String)] = [
            (.elu(alpha: 1), "nn.ELU(alpha=1.0)"), (.elu(alpha: 0.25), "nn.ELU(alpha=0.25)"), (.selu, "nn.SELU()"),
            (.mish, "nn.Mish()"), (.softplus(beta: 1, threshold: 20), "nn.Softplus(beta=1.0, threshold=20.0)"),
            (.softplus(beta: 2.5, threshold: 7), "nn.Softplus(beta=2.5, threshold=7.0)"), (.hardswish, "nn.Hardswish()"),
        ]
        for (activation, python) in cases {
            #expect(StateDictExport.python(.activation(activation)) == python)
        }
    }

    @Test func thePythonBuildsTheSequentialAndAppliesTheMetadata() throws {
        let classifier = try Self.export(try Self.checkpoint(batchNorm: true, dropout: 0.25, activation: .leakyRelu))
        #expect(classifier.python(path: "out/m.safetensors", schema: .images(rows: 1, columns: 3)) == """
            import json, torch, torch.nn as nn
            from safetensors import safe_open
            from safetensors.torch import load_file

            model = nn.Sequential(
                nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(negative_slope=0.2), nn.Dropout(p=0.25),
                nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LeakyReLU(negative_slope=0.2), nn.Dropout(p=0.25),
                nn.Linear(3, 2),
            )
            model.load_state_dict(load_file("out/m.safetensors"))  # strict: every tensor named and shaped as above
            model.eval()  # batch norm uses its running statistics; dropout passes its input through
            meta = safe_open("out/m.safetensors", "pt").metadata()
            shift = torch.tensor(json.loads(meta["nntrain.normalizer.shift"]))
            scale = torch.tensor(json.loads(meta["nntrain.normalizer.scale"]))
            classes = json.loads(meta["nntrain.class_names"])  # the class of each output, in order

            def predict(x):
                # x: float32 [N, 3], each row an image's 1×3 pixels (0-255) row by row
                with torch.no_grad():
                    return torch.softmax(model((x - shift) * scale), dim=1)  # probabilities [N, classes]

            """)

        let saved = try Self.checkpoint(batchNorm: false, dropout: 0, activation: .tanh, regression: true)
        let regression = try Self.export(saved, .fp16).python(path: "m.safetensors", schema: saved.checkpoint.inputSchema)
        let lines = regression.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "model = nn.Sequential("))
        #expect(Array(lines[(start + 1)...(start + 4)]) == [
            "    nn.Linear(3, 4), nn.Tanh(),", "    nn.Linear(4, 3), nn.Tanh(),", "    nn.Linear(3, 1),", ")",
        ])
        #expect(lines.contains(
            "# the F16 tensors load exactly into this float32 model (or into model.half(), for float16 arithmetic)"))
        #expect(lines.suffix(10) == [
            "target_shift, target_scale = float(meta[\"nntrain.target.shift\"]), float(meta[\"nntrain.target.scale\"])",
            "",
            "def predict(x):",
            "    # x: float32 [N, 3], the encoded columns in the order of json.loads(meta[\"nntrain.feature_names\"]):",
            "    # a numeric column as its value (a missing one as its fill, in json.loads(meta[\"nntrain.input\"]));",
            "    # a categorical column as one input per category, \"name=category\", 1 for the row's category and 0",
            "    # for the others (a category not seen in training: all 0; a missing one: its fill category)",
            "    with torch.no_grad():",
            "        return model((x - shift) * scale)[:, 0] * target_scale + target_shift  # y = σ·z + μ",
        ] + [""])
    }
}

/// The safetensors reader and writer's F16 and scalar shapes, and that a checkpoint still accepts
/// exactly the dtypes it did.
@Suite struct SafeTensorsExportTypesTests {
    @Test func f16AndScalarsRoundTripWhenAskedForAndF16StaysRefusedByDefault() throws {
        let file = SafeTensors(tensors: [("h", SafeTensors.Tensor(float16: [1, 0.5], shape: [2])),
                                         ("n", SafeTensors.Tensor(scalar: -3))])
        let bytes = file.encoded()
        #expect(try SafeTensors.decode(bytes, path: "m.safetensors", dtypes: SafeTensors.DType.allCases) == file)
        let n = try #require(try SafeTensors.decode(bytes, path: "m", dtypes: [.f16, .i64])["n"])
        #expect(n.shape == [] && n.elements(as: Int64.self) == [-3])
        let refusal = NNTrainError.data("m.safetensors", "tensor 'h': dtype 'F16' is not one of: F32, F64, I32, I64, U64, U8")
        #expect(throws: refusal) {
            try SafeTensors.decode(bytes, path: "m.safetensors")
        }
    }
}
