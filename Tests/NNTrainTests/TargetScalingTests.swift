import Foundation
import Testing

@testable import NNTrain

/// `data.standardize_target`: the training split's μ and σ (population std), the network's last step
/// y = σ·z + μ (`TargetAffine`) in training, mixed precision, eval, predict and the weight report, the
/// checkpoint's `target.shift`/`target.scale`, the resume check, the key's rules, and what it does for
/// a large-offset target.
@Suite struct TargetScalingTests {
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    // MARK: The statistics and the affine

    /// μ = (1 + 2 + 3 + 6)/4 = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5 (population, as StandardScaler's); a
    /// constant target keeps σ = 1, its mean as μ.
    @Test func theMeanAndPopulationStandardDeviationOfTheTargets() {
        #expect(TargetScaling(fitting: [1, 2, 3, 6]) == TargetScaling(shift: 3, scale: Float(3.5.squareRoot())))
        #expect(TargetScaling(fitting: [5, 5, 5]) == TargetScaling(shift: 5, scale: 1))
        #expect(TargetScaling(fitting: []) == TargetScaling(shift: 0, scale: 1))
        // A linear model z = 2·x1 − x2 + 0.5 behind y = 4z + 10 is y = 8·x1 − 4·x2 + 12.
        let raw = TargetScaling(shift: 10, scale: 4).denormalizeLinear(weights: [2, -1], bias: 0.5)
        #expect(raw.weights == [8, -4] && raw.bias == 12)
    }

