import Foundation

/// The line search of `LBFGS`, torch's `line_search_fn`: none (a fixed step of t) or strong_wolfe.
public enum LineSearchKind: String, CaseIterable, Sendable {
    case none
    case strongWolfe = "strong_wolfe"
}

/// L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989) exactly as torch.optim.LBFGS (torch/optim/lbfgs.py, `step`,
/// `_strong_wolfe`, `_cubic_interpolate`, after minFunc). One `step` evaluates the objective through a
/// closure (forward and backward on the full batch) up to `maxEval` times, in at most `maxIter` iterations:
///
///     f, g ← closure();  return f at once if max|g| ≤ tolerance_grad
///     repeat (k counts the iterations of every step so far, torch's n_iter):
///       k = 1:   d ← −g, history empty, H ← 1
///       k > 1:   y ← g − g_prev, s ← d·t, ys ← y·s
///                if ys > 1e-10: append (y, s, ρ = 1/ys) to the history (dropping the oldest beyond
///                history_size), H ← ys / y·y
///                q ← −g;  for i newest…oldest: α_i ← ρ_i s_i·q, q ← q − α_i y_i
///                d ← H·q; for i oldest…newest: β ← ρ_i y_i·d, d ← d + (α_i − β) s_i
///       g_prev ← g, f_prev ← f
///       t ← min(1, 1/Σ|g|)·lr at k = 1, else lr;  stop if g·d > −tolerance_change
///       none:          θ ← θ + t·d; f, g ← closure() unless this is the step's last iteration
///       strong_wolfe:  f, g, t ← the strong-Wolfe line search from θ along d, starting at t
///                      (c1 = 1e-4, c2 = 0.9, tolerance_change, at most 25 evaluations); θ ← θ + t·d
///       stop at max_iter iterations, at max_eval evaluations in this step, when max|g| ≤ tolerance_grad,
///       when max|t·d| ≤ tolerance_change, or when |f − f_prev| < tolerance_change
///
/// and returns the first evaluation's f (torch's `orig_loss`). PyTorch's defaults: lr 1, max_iter 20,
/// max_eval max_iter·5/4 (integer division), tolerance_grad 1e-7, tolerance_change 1e-9, history_size 100,
/// line_search_fn None. LBFGS has one parameter group, no weight decay and no momentum.
///
/// Vectors are single precision, as torch's float32 tensors, each elementwise operation rounded once (torch's
/// default-capability kernels). The scalars torch keeps as 0-dim float32 tensors (y·s, ρ, H, α, β, g·d, Σ|g|,
/// max|g|, the first iteration's t) are single precision here too, each dot product or sum accumulated in
/// double and rounded once (torch's BLAS sdot and cascade sum round in an order of their own, so these agree
/// to an ulp or so rather than bit for bit); the line search's scalar arithmetic (f, t, the Wolfe tests, the
/// cubic interpolation), where torch mixes Python floats and float32 tensors, is double precision.
/// The history lives in `historyCapacity` slots allocated as they are first filled, as torch's lists grow, so
/// a step allocates nothing once the history is full (the line search copies gradients into fixed buffers).
public final class LBFGS: Optimizer {
    public let maxIter: Int
    public let maxEval: Int
    public let toleranceGrad: Double
    public let toleranceChange: Double
    public let historySize: Int
    public let lineSearch: LineSearchKind
    /// The strong-Wolfe constants torch's `_strong_wolfe` is called with (its defaults: `step` passes none).
    public static let c1 = 1e-4, c2 = 0.9, maxLineSearch = 25

    private let n: Int
    /// d, the last search direction (`d`); zero before the first step.
    public internal(set) var direction: [Float]
    /// t, the last step length (`t`); 0 before the first step.
    public internal(set) var stepLength: Double = 0
    /// The history, oldest first: y (`old_dirs`), s (`old_stps`) and ρ = 1/(y·s) (`ro`).
    public internal(set) var oldDirs: [[Float]] = []
    public internal(set) var oldSteps: [[Float]] = []
    public internal(set) var ro: [Float] = []
    /// The groups it was built for. LBFGS steps every parameter (its direction is one flat vector), so the
    /// configuration allows it neither frozen layers nor per-layer learning rates.
    public var groups: [ParameterGroup]
    /// H, the scale of the initial inverse Hessian (`H_diag`).
    public internal(set) var hDiag: Float = 1
    /// g of the last iteration (`prev_flat_grad`) and its f (`prev_loss`).
    public internal(set) var previousGradient: [Float]
    public internal(set) var previousLoss: Double = 0
    /// k, the iterations of all steps so far (`n_iter`), and the closure's evaluations (`func_evals`).
    public internal(set) var iterations = 0
    public internal(set) var functionEvaluations = 0

