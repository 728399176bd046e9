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
                    Loss.crossEntropy.evaluate(
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
}
