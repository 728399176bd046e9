import Foundation
import Testing
@testable import NNTrain

/// Knowledge distillation: the loss and its gradient against the written formula (in Double) and
/// finite differences, the teacher's softened and averaged probabilities, regression, refusals of a
/// teacher that does not fit the data, and runs with a teacher (resume bit for bit, another teacher
/// refused, end to end through `TrainingRun`).
@Suite struct DistillationTests {
    // MARK: - The loss

    /// A buffer holding `values`, viewed as [rows, values.count / rows].
    static func matrix(_ values: [Float], rows: Int) -> (buffer: FloatBuffer, view: MatrixView) {
        let buffer = FloatBuffer(count: values.count)
        for (i, value) in values.enumerated() { buffer.base[i] = value }
        return (buffer, buffer.matrix(rows: rows, columns: values.count / rows))
    }

    /// The loss written out in Double, independently of `DistillationLoss`: for logits z [B, K], the
    /// teacher's probabilities p, labels a and partners b with mixup weight λ, label smoothing ε:
    /// α·T²·(1/B)Σᵢ Σ_c p·(log p − log softmax(z/T)) + (1 − α)·(1/B)Σᵢ (logsumexp(zᵢ) − Σ_c q_c·z_c).
    static func reference(_ z: [Double], p: [Double], rows: Int, a: [Int], b: [Int], lambda: Double, smoothing: Double,
                          temperature t: Double, alpha: Double) -> Double {
        let k = z.count / rows
        var kl = 0.0, ce = 0.0
        for i in 0..<rows {
            let row = Array(z[(i * k)..<((i + 1) * k)])
            let scaled = row.map { $0 / t }
            let lseT = log(scaled.map { exp($0) }.reduce(0, +))
            for c in 0..<k where p[i * k + c] > 0 { kl += p[i * k + c] * (log(p[i * k + c]) - (scaled[c] - lseT)) }
            let lse = log(row.map { exp($0) }.reduce(0, +))
            var target = 0.0
            for c in 0..<k {
                let onehot = (c == a[i] ? lambda : 0) + (c == b[i] ? 1 - lambda : 0)
                target += ((1 - smoothing) * onehot + smoothing / Double(k)) * row[c]
            }
            ce += lse - target
        }
        return alpha * t * t * kl / Double(rows) + (1 - alpha) * ce / Double(rows)
    }

    /// 3 rows of 4 classes; the teacher's probabilities include an exact zero (kl_div's xlogy: no term).
    static let logits: [Float] = [1.5, -0.3, 0.2, 2.1, -1.0, 0.4, 0.9, -0.2, 0.0, 3.0, -2.5, 0.7]
    static let teacherProbabilities: [Float] = [0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.5, 0, 0.05, 0.8, 0.05, 0.1]
    static let labels: [Int32] = [3, 2, 1], partners: [Int32] = [0, 2, 3]

    /// Evaluates `loss` on the fixed logits (with mixup when `lambda` is given), returning the mean
    /// loss and the gradient.
    static func evaluate(_ loss: DistillationLoss, logits: [Float] = logits, lambda: Float? = nil)
        -> (mean: Double, gradient: [Float], correct: Double)
    {
        let z = matrix(logits, rows: 3), p = matrix(teacherProbabilities, rows: 3)
        let g = matrix([Float](repeating: .nan, count: logits.count), rows: 3)
        var sums = LossSums()
        labels.withUnsafeBufferPointer { labels in
            partners.withUnsafeBufferPointer { partners in
                let targets: TargetBatch = if let lambda {
                    .mixedClasses(labels.baseAddress!, partners: partners.baseAddress!, lambda: lambda)
                } else {
                    .classes(labels.baseAddress!)
                }
                loss.evaluate(output: z.view, teacher: p.view, targets: targets, gradient: g.view, into: &sums)
            }
        }
        #expect(sums.rows == 3)
        return (sums.loss / 3, Array(g.view.elements), sums.correct)
    }

