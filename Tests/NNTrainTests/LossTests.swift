import Foundation
import Testing
@testable import NNTrain

/// Loss values against hand-computed numbers.
@Suite struct LossTests {
    @Test func crossEntropyMatchesLogSumExpByHand() throws {
        // Row 0: logits (1, 2, 3), label 2: loss = log(e¹ + e² + e³) − 3 = 0.40760596.
        // Row 1: logits (1000, 0, −1000), label 1: loss = 1000 (the max-subtraction keeps it finite).
        var logits: [Float] = [1, 2, 3, 1000, 0, -1000]
        var gradient = [Float](repeating: 0, count: 6)
        let labels: [Int32] = [2, 1]
        var sums = LossSums()
        logits.withUnsafeMutableBufferPointer { l in
            gradient.withUnsafeMutableBufferPointer { g in
                labels.withUnsafeBufferPointer { y in
                    Loss.crossEntropy(labelSmoothing: 0).evaluate(
                        output: MatrixView(base: l.baseAddress!, rows: 2, columns: 3), targets: .classes(y.baseAddress!),
                        gradient: MatrixView(base: g.baseAddress!, rows: 2, columns: 3), into: &sums)
                }
            }
        }
        let row0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3
        #expect(abs(sums.loss - (row0 + 1000)) < 1e-4)
        #expect(sums.correct == 1)  // row 0 predicts class 2 (right), row 1 predicts class 0 (wrong)
        #expect(sums.rows == 2)
        // ∂L/∂z = (softmax − onehot) / B with B = 2.
        let softmax0 = [exp(1.0), exp(2.0), exp(3.0)].map { $0 / (exp(1.0) + exp(2.0) + exp(3.0)) }
        #expect(abs(Double(gradient[0]) - softmax0[0] / 2) < 1e-6)
        #expect(abs(Double(gradient[2]) - (softmax0[2] - 1) / 2) < 1e-6)
        #expect(abs(Double(gradient[3]) - 0.5) < 1e-6)
        #expect(abs(Double(gradient[4]) + 0.5) < 1e-6)
    }

    @Test func meanSquaredErrorIsTheMeanOverRowsAndOutputs() {
        var output: [Float] = [1, 2, 3, 4]  // 2 rows × 2 outputs
        let targets: [Float] = [0, 2, 5, 4]
        var gradient = [Float](repeating: 0, count: 4)
        var sums = LossSums()
        output.withUnsafeMutableBufferPointer { o in
            gradient.withUnsafeMutableBufferPointer { g in
                targets.withUnsafeBufferPointer { t in
                    Loss.mse.evaluate(output: MatrixView(base: o.baseAddress!, rows: 2, columns: 2),
                                      targets: .values(t.baseAddress!),
                                      gradient: MatrixView(base: g.baseAddress!, rows: 2, columns: 2), into: &sums)
                }
            }
        }
        // Squared errors 1, 0, 4, 0: mean 5/4; per-row sums (1+0)/2 + (4+0)/2 = 2.5 over 2 rows.
        #expect(sums.loss / Double(sums.rows) == 1.25)
        let expected: [Float] = [2 * 1 / 4, 0, 2 * -2 / 4, 0]
        #expect(gradient == expected)
    }

    /// Runs `loss` on one batch, returning the summed loss and the gradient.
    static func run(_ loss: Loss, output: [Float], columns: Int, targets: TargetBatch) -> (LossSums, [Float]) {
        var output = output, gradient = [Float](repeating: 0, count: output.count), sums = LossSums()
        output.withUnsafeMutableBufferPointer { o in
            gradient.withUnsafeMutableBufferPointer { g in
                loss.evaluate(output: MatrixView(base: o.baseAddress!, rows: o.count / columns, columns: columns),
                              targets: targets,
                              gradient: MatrixView(base: g.baseAddress!, rows: o.count / columns, columns: columns), into: &sums)
            }
        }
        return (sums, gradient)
    }

