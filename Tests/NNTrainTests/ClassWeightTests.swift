import Foundation
import Testing
@testable import NNTrain

/// `loss_weights`: nn.CrossEntropyLoss(weight=w, label_smoothing=ε, reduction='mean') written out in Double
/// as torch's `cross_entropy_loss_label_smoothing` (aten/src/ATen/native/LossNLL.cpp) computes it, its
/// gradient by central differences of that Double loss, and scikit-learn's balanced weights by hand.
@Suite struct ClassWeightTests {
    static let logits: [Float] = [1, 2, 3, 0.5, -1, 2, 2, 0.1, -0.3, 0, 0, 1]  // 4 rows × 3 classes
    static let weights: [Double] = [1, 2.5, 0.5]

    /// torch's weighted loss in Double: (1 − ε)·Σ w_y·(−log p_y) / W + (ε/C)·Σᵢ Σ_c w_c·(−log p_c) / W, W = Σ w_y.
    static func torchLoss(_ z: [Double], labels: [Int], weights w: [Double], smoothing: Double) -> Double {
        let classes = w.count, rows = labels.count
        var nll = 0.0, smooth = 0.0, total = 0.0
        for i in 0..<rows {
            let row = Array(z[(i * classes)..<((i + 1) * classes)])
            let logSumExp = log(row.map { exp($0) }.reduce(0, +))
            let logP = row.map { $0 - logSumExp }
            nll += w[labels[i]] * -logP[labels[i]]
            smooth += zip(w, logP).map { -$0 * $1 }.reduce(0, +)
            total += w[labels[i]]
        }
        return (1 - smoothing) * nll / total + smoothing / Double(classes) * smooth / total
    }

    /// The loss the targets give, λ·L(a) + (1 − λ)·L(b) under mixup.
    static func objective(_ z: [Double], _ a: [Int], _ b: [Int], lambda: Double, smoothing: Double) -> Double {
        lambda * torchLoss(z, labels: a, weights: weights, smoothing: smoothing)
            + (1 - lambda) * torchLoss(z, labels: b, weights: weights, smoothing: smoothing)
    }