    @Test(arguments: [1.0, 2.0, 4.0], [0.0, 0.5, 0.9, 1.0])
    func theLossAndItsGradientFollowTheFormula(temperature: Double, alpha: Double) {
        for (smoothing, lambda) in [(0.0, nil), (0.1, nil), (0.0, 0.7), (0.2, 0.3)] as [(Double, Double?)] {
            let loss = DistillationLoss(hard: .crossEntropy(labelSmoothing: Float(smoothing)),
                                        temperature: Float(temperature), alpha: Float(alpha))
            let (mean, gradient, _) = Self.evaluate(loss, lambda: lambda.map(Float.init))
            let z = Self.logits.map(Double.init), p = Self.teacherProbabilities.map(Double.init)
            let a = Self.labels.map(Int.init), b = lambda == nil ? a : Self.partners.map(Int.init)
            func reference(_ z: [Double]) -> Double {
                Self.reference(z, p: p, rows: 3, a: a, b: b, lambda: lambda ?? 1, smoothing: smoothing,
                               temperature: temperature, alpha: alpha)
            }
            let expected = reference(z)
            #expect(abs(mean - expected) <= 1e-5 * max(1, abs(expected)), "T \(temperature) α \(alpha): \(mean) vs \(expected)")
            // The gradient against central differences of the Double formula, and against its closed form.
            for index in z.indices {
                let h = 1e-5
                var up = z, down = z
                up[index] += h
                down[index] -= h
                let numeric = (reference(up) - reference(down)) / (2 * h)
                #expect(abs(Double(gradient[index]) - numeric) <= 2e-5, "T \(temperature) α \(alpha) z[\(index)]")
            }
            let row = index(0), q = softmax(Array(z[row]).map { $0 / temperature }), s = softmax(Array(z[row]))
            let onehot0 = (0..<4).map { c in (c == a[0] ? lambda ?? 1 : 0) + (c == b[0] ? 1 - (lambda ?? 1) : 0) }
            for c in 0..<4 {
                let smoothed = (1 - smoothing) * onehot0[c] + smoothing / 4
                let closed = alpha * temperature * (q[c] - p[c]) / 3 + (1 - alpha) * (s[c] - smoothed) / 3
                #expect(abs(Double(gradient[c]) - closed) <= 1e-6)
            }
        }
    }

    private func index(_ row: Int) -> Range<Int> { (row * 4)..<((row + 1) * 4) }

