import Foundation
import Testing
@testable import NNTrain

/// The first five steps of each optimizer on a fixed quadratic, f(θ) = Σᵢ aᵢ(θᵢ − cᵢ)², against the
/// update rules of torch.optim's documentation written out here in double precision; then the
/// behaviour of parameter groups and of the momentum a cycling schedule overrides.
@Suite struct OptimizerTests {
    static let start: [Double] = [0.5, -1.5, 2.0, 0.0, -0.25]
    static let a: [Double] = [1.0, 0.5, 2.0, 0.1, 3.0]
    static let c: [Double] = [1.0, 1.0, -1.0, 0.5, 0.0]
    static let oneGroup = [ParameterGroup(range: 0..<5, weightDecay: true)]

    static func gradient(_ theta: [Double]) -> [Double] {
        (0..<theta.count).map { 2 * a[$0] * (theta[$0] - c[$0]) }
    }

    /// Runs `optimizer` for five steps, returning θ after each step; `momenta[k]` is the momentum
    /// override of step k + 1.
    static func trajectory(_ optimizer: any Optimizer, lr: Float,
                           momenta: [Double?] = [nil, nil, nil, nil, nil], lrs: [Float]? = nil) -> [[Float]] {
        var theta = start.map(Float.init)
        var steps: [[Float]] = []
        for (k, momentum) in momenta.enumerated() {
            if let lbfgs = optimizer as? LBFGS {  // no momentum; its closure evaluates the quadratic
                LBFGSTests.step(lbfgs, &theta, lr: lrs?[k] ?? lr, objective: LBFGSTests.quadratic)
                steps.append(theta)
                continue
            }
            let g = gradient(theta.map(Double.init)).map(Float.init)
            theta.withUnsafeMutableBufferPointer { p in
                g.withUnsafeBufferPointer {
                    optimizer.step(parameters: p, gradients: $0, learningRate: lrs?[k] ?? lr, momentum: momentum)
                }
            }
            steps.append(theta)
        }
        return steps
    }