    /// The current g (not state: every step starts from a fresh evaluation), y and s being formed, the α
    /// of the two-loop recursion, and the line search's copies of θ and of gradients.
    private var flatGradient: [Float]
    private var spareY: [Float] = [], spareS: [Float] = []
    private var alpha: [Float]
    private var lineSearchBuffers: [[Float]] = []

    public init(groups: [ParameterGroup], maxIter: Int = 20, maxEval: Int? = nil, toleranceGrad: Double = 1e-7,
                toleranceChange: Double = 1e-9, historySize: Int = 100, lineSearch: LineSearchKind = .none) {
        self.groups = groups
        self.maxIter = maxIter
        self.maxEval = maxEval ?? maxIter * 5 / 4
        self.toleranceGrad = toleranceGrad
        self.toleranceChange = toleranceChange
        self.historySize = historySize
        self.lineSearch = lineSearch
        n = ParameterGroup.parameterCount(of: groups)
        direction = [Float](repeating: 0, count: n)
        previousGradient = [Float](repeating: 0, count: n)
        flatGradient = [Float](repeating: 0, count: n)
        alpha = [Float](repeating: 0, count: historySize)
    }

    /// torch's state keys: `d` and `prev_flat_grad`; the history as `old_dirs.<i>` and `old_stps.<i>`, oldest
    /// first (each empty beyond the history's length, so a checkpoint stores only those in use); `ro.<i>`,
    /// `t`, `H_diag`, `prev_loss`, `n_iter` and `func_evals` as counters (Floats and integers, exact as Doubles).
    public var state: OptimizerState {
        var buffers = ["d": direction, "prev_flat_grad": previousGradient]
        var counters = ["t": stepLength, "H_diag": Double(hDiag), "prev_loss": previousLoss,
                        "n_iter": Double(iterations), "func_evals": Double(functionEvaluations)]
        for i in 0..<historySize {
            buffers["old_dirs.\(i)"] = i < oldDirs.count ? oldDirs[i] : []
            buffers["old_stps.\(i)"] = i < oldSteps.count ? oldSteps[i] : []
            counters["ro.\(i)"] = i < ro.count ? Double(ro[i]) : 0
        }
        var state = OptimizerState(buffers: buffers, counters: counters)
        state.growingBuffers = Set((0..<historySize).flatMap { ["old_dirs.\($0)", "old_stps.\($0)"] })
        return state
    }

    /// Puts the state back; the history is the entries from 0 on whose y and s are both saved (a
    /// checkpoint holds them in pairs).
    public func load(_ state: OptimizerState.Verified) {
        direction = state.buffer("d")
        previousGradient = state.buffer("prev_flat_grad")
        stepLength = state.counter("t")
        hDiag = Float(state.counter("H_diag"))
        previousLoss = state.counter("prev_loss")
        iterations = Int(state.counter("n_iter"))
        functionEvaluations = Int(state.counter("func_evals"))
        oldDirs = []
        oldSteps = []
        ro = []
        for i in 0..<historySize {
            let y = state.buffer("old_dirs.\(i)"), s = state.buffer("old_stps.\(i)")
            guard y.count == n, s.count == n else { break }
            oldDirs.append(y)
            oldSteps.append(s)
            ro.append(Float(state.counter("ro.\(i)")))
        }
    }