    private func softmax(_ z: [Double]) -> [Double] {
        let m = z.max() ?? 0, e = z.map { exp($0 - m) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// A hand-computed case: one row, two classes, T = 2, α = 0.5, z_s = (0, 2 ln 3) so that
    /// softmax(z/2) = (1/4, 3/4), teacher p = (1/2, 1/2), label 0:
    /// KL = ½ ln 2 + ½ ln(2/3), CE = ln(1 + 9) = ln 10, L = 0.5·4·KL + 0.5·ln 10.
    @Test func aHandComputedCase() {
        let loss = DistillationLoss(hard: .crossEntropy(labelSmoothing: 0), temperature: 2, alpha: 0.5)
        let z = Self.matrix([0, Float(2 * log(3.0))], rows: 1), p = Self.matrix([0.5, 0.5], rows: 1)
        let gradient = Self.matrix([0, 0], rows: 1)
        let label: [Int32] = [0]
        var sums = LossSums()
        label.withUnsafeBufferPointer { label in
            loss.evaluate(output: z.view, teacher: p.view, targets: .classes(label.baseAddress!), gradient: gradient.view,
                          into: &sums)
        }
        let g = Array(gradient.view.elements)
        let kl = 0.5 * log(2.0) + 0.5 * log(2.0 / 3)
        #expect(abs(sums.loss - (2 * kl + 0.5 * log(10.0))) < 1e-6)
        // ∂/∂z₀ = 0.5·2·(1/4 − 1/2) + 0.5·(1/10 − 1) = −0.25 − 0.45
        #expect(abs(g[0] - -0.7) < 1e-6 && abs(g[1] - 0.7) < 1e-6)
        #expect(sums.correct == 0)  // the student's own argmax (class 1) against the label
    }

    /// Regression: α·MSE(z_s, z_t) + (1 − α)·the target loss (mse and huber here), value and gradient.
    @Test(arguments: [0.0, 0.3, 1.0])
    func regressionMixesTheTeachersOutputsWithTheTargets(alpha: Double) {
        let z: [Float] = [1.0, -2.0, 0.5, 3.0], t: [Float] = [0.5, -1.0, 1.5, 2.0], y: [Float] = [0.0, -1.5, 4.0, 2.5]
        for hard in [Loss.mse, .huber(delta: 1)] {
            let loss = DistillationLoss(hard: hard, temperature: 4, alpha: Float(alpha))
            let gradient = Self.matrix([0, 0, 0, 0], rows: 2), output = Self.matrix(z, rows: 2)
            let teacher = Self.matrix(t, rows: 2)
            var sums = LossSums()
            y.withUnsafeBufferPointer { y in
                loss.evaluate(output: output.view, teacher: teacher.view, targets: .values(y.baseAddress!),
                              gradient: gradient.view, into: &sums)
            }
            let g = Array(gradient.view.elements)
            func reference(_ z: [Double]) -> Double {
                let soft = (0..<4).map { pow(z[$0] - Double(t[$0]), 2) }.reduce(0, +) / 4
                let own = (0..<4).map { i -> Double in
                    let d = z[i] - Double(y[i])
                    if case .huber = hard { return abs(d) < 1 ? 0.5 * d * d : abs(d) - 0.5 }
                    return d * d
                }.reduce(0, +) / 4
                return alpha * soft + (1 - alpha) * own
            }
            let zd = z.map(Double.init)
            #expect(abs(sums.loss / 2 - reference(zd)) < 1e-6)
            for i in 0..<4 {
                var up = zd, down = zd
                up[i] += 1e-6
                down[i] -= 1e-6
                #expect(abs(Double(g[i]) - (reference(up) - reference(down)) / 2e-6) < 1e-5)
            }
        }
    }

    // MARK: - The teacher

    /// A linear network (no hidden layer) of 3 inputs and 4 outputs with the given weights.
    static func linear(_ weights: [Float], _ bias: [Float]) -> Network {
        var config = Configuration()
        config.model.hidden = []
        let network = config.makeNetwork(inputWidth: 3, outputWidth: 4, targetScaling: nil)
        let values = network.parameters.values.base
        for (i, w) in (weights + bias).enumerated() { values[i] = w }
        return network
    }

    /// An ensemble's output is the mean of its members' softmax(z/T), each member fed the batch as its
    /// own normaliser makes it: here member 2 has another normaliser, so it sees (x/c + s − s')·c'.
    @Test(arguments: [1.0, 4.0])
    func anEnsembleAveragesItsMembersSoftenedProbabilities(temperature: Double) throws {
        let w1: [Float] = [0.5, -1, 0.2, 0.1, 0.3, -0.4, -0.7, 0.8, 0.05, 1.2, 0, -0.3], b1: [Float] = [0.1, 0, -0.2, 0.3]
        let w2: [Float] = [-0.2, 0.4, 0.6, 0.9, -0.5, 0.1, 0.3, 0.3, -0.8, 0, 0.7, 0.2], b2: [Float] = [0, 0.5, 0.1, -0.1]
        let student = Normalizer(shift: [1, 2, 0], scale: [0.5, 1, 2])
        let other = Normalizer(shift: [0, 1, 1], scale: [1, 0.25, 1])
        let teacher = Teacher(
            members: [(Self.linear(w1, b1), student, .init(path: "a.bin", fingerprint: "00000001")),
                      (Self.linear(w2, b2), other, .init(path: "b.bin", fingerprint: "00000002"))],
            studentNormalizer: student, temperature: Float(temperature), producesProbabilities: true)
        teacher.reserve(rows: 2)
        let raw: [[Double]] = [[3, 1, -1], [0.5, 4, 2]]
        let x = Self.matrix(raw.flatMap { r in
            (0..<3).map { Float((r[$0] - Double(student.shift[$0])) * Double(student.scale[$0])) }
        }, rows: 2)
        let out = Array(teacher.outputs(for: x.view).elements)
        for (i, r) in raw.enumerated() {
            func logits(_ w: [Float], _ b: [Float], _ n: Normalizer) -> [Double] {
                let input = (0..<3).map { (r[$0] - Double(n.shift[$0])) * Double(n.scale[$0]) }
                return (0..<4).map { k in Double(b[k]) + (0..<3).map { Double(w[k * 3 + $0]) * input[$0] }.reduce(0, +) }
            }
            let p1 = softmax(logits(w1, b1, student).map { $0 / temperature })
            let p2 = softmax(logits(w2, b2, other).map { $0 / temperature })
            for k in 0..<4 { #expect(abs(Double(out[i * 4 + k]) - (p1[k] + p2[k]) / 2) < 1e-6) }
        }
        #expect(teacher.records.map(\.fingerprint) == ["00000001", "00000002"])
    }

    @Test func aRegressionTeacherAveragesItsMembersOutputs() {
        let a = Self.linear([Float](repeating: 0.5, count: 12), [1, 2, 3, 4])
        let b = Self.linear([Float](repeating: -0.25, count: 12), [0, 0, 0, 8])
        let n = Normalizer(shift: [0, 0, 0], scale: [1, 1, 1])
        let teacher = Teacher(members: [(a, n, .init(path: "a", fingerprint: "")), (b, n, .init(path: "b", fingerprint: ""))],
                              studentNormalizer: n, temperature: 4, producesProbabilities: false)
        teacher.reserve(rows: 1)
        let x = Self.matrix([1, 2, 3], rows: 1)  // Σx = 6: member a gives 3 + bias, member b −1.5 + bias
        let out = Array(teacher.outputs(for: x.view).elements)
        let expected: [Float] = [1.25, 1.75, 2.25, 6.75]  // ((1..4) + 3 + (0, 0, 0, 8) − 1.5) / 2
        #expect(out == expected)
    }

    // MARK: - Runs with a teacher

    /// A teacher of `ResumeTests.classificationData()`, trained for two epochs and written to `path`.
    static func writeTeacher(to path: String, seed: UInt64 = 42, data: TrainingData = ResumeTests.classificationData())
        throws {
        var config = Configuration()
        config.seed = seed
        config.model.hidden = [32]
        config.training.epochs = 2
        config.training.batchSize = .rows(10)
        let trainer = Trainer(configuration: config, data: data)
        try trainer.train()
        try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).write(to: path)
    }

    /// The student: ResumeTests' SGD config (dropout, batch norm, label smoothing, plateau...) distilled.
    static func studentConfig(teacher: [String]) -> Configuration {
        var config = ResumeTests.sgdConfig()
        config.model.hidden = [8]
        config.distillation.teacher = teacher
        config.distillation.temperature = 3
        config.distillation.alpha = 0.7
        return config
    }

    static func teacher(_ config: Configuration, _ data: TrainingData) throws -> Teacher {
        try #require(try Teacher.load(for: config, data: data, file: "config.yaml"))
    }

    /// Interrupted and resumed through a checkpoint's bytes, a distilled run (an ensemble teacher)
    /// ends bit for bit as the run that never stopped; the checkpoint records the teachers.
    @Test func aDistilledRunResumesBitForBit() throws {
        let folder = try TemporaryFolder()
        try Self.writeTeacher(to: folder.file("t1.bin"))
        try Self.writeTeacher(to: folder.file("t2.bin"), seed: 7)
        let data = ResumeTests.classificationData()
        let config = Self.studentConfig(teacher: [folder.file("t1.bin"), folder.file("t2.bin")])
        func run(stops: [Int]) throws -> Trainer {
            var trainer = Trainer(configuration: config, data: data, teacher: try Self.teacher(config, data))
            for stop in stops {
                trainer.observers = [StopWhen { $0.stepCount == stop }]
                try trainer.train()
                #expect(trainer.stepCount == stop)
                let checkpoint = Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted)
                #expect(checkpoint.teachers.map(\.path) == config.distillation.teacher)
                let bytes = CheckpointFile.encode(try checkpoint.contents())
                let read = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
                #expect(read.teachers == checkpoint.teachers)
                trainer = Trainer(configuration: config, data: data, teacher: try Self.teacher(config, data))
                try read.restore(into: trainer, path: "last.bin")
            }
            try trainer.train()
            return trainer
        }
        let straight = try run(stops: []), resumed = try run(stops: [3, 10, 22])
        #expect(straight.state.model.parameters.withUnsafeBytes(Array.init)
            == resumed.state.model.parameters.withUnsafeBytes(Array.init))
        #expect(ResumeTests.withoutTimings(straight.history) == ResumeTests.withoutTimings(resumed.history))
        // The teacher changed training: the same student without it ends elsewhere.
        let alone = Trainer(configuration: config, data: data)
        try alone.train()
        #expect(alone.state.model.parameters != straight.state.model.parameters)
    }