    /// Five steps (or `count`) of a written-out rule in double precision: `update(t, &θ, g)` is step t.
    static func reference(count: Int = 5, _ update: (Double, inout [Double], [Double]) -> Void) -> [[Double]] {
        var theta = start
        var steps: [[Double]] = []
        for t in 1...count {
            update(Double(t), &theta, gradient(theta))
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

    // MARK: Each optimizer against PyTorch's documented rule

    @Test(arguments: [
        (0.0, 0.0, false, 0.0), (0.9, 0.0, false, 0.0), (0.9, 0.5, false, 0.0), (0.9, 0.0, true, 0.0),
        (0.0, 0.0, false, 0.01), (0.9, 0.0, false, 0.01), (0.9, 0.0, true, 0.01),
    ])
    func sgdFollowsTorchRule(momentum mu: Double, dampening tau: Double, nesterov: Bool, weightDecay: Double) {
        let lr = 0.05
        // torch.optim.SGD: g ← g + λθ; b ← g (first step) or μb + (1 − τ)g; g ← g + μb (nesterov) or b;
        // θ ← θ − γg.
        var b: [Double] = []
        let expected = Self.reference { t, theta, grad in
            var g = grad
            for i in g.indices { g[i] += weightDecay * theta[i] }
            if mu != 0 {
                b = t == 1 ? g : (0..<5).map { mu * b[$0] + (1 - tau) * g[$0] }
                g = nesterov ? (0..<5).map { g[$0] + mu * b[$0] } : b
            }
            for i in theta.indices { theta[i] -= lr * g[i] }
        }
        let sgd = SGD(groups: Self.oneGroup, momentum: mu, dampening: tau, nesterov: nesterov,
                      weightDecay: weightDecay)
        Self.expectClose(Self.trajectory(sgd, lr: Float(lr)), expected)
    }

    /// The written-out Adam of torch.optim.Adam and AdamW (decoupled), five steps at γ = 0.1:
    /// θ ← θ(1 − γλ) (decoupled) or g ← g + λθ; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
    /// v̂max ← max(v̂max, v) with amsgrad; θ ← θ − γ (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε), v̂max
    /// for v with amsgrad. torch's documentation takes the maximum of the bias-corrected v, but its code (and
    /// so this rule) takes the maximum of v and divides it by √(1 − β2ᵗ).
    static func adamReference(beta2: Double, weightDecay: Double, amsgrad: Bool, decoupled: Bool) -> [[Double]] {
        let lr = 0.1, beta1 = 0.9, eps = 1e-8
        var m = [Double](repeating: 0, count: 5), v = m, vMax = m
        return reference { t, theta, grad in
            for i in theta.indices {
                var g = grad[i]
                if decoupled { theta[i] *= 1 - lr * weightDecay } else { g += weightDecay * theta[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                vMax[i] = max(vMax[i], v[i])
                let mHat = m[i] / (1 - pow(beta1, t)), vHat = (amsgrad ? vMax[i] : v[i]) / (1 - pow(beta2, t))
                theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
        }
    }

    /// With amsgrad, β2 = 0.9 so that v falls within five steps and its running maximum matters.
    @Test(arguments: [(0.0, false), (0.1, false), (0.0, true), (0.1, true)])
    func adamFollowsTorchRule(weightDecay: Double, amsgrad: Bool) {
        let beta2 = amsgrad ? 0.9 : 0.999
        let expected = Self.adamReference(beta2: beta2, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
        if amsgrad {
            let plain = Self.adamReference(beta2: beta2, weightDecay: weightDecay, amsgrad: false, decoupled: false)
            #expect(expected != plain, "v must fall within five steps for the maximum to matter")
        }
        let adam = Adam(groups: Self.oneGroup, beta2: beta2, weightDecay: weightDecay, amsgrad: amsgrad)
        Self.expectClose(Self.trajectory(adam, lr: 0.1), expected)
    }

    /// AdamW's default λ = 0.01, a larger λ, and amsgrad (β2 = 0.9 as for Adam).
    @Test(arguments: [(nil, false), (0.1, false), (nil, true)] as [(Double?, Bool)])
    func adamWFollowsTorchRule(weightDecay: Double?, amsgrad: Bool) {
        let beta2 = amsgrad ? 0.9 : 0.999
        let adamW = weightDecay.map { AdamW(groups: Self.oneGroup, beta2: beta2, weightDecay: $0, amsgrad: amsgrad) }
            ?? AdamW(groups: Self.oneGroup, beta2: beta2, amsgrad: amsgrad)
        #expect(adamW.weightDecay == (weightDecay ?? 0.01))
        let expected = Self.adamReference(beta2: beta2, weightDecay: weightDecay ?? 0.01, amsgrad: amsgrad,
                                          decoupled: true)
        Self.expectClose(Self.trajectory(adamW, lr: 0.1), expected)
    }

    @Test(arguments: [(false, 0.0, 0.0), (true, 0.0, 0.0), (false, 0.9, 0.0), (true, 0.9, 0.0), (false, 0.0, 0.1)])
    func rmspropFollowsTorchRule(centered: Bool, momentum mu: Double, weightDecay: Double) {
        let lr = 0.01, alpha = 0.99, eps = 1e-8
        // torch.optim.RMSprop: g ← g + λθ; v ← αv + (1−α)g²; ṽ ← v, or v − ḡ² with ḡ ← αḡ + (1−α)g
        // when centered; b ← μb + g/(√ṽ + ε) and θ ← θ − γb if μ > 0, else θ ← θ − γ g/(√ṽ + ε).
        var v = [Double](repeating: 0, count: 5), gBar = v, b = v
        let expected = Self.reference { _, theta, grad in
            for i in theta.indices {
                let g = grad[i] + weightDecay * theta[i]
                v[i] = alpha * v[i] + (1 - alpha) * g * g
                var vTilde = v[i]
                if centered {
                    gBar[i] = alpha * gBar[i] + (1 - alpha) * g
                    vTilde -= gBar[i] * gBar[i]
                }
                if mu > 0 {
                    b[i] = mu * b[i] + g / (vTilde.squareRoot() + eps)
                    theta[i] -= lr * b[i]
                } else {
                    theta[i] -= lr * g / (vTilde.squareRoot() + eps)
                }
            }
        }
        let rmsprop = RMSprop(groups: Self.oneGroup, weightDecay: weightDecay, momentum: mu, centered: centered)
        Self.expectClose(Self.trajectory(rmsprop, lr: Float(lr)), expected)
    }

    @Test(arguments: [(0.0, 0.0, 0.0), (0.1, 0.0, 0.0), (0.0, 0.5, 0.0), (0.0, 0.0, 0.1)])
    func adagradFollowsTorchRule(lrDecay: Double, initialAccumulator: Double, weightDecay: Double) {
        let lr = 0.1, eps = 1e-10
        // torch.optim.Adagrad: γ̃ ← γ / (1 + (t − 1)η); g ← g + λθ; s ← s + g² (s₀ = initial_accumulator_value);
        // θ ← θ − γ̃ g / (√s + ε).
        var s = [Double](repeating: initialAccumulator, count: 5)
        let expected = Self.reference { t, theta, grad in
            let clr = lr / (1 + (t - 1) * lrDecay)
            for i in theta.indices {
                let g = grad[i] + weightDecay * theta[i]
                s[i] += g * g
                theta[i] -= clr * g / (s[i].squareRoot() + eps)
            }
        }
        let adagrad = Adagrad(groups: Self.oneGroup, lrDecay: lrDecay, weightDecay: weightDecay,
                              initialAccumulatorValue: initialAccumulator)
        Self.expectClose(Self.trajectory(adagrad, lr: Float(lr)), expected)
    }

    @Test(arguments: [(0.0, false), (0.1, false), (0.1, true)])
    func nadamFollowsTorchRule(weightDecay: Double, decoupled: Bool) {
        let lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, psi = 4e-3
        // torch.optim.NAdam: θ ← θ(1 − γλ) (decoupled) or g ← g + λθ; μ_t = β1(1 − ½·0.96^(tψ));
        // m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
        // m̂ = μ_{t+1} m / (1 − Π_{i≤t+1} μ_i) + (1 − μ_t) g / (1 − Π_{i≤t} μ_i); v̂ = v / (1 − β2ᵗ);
        // θ ← θ − γ m̂ / (√v̂ + ε).
        var m = [Double](repeating: 0, count: 5), v = m, product = 1.0
        let expected = Self.reference { t, theta, grad in
            let mu = beta1 * (1 - 0.5 * pow(0.96, t * psi)), muNext = beta1 * (1 - 0.5 * pow(0.96, (t + 1) * psi))
            product *= mu
            for i in theta.indices {
                var g = grad[i]
                if decoupled { theta[i] *= 1 - lr * weightDecay } else { g += weightDecay * theta[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = muNext * m[i] / (1 - product * muNext) + (1 - mu) * g / (1 - product)
                let vHat = v[i] / (1 - pow(beta2, t))
                theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
        }
        let nadam = NAdam(groups: Self.oneGroup, weightDecay: weightDecay, decoupledWeightDecay: decoupled)
        Self.expectClose(Self.trajectory(nadam, lr: Float(lr)), expected)
    }

    /// Adadelta's default ρ and ε, a faster average, a larger ε and weight decay, at PyTorch's γ = 1.
    @Test(arguments: [(0.9, 1e-6, 0.0), (0.5, 1e-6, 0.0), (0.9, 1e-2, 0.0), (0.9, 1e-6, 0.1)])
    func adadeltaFollowsTorchRule(rho: Double, eps: Double, weightDecay: Double) {
        let lr = 1.0
        // torch.optim.Adadelta (torch/optim/adadelta.py): g ← g + λθ; v ← ρv + (1−ρ)g²;
        // Δ ← √(u + ε)/√(v + ε)·g; u ← ρu + (1−ρ)Δ²; θ ← θ − γΔ.
        var v = [Double](repeating: 0, count: 5), u = v
        let expected = Self.reference { _, theta, grad in
            for i in theta.indices {
                let g = grad[i] + weightDecay * theta[i]
                v[i] = rho * v[i] + (1 - rho) * g * g
                let delta = (u[i] + eps).squareRoot() / (v[i] + eps).squareRoot() * g
                u[i] = rho * u[i] + (1 - rho) * delta * delta
                theta[i] -= lr * delta
            }
        }
        let adadelta = Adadelta(groups: Self.oneGroup, rho: rho, eps: eps, weightDecay: weightDecay)
        #expect(Adadelta(groups: Self.oneGroup).rho == 0.9 && Adadelta(groups: Self.oneGroup).eps == 1e-6)
        Self.expectClose(Self.trajectory(adadelta, lr: Float(lr)), expected)
    }

    /// Adamax: weight decay, a β2 small enough that |g| + ε takes over the maximum, and a large ε.
    @Test(arguments: [(0.0, 0.999, 1e-8), (0.1, 0.999, 1e-8), (0.0, 0.5, 1e-8), (0.0, 0.999, 0.5)])
    func adamaxFollowsTorchRule(weightDecay: Double, beta2: Double, eps: Double) {
        let lr = 0.1, beta1 = 0.9
        // torch.optim.Adamax (torch/optim/adamax.py): g ← g + λθ; m ← β1 m + (1−β1) g;
        // u ← max(β2 u, |g| + ε); θ ← θ − γ/(1 − β1ᵗ)·m/u.
        var m = [Double](repeating: 0, count: 5), u = m, decayedWins = 0
        let expected = Self.reference { t, theta, grad in
            for i in theta.indices {
                let g = grad[i] + weightDecay * theta[i]
                m[i] = beta1 * m[i] + (1 - beta1) * g
                if beta2 * u[i] > abs(g) + eps { decayedWins += 1 }
                u[i] = max(beta2 * u[i], abs(g) + eps)
                theta[i] -= lr / (1 - pow(beta1, t)) * m[i] / u[i]
            }
        }
        #expect(decayedWins > 0 || beta2 == 0.5, "β2·u must win the maximum somewhere")
        let adamax = Adamax(groups: Self.oneGroup, beta2: beta2, eps: eps, weightDecay: weightDecay)
        Self.expectClose(Self.trajectory(adamax, lr: Float(lr)), expected)
    }

    /// RAdam over eight steps, so that ρ_t passes 5 (at step 6, with β2 = 0.999 and with 0.99) and
    /// the rectified step takes over; with L2 and with decoupled weight decay.
    @Test(arguments: [(0.0, false, 0.999), (0.1, false, 0.999), (0.1, true, 0.999), (0.0, false, 0.99)])
    func radamFollowsTorchRule(weightDecay: Double, decoupled: Bool, beta2: Double) {
        let lr = 0.1, beta1 = 0.9, eps = 1e-8, steps = 8
        // torch.optim.RAdam (torch/optim/radam.py): θ ← θ(1 − γλ) (decoupled) or g ← g + λθ;
        // m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; m̂ = m/(1 − β1ᵗ); ρ∞ = 2/(1 − β2) − 1;
        // ρ_t = ρ∞ − 2tβ2ᵗ/(1 − β2ᵗ); if ρ_t > 5: r = √((ρ_t−4)(ρ_t−2)ρ∞/((ρ∞−4)(ρ∞−2)ρ_t)),
        // θ ← θ − γ m̂ r √(1 − β2ᵗ)/(√v + ε); else θ ← θ − γ m̂.
        var m = [Double](repeating: 0, count: 5), v = m, rectifiedSteps: [Int] = []
        let expected = Self.reference(count: steps) { t, theta, grad in
            let rhoInfinity = 2 / (1 - beta2) - 1
            let rho = rhoInfinity - 2 * t * pow(beta2, t) / (1 - pow(beta2, t))
            if rho > 5 { rectifiedSteps.append(Int(t)) }
            for i in theta.indices {
                var g = grad[i]
                if decoupled { theta[i] *= 1 - lr * weightDecay } else { g += weightDecay * theta[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = m[i] / (1 - pow(beta1, t))
                if rho > 5 {
                    let r = ((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho)).squareRoot()
                    theta[i] -= lr * mHat * r * (1 - pow(beta2, t)).squareRoot() / (v[i].squareRoot() + eps)
                } else {
                    theta[i] -= lr * mHat
                }
            }
        }
        #expect(rectifiedSteps == [6, 7, 8])
        let radam = RAdam(groups: Self.oneGroup, beta2: beta2, weightDecay: weightDecay, decoupledWeightDecay: decoupled)
        Self.expectClose(Self.trajectory(radam, lr: Float(lr), momenta: Array(repeating: nil, count: steps)), expected)
    }

    /// Rprop at its defaults, other etas, and step sizes clamped from above (0.15) and below (0.08);
    /// coordinates overshoot, so every sign case (g·p > 0, < 0, = 0) occurs. (η+ = 1.5 would land
    /// θ₄ exactly on its minimum in double precision but not in single: a degenerate case, avoided.)
    @Test(arguments: [(0.5, 1.2, 1e-6, 50.0), (0.3, 1.4, 1e-6, 50.0), (0.5, 1.2, 0.08, 0.15)])
    func rpropFollowsTorchRule(etaMinus: Double, etaPlus: Double, minStep: Double, maxStep: Double) {
        let lr = 0.1
        // torch.optim.Rprop (torch/optim/rprop.py): s starts at γ; f = η+ if g·p > 0, η− if < 0, 1 if 0;
        // s ← clamp(s f, Δmin, Δmax); g ← 0 where g·p < 0; θ ← θ − sign(g) s; p ← g.
        var s = [Double](repeating: lr, count: 5), p = [Double](repeating: 0, count: 5)
        var cases: Set<String> = [], clamped: Set<String> = []
        let expected = Self.reference { _, theta, grad in
            for i in theta.indices {
                let product = grad[i] * p[i]
                cases.insert(product > 0 ? "+" : product < 0 ? "-" : "0")
                let scaled = s[i] * (product > 0 ? etaPlus : product < 0 ? etaMinus : 1)
                if scaled > maxStep { clamped.insert("max") }
                if scaled < minStep { clamped.insert("min") }
                s[i] = min(max(scaled, minStep), maxStep)
                let g = product < 0 ? 0 : grad[i]
                theta[i] -= (g > 0 ? 1 : g < 0 ? -1 : 0) * s[i]
                p[i] = g
            }
        }
        #expect(cases == ["+", "-", "0"])
        #expect(clamped == (maxStep < 1 ? ["max", "min"] : []))
        let rprop = Rprop(groups: Self.oneGroup, etaMinus: etaMinus, etaPlus: etaPlus, stepSizeMin: minStep, stepSizeMax: maxStep)
        Self.expectClose(Self.trajectory(rprop, lr: Float(lr)), expected)
    }

    /// Rprop reads the lr only when its step sizes are made (torch's state init): a schedule changes
    /// nothing after the first step.
    @Test func rpropReadsTheLearningRateOnlyAtItsFirstStep() {
        let scheduled = Self.trajectory(Rprop(groups: Self.oneGroup), lr: 0.1, lrs: [0.1, 0.5, 0.01, 2, 0.3])
        #expect(scheduled == Self.trajectory(Rprop(groups: Self.oneGroup), lr: 0.1))
        #expect(scheduled != Self.trajectory(Rprop(groups: Self.oneGroup), lr: 0.2))
    }

    /// lr-find refuses rprop, naming the line that chose it: the range test's rates would be ignored.
    @Test func lrFindRefusesLBFGS() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("c.yaml")
        try Data("seed: 1\noptimizer:\n  name: lbfgs\ntraining:\n  batch_size: full\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: NNTrainError.self) {
            try LRRangeTest.execute(configPath: path, overrides: [], schedule: LRFinderSchedule())
        }
        do {
            _ = try LRRangeTest.execute(configPath: path, overrides: [], schedule: LRFinderSchedule())
        } catch {
            #expect(error.description.hasPrefix("\(path):3: optimizer.name: lbfgs takes one full-batch step per epoch"))
        }
    }

    @Test func lrFindRefusesRprop() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("c.yaml")
        try Data("seed: 1\noptimizer:\n  name: rprop\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try LRRangeTest.execute(configPath: path, overrides: [], schedule: LRFinderSchedule())
            Issue.record("lr-find ran with rprop")
        } catch {
            #expect(error.description == "\(path):3: optimizer.name: rprop reads the lr only as its first step size, so a range "
                + "test of it measures nothing; expected another optimizer for lr-find")
        }
    }

    /// ASGD at its defaults (no averaging: t0 = 1e6), a large λd (the decay term and η's schedule
    /// show), t0 = 1 (averaging from step 4) and t0 = 0 with α = 0.5 and weight decay; θ and the
    /// average ax after every step.
    @Test(arguments: [(1e-4, 0.75, 1e6, 0.0), (0.5, 0.75, 1e6, 0.0), (1e-4, 0.75, 1.0, 0.0), (0.2, 0.5, 0.0, 0.1)])
    func asgdFollowsTorchRule(lambd: Double, alpha: Double, t0: Double, weightDecay: Double) {
        let lr = 0.1
        // torch.optim.ASGD (torch/optim/asgd.py): η starts at γ, μ at 1; g ← g + λθ; θ ← θ(1 − λd η) − η g;
        // ax ← θ if μ = 1, else ax + (θ − ax)μ; then η ← γ/(1 + λd γ t)^α, μ ← 1/max(1, t − t0).
        var eta = lr, mu = 1.0, ax = [Double](repeating: 0, count: 5), averages: [[Double]] = [], mus: [Double] = []
        let expected = Self.reference { t, theta, grad in
            mus.append(mu)
            for i in theta.indices {
                let g = grad[i] + weightDecay * theta[i]
                theta[i] = theta[i] * (1 - lambd * eta) - eta * g
                ax[i] = mu == 1 ? theta[i] : ax[i] + (theta[i] - ax[i]) * mu
            }
            averages.append(ax)
            eta = lr / pow(1 + lambd * lr * t, alpha)
            mu = 1 / max(1, t - t0)
        }
        let averagingFromStep4: [Double] = [1, 1, 1, 1.0 / 2, 1.0 / 3], fromStep3: [Double] = [1, 1, 1.0 / 2, 1.0 / 3, 1.0 / 4]
        #expect(mus == (t0 == 1 ? averagingFromStep4 : t0 == 0 ? fromStep3 : [1, 1, 1, 1, 1]))
        let asgd = ASGD(groups: Self.oneGroup, lambd: lambd, alpha: alpha, t0: t0, weightDecay: weightDecay)
        var theta = Self.start.map(Float.init), steps: [[Float]] = [], stepAverages: [[Float]] = []
        for _ in 1...5 {
            let g = Self.gradient(theta.map(Double.init)).map(Float.init)
            theta.withUnsafeMutableBufferPointer { p in
                g.withUnsafeBufferPointer { asgd.step(parameters: p, gradients: $0, learningRate: Float(lr), momentum: nil) }
            }
            steps.append(theta)
            stepAverages.append(asgd.averagedParameters)
        }
        Self.expectClose(steps, expected)
        Self.expectClose(stepAverages, averages)
        #expect((stepAverages.last != steps.last) == (t0 < 5), "the average differs from θ once averaging starts")
    }

    // MARK: Parameter groups and momentum cycling, for every optimizer

    enum Kind: CaseIterable, Sendable {
        case sgd, adam, adamW, rmsprop, adagrad, nadam, nadamDecoupled, adadelta, adamax, radam, radamDecoupled, rprop, asgd

        var lr: Float { self == .sgd ? 0.05 : self == .rmsprop ? 0.01 : self == .adadelta ? 1 : 0.1 }

        /// The optimizer with weight decay λ and momentum (or β1) μ, with its other options at their
        /// defaults; Adagrad, Adadelta, Rprop and ASGD have no momentum, Rprop no weight decay.
        func make(_ groups: [ParameterGroup], weightDecay: Double, momentum: Double) -> any Optimizer {
            switch self {
            case .sgd: SGD(groups: groups, momentum: momentum, weightDecay: weightDecay)
            case .adam: Adam(groups: groups, beta1: momentum, weightDecay: weightDecay)
            case .adamW: AdamW(groups: groups, beta1: momentum, weightDecay: weightDecay)
            case .rmsprop: RMSprop(groups: groups, weightDecay: weightDecay, momentum: momentum)
            case .adagrad: Adagrad(groups: groups, weightDecay: weightDecay)
            case .nadam: NAdam(groups: groups, beta1: momentum, weightDecay: weightDecay)
            case .nadamDecoupled:
                NAdam(groups: groups, beta1: momentum, weightDecay: weightDecay, decoupledWeightDecay: true)
            case .adadelta: Adadelta(groups: groups, weightDecay: weightDecay)
            case .adamax: Adamax(groups: groups, beta1: momentum, weightDecay: weightDecay)
            case .radam: RAdam(groups: groups, beta1: momentum, weightDecay: weightDecay)
            case .radamDecoupled:
                RAdam(groups: groups, beta1: momentum, weightDecay: weightDecay, decoupledWeightDecay: true)
            case .rprop: Rprop(groups: groups)
            case .asgd: ASGD(groups: groups, weightDecay: weightDecay)
            }
        }

        /// The configuration's name of the optimizer.
        var optimizerKind: OptimizerKind {
            switch self {
            case .sgd: .sgd
            case .adam: .adam
            case .adamW: .adamw
            case .rmsprop: .rmsprop
            case .adagrad: .adagrad
            case .nadam, .nadamDecoupled: .nadam
            case .adadelta: .adadelta
            case .adamax: .adamax
            case .radam, .radamDecoupled: .radam
            case .rprop: .rprop
            case .asgd: .asgd
            }
        }
    }

    /// Two groups, θ[0..<2] decayed and θ[2..<5] not: each follows, bit for bit, the trajectory of the
    /// same optimizer with decay everywhere or nowhere.
    @Test(arguments: Kind.allCases.filter { $0 != .rprop })
    func weightDecayOnlyInDecayGroups(kind: Kind) {
        let split = [ParameterGroup(range: 0..<2, weightDecay: true),
                     ParameterGroup(range: 2..<5, weightDecay: false)]
        let mixed = Self.trajectory(kind.make(split, weightDecay: 0.1, momentum: 0.9), lr: kind.lr)
        let decayed = Self.trajectory(kind.make(Self.oneGroup, weightDecay: 0.1, momentum: 0.9), lr: kind.lr)
        let plain = Self.trajectory(kind.make(Self.oneGroup, weightDecay: 0, momentum: 0.9), lr: kind.lr)
        #expect(decayed.map { $0[2...] } != plain.map { $0[2...] }, "decay must change the excluded group's path")
        #expect(mixed.map { $0[..<2] } == decayed.map { $0[..<2] })
        #expect(mixed.map { $0[2...] } == plain.map { $0[2...] })
    }

    /// An optimizer built with momentum (β1) `built` and stepped with `other` on steps 2 and 4 follows,
    /// bit for bit, one built with `other` and stepped with `built` on steps 1, 3 and 5: the override
    /// replaces the momentum for its step only. (0, 0.9) is a one_cycle schedule driving SGD or RMSprop
    /// built without momentum.
    @Test(arguments: Kind.allCases.filter { $0.optimizerKind.hasMomentum }, [(0.9, 0.5), (0.0, 0.9)])
    func momentumOverrideReplacesMomentumForItsStep(kind: Kind, momenta: (built: Double, other: Double)) {
        let (built, other) = momenta
        let optimizer = kind.make(Self.oneGroup, weightDecay: 0, momentum: built)
        let twin = kind.make(Self.oneGroup, weightDecay: 0, momentum: other)
        #expect(kind.optimizerKind.hasMomentum)
        let overridden = Self.trajectory(optimizer, lr: kind.lr, momenta: [nil, other, nil, other, nil])
        #expect(overridden == Self.trajectory(twin, lr: kind.lr, momenta: [built, nil, built, nil, built]))
        let unchanged = Self.trajectory(kind.make(Self.oneGroup, weightDecay: 0, momentum: built), lr: kind.lr)
        #expect(overridden != unchanged, "the override must change the trajectory")
    }

    @Test func adagradHasNoMomentumToCycle() {
        let adagrad = Adagrad(groups: Self.oneGroup)
        #expect(!OptimizerKind.adagrad.hasMomentum)
        #expect(Self.trajectory(adagrad, lr: 0.1, momenta: [0.5, 0.9, 0.5, 0.9, 0.5])
            == Self.trajectory(Adagrad(groups: Self.oneGroup), lr: 0.1))
    }

    /// `OptimizerKind.hasMomentum` is what the optimizer does: built from a config section with its
    /// defaults, an optimizer with a momentum (or β1) moves otherwise when a schedule overrides it;
    /// one without ignores the override.
    @Test(arguments: OptimizerKind.allCases)
    func hasMomentumIsWhetherTheOverrideChangesTheSteps(name: OptimizerKind) {
        var section = Configuration.OptimizerSection()
        section.name = name
        let plain = Self.trajectory(section.makeOptimizer(groups: Self.oneGroup), lr: 0.01)
        let cycled = Self.trajectory(section.makeOptimizer(groups: Self.oneGroup), lr: 0.01,
                                     momenta: [0.5, 0.8, 0.5, 0.8, 0.5])
        #expect((cycled != plain) == name.hasMomentum)
    }

    /// The config's defaults are each optimizer's own: a config naming only the optimizer builds one
    /// equal, in every stored property, to the one its initialiser's default arguments make (so the
    /// keys several optimizers share, `momentum`, `betas`, `eps`, default to what suits each).
    @Test(arguments: OptimizerKind.allCases)
    func theConfigsDefaultsAreTheOptimizersOwn(name: OptimizerKind) throws {
        let batch = name == .lbfgs ? "training: {batch_size: full}\n" : ""  // lbfgs requires it
        let section = try Configuration.parse(yaml: "optimizer: {name: \(name.rawValue)}\n" + batch, source: "x.yaml").optimizer
        let own: any Optimizer = switch name {
        case .sgd: SGD(groups: Self.oneGroup)
        case .adam: Adam(groups: Self.oneGroup)
        case .adamw: AdamW(groups: Self.oneGroup)
        case .rmsprop: RMSprop(groups: Self.oneGroup)
        case .adagrad: Adagrad(groups: Self.oneGroup)
        case .nadam: NAdam(groups: Self.oneGroup)
        case .adadelta: Adadelta(groups: Self.oneGroup)
        case .adamax: Adamax(groups: Self.oneGroup)
        case .radam: RAdam(groups: Self.oneGroup)
        case .rprop: Rprop(groups: Self.oneGroup)
        case .asgd: ASGD(groups: Self.oneGroup)
        case .lbfgs: LBFGS(groups: Self.oneGroup)
        }
        let fromConfig = section.makeOptimizer(groups: Self.oneGroup)
        #expect(type(of: fromConfig) == type(of: own))
        #expect(Self.storedProperties(fromConfig) == Self.storedProperties(own))
    }

    /// Every stored property of `object`, its superclasses' included, as `name: value`.
    static func storedProperties(_ object: AnyObject) -> [String] {
        var properties: [String] = []
        var mirror: Mirror? = Mirror(reflecting: object)
        while let current = mirror {
            properties += current.children.map { "\($0.label ?? "?"): \($0.value)" }
            mirror = current.superclassMirror
        }
        return properties
    }

    /// Large buffers are stepped on all cores (`Parallel`): 50,000 parameters, with the decay group
    /// ending off a piece boundary, move bit for bit as the same optimizer moves them in slices of
    /// 5,000 (too small to be split, so stepped on one thread).
    @Test(arguments: Kind.allCases)
    func splittingAStepOverCoresChangesNoValue(kind: Kind) {
        let count = 50_000, decayEnd = 20_001, slice = 5_000
        var random = RandomGenerator(seed: 7)
        let start = (0..<count).map { _ in Float(random.nextUnitDouble() * 2 - 1) }
        let gradients = (0..<3).map { _ in (0..<count).map { _ in Float(random.nextUnitDouble() * 2 - 1) } }
        let groups = [ParameterGroup(range: 0..<decayEnd, weightDecay: true),
                      ParameterGroup(range: decayEnd..<count, weightDecay: false)]
        let whole = kind.make(groups, weightDecay: 0.1, momentum: 0.9)
        var wholeTheta = start
        let slices = stride(from: 0, to: count, by: slice).map { lower -> (Range<Int>, any Optimizer) in
            let range = lower..<min(lower + slice, count)
            let local = groups.compactMap { group -> ParameterGroup? in
                let overlap = group.range.clamped(to: range)
                return overlap.isEmpty ? nil
                    : ParameterGroup(range: (overlap.lowerBound - lower)..<(overlap.upperBound - lower),
                                     weightDecay: group.weightDecay)
            }
            return (range, kind.make(local, weightDecay: 0.1, momentum: 0.9))
        }
        var slicedTheta = start
        for g in gradients {
            wholeTheta.withUnsafeMutableBufferPointer { theta in
                g.withUnsafeBufferPointer { whole.step(parameters: theta, gradients: $0, learningRate: kind.lr, momentum: nil) }
            }
            for (range, optimizer) in slices {
                var theta = Array(slicedTheta[range])
                let grad = Array(g[range])
                theta.withUnsafeMutableBufferPointer { theta in
                    grad.withUnsafeBufferPointer {
                        optimizer.step(parameters: theta, gradients: $0, learningRate: kind.lr, momentum: nil)
                    }
                }
                slicedTheta.replaceSubrange(range, with: theta)
            }
        }
        #expect(wholeTheta != start)
        #expect(wholeTheta.map(\.bitPattern) == slicedTheta.map(\.bitPattern))
    }
}