    @Test(arguments: [(0.0, 1.0), (0.2, 1.0), (0.0, 0.3), (0.1, 0.7)])
    func weightedCrossEntropyIsTorchsWeightedMean(smoothing: Double, lambda: Double) {
        let a: [Int32] = [2, 0, 1, 1], b: [Int32] = [0, 2, 1, 0]
        let loss = Loss(.crossEntropy, labelSmoothing: smoothing, classWeights: Self.weights)
        let (sums, gradient) = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                LossTests.run(loss, output: Self.logits, columns: 3, targets: lambda == 1 ? .classes(a.baseAddress!)
                              : .mixedClasses(a.baseAddress!, partners: b.baseAddress!, lambda: Float(lambda)))
            }
        }
        let z = Self.logits.map(Double.init), labelsA = a.map(Int.init), labelsB = lambda == 1 ? labelsA : b.map(Int.init)
        let expected = Self.objective(z, labelsA, labelsB, lambda: lambda, smoothing: smoothing)
        #expect(sums.rows == 4)
        #expect(abs(sums.loss / 4 - expected) < 1e-5, "\(sums.loss / 4) vs \(expected)")
        for k in z.indices {
            var up = z, down = z
            up[k] += 1e-5
            down[k] -= 1e-5
            let numeric = (Self.objective(up, labelsA, labelsB, lambda: lambda, smoothing: smoothing)
                - Self.objective(down, labelsA, labelsB, lambda: lambda, smoothing: smoothing)) / 2e-5
            #expect(abs(Double(gradient[k]) - numeric) < 1e-5, "∂L/∂z[\(k)]: \(gradient[k]) vs \(numeric)")
        }
    }

    @Test func unitWeightsGiveTheUnweightedLoss() {
        let labels: [Int32] = [2, 0, 1, 1]
        let (weighted, weightedGradient) = labels.withUnsafeBufferPointer {
            LossTests.run(Loss(.crossEntropy, labelSmoothing: 0.1, classWeights: [1, 1, 1]), output: Self.logits,
                          columns: 3, targets: .classes($0.baseAddress!))
        }
        let (plain, plainGradient) = labels.withUnsafeBufferPointer {
            LossTests.run(.crossEntropy(labelSmoothing: 0.1), output: Self.logits, columns: 3, targets: .classes($0.baseAddress!))
        }
        #expect(abs(weighted.loss - plain.loss) < 1e-5)
        #expect(zip(weightedGradient, plainGradient).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func balancedIsScikitLearnsComputeClassWeight() {
        // compute_class_weight("balanced", classes=[0, 1, 2], y=[0, 0, 0, 1, 2, 2]): 6 / (3 · [3, 1, 2]).
        let weights = LossWeights.balanced.weights(labels: [0, 0, 0, 1, 2, 2], classCount: 3)
        #expect(weights == .success([6.0 / 9, 2, 1]))
        #expect(LossWeights.balanced.weights(labels: [0, 0, 2], classCount: 3) == .failure(.init(index: 1)))
        #expect(LossWeights.given([1, 2]).weights(labels: [0], classCount: 2) == .success([1, 2]))
    }

    static func parse(_ yaml: String) -> Result<Configuration, NNTrainError> {
        Result { () throws(NNTrainError) in try Configuration.parse(yaml: yaml, source: "c.yaml") }
    }

    @Test func theKeyReadsBalancedOrAListAndRefusesTheRest() throws {
        #expect(try Self.parse("loss_weights: balanced\n").get().lossWeights == .balanced)
        #expect(try Self.parse("loss_weights: [1, 2.5, 0]\n").get().lossWeights == .given([1, 2.5, 0]))
        #expect(try Self.parse("seed: 1\n").get().lossWeights == nil)
        let refusals = [
            ("loss_weights: equal\n", "c.yaml:1: loss_weights: 'equal' is not balanced or a list of numbers >= 0, "
                + "one per class, like [1, 2.5, 1]"),
            ("loss_weights: [1, -1]\n", "c.yaml:1: loss_weights[1]: -1 is out of range; expected a number >= 0"),
            ("loss_weights: [0, 0]\n", "c.yaml:1: loss_weights: has no weight above 0; expected at least one class to count"),
            ("data: {dataset: csv, path: t.csv, target: y}\nloss: mse\nloss_weights: balanced\n",
             "c.yaml:3: loss_weights: applies only to cross_entropy, not mse"),
        ]
        for (yaml, message) in refusals {
            guard case .failure(let error) = Self.parse(yaml) else {
                Issue.record("\(yaml) was accepted")
                continue
            }
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test func theDataDecidesTheCountAndTheTask() throws {
        var listed = try Self.parse("seed: 1\nloss_weights: [1, 2]\n").get()
        #expect(throws: NNTrainError.self) {
            try listed.resolveDataDefaults(task: .classification, inputWidth: 4, outputWidth: 3, file: "c.yaml")
        }
        do {
            try listed.resolveDataDefaults(task: .classification, inputWidth: 4, outputWidth: 3, file: "c.yaml")
        } catch {
            #expect(error.message == "c.yaml:2: loss_weights: has 2 weights but the data has 3 classes; "
                + "expected one weight per class")
        }
        try listed.resolveDataDefaults(task: .classification, inputWidth: 4, outputWidth: 2, file: "c.yaml")
        var regression = try Self.parse("seed: 1\nloss_weights: balanced\n").get()
        do {
            try regression.resolveDataDefaults(task: .regression, inputWidth: 4, outputWidth: 1, file: "c.yaml")
            Issue.record("balanced weights accepted for a regression target")
        } catch {
            #expect(error.message.hasPrefix("c.yaml:2: loss_weights: weighs classes, but the target of"))
        }
    }

    /// The trainer's training loss carries the weights (balanced ones from the training split's counts);
    /// validation and test figures stay unweighted.
    @Test func theTrainerWeighsOnlyItsTrainingLoss() {
        let base = ResumeTests.classificationData()
        guard case .classes(let labels) = base.train.targets else { return }
        // Make class 3 rare: every training row of it but one becomes class 0 (48 rows: 23, 12, 12, 1).
        var firstOfThree = true
        let skewed = labels.map { label -> Int32 in
            guard label == 3 else { return label }
            defer { firstOfThree = false }
            return firstOfThree ? 3 : 0
        }
        var train = base.train
        train.targets = .classes(skewed)
        let data = TrainingData(train: train, validation: base.validation, test: base.test, normalizer: base.normalizer)
        var config = Configuration()
        config.model.hidden = [8]
        config.lossWeights = .balanced
        let trainer = Trainer(configuration: config, data: data)
        let expected = [23.0, 12, 12, 1].map { 48 / (4 * $0) }
        #expect(trainer.classWeights == expected)
        #expect(trainer.loss == .weightedCrossEntropy(labelSmoothing: 0, weights: expected.map(Float.init)))
        #expect(trainer.evaluationLoss == .crossEntropy(labelSmoothing: 0))
        config.lossWeights = nil
        #expect(Trainer(configuration: config, data: data).loss == .crossEntropy(labelSmoothing: 0))
    }

    // MARK: data.sampler: balanced

    @Test func theBalancedSamplerDrawsEachClassEquallyOften() {
        // 4000 rows of classes 3000 / 600 / 300 / 100: WeightedRandomSampler(1 / count) draws each class with
        // probability 1/4, so ~1000 of 4000 draws each (binomial sd ≈ 27); the rarest's 100 rows ~10 times each.
        let labels = (0..<4000).map { Int32($0 < 3000 ? 0 : $0 < 3600 ? 1 : $0 < 3900 ? 2 : 3) }
        let sampler = BalancedSampler(labels: labels, classCount: 5)  // class 4 has no rows: never drawn
        var order = [Int32](repeating: -1, count: 4000), random = RandomGenerator(seed: 7, stream: 2)
        sampler.draw(into: &order, random: &random)
        var perClass = [Int](repeating: 0, count: 5)
        for row in order { perClass[Int(labels[Int(row)])] += 1 }
        #expect(perClass[4] == 0)
        for count in perClass.prefix(4) { #expect(abs(count - 1000) < 120, "\(perClass)") }
        #expect(Set(order.filter { $0 >= 3900 }).count > 90)  // nearly all of the rare class's rows appear
    }

    @Test func aBalancedEpochIsAsLongAsTheTrainingSetAndDrawsWithReplacement() throws {
        var config = Configuration()
        config.model.hidden = [8]
        config.training.epochs = 1
        config.training.batchSize = .rows(10)
        config.data.sampler = .balanced
        let data = ResumeTests.classificationData()
        let trainer = Trainer(configuration: config, data: data)
        try trainer.train()
        #expect(trainer.order.count == 48)
        #expect(Set(trainer.order).count < 48)  // with replacement: some rows twice, some not at all
        #expect(trainer.history.count == 1)
        var shuffled = config
        shuffled.data.sampler = .shuffle
        let plain = Trainer(configuration: shuffled, data: data)
        try plain.train()
        #expect(Set(plain.order).count == 48)
    }

    @Test func theSamplerIsRefusedForRegression() throws {
        var config = try Self.parse("seed: 1\ndata:\n  sampler: balanced\n").get()
        do {
            try config.resolveDataDefaults(task: .regression, inputWidth: 4, outputWidth: 1, file: "c.yaml")
            Issue.record("a balanced sampler accepted for a regression target")
        } catch {
            #expect(error.message.hasPrefix("c.yaml:3: data.sampler: balanced draws rows by class, but the target of"))
        }
    }
}