    /// In fp16 with loss scaling and every augmentation, mixup included (the CE term's), the teacher is
    /// rebuilt in the student's precision, sees the augmented batch, and the run resumes bit for bit.
    @Test func aMixedPrecisionDistilledRunWithMixupResumesBitForBit() throws {
        let folder = try TemporaryFolder()
        let data = ResumeTests.imageData()
        try Self.writeTeacher(to: folder.file("t.bin"), data: data)
        var config = ResumeTests.mixedPrecisionConfig()
        config.distillation.teacher = [folder.file("t.bin")]
        config.distillation.temperature = 2
        let teacher = try Self.teacher(config, data)
        #expect(teacher.members.map(\.network.precision) == [.fp16])
        func run(stops: [Int]) throws -> Trainer {
            var trainer = Trainer(configuration: config, data: data, teacher: try Self.teacher(config, data))
            for stop in stops {
                trainer.observers = [StopWhen { $0.stepCount == stop }]
                try trainer.train()
                let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted)
                    .contents())
                let read = try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
                trainer = Trainer(configuration: config, data: data, teacher: try Self.teacher(config, data))
                try read.restore(into: trainer, path: "last.bin")
            }
            try trainer.train()
            return trainer
        }
        let straight = try run(stops: []), resumed = try run(stops: [1, 6, 9])
        #expect(straight.state.model.parameters.withUnsafeBytes(Array.init)
            == resumed.state.model.parameters.withUnsafeBytes(Array.init))
        #expect(straight.state.gradScaler == resumed.state.gradScaler)
        #expect(ResumeTests.withoutTimings(straight.history) == ResumeTests.withoutTimings(resumed.history))
    }

    /// A checkpoint distilled from one teacher is not resumed with another, nor without one, nor is a
    /// checkpoint trained alone resumed with a teacher: each refusal names both.
    @Test func aResumeWithAnotherTeacherIsRefused() throws {
        let folder = try TemporaryFolder()
        try Self.writeTeacher(to: folder.file("t1.bin"))
        try Self.writeTeacher(to: folder.file("t2.bin"), seed: 7)
        let data = ResumeTests.classificationData()
        let first = Self.studentConfig(teacher: [folder.file("t1.bin")])
        let trainer = Trainer(configuration: first, data: data, teacher: try Self.teacher(first, data))
        trainer.observers = [StopWhen { $0.stepCount == 3 }]
        try trainer.train()
        let distilled = Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted)
        let fingerprint = try #require(distilled.teachers.first?.fingerprint)
        #expect(fingerprint.count == 8)

        let second = Self.studentConfig(teacher: [folder.file("t2.bin")])
        let other = Trainer(configuration: second, data: data, teacher: try Self.teacher(second, data))
        #expect {
            try distilled.restore(into: other, path: "last.bin")
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return (error as? NNTrainError)?.kind == .config && message.contains(folder.file("t1.bin"))
                && message.contains(folder.file("t2.bin")) && message.contains(fingerprint)
                && !message.contains("\n")
        }
        #expect(throws: NNTrainError.self) {
            try distilled.restore(into: Trainer(configuration: first, data: data), path: "last.bin")
        }
        var alone = Checkpoint(trainer: trainer, bestRecord: nil, reason: .interrupted)
        alone.teachers = []
        #expect {
            try alone.restore(into: Trainer(configuration: first, data: data, teacher: try Self.teacher(first, data)),
                              path: "last.bin")
        } throws: { error in
            (error as? NNTrainError)?.message.contains("distilled from no teacher") == true
        }
        // The same teacher restores.
        try distilled.restore(into: Trainer(configuration: first, data: data, teacher: try Self.teacher(first, data)),
                              path: "last.bin")
    }

    /// With α = 0 the teacher's term weighs nothing: the run is bit for bit the run without a teacher
    /// (so the loss path adds no rounding of its own); the logged train loss is the distillation loss,
    /// validation figures the student's own.
    @Test func alphaZeroIsTheRunWithoutATeacher() throws {
        let folder = try TemporaryFolder()
        try Self.writeTeacher(to: folder.file("t.bin"))
        let data = ResumeTests.classificationData()
        var config = Self.studentConfig(teacher: [folder.file("t.bin")])
        config.distillation.alpha = 0
        config.training.epochs = 3
        config.earlyStopping.restoreBest = false
        let distilled = Trainer(configuration: config, data: data, teacher: try Self.teacher(config, data))
        try distilled.train()
        let alone = Trainer(configuration: config, data: data)
        try alone.train()
        #expect(distilled.state.model == alone.state.model)
        #expect(ResumeTests.withoutTimings(distilled.history) == ResumeTests.withoutTimings(alone.history))

        config.distillation.alpha = 1
        let soft = Trainer(configuration: config, data: data, teacher: try Self.teacher(config, data))
        try soft.train()
        let last = try #require(soft.history.last)
        #expect(last.validation == soft.evaluate(data.validation))  // the student's own loss, no teacher
        #expect(soft.history.first?.trainLoss != alone.history.first?.trainLoss)
    }

    // MARK: - Refusals

    @Test func aTeacherOfOtherClassesOrInputsIsRefusedNamingBoth() throws {
        let folder = try TemporaryFolder()
        try Self.writeTeacher(to: folder.file("t.bin"))
        let config = Self.studentConfig(teacher: [folder.file("t.bin")])
        var renamed = ResumeTests.classificationData()
        renamed.train.classNames = ["a", "b", "c", "e"]
        #expect {
            _ = try Teacher.load(for: config, data: renamed, file: "config.yaml")
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .config && error?.message.contains("[a, b, c, d]") == true
                && error?.message.contains("[a, b, c, e]") == true && error?.message.contains("distillation.teacher") == true
        }
        #expect {
            _ = try Teacher.load(for: config, data: ResumeTests.imageData(), file: "config.yaml")
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return message.contains("the teacher takes 16 table inputs") && message.contains("gives 784 table inputs")
        }
    }

    // MARK: - End to end

    /// `nntrain run` with a `distillation:` section: a teacher trained on the images teaches a smaller
    /// student; the config's line of `teacher` is named when the teacher does not fit; a resume of the
    /// student with another teacher is refused.
    @Test func aRunDistilsFromACheckpointAndRefusesAnotherTeacherOnResume() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let (teacherRun, _) = try CheckpointEvaluationTests.trainedRun(folder)
        let teacherPath = teacherRun + "/checkpoints/last.bin"
        func student(_ teacher: String, epochs: Int) throws -> String {
            try folder.write("""
                data: {path: \(folder.path), validation_split: 0.25}
                model: {hidden: [6]}
                training: {epochs: \(epochs), batch_size: 15}
                output: {dir: \(folder.file("student")), plots: false}
                distillation:
                  teacher: \(teacher)
                  temperature: 2
                """, to: "student.txt")
        }
        let outcome = try TrainingRun.execute(configPath: try student(teacherPath, epochs: 1), overrides: [])
        let summary = try #require(outcome.summary)
        #expect(summary.epochsCompleted == 1)
        let checkpoint = try Checkpoint.read(path: folder.file("student/checkpoints/last.bin"))
        #expect(checkpoint.teachers.map(\.path) == [teacherPath])
        #expect(checkpoint.configurationYAML.contains("temperature: 2"))
        // inspect names the teacher, its CRC-32 and the distillation's T and alpha.
        let description = try CheckpointDescription.read(path: folder.file("student/checkpoints/last.bin"))
        let fingerprint = try #require(checkpoint.teachers.first?.fingerprint)
        #expect(description.teachers == checkpoint.teachers && description.distillation?.alpha == 0.9)
        #expect(description.text().contains("\ndistilled from: \(teacherPath) (CRC-32 \(fingerprint)), temperature 2, "
            + "alpha 0.9\n"))
        #expect(try CheckpointDescription.read(path: teacherPath).teachers == nil)

        // Another teacher (a copy of the student itself, another checkpoint) on resume is refused.
        let otherPath = folder.file("other.bin")
        try FileManager.default.copyItem(atPath: folder.file("student/checkpoints/last.bin"), toPath: otherPath)
        #expect {
            _ = try TrainingRun.execute(configPath: try student(otherPath, epochs: 2), overrides: [], start: .resumeLast)
        } throws: { error in
            let message = (error as? NNTrainError)?.message ?? ""
            return message.contains("distilled from \(teacherPath)") && message.contains(otherPath)
        }

        // A teacher of other data: refused at the line of distillation.teacher.
        _ = try BonusData.write(rows: 100, seed: 2, to: folder.file("bonus.csv"))
        let bonus = try folder.write("""
            data: {dataset: bonus, path: \(folder.file("bonus.csv"))}
            loss: mse
            training: {epochs: 1}
            output: {dir: \(folder.file("bonus-run")), plots: false}
            distillation:
              alpha: 0.5
              teacher: \(teacherPath)
            """, to: "bonus.txt")
        #expect {
            _ = try TrainingRun.execute(configPath: bonus, overrides: [])
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .config && error?.message.hasPrefix("\(bonus):7:") == true
                && error?.message.contains("images of 28×28 pixels") == true
        }
    }
}