    /// LBFGS needs the objective, not one gradient: the trainer calls `step(parameters:gradients:learningRate:evaluate:)`
    /// (the configuration allows lbfgs only where it can), so reaching this is a programming error.
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     learningRate: Float, momentum: Double?) {
        preconditionFailure("LBFGS steps with a closure: step(parameters:gradients:learningRate:evaluate:)")
    }

    /// One torch `LBFGS.step(closure)` at lr `learningRate` (γ in single precision, as every optimizer's).
    /// `evaluate` computes the objective at the current `parameters`, writes its gradient into `gradients`
    /// (the model's gradient buffer) and returns the loss; it is called at least once. Returns the first
    /// evaluation's loss (torch's `orig_loss`).
    public func step<Failure: Error>(
        parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, learningRate: Float,
        evaluate: () throws(Failure) -> Double
    ) throws(Failure) -> Double {
        precondition(parameters.count == n && gradients.count == n, "the optimizer was built for \(n) parameters")
        let lr = Double(learningRate)
        let originalLoss = try evaluate()
        var loss = originalLoss
        var currentEvaluations = 1
        functionEvaluations += 1
        copy(gradients, into: &flatGradient)
        if Double(Self.maxAbs(flatGradient)) <= toleranceGrad { return originalLoss }

        var iteration = 0
        while iteration < maxIter {
            iteration += 1
            iterations += 1
            if iterations == 1 {
                for j in 0..<n { direction[j] = -flatGradient[j] }
                oldDirs = []
                oldSteps = []
                ro = []
                hDiag = 1
            } else {
                updateHistory()
                twoLoopDirection()
            }
            copy(flatGradient, into: &previousGradient)
            previousLoss = loss
            // torch: min(1., 1. / flat_grad.abs().sum()) * lr, a float32 tensor when it is the reciprocal.
            if iterations == 1 {
                let reciprocal = 1 / Self.absSum(flatGradient)
                stepLength = reciprocal < 1 ? Double(reciprocal * Float(lr)) : lr
            } else {
                stepLength = lr
            }
            let gtd = Self.dot(flatGradient, direction)
            if Double(gtd) > -toleranceChange { break }

            var lineSearchEvaluations = 0
            var optimal = false
            switch lineSearch {
            case .strongWolfe:
                let result = try strongWolfe(parameters: parameters, gradients: gradients, t: stepLength, f: loss,
                                             gtd: Double(gtd), evaluate: evaluate)
                loss = result.f
                stepLength = result.t
                lineSearchEvaluations = result.evaluations
                addDirection(to: parameters, t: stepLength)
                optimal = Double(Self.maxAbs(flatGradient)) <= toleranceGrad
            case .none:
                addDirection(to: parameters, t: stepLength)
                if iteration != maxIter {
                    loss = try evaluate()
                    copy(gradients, into: &flatGradient)
                    optimal = Double(Self.maxAbs(flatGradient)) <= toleranceGrad
                    lineSearchEvaluations = 1
                }
            }
            currentEvaluations += lineSearchEvaluations
            functionEvaluations += lineSearchEvaluations

            if iteration == maxIter || currentEvaluations >= maxEval || optimal { break }
            let t = Float(stepLength)
            var largestMove: Float = 0
            for j in 0..<n { largestMove = Swift.max(largestMove, abs(direction[j] * t)) }
            if Double(largestMove) <= toleranceChange { break }
            if abs(loss - previousLoss) < toleranceChange { break }
        }
        return originalLoss
    }

    /// y ← g − g_prev, s ← d·t, and when y·s > 1e-10 their entry in the history (the oldest dropped at
    /// history_size) and H ← y·s / y·y.
    private func updateHistory() {
        var y = spareY, s = spareS
        spareY = []
        spareS = []
        if y.count != n { y = [Float](repeating: 0, count: n) }
        if s.count != n { s = [Float](repeating: 0, count: n) }
        let t = Float(stepLength)
        for j in 0..<n {
            y[j] = flatGradient[j] - previousGradient[j]
            s[j] = direction[j] * t
        }
        let ys = Self.dot(y, s)
        guard Double(ys) > 1e-10 else {
            spareY = y
            spareS = s
            return
        }
        if oldDirs.count == historySize {
            spareY = oldDirs.removeFirst()
            spareS = oldSteps.removeFirst()
            ro.removeFirst()
        }
        ro.append(1 / ys)
        hDiag = ys / Self.dot(y, y)
        oldDirs.append(y)
        oldSteps.append(s)
    }

    /// d ← −H̃g by the two-loop recursion over the history (torch's loop collapsed into one buffer).
    private func twoLoopDirection() {
        for j in 0..<n { direction[j] = -flatGradient[j] }
        for i in stride(from: oldDirs.count - 1, through: 0, by: -1) {
            let a = Self.dot(oldSteps[i], direction) * ro[i]
            alpha[i] = a
            let negative = -a
            oldDirs[i].withUnsafeBufferPointer { y in
                for j in 0..<n { direction[j] = direction[j] + negative * y[j] }
            }
        }
        let h = hDiag
        for j in 0..<n { direction[j] *= h }
        for i in 0..<oldDirs.count {
            let beta = Self.dot(oldDirs[i], direction) * ro[i]
            let weight = alpha[i] - beta
            oldSteps[i].withUnsafeBufferPointer { s in
                for j in 0..<n { direction[j] = direction[j] + weight * s[j] }
            }
        }
    }

    /// θ ← θ + t·d (torch's `p.add_(d, alpha=t)`, t rounded to single precision).
    private func addDirection(to parameters: UnsafeMutableBufferPointer<Float>, t: Double) {
        let t = Float(t)
        for j in 0..<n { parameters[j] = parameters[j] + t * direction[j] }
    }

    private func copy(_ source: UnsafeBufferPointer<Float>, into target: inout [Float]) {
        target.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: source) }
    }

    private func copy(_ source: [Float], into target: inout [Float]) {
        source.withUnsafeBufferPointer { copy($0, into: &target) }
    }

    // MARK: strong Wolfe line search (torch's _strong_wolfe, _cubic_interpolate)

    /// The result of a line search: the loss, step length and evaluations; its gradient is left in `flatGradient`.
    private struct LineSearchResult { var f: Double, t: Double, evaluations: Int }

    /// torch's `_strong_wolfe(obj_func, x, t, d, f, g, gtd)` from θ = `parameters` along `direction`, with
    /// g = `flatGradient`: brackets a step satisfying f(t) ≤ f + c1·t·gtd and |g(t)·d| ≤ −c2·gtd, then zooms
    /// in by cubic interpolation; every evaluation is at θ + t·d and θ is put back after it. Gradients are
    /// kept in `lineSearchBuffers`: [g_prev, g_new, bracket 0, bracket 1, θ] by index below.
    private func strongWolfe<Failure: Error>(
        parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, t initialT: Double,
        f: Double, gtd: Double, evaluate: () throws(Failure) -> Double
    ) throws(Failure) -> LineSearchResult {
        if lineSearchBuffers.count != 5 || lineSearchBuffers[0].count != n {
            lineSearchBuffers = Array(repeating: [Float](repeating: 0, count: n), count: 5)
        }
        let c1 = Self.c1, c2 = Self.c2, maxLS = Self.maxLineSearch
        let dNorm = Double(Self.maxAbs(direction))
        copy(UnsafeBufferPointer(parameters), into: &lineSearchBuffers[4])
        // Slots of lineSearchBuffers: which buffer holds g_prev, g_new and each bracket end's gradient.
        // g itself (flatGradient) is slot −1 until it is copied.
        var t = initialT
        func objective(_ t: Double, into slot: Int) throws(Failure) -> (Double, Double) {
            let step = Float(t)
            lineSearchBuffers[4].withUnsafeBufferPointer { x in
                for j in 0..<n { parameters[j] = x[j] + step * direction[j] }
            }
            let value = try evaluate()
            copy(gradients, into: &lineSearchBuffers[slot])
            lineSearchBuffers[4].withUnsafeBufferPointer { x in _ = parameters.update(fromContentsOf: x) }
            return (value, Double(Self.dot(lineSearchBuffers[slot], direction)))
        }
        // Gradients by slot: 0 and 1 alternate as g_prev and g_new while bracketing, 2 and 3 are the
        // bracket's ends while zooming; −1 is g itself.
        var gNewSlot = 1, gPrevSlot = -1
        var (fNew, gtdNew) = try objective(t, into: gNewSlot)
        var evaluations = 1
        var tPrev = 0.0, fPrev = f, gtdPrev = gtd
        var done = false
        var lsIter = 0
        var bracket: [Double] = [], bracketF: [Double] = [], bracketGtd: [Double] = [0, 0]
        var bracketSlots: [Int] = []
        while lsIter < maxLS {
            if fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev) {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketSlots = [gPrevSlot, gNewSlot]
                bracketGtd = [gtdPrev, gtdNew]
                break
            }
            if abs(gtdNew) <= -c2 * gtd {
                bracket = [t]; bracketF = [fNew]; bracketSlots = [gNewSlot]
                done = true
                break
            }
            if gtdNew >= 0 {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketSlots = [gPrevSlot, gNewSlot]
                bracketGtd = [gtdPrev, gtdNew]
                break
            }
            let minStep = t + 0.01 * (t - tPrev), maxStep = t * 10
            let previous = t
            t = Self.cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
            tPrev = previous
            fPrev = fNew
            gPrevSlot = gNewSlot
            gtdPrev = gtdNew
            gNewSlot = gNewSlot == 1 ? 0 : 1
            (fNew, gtdNew) = try objective(t, into: gNewSlot)
            evaluations += 1
            lsIter += 1
        }
        if lsIter == maxLS {
            bracket = [0, t]; bracketF = [f, fNew]; bracketSlots = [-1, gNewSlot]
        }
        // The bracket's gradients move into slots 2 and 3 (g itself stays in flatGradient until the end).
        for (position, slot) in bracketSlots.enumerated() where slot >= 0 {
            lineSearchBuffers.swapAt(slot, 2 + position)
            bracketSlots[position] = 2 + position
        }
        var insufficientProgress = false
        var (low, high) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
        while !done && lsIter < maxLS {
            if abs(bracket[1] - bracket[0]) * dNorm < toleranceChange { break }
            t = Self.cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1])
            let upper = Self.pythonMax(bracket[0], bracket[1]), lower = Self.pythonMin(bracket[0], bracket[1])
            let eps = 0.1 * (upper - lower)
            if Self.pythonMin(upper - t, t - lower) < eps {
                if insufficientProgress || t >= upper || t <= lower {
                    t = abs(t - upper) < abs(t - lower) ? upper - eps : lower + eps
                    insufficientProgress = false
                } else {
                    insufficientProgress = true
                }
            } else {
                insufficientProgress = false
            }
            (fNew, gtdNew) = try objective(t, into: 0)
            evaluations += 1
            lsIter += 1
            if fNew > f + c1 * t * gtd || fNew >= bracketF[low] {
                bracket[high] = t; bracketF[high] = fNew; bracketGtd[high] = gtdNew
                bracketSlots[high] = storeNewGradient(besides: bracketSlots[low])
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
            } else {
                if abs(gtdNew) <= -c2 * gtd {
                    done = true
                } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
                    bracket[high] = bracket[low]; bracketF[high] = bracketF[low]; bracketGtd[high] = bracketGtd[low]
                    bracketSlots[high] = bracketSlots[low]
                }
                bracket[low] = t; bracketF[low] = fNew; bracketGtd[low] = gtdNew
                bracketSlots[low] = storeNewGradient(besides: bracketSlots[high])
            }
        }
        let slot = bracketSlots[low]
        if slot >= 0 { copy(lineSearchBuffers[slot], into: &flatGradient) }
        return LineSearchResult(f: bracketF[low], t: bracket[low], evaluations: evaluations)
    }

    /// Moves the gradient just evaluated (slot 0) to a bracket end: into whichever of slots 2 and 3 the other
    /// end, at `otherSlot`, does not use (it may be g itself, −1), and returns that slot.
    private func storeNewGradient(besides otherSlot: Int) -> Int {
        let target = otherSlot == 2 ? 3 : 2
        lineSearchBuffers.swapAt(0, target)
        return target
    }

    /// torch's `_cubic_interpolate`: the minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2,
    /// clamped to `bounds` (default the interval between x1 and x2), or the bounds' midpoint when it has none:
    ///
    ///     d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2),  d2 = √(d1² − g1·g2)
    ///     x = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2)   (x1 ≤ x2; the mirror image otherwise)
    static func cubicInterpolate(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                                 bounds: (Double, Double)? = nil) -> Double {
        let (lower, upper) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
        let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        guard d2Square >= 0 else { return (lower + upper) / 2 }
        let d2 = d2Square.squareRoot()
        let minimum = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                               : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return pythonMin(pythonMax(minimum, lower), upper)
    }

    /// Python's max(a, b) and min(a, b): a unless b is greater (smaller), so a NaN a is kept.
    static func pythonMax(_ a: Double, _ b: Double) -> Double { b > a ? b : a }
    static func pythonMin(_ a: Double, _ b: Double) -> Double { b < a ? b : a }

    /// a·b accumulated in double, rounded once to single precision (torch's 0-dim float32 `dot`).
    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var sum = 0.0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for j in 0..<a.count { sum += Double(a[j]) * Double(b[j]) }
            }
        }
        return Float(sum)
    }

    /// Σ|v| accumulated in double, rounded once.
    static func absSum(_ v: [Float]) -> Float {
        var sum = 0.0
        for x in v { sum += Double(abs(x)) }
        return Float(sum)
    }

    /// max|v| (NaN wins, as torch's `abs().max()`).
    static func maxAbs(_ v: [Float]) -> Float {
        var largest: Float = 0
        for x in v {
            if x.isNaN { return x }
            largest = Swift.max(largest, abs(x))
        }
        return largest
    }
}
