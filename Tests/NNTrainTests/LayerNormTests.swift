import Foundation
import Testing

@testable import NNTrain

/// nn.LayerNorm's forward pass against the formula written out in Double, and its backward pass
/// against central finite differences of L = Σ w_ij·y_ij.
@Suite struct LayerNormTests {
    static let rows = 3, width = 5
    static let x: [Float] = [0.3, -1.2, 2.0, 0.7, -0.4, 1.5, 1.5, -0.5, 0.2, 3.1, -2.2, 0.1, 0.9, -0.8, 1.3]
    static let gamma: [Float] = [1.2, 0.8, -0.5, 1.0, 0.3]
    static let beta: [Float] = [0.1, -0.2, 0.0, 0.4, -0.3]
    static let w: [Float] = [0.5, -1.0, 0.3, 0.8, -0.2, 1.1, 0.4, -0.6, 0.2, 0.9, -0.7, 0.6, 0.1, -0.3, 1.4]

    /// A LayerNorm over `width` features with `activation`, γ and β set.
    static func layer(_ activation: Activation) -> (LayerNorm, ParameterStore) {
        let store = ParameterStore([("norms.0.weight", [width], .normScale), ("norms.0.bias", [width], .normShift)])
        for j in 0..<width {
            store.values.base[j] = gamma[j]
            store.values.base[width + j] = beta[j]
        }
        let norm = LayerNorm(parameters: store, scale: store.tensors[0], shift: store.tensors[1], activation: activation)
        norm.reserve(rows: rows)
        return (norm, store)
    }

    static func forward(_ norm: LayerNorm, _ input: [Float]) -> [Float] {
        let x = FloatBuffer(count: rows * width), y = FloatBuffer(count: rows * width)
        for k in input.indices { x.base[k] = input[k] }
        norm.forward(x.matrix(rows: rows, columns: width), into: y.matrix(rows: rows, columns: width), training: true)
        return Array(y.storage)
    }

    @Test func forwardIsTheRowsNormalisedThenScaledAndShifted() {
        let (norm, _) = Self.layer(.identity)
        let y = Self.forward(norm, Self.x)
        for i in 0..<Self.rows {
            let row = (0..<Self.width).map { Double(Self.x[i * Self.width + $0]) }
            let mean = row.reduce(0, +) / Double(Self.width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(Self.width)
            for j in 0..<Self.width {
                let expected = (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(Self.gamma[j]) + Double(Self.beta[j])
                #expect(abs(Double(y[i * Self.width + j]) - expected) < 1e-5, "row \(i), feature \(j)")
            }
        }
    }

    @Test(arguments: [Activation.identity, .tanh, .gelu])
    func backwardMatchesFiniteDifferences(activation: Activation) {
        let (norm, store) = Self.layer(activation)
        func loss(_ input: [Float]) -> Double {
            zip(Self.forward(norm, input), Self.w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let x = FloatBuffer(count: Self.rows * Self.width), y = FloatBuffer(count: Self.rows * Self.width)
        let dy = FloatBuffer(count: Self.rows * Self.width), dx = FloatBuffer(count: Self.rows * Self.width)
        for k in Self.x.indices { x.base[k] = Self.x[k]; dy.base[k] = Self.w[k] }
        let shape = (rows: Self.rows, columns: Self.width)
        norm.forward(x.matrix(rows: shape.rows, columns: shape.columns), into: y.matrix(rows: shape.rows, columns: shape.columns),
                     training: true)
        norm.backward(input: x.matrix(rows: shape.rows, columns: shape.columns), output: y.matrix(rows: shape.rows,
                      columns: shape.columns), outputGradient: dy.matrix(rows: shape.rows, columns: shape.columns),
                      inputGradient: dx.matrix(rows: shape.rows, columns: shape.columns))
        let h: Float = 1e-2
        for k in Self.x.indices {
            var plus = Self.x, minus = Self.x
            plus[k] += h
            minus[k] -= h
            let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
            #expect(abs(Double(dx.base[k]) - numeric) < 2e-3 * max(1, abs(numeric)), "dx[\(k)]")
        }
        let analytic = Array(store.gradients.storage)
        for p in 0..<(2 * Self.width) {
            let saved = store.values.base[p]
            store.values.base[p] = saved + h
            let up = loss(Self.x)
            store.values.base[p] = saved - h
            let down = loss(Self.x)
            store.values.base[p] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(Double(analytic[p]) - numeric) < 2e-3 * max(1, abs(numeric)), "parameter \(p)")
        }
    }
}