    /// The network's outputs are σ·z + μ of the same network's outputs without the affine, to the
    /// bit, in fp32 and in fp16, where z is the last linear layer's fp16-rounded output and y is
    /// computed and kept in fp32 (σ·z + μ is not an fp16 number for every row).
    @Test(arguments: [Precision.fp32, .fp16])
    func theOutputIsTheAffineOfTheLastLinearLayer(precision: Precision) {
        let scaling = TargetScaling(shift: 151.25, scale: 77.3)
        func network(_ scaling: TargetScaling?) -> Network {
            let network = Network.mlp(Network.MLPShape(inputWidth: 3, hidden: [5], outputWidth: 1, activation: .tanh,
                                                       precision: precision, targetScaling: scaling))
            network.reserve(rows: 8)
            var random = RandomGenerator(seed: 3)
            Initialization().apply(to: network, activation: .tanh, random: &random)
            return network
        }
        let (plain, scaled) = (network(nil), network(scaling))
        #expect(scaled.targetScaling == scaling && plain.targetScaling == nil && scaled.outputWidth == 1)
        var random = RandomGenerator(seed: 9)
        var x = (0..<24).map { _ in Float(random.nextGaussian()) }
        let (z, y) = x.withUnsafeMutableBufferPointer { buffer in
            let input = MatrixView(base: buffer.baseAddress!, rows: 8, columns: 3)
            let z = Array(UnsafeBufferPointer(start: plain.forward(input, training: false).base, count: 8))
            let y = Array(UnsafeBufferPointer(start: scaled.forward(input, training: false).base, count: 8))
            return (z, y)
        }
        #expect(y == z.map { 77.3 * $0 + 151.25 })
        for (zi, yi) in zip(z, y) { #expect(abs(Double(yi) - (77.3 * Double(zi) + 151.25)) <= 1e-4 * abs(Double(yi))) }
        if precision == .fp16 {
            #expect(z.allSatisfy { Float(Float16($0)) == $0 })
            #expect(y.contains { Float(Float16($0)) != $0 })
        }
    }

    // MARK: A large-offset target

    /// y = 150 + 40·x1 − 25·x2 + ε, x ~ N(0, 1), ε ~ N(0, 10²): `rows` rows.
    private static func rows(_ count: Int, seed: UInt64) -> (csv: String, noise: [Double], targets: [Double]) {
        var random = RandomGenerator(seed: seed)
        var lines = ["x1,x2,y"], noise: [Double] = [], targets: [Double] = []
        for _ in 0..<count {
            let (x1, x2, e) = (random.nextGaussian(), random.nextGaussian(), 10 * random.nextGaussian())
            let y = 150 + 40 * x1 - 25 * x2 + e
            lines.append("\(x1),\(x2),\(y)")
            noise.append(e)
            targets.append(y)
        }
        return (lines.joined(separator: "\n") + "\n", noise, targets)
    }

    /// Trains the csv defaults on 400 rows and evaluates a separate test file of 300, with the config
    /// lines `extra` in the data section; returns the test R² and the checkpoint's path.
    private func trainLargeOffset(_ name: String, extra: [String] = []) throws -> (r2: Double, checkpoint: String) {
        let train = try folder.write(Self.rows(400, seed: 21).csv, to: "train.csv")
        let test = try folder.write(Self.rows(300, seed: 22).csv, to: "test.csv")
        let config = try folder.write("""
            data:
              dataset: csv
              path: \(train)
              target: y
              test_path: \(test)
            \(extra.map { "  \($0)\n" }.joined())output: {dir: \(folder.file(name)), plots: false}
            """, to: name + ".yaml")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let checkpoint = folder.file(name + "/checkpoints/last.bin")
        let evaluation = try CheckpointEvaluation.run(checkpointPath: checkpoint, split: .test)
        return (try #require(evaluation.regression?.r2), checkpoint)
    }

    /// The noise ceiling of the test file: the R² of the true function, 1 − Σε² / Σ(y − ȳ)², about
    /// 2225 / 2325 = 0.957 in expectation (signal variance 40² + 25², noise 10²). The csv defaults
    /// (standardised target) come within 0.03 of it (0.954 here); the same run with the raw target,
    /// whose output layer must grow to ~150 at Adam's 1e-3 a step, stays well below (0.74 here).
    @Test func theDefaultsReachTheNoiseCeilingOfALargeOffsetTarget() throws {
        let test = Self.rows(300, seed: 22)
        let mean = test.targets.reduce(0, +) / 300
        let ceiling = 1 - test.noise.reduce(0) { $0 + $1 * $1 } / test.targets.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        #expect(ceiling > 0.94 && ceiling < 0.97)
        let standardised = try trainLargeOffset("standardised")
        let raw = try trainLargeOffset("raw", extra: ["standardize_target: false"])
        #expect(standardised.r2 >= ceiling - 0.03, "R² \(standardised.r2), ceiling \(ceiling)")
        #expect(raw.r2 <= standardised.r2 - 0.15, "raw R² \(raw.r2), standardised \(standardised.r2)")
        #expect(try Checkpoint.read(path: raw.checkpoint).targetScaling == nil)

        // The checkpoint's μ and σ are the training split's (test_path: all 400 rows but the 10%
        // validation rows), which eval and predict apply to the network's raw output.
        let checkpoint = try Checkpoint.read(path: standardised.checkpoint)
        let scaling = try #require(checkpoint.targetScaling)
        #expect(abs(scaling.shift - 150) < 6 && abs(scaling.scale - Float(2325.0.squareRoot())) < 6)
        let configuration = try checkpoint.configuration(path: standardised.checkpoint)
        let plain = configuration.makeNetwork(inputWidth: 2, outputWidth: 1, targetScaling: nil)
        plain.restore(checkpoint.state.model)
        let testData = try Self.rows(300, seed: 22).csv.split(separator: "\n").dropFirst().map {
            try $0.split(separator: ",").map { try #require(Float(String($0))) }
        }
        let dataset = Dataset(name: "test", features: .floats(testData.flatMap { Array($0[0..<2]) }), featureCount: 2,
                              targets: .values(testData.map { $0[2] }))
        let z = CheckpointEvaluation.outputs(of: plain, on: dataset, normalizer: checkpoint.normalizer, loss: Loss(.mse)).outputs
        let expected = z.map { scaling.scale * $0 + scaling.shift }
        let model = try CheckpointEvaluation.model(of: checkpoint, configuration: configuration, path: standardised.checkpoint)
        #expect(CheckpointEvaluation.outputs(of: model, on: dataset, normalizer: checkpoint.normalizer,
                                             loss: Loss(.mse)).outputs == expected)
        let predictor = try Predictor(checkpointPath: standardised.checkpoint, batchCapacity: 300)
        for (row, values) in testData.enumerated() { _ = predictor.inputRow(row).update(fromContentsOf: values[0..<2]) }
        let predicted = predictor.outputs(rows: 300)
        #expect(Array(UnsafeBufferPointer(start: predicted.base, count: 300)) == expected)
    }

    // MARK: Resume, checkpoints, weight report

    /// A checkpoint carries μ and σ as `target.shift` and `target.scale` of shape [1] (one without the
    /// other, or σ = 0, is refused when read); one whose scaling is not the data's (the same features,
    /// targets moved by 1) is refused on resume.
    @Test func aResumeOnTargetsOfOtherStatisticsIsRefused() throws {
        var random = RandomGenerator(seed: 4)
        let features = (0..<50).map { _ in (random.nextUnitDouble(), random.nextUnitDouble()) }
        func csv(offset: Double) -> String {
            "a,b,y\n" + features.map { "\($0.0),\($0.1),\(300 + 20 * $0.0 - 7 * $0.1 + offset)" }.joined(separator: "\n") + "\n"
        }
        let train = try folder.write(csv(offset: 0), to: "train.csv")
        let config = try folder.write("""
            data: {dataset: csv, path: \(train), target: y}
            model: {hidden: [4]}
            training: {epochs: 2}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "c.yaml")
        var steps = 0
        _ = try TrainingRun.execute(configPath: config, overrides: [],
                                    observers: [StopWhen { _ in steps += 1; return steps == 1 }])
        let last = folder.file("run/checkpoints/last.bin")
        let file = try CheckpointFile.read(path: last)
        let (shift, scale) = (try #require(file["target.shift"]), try #require(file["target.scale"]))
        #expect(shift.shape == [1] && scale.shape == [1])
        let saved = try #require(try Checkpoint.read(path: last).targetScaling)
        #expect(saved == TargetScaling(shift: shift.elements(as: Float.self)[0], scale: scale.elements(as: Float.self)[0]))
        // Half a scaling, or a σ of 0, is a damaged checkpoint.
        var half = file
        half.tensors.removeAll { $0.name == "target.scale" }
        let halfPath = try folder.write(CheckpointFile.encode(half), to: "half.bin")
        #expect(throws: NNTrainError.data(halfPath, "tensor 'target.scale' is missing")) { try Checkpoint.read(path: halfPath) }
        var zero = file
        let scaleIndex = try #require(zero.tensors.firstIndex { $0.name == "target.scale" })
        zero.tensors[scaleIndex].tensor = SafeTensors.Tensor([Float(0)], shape: [1])
        let zeroPath = try folder.write(CheckpointFile.encode(zero), to: "zero.bin")
        #expect(throws: NNTrainError.data(zeroPath, "tensors 'target.shift' and 'target.scale' are \(saved.shift) and 0.0; "
            + "expected a finite mean and a positive standard deviation")) { try Checkpoint.read(path: zeroPath) }

        _ = try folder.write(csv(offset: 1), to: "train.csv")
        var configuration = try Configuration.load(path: config)
        let moved = try #require(try TrainingData.load(for: &configuration, file: config).targetScaling)
        #expect(abs(moved.shift - saved.shift - 1) < 1e-3 && moved.scale == saved.scale)
        #expect {
            try TrainingRun.execute(configPath: config, overrides: [], start: .resumeLast)
        } throws: { error in
            (error as? NNTrainError)?.message == "\(last): the checkpoint's target scaling is mean \(saved.shift), std "
                + "\(saved.scale) but the data's is mean \(moved.shift), std \(moved.scale); expected the same data "
                + "file and data.standardize_target"
        }
    }

    /// A bonus run with `standardize_target: true` (a linear model): eval's learned weights are
    /// the checkpoint's in the CSV's units, y = σ·(Σ_j w_j (x_j − shift_j)·scale_j + b) + μ, worked
    /// out here from the tensors in Double.
    @Test func theWeightReportOfAStandardisedBonusTargetIsInTheTargetsUnits() throws {
        _ = try BonusData.write(rows: 200, seed: 3, to: folder.file("bonus.csv"))
        let config = try folder.write("""
            data: {dataset: bonus, path: \(folder.file("bonus.csv")), standardize_target: true}
            model: {hidden: []}
            training: {epochs: 2}
            output: {dir: \(folder.file("run")), plots: false}
            """, to: "c.yaml")
        _ = try TrainingRun.execute(configPath: config, overrides: [])
        let path = folder.file("run/checkpoints/last.bin")
        let checkpoint = try Checkpoint.read(path: path)
        let scaling = try #require(checkpoint.targetScaling)
        let file = try CheckpointFile.read(path: path)
        let weights = try #require(file["layers.0.weight"]).elements(as: Float.self).map(Double.init)
        let bias = Double(try #require(file["layers.0.bias"]).elements(as: Float.self)[0])
        let (shift, scale) = (checkpoint.normalizer.shift.map(Double.init), checkpoint.normalizer.scale.map(Double.init))
        let (sigma, mu) = (Double(scaling.scale), Double(scaling.shift))
        let learned = (0..<5).map { sigma * weights[$0] * scale[$0] }
        let learnedBias = sigma * (bias - (0..<5).reduce(0.0) { $0 + weights[$1] * scale[$1] * shift[$1] }) + mu
        let report = try #require(try CheckpointEvaluation.run(checkpointPath: path, split: .test).weights)
        #expect(report.map(\.name) == BonusData.featureNames + ["bias"])
        for (row, expected) in zip(report, learned + [learnedBias]) {
            #expect(abs(row.learned - expected) <= 1e-5 * max(abs(expected), 1), "\(row.name): \(row.learned) vs \(expected)")
        }
    }

    // MARK: The key

    /// Written out for a regression target (true for csv, false for bonus); refused for classes, by
    /// the config's line when the task is fixed and after reading when the data classify the target;
    /// refused for image datasets, where it does not apply.
    @Test func theKeyAppliesToRegressionTargetsOfCSVAndBonus() throws {
        let csv = try folder.write("a,label\n1,x\n2,y\n3,x\n4,y\n5,x\n6,y\n7,x\n8,y\n9,x\n10,y\n", to: "t.csv")
        func configuration(_ text: String) throws -> (Configuration, String) {
            let path = try folder.write(text, to: "c.yaml")
            return (try Configuration.load(path: path), path)
        }
        var (bonus, _) = try configuration("data: {dataset: bonus}\n")
        #expect(bonus.data.standardizeTarget == false && !bonus.data.standardizesTarget(task: .regression))
        bonus.data.standardizeTarget = true
        #expect(bonus.data.standardizesTarget(task: .regression) && !bonus.data.standardizesTarget(task: .classification))
        #expect(try configuration("data: {dataset: csv, target: y, task: regression}\n").0.data.standardizeTarget == true)
        #expect(try configuration("data: {dataset: csv, target: y}\n").0.data.standardizeTarget == nil)

        #expect(throws: NNTrainError.config(folder.file("c.yaml"), line: 4, "data.standardize_target: applies to a "
            + "regression target only, but \(csv)'s target is classified; expected no data.standardize_target (or "
            + "data.task: regression)")) {
            try configuration("data:\n  dataset: csv\n  path: \(csv)\n  standardize_target: false\n"
                + "  task: classification\n  target: label\n")
        }
        var (auto, path) = try configuration("data:\n  dataset: csv\n  path: \(csv)\n  target: label\n"
            + "  standardize_target: true\n")
        #expect(throws: NNTrainError.config(path, line: 5, "data.standardize_target: applies to a regression target "
            + "only, but \(csv)'s target is classified; expected no data.standardize_target (or data.task: regression)")) {
            try TrainingData.load(for: &auto, file: path)
        }
        #expect(throws: NNTrainError.self) { try configuration("data:\n  dataset: mnist\n  standardize_target: true\n") }
    }
}