extension DistillationTests {
    /// lr-find steps on the loss the run trains on: with a teacher at alpha 0 its losses are the plain
    /// run's to the bit (the teacher's term has no weight), at alpha 0.9 they are the distillation
    /// loss, another curve; pruning (to 90% before the first step here) takes no part in the test.
    @Test func lrFindUsesTheTeacherAndLeavesPruningOut() throws {
        let folder = try CheckpointEvaluationTests.imageFolder()
        let (teacherRun, _) = try CheckpointEvaluationTests.trainedRun(folder)
        let schedule = try LRFinderSchedule(startLearningRate: 1e-4, endLearningRate: 1, steps: 12)
        func losses(_ extra: String) throws -> [Double] {
            let config = try folder.write("""
                data: {path: \(folder.path), validation_split: 0.25}
                model: {hidden: [6]}
                training: {epochs: 2, batch_size: 15}
                output: {dir: \(folder.file("lr")), plots: false}
                \(extra)
                """, to: "lr.txt")
            return try LRRangeTest.execute(configPath: config, overrides: [], schedule: schedule).result.points.map(\.loss)
        }
        let plain = try losses("")
        let teacher = "distillation: {teacher: \(teacherRun)/checkpoints/last.bin, alpha: "
        #expect(plain.count == 12)
        #expect(try losses(teacher + "0}") == plain)
        let distilled = try losses(teacher + "0.9}")
        #expect(distilled.count == plain.count && distilled != plain)
        #expect(try losses("pruning: {method: magnitude, sparsity: 0.9, schedule: once}") == plain)
    }
}