    @Test func labelSmoothingMatchesPyTorchsDefinition() {
        // nn.CrossEntropyLoss(label_smoothing=ε): (1 − ε)·nll + ε·mean_c(−log p_c).
        let logits: [Float] = [0.5, -1, 2], label: [Int32] = [0], epsilon = 0.2
        let logSumExp = log(exp(0.5) + exp(-1.0) + exp(2.0))
        let logP = [0.5, -1.0, 2.0].map { $0 - logSumExp }
        let expected = (1 - epsilon) * -logP[0] + epsilon * logP.map { -$0 }.reduce(0, +) / 3
        let (sums, gradient) = label.withUnsafeBufferPointer {
            Self.run(.crossEntropy(labelSmoothing: Float(epsilon)), output: logits, columns: 3,
                     targets: .classes($0.baseAddress!))
        }
        #expect(abs(sums.loss - expected) < 1e-5)
        let q = [1 - epsilon + epsilon / 3, epsilon / 3, epsilon / 3]
        for c in 0..<3 { #expect(abs(Double(gradient[c]) - (exp(logP[c]) - q[c])) < 1e-6) }
    }

    @Test func mixupIsTheLambdaWeightedSumOfTheTwoLosses() {
        let logits: [Float] = [0.5, -1, 2, 1, 1, 0]
        let a: [Int32] = [0, 2], b: [Int32] = [2, 1], lambda: Float = 0.7
        func loss(_ labels: [Int32]) -> (LossSums, [Float]) {
            labels.withUnsafeBufferPointer {
                Self.run(.crossEntropy(labelSmoothing: 0), output: logits, columns: 3, targets: .classes($0.baseAddress!))
            }
        }
        let (lossA, gradA) = loss(a), (lossB, gradB) = loss(b)
        let (mixed, gradMixed) = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                Self.run(.crossEntropy(labelSmoothing: 0), output: logits, columns: 3,
                         targets: .mixedClasses(pa.baseAddress!, partners: pb.baseAddress!, lambda: lambda))
            }
        }
        #expect(abs(mixed.loss - (0.7 * lossA.loss + 0.3 * lossB.loss)) < 1e-5)
        for i in 0..<6 { #expect(abs(gradMixed[i] - (0.7 * gradA[i] + 0.3 * gradB[i])) < 1e-6) }
        // Row 0 predicts class 2 (b's label, weight 0.3); row 1 predicts class 0 (neither).
        #expect(abs(mixed.correct - 0.3) < 1e-6)
    }

    @Test func maeAndHuberMatchTheirDefinitions() {
        let output: [Float] = [1, 2, 3, 4], target: [Float] = [0, 2, 5, 3.5]  // d = 1, 0, −2, 0.5
        let (mae, maeGradient) = target.withUnsafeBufferPointer {
            Self.run(.mae, output: output, columns: 1, targets: .values($0.baseAddress!))
        }
        let meanAbsolute: Double = (1 + 0 + 2 + 0.5) / 4
        let expectedMAEGradient: [Float] = [0.25, 0, -0.25, 0.25]
        #expect(mae.loss / Double(mae.rows) == meanAbsolute)
        #expect(maeGradient == expectedMAEGradient)
        // δ = 1: h(1) = 1·(1 − 0.5) = 0.5 (|d| = δ is the linear branch), h(0) = 0, h(−2) = 1.5, h(0.5) = 0.125.
        let (huber, huberGradient) = target.withUnsafeBufferPointer {
            Self.run(.huber(delta: 1), output: output, columns: 1, targets: .values($0.baseAddress!))
        }
        let meanHuber: Double = (0.5 + 0 + 1.5 + 0.125) / 4
        let expectedHuberGradient: [Float] = [0.25, 0, -0.25, 0.125]
        #expect(huber.loss / Double(huber.rows) == meanHuber)
        #expect(huberGradient == expectedHuberGradient)
    }
}
