import Foundation
import Testing
@testable import NNTrain

/// torch.optim.LBFGS's first five steps on small objectives against its `step`, `_strong_wolfe` and
/// `_cubic_interpolate` (torch/optim/lbfgs.py) written out here in double precision, with each line search
/// and a history small enough to wrap; its early returns; its state through a checkpoint's round trip.
@Suite struct LBFGSTests {
    /// An objective: f(θ) and ∇f(θ) in double precision.
    typealias Objective = @Sendable ([Double]) -> (Double, [Double])

    /// OptimizerTests' quadratic, f = Σ aᵢ(θᵢ − cᵢ)².
    static let quadratic: Objective = { theta in
        let a = OptimizerTests.a, c = OptimizerTests.c
        let f = theta.indices.map { a[$0] * (theta[$0] - c[$0]) * (theta[$0] - c[$0]) }.reduce(0, +)
        return (f, OptimizerTests.gradient(theta))
    }

    /// The quadratic plus Σ θᵢ⁴/4 + θ₀θ₁: not quadratic, so the line search interpolates and the curvature
    /// pairs differ from step to step.
    static let quartic: Objective = { theta in
        var (f, g) = quadratic(theta)
        for i in theta.indices {
            f += theta[i] * theta[i] * theta[i] * theta[i] / 4
            g[i] += theta[i] * theta[i] * theta[i]
        }
        f += theta[0] * theta[1]
        g[0] += theta[1]
        g[1] += theta[0]
        return (f, g)
    }

