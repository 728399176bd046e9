import Foundation
import Testing
@testable import NNTrain

/// The first five steps of each optimizer on a fixed quadratic, f(θ) = Σᵢ aᵢ(θᵢ − cᵢ)², against the
/// update rules of torch.optim's documentation written out here in double precision.
@Suite struct OptimizerTests {
    static let start: [Double] = [0.5, -1.5, 2.0, 0.0, -0.25]
    static let a: [Double] = [1.0, 0.5, 2.0, 0.1, 3.0]
    static let c: [Double] = [1.0, 1.0, -1.0, 0.5, 0.0]

    static func gradient(_ theta: [Double]) -> [Double] {
        (0..<theta.count).map { 2 * a[$0] * (theta[$0] - c[$0]) }
    }

    /// Runs `optimizer` for five steps, returning θ after each step.
    static func trajectory(_ optimizer: any Optimizer, lr: Float) -> [[Float]] {
        var theta = start.map(Float.init)
        var steps: [[Float]] = []
        for _ in 0..<5 {
            let g = gradient(theta.map(Double.init)).map(Float.init)
            theta.withUnsafeMutableBufferPointer { p in
                g.withUnsafeBufferPointer { optimizer.step(parameters: p, gradients: $0, learningRate: lr) }
            }
            steps.append(theta)
        }
        return steps
    }

    static func expectClose(_ actual: [[Float]], _ expected: [[Double]]) {
        for (step, (got, want)) in zip(actual, expected).enumerated() {
            for (i, (g, w)) in zip(got, want).enumerated() {
                #expect(abs(Double(g) - w) <= 1e-6 * max(abs(w), 1), "step \(step + 1), θ[\(i)]: \(g) vs \(w)")
            }
        }
    }

    @Test(arguments: [(0.0, 0.0), (0.9, 0.0), (0.9, 0.01)])
    func sgdFollowsTorchRule(momentum: Double, weightDecay: Double) {
        let lr = 0.05
        // torch.optim.SGD: g ← g + λθ; b ← g (first step) or μb + g; θ ← θ − γb.
        var theta = Self.start, buffer: [Double] = []
        var expected: [[Double]] = []
        for step in 0..<5 {
            var g = Self.gradient(theta)
            for i in g.indices { g[i] += weightDecay * theta[i] }
            if momentum != 0 {
                buffer = step == 0 ? g : (0..<g.count).map { momentum * buffer[$0] + g[$0] }
                g = buffer
            }
            for i in theta.indices { theta[i] -= lr * g[i] }
            expected.append(theta)
        }
        let sgd = SGD(parameterCount: 5, momentum: Float(momentum), weightDecay: Float(weightDecay))
        Self.expectClose(Self.trajectory(sgd, lr: Float(lr)), expected)
    }

    @Test(arguments: [0.0, 0.1])
    func adamFollowsTorchRule(weightDecay: Double) {
        let lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8
        // torch.optim.Adam: g ← g + λθ; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
        // m̂ = m / (1 − β1ᵗ); v̂ = v / (1 − β2ᵗ); θ ← θ − γ m̂ / (√v̂ + ε).
        var theta = Self.start
        var m = [Double](repeating: 0, count: 5), v = m
        var expected: [[Double]] = []
        for t in 1...5 {
            var g = Self.gradient(theta)
            for i in g.indices { g[i] += weightDecay * theta[i] }
            for i in theta.indices {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
                theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            expected.append(theta)
        }
        let adam = Adam(parameterCount: 5, beta1: beta1, beta2: beta2, eps: Float(eps), weightDecay: Float(weightDecay))
        Self.expectClose(Self.trajectory(adam, lr: Float(lr)), expected)
    }
}