    /// One `LBFGS.step` on `theta` whose closure evaluates `objective` at the current parameters (the
    /// gradient rounded to single precision, as a model's would be); returns the first evaluation's loss.
    @discardableResult
    static func step(_ lbfgs: LBFGS, _ theta: inout [Float], lr: Float, objective: Objective) -> Double {
        var gradient = [Float](repeating: 0, count: theta.count)
        return theta.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                lbfgs.step(parameters: p, gradients: UnsafeBufferPointer(g), learningRate: lr) { () -> Double in
                    let (f, exact) = objective(p.map(Double.init))
                    for i in exact.indices { g[i] = Float(exact[i]) }
                    return f
                }
            }
        }
    }

    // MARK: torch's LBFGS written out in double precision

    /// torch/optim/lbfgs.py's `LBFGS.step` with its state, in double precision, lists as torch keeps them.
    final class Reference {
        let maxIter: Int, maxEval: Int, toleranceGrad: Double, toleranceChange: Double, historySize: Int
        let strongWolfe: Bool
        var d: [Double] = [], t = 0.0, oldDirs: [[Double]] = [], oldStps: [[Double]] = [], ro: [Double] = []
        var hDiag = 1.0, prevFlatGrad: [Double] = [], prevLoss = 0.0, nIter = 0, funcEvals = 0

        init(maxIter: Int, historySize: Int, strongWolfe: Bool, toleranceGrad: Double = 1e-7,
             toleranceChange: Double = 1e-9) {
            self.maxIter = maxIter
            maxEval = maxIter * 5 / 4
            self.toleranceGrad = toleranceGrad
            self.toleranceChange = toleranceChange
            self.historySize = historySize
            self.strongWolfe = strongWolfe
        }

        static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { $0 * $1 }.reduce(0, +) }
        static func maxAbs(_ a: [Double]) -> Double { a.map(abs).max() ?? 0 }

        /// One step(closure); returns orig_loss.
        func step(_ x: inout [Double], lr: Double, objective: Objective) -> Double {
            var (loss, flatGrad) = objective(x)
            let origLoss = loss
            var currentEvals = 1
            funcEvals += 1
            if Self.maxAbs(flatGrad) <= toleranceGrad { return origLoss }
            var n = 0
            while n < maxIter {
                n += 1
                nIter += 1
                if nIter == 1 {
                    d = flatGrad.map { -$0 }
                    oldDirs = []; oldStps = []; ro = []; hDiag = 1
                } else {
                    let y = zip(flatGrad, prevFlatGrad).map { $0 - $1 }
                    let s = d.map { $0 * t }
                    let ys = Self.dot(y, s)
                    if ys > 1e-10 {
                        if oldDirs.count == historySize {
                            oldDirs.removeFirst(); oldStps.removeFirst(); ro.removeFirst()
                        }
                        oldDirs.append(y); oldStps.append(s); ro.append(1 / ys)
                        hDiag = ys / Self.dot(y, y)
                    }
                    var al = [Double](repeating: 0, count: oldDirs.count)
                    var q = flatGrad.map { -$0 }
                    for i in stride(from: oldDirs.count - 1, through: 0, by: -1) {
                        al[i] = Self.dot(oldStps[i], q) * ro[i]
                        q = zip(q, oldDirs[i]).map { $0 - al[i] * $1 }
                    }
                    var r = q.map { $0 * hDiag }
                    for i in 0..<oldDirs.count {
                        let be = Self.dot(oldDirs[i], r) * ro[i]
                        r = zip(r, oldStps[i]).map { $0 + (al[i] - be) * $1 }
                    }
                    d = r
                }
                prevFlatGrad = flatGrad
                prevLoss = loss
                t = nIter == 1 ? min(1, 1 / flatGrad.map(abs).reduce(0, +)) * lr : lr
                let gtd = Self.dot(flatGrad, d)
                if gtd > -toleranceChange { break }
                var lsEvals = 0
                var optCond = false
                if strongWolfe {
                    let result = Self.strongWolfe(x: x, t: t, d: d, f: loss, g: flatGrad, gtd: gtd,
                                                  toleranceChange: toleranceChange, objective: objective)
                    (loss, flatGrad, t, lsEvals) = result
                    x = zip(x, d).map { $0 + t * $1 }
                    optCond = Self.maxAbs(flatGrad) <= toleranceGrad
                } else {
                    x = zip(x, d).map { $0 + t * $1 }
                    if n != maxIter {
                        (loss, flatGrad) = objective(x)
                        optCond = Self.maxAbs(flatGrad) <= toleranceGrad
                        lsEvals = 1
                    }
                }
                currentEvals += lsEvals
                funcEvals += lsEvals
                if n == maxIter || currentEvals >= maxEval || optCond { break }
                if Self.maxAbs(d.map { $0 * t }) <= toleranceChange { break }
                if abs(loss - prevLoss) < toleranceChange { break }
            }
            return origLoss
        }

        static func cubic(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                          bounds: (Double, Double)? = nil) -> Double {
            let (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
            let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
            let d2Square = d1 * d1 - g1 * g2
            if d2Square >= 0 {
                let d2 = d2Square.squareRoot()
                let minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
                return min(max(minPos, lo), hi)
            }
            return (lo + hi) / 2
        }

        static func strongWolfe(x: [Double], t startT: Double, d: [Double], f: Double, g: [Double], gtd: Double,
                                toleranceChange: Double, objective: Objective)
            -> (Double, [Double], Double, Int)
        {
            let c1 = 1e-4, c2 = 0.9, maxLS = 25
            let dNorm = maxAbs(d)
            var t = startT
            func obj(_ t: Double) -> (Double, [Double]) { objective(zip(x, d).map { $0 + t * $1 }) }
            var (fNew, gNew) = obj(t)
            var lsFuncEvals = 1
            var gtdNew = dot(gNew, d)
            var tPrev = 0.0, fPrev = f, gPrev = g, gtdPrev = gtd
            var done = false, lsIter = 0
            var bracket: [Double] = [], bracketF: [Double] = [], bracketG: [[Double]] = [], bracketGtd: [Double] = []
            while lsIter < maxLS {
                if fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev) {
                    bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew]
                    break
                }
                if abs(gtdNew) <= -c2 * gtd {
                    bracket = [t]; bracketF = [fNew]; bracketG = [gNew]; done = true
                    break
                }
                if gtdNew >= 0 {
                    bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew]
                    break
                }
                let minStep = t + 0.01 * (t - tPrev), maxStep = t * 10
                let tmp = t
                t = cubic(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
                tPrev = tmp; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew
                (fNew, gNew) = obj(t)
                lsFuncEvals += 1
                gtdNew = dot(gNew, d)
                lsIter += 1
            }
            if lsIter == maxLS { bracket = [0, t]; bracketF = [f, fNew]; bracketG = [g, gNew] }
            var insufProgress = false
            var (lowPos, highPos) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
            while !done && lsIter < maxLS {
                if abs(bracket[1] - bracket[0]) * dNorm < toleranceChange { break }
                t = cubic(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1])
                let hi = max(bracket[0], bracket[1]), lo = min(bracket[0], bracket[1])
                let eps = 0.1 * (hi - lo)
                if min(hi - t, t - lo) < eps {
                    if insufProgress || t >= hi || t <= lo {
                        t = abs(t - hi) < abs(t - lo) ? hi - eps : lo + eps
                        insufProgress = false
                    } else {
                        insufProgress = true
                    }
                } else {
                    insufProgress = false
                }
                (fNew, gNew) = obj(t)
                lsFuncEvals += 1
                gtdNew = dot(gNew, d)
                lsIter += 1
                if fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos] {
                    bracket[highPos] = t; bracketF[highPos] = fNew; bracketG[highPos] = gNew; bracketGtd[highPos] = gtdNew
                    (lowPos, highPos) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
                } else {
                    if abs(gtdNew) <= -c2 * gtd {
                        done = true
                    } else if gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0 {
                        bracket[highPos] = bracket[lowPos]; bracketF[highPos] = bracketF[lowPos]
                        bracketG[highPos] = bracketG[lowPos]; bracketGtd[highPos] = bracketGtd[lowPos]
                    }
                    bracket[lowPos] = t; bracketF[lowPos] = fNew; bracketG[lowPos] = gNew; bracketGtd[lowPos] = gtdNew
                }
            }
            return (bracketF[lowPos], bracketG[lowPos], bracket[lowPos], lsFuncEvals)
        }
    }

    // MARK: The first five steps

    struct Case: CustomTestStringConvertible, Sendable {
        var lineSearch: LineSearchKind, maxIter: Int, historySize: Int, lr: Float, quartic: Bool
        var testDescription: String { "\(lineSearch.rawValue), max_iter \(maxIter), history \(historySize), lr \(lr)" }
    }

    /// Five steps from OptimizerTests' start: θ, the loss each step returns, n_iter, func_evals, the history's
    /// length and H_diag after each step against the reference (single against double precision: 1e-4, and
    /// 1e-3 for H_diag, a quotient of small differences near the minimum; the counts exactly). History 2
    /// wraps from the third iteration; max_iter 20 runs the quadratic to
    /// its minimum, where the tolerance stops end the steps early.
    @Test(arguments: [
        Case(lineSearch: .none, maxIter: 3, historySize: 100, lr: 0.5, quartic: true),
        Case(lineSearch: .none, maxIter: 3, historySize: 2, lr: 0.5, quartic: true),
        Case(lineSearch: .none, maxIter: 4, historySize: 2, lr: 1, quartic: false),
        Case(lineSearch: .strongWolfe, maxIter: 2, historySize: 100, lr: 1, quartic: true),
        Case(lineSearch: .strongWolfe, maxIter: 2, historySize: 2, lr: 1, quartic: true),
        Case(lineSearch: .strongWolfe, maxIter: 3, historySize: 2, lr: 0.1, quartic: true),
        Case(lineSearch: .strongWolfe, maxIter: 20, historySize: 100, lr: 1, quartic: false),
        // lr 10 overshoots, so the line search brackets and zooms (cubic steps, the 0.1 safeguard).
        Case(lineSearch: .strongWolfe, maxIter: 3, historySize: 2, lr: 10, quartic: true),
        Case(lineSearch: .strongWolfe, maxIter: 4, historySize: 100, lr: 30, quartic: true),
    ])
    func firstFiveStepsFollowTorch(_ c: Case) {
        let objective = c.quartic ? Self.quartic : Self.quadratic
        let lbfgs = LBFGS(groups: OptimizerTests.oneGroup, maxIter: c.maxIter, historySize: c.historySize,
                          lineSearch: c.lineSearch)
        let reference = Reference(maxIter: c.maxIter, historySize: c.historySize, strongWolfe: c.lineSearch == .strongWolfe)
        var theta = OptimizerTests.start.map(Float.init), x = OptimizerTests.start
        for step in 1...5 {
            let loss = Self.step(lbfgs, &theta, lr: c.lr, objective: objective)
            let expectedLoss = reference.step(&x, lr: Double(c.lr), objective: objective)
            #expect(abs(loss - expectedLoss) <= 1e-5 * max(abs(expectedLoss), 1), "step \(step): \(loss) vs \(expectedLoss)")
            for i in x.indices {
                #expect(abs(Double(theta[i]) - x[i]) <= 1e-4 * max(abs(x[i]), 1), "step \(step), θ[\(i)]: \(theta[i]) vs \(x[i])")
            }
            #expect(lbfgs.iterations == reference.nIter, "step \(step)")
            #expect(lbfgs.functionEvaluations == reference.funcEvals, "step \(step)")
            #expect(lbfgs.oldDirs.count == reference.oldDirs.count, "step \(step)")
            #expect(abs(Double(lbfgs.hDiag) - reference.hDiag) <= 1e-3 * reference.hDiag, "step \(step)")
        }
        #expect(reference.nIter >= 5)
    }

    /// The written-out reference is torch's on numbers worked by hand: at θ = 0 on f = Σθ²/2 + ... the
    /// first iteration's t is min(1, 1/Σ|g|)·lr, and a fixed-step iteration moves θ by t·(−g).
    @Test func theFirstIterationStepsByTheReciprocalOfTheGradientsL1Norm() {
        // f = (θ0 − 3)² + (θ1 + 1)²: g at 0 is (−6, 2), Σ|g| = 8, t = 1/8·lr with lr 0.5: θ ← (6, −2)/16.
        let objective: Objective = { t in ((t[0] - 3) * (t[0] - 3) + (t[1] + 1) * (t[1] + 1), [2 * (t[0] - 3), 2 * (t[1] + 1)]) }
        let lbfgs = LBFGS(groups: [ParameterGroup(range: 0..<2, weightDecay: false)], maxIter: 1)
        var theta: [Float] = [0, 0]
        let loss = Self.step(lbfgs, &theta, lr: 0.5, objective: objective)
        #expect(loss == 10)
        #expect(theta == [0.375, -0.125])
        #expect(lbfgs.stepLength == 0.0625)
        #expect(lbfgs.functionEvaluations == 1)  // max_iter 1: no evaluation after the move
    }

    /// tolerance_grad: a step that starts where max|g| ≤ tolerance_grad evaluates once and returns, moving
    /// nothing and counting no iteration (torch's `if opt_cond: return orig_loss`).
    @Test(arguments: [(1e-7, true), (20.0, false)])
    func aGradientWithinToleranceReturnsAtOnce(toleranceGrad: Double, atMinimum: Bool) {
        let lbfgs = LBFGS(groups: OptimizerTests.oneGroup, toleranceGrad: toleranceGrad)
        let start = atMinimum ? OptimizerTests.c.map(Float.init) : OptimizerTests.start.map(Float.init)
        // At the start g = 2a(θ − c) = (−1, −2.5, 12, −0.1, −1.5), max|g| = 12 ≤ 20; at c, g = 0.
        var theta = start
        Self.step(lbfgs, &theta, lr: 1, objective: Self.quadratic)
        #expect(theta == start)
        #expect(lbfgs.iterations == 0)
        #expect(lbfgs.functionEvaluations == 1)
    }

    /// tolerance_change: a move max|t·d| within it ends the step after its first iteration (one move, two
    /// evaluations), though max_iter allows 20.
    @Test func aChangeWithinToleranceEndsTheStep() {
        let lbfgs = LBFGS(groups: OptimizerTests.oneGroup, toleranceChange: 100)
        var theta = OptimizerTests.start.map(Float.init)
        Self.step(lbfgs, &theta, lr: 1, objective: Self.quadratic)
        #expect(lbfgs.iterations == 1)
        #expect(lbfgs.functionEvaluations == 2)
        #expect(theta != OptimizerTests.start.map(Float.init))
    }

    /// torch's `_cubic_interpolate` on a cubic with a known minimiser: f(x) = x³ − 3x has its minimum at 1;
    /// from (0, f 0, f' −3) and (2, f 2, f' 9) the interpolation is exact. Without a real root it returns the
    /// bounds' midpoint, and the result is clamped to the bounds.
    @Test func cubicInterpolationIsExactOnACubic() {
        #expect(abs(LBFGS.cubicInterpolate(0, 0, -3, 2, 2, 9) - 1) < 1e-12)
        #expect(abs(LBFGS.cubicInterpolate(2, 2, 9, 0, 0, -3) - 1) < 1e-12)
        #expect(LBFGS.cubicInterpolate(0, 0, -3, 2, 2, 9, bounds: (1.5, 3)) == 1.5)
        // d1 = 2 + 2 − 3·(0 − 4)/(0 − 3) = 0 and d1² − g1·g2 = −4 < 0: the midpoint of [0, 3].
        #expect(LBFGS.cubicInterpolate(0, 0, 2, 3, 4, 2) == 1.5)
    }
}
