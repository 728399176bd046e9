import Foundation

// The learning-rate range test of Leslie Smith ("Cyclical Learning Rates for Training Neural
// Networks", 2017, https://arxiv.org/abs/1506.01186) as fastai runs it: `Learner.lr_find` and the
// `LRFinder` callback of fastai/callback/schedule.py, with the smoothed loss of fastai/learner.py's
// `AvgSmoothLoss` and `Recorder`. Everything here is arithmetic on the recorded losses; the training
// steps themselves belong to the trainer.

/// The exponential schedule of fastai's `LRFinder(start_lr, end_lr, num_it)`: before batch i
/// (i = 0, 1, …) the rate is `SchedExp(start, end)(pct)` with pct = train_iter / num_it, that is
///
///     lr_i = start · (end / start)^(i / steps)
///
/// so the first step runs at `start` and the last (i = steps − 1) at start·(end/start)^((steps−1)/steps),
/// one step short of `end`, exactly as fastai (whose `pct` divides by num_it, not num_it − 1).
public struct LRFinderSchedule: Codable, Equatable, Sendable {
    public let startLearningRate: Double
    public let endLearningRate: Double
    public let steps: Int

    /// fastai's defaults are 1e-7, 10 and 100. Refused (`.usage`): a start that is not positive and
    /// finite, an end not above the start, and fewer than 6 steps (fastai quietly raises num_it to 6).
    public init(startLearningRate: Double = 1e-7, endLearningRate: Double = 10, steps: Int = 100) throws(NNTrainError) {
        let start = startLearningRate, end = endLearningRate
        guard start > 0, start.isFinite, end.isFinite, end > start else {
            throw NNTrainError(.usage, "lr-find: start lr \(start) and end lr \(end); expected 0 < start < end, both finite")
        }
        guard steps >= 6 else {
            throw NNTrainError(.usage, "lr-find: \(steps) steps; expected at least 6")
        }
        self.startLearningRate = startLearningRate
        self.endLearningRate = endLearningRate
        self.steps = steps
    }

    /// lr_i = start · (end / start)^(i / steps).
    public func learningRate(at step: Int) -> Double {
        startLearningRate * pow(endLearningRate / startLearningRate, Double(step) / Double(steps))
    }
}

/// fastai's `AvgSmoothLoss(beta=0.98)`: an exponential moving average of the losses with the bias
/// correction of Adam, so early values are not pulled toward the initial 0:
///
///     avg_i      = β · avg_{i−1} + (1 − β) · loss_i        (avg_0 = 0; torch.lerp(loss, avg, β))
///     smoothed_i = avg_i / (1 − β^i)                         (i = 1, 2, …)
///
/// The first smoothed value is the first loss. A NaN or infinite loss stays in the average for good.
public struct SmoothedLoss: Equatable, Sendable {
    public let beta: Double
    public private(set) var average = 0.0
    public private(set) var count = 0

    public init(beta: Double = 0.98) { self.beta = beta }

    /// Takes the next loss and returns the smoothed value.
    public mutating func add(_ loss: Double) -> Double {
        count += 1
        average = beta * average + (1 - beta) * loss
        return average / (1 - pow(beta, Double(count)))
    }
}

/// One step of the range test: the rate it ran at, its batch loss, and the smoothed loss.
public struct LRFinderPoint: Codable, Equatable, Sendable {
    public var learningRate: Double
    public var loss: Double
    public var smoothedLoss: Double

    public init(learningRate: Double, loss: Double, smoothedLoss: Double) {
        self.learningRate = learningRate
        self.loss = loss
        self.smoothedLoss = smoothedLoss
    }
}

/// The bookkeeping of a range test, step by step, as fastai's `LRFinder` callback keeps it:
///
///     while let lr = finder.nextLearningRate {
///         let loss = <one training step at lr>
///         finder.record(loss: loss)
///     }
///     let result = finder.result()
///
/// After each step the smoothed loss is recorded, then (`stop_div`) the test stops when it exceeds
/// 4 × the lowest smoothed loss so far (that step stays recorded, as in fastai, whose `Recorder`
/// runs before the check); otherwise it stops after `schedule.steps` steps. One difference: a NaN
/// smoothed loss also stops it (fastai's comparison is false for NaN and would run on to num_it,
/// although nothing from a NaN on is used).
public struct LRFinder: Sendable {
    /// fastai's `stop_div` factor.
    public static let divergenceFactor = 4.0

    public enum Stop: String, Codable, Sendable {
        /// All `schedule.steps` steps ran.
        case completed
        /// The smoothed loss exceeded 4 × its minimum, or became NaN.
        case diverged
    }

    public let schedule: LRFinderSchedule
    public let stopOnDivergence: Bool
    public private(set) var points: [LRFinderPoint] = []
    /// Why the test ended; nil while it runs.
    public private(set) var stop: Stop?
    private var smoother = SmoothedLoss()
    private var bestSmoothed = Double.infinity

    public init(schedule: LRFinderSchedule, stopOnDivergence: Bool = true) {
        self.schedule = schedule
        self.stopOnDivergence = stopOnDivergence
    }

    /// The rate of the next step; nil once the test has stopped.
    public var nextLearningRate: Double? {
        stop == nil ? schedule.learningRate(at: points.count) : nil
    }

    /// Records the loss of the step just run at `nextLearningRate`; returns whether to run another.
    /// After the test has stopped it records nothing and returns false.
    @discardableResult
    public mutating func record(loss: Double) -> Bool {
        guard let learningRate = nextLearningRate else { return false }
        let smoothed = smoother.add(loss)
        points.append(LRFinderPoint(learningRate: learningRate, loss: loss, smoothedLoss: smoothed))
        bestSmoothed = min(bestSmoothed, smoothed)
        if stopOnDivergence && (smoothed.isNaN || smoothed > Self.divergenceFactor * bestSmoothed) {
            stop = .diverged
        } else if points.count >= schedule.steps {
            stop = .completed
        }
        return stop == nil
    }

    /// The points recorded so far with fastai's four suggestions.
    public func result() -> LRFinderResult {
        LRFinderResult(schedule: schedule, points: points, stop: stop ?? .completed)
    }
}

/// A learning rate suggested from the smoothed losses, and the point fastai marks for it on the plot.
public struct LRSuggestion: Codable, Equatable, Sendable {
    /// fastai's `SuggestionMethod`s.
    public enum Method: String, Codable, CaseIterable, Sendable {
        case valley, slide, minimum, steep
    }

    public var method: Method
    public var learningRate: Double
    /// The marked point: (lr, loss) of the step the method picked. For `minimum` it is the lowest
    /// loss's step, whose rate is ten times the suggestion; for `slide`, the suggestion and the loss
    /// interpolated there.
    public var pointLearningRate: Double
    public var pointLoss: Double

    public init(method: Method, learningRate: Double, pointLearningRate: Double, pointLoss: Double) {
        self.method = method
        self.learningRate = learningRate
        self.pointLearningRate = pointLearningRate
        self.pointLoss = pointLoss
    }

    // MARK: Which points the methods see

    /// The points `Learner.lr_find` hands to the methods, by index: `recorder.lrs[num_it//10:-5]`,
    /// that is without the first steps/10 (integer division) and the last 5 recorded steps (Python's
    /// slice: empty when fewer remain).
    public static func window(count: Int, steps: Int) -> Range<Int> {
        let start = steps / 10, end = max(count - 5, 0)
        return start < end ? start..<end : 0..<0
    }

    /// The rates and smoothed losses the methods see: the window, cut before its first non-finite
    /// smoothed loss (lr_find drops from the first NaN; an infinity is cut too, as one never leaves
    /// the average and would make every later slope meaningless).
    public static func analysed(_ points: [LRFinderPoint], steps: Int) -> (learningRates: [Double], losses: [Double]) {
        var window = Array(points[Self.window(count: points.count, steps: steps)])
        if let bad = window.firstIndex(where: { !$0.smoothedLoss.isFinite }) { window.removeSubrange(bad...) }
        return (window.map(\.learningRate), window.map(\.smoothedLoss))
    }

    /// All four methods on `points` (the window of `analysed`), in fastai's order; a method that
    /// needs more points than there are gives nothing.
    public static func all(_ points: [LRFinderPoint], steps: Int) -> [LRSuggestion] {
        let (rates, losses) = analysed(points, steps: steps)
        return [valley(rates, losses), slide(rates, losses), minimum(rates, losses), steep(rates, losses)].compactMap { $0 }
    }

    // MARK: The methods of fastai/callback/schedule.py

    /// fastai's `valley`: the longest valley, found as the longest strictly decreasing subsequence of
    /// the losses (not necessarily contiguous; O(n²) as fastai), then the point "two thirds of the way
    /// down" it: with lds[i] the length of the longest one ending at i, max_end the first index of the
    /// largest lds, and max_start = max_end − lds[max_end] (one before the subsequence's first index,
    /// as fastai computes it),
    ///
    ///     sections = (max_end − max_start) / 3
    ///     idx      = max_start + ⌊sections⌋ + ⌊sections / 2⌋
    ///
    /// When the valley is two points from index 0, idx is −1, which Python reads as the last point;
    /// that is kept. Nil with no points.
    public static func valley(_ rates: [Double], _ losses: [Double]) -> LRSuggestion? {
        let n = losses.count
        guard n > 0, rates.count == n else { return nil }
        var lds = [Int](repeating: 1, count: n)
        var maxStart = 0, maxEnd = 0
        for i in 1..<n {
            for j in 0..<i {
                if losses[i] < losses[j] && lds[i] < lds[j] + 1 { lds[i] = lds[j] + 1 }
                if lds[maxEnd] < lds[i] {
                    maxEnd = i
                    maxStart = maxEnd - lds[maxEnd]
                }
            }
        }
        let sections = Double(maxEnd - maxStart) / 3
        var index = maxStart + Int(sections) + Int(sections / 2)
        if index < 0 { index += n }  // Python's lrs[-1]
        return LRSuggestion(method: .valley, learningRate: rates[index], pointLearningRate: rates[index],
                            pointLoss: losses[index])
    }

    /// fastai's `slide` (an interval slide rule) with its defaults lr_diff = 15, thresh = 0.005,
    /// adjust_value = 1: with g = numpy.gradient(losses) (central differences inside, one-sided at the
    /// ends, spacing 1), a right index r from the last point and a left index l = r − lr_diff walk left
    /// together while |g[r] − g[l]| > thresh; the suggestion is the rate at the last l visited (or at
    /// n − 1 − lr_diff when the first pair already agrees), times adjust_value. Its point is the
    /// suggestion and the loss interpolated there linearly in log₁₀ lr (numpy.interp). Nil with fewer
    /// than lr_diff + 1 points, where fastai would fail indexing.
    public static func slide(_ rates: [Double], _ losses: [Double], lrDiff: Int = 15, threshold: Double = 0.005,
                             adjustValue: Double = 1) -> LRSuggestion? {
        let n = losses.count
        guard lrDiff >= 1, n >= lrDiff + 1, rates.count == n else { return nil }
        var gradient = [Double](repeating: 0, count: n)
        gradient[0] = losses[1] - losses[0]
        gradient[n - 1] = losses[n - 1] - losses[n - 2]
        for i in 1..<(n - 1) { gradient[i] = (losses[i + 1] - losses[i - 1]) / 2 }
        var right = n - 1, left = n - 1 - lrDiff
        var chosen = rates[left]
        while left >= 0 && abs(gradient[right] - gradient[left]) > threshold {
            chosen = rates[left]
            right -= 1
            left -= 1
        }
        let suggestion = chosen * adjustValue
        let loss = interpolate(Foundation.log10(suggestion), rates.map { Foundation.log10($0) }, losses)
        return LRSuggestion(method: .slide, learningRate: suggestion, pointLearningRate: suggestion, pointLoss: loss)
    }

    /// fastai's `minimum`: a tenth of the rate at the lowest loss (its first occurrence, as argmin);
    /// the point is that lowest loss at its own rate. Nil with no points.
    public static func minimum(_ rates: [Double], _ losses: [Double]) -> LRSuggestion? {
        guard let lowest = losses.indices.min(by: { losses[$0] < losses[$1] }), rates.count == losses.count else { return nil }
        let rate = rates[lowest]
        return LRSuggestion(method: .minimum, learningRate: rate / 10, pointLearningRate: rate,
                            pointLoss: losses[nearest(rate, in: rates)])
    }

    /// fastai's `steep`: the steepest descent per unit of ln lr,
    ///
    ///     grads_i = (loss_{i+1} − loss_i) / (ln lr_{i+1} − ln lr_i),   i = 0 … n − 2
    ///
    /// and the suggestion is the rate at the left end of the most negative slope (first on ties, as
    /// argmin); the point is that rate and its loss. Nil with fewer than two points.
    public static func steep(_ rates: [Double], _ losses: [Double]) -> LRSuggestion? {
        let n = losses.count
        guard n >= 2, rates.count == n else { return nil }
        let gradients = (0..<(n - 1)).map { (i: Int) -> Double in
            (losses[i + 1] - losses[i]) / (Foundation.log(rates[i + 1]) - Foundation.log(rates[i]))
        }
        guard let steepest = gradients.indices.min(by: { gradients[$0] < gradients[$1] }) else { return nil }
        let rate = rates[steepest]
        return LRSuggestion(method: .steep, learningRate: rate, pointLearningRate: rate,
                            pointLoss: losses[nearest(rate, in: rates)])
    }

    /// The index of the rate closest to `rate` (first on ties), as fastai finds a point's loss.
    static func nearest(_ rate: Double, in rates: [Double]) -> Int {
        rates.indices.min(by: { abs(rates[$0] - rate) < abs(rates[$1] - rate) }) ?? 0
    }

    /// numpy.interp: linear interpolation of (xs, ys) at x, xs increasing; the end values outside.
    static func interpolate(_ x: Double, _ xs: [Double], _ ys: [Double]) -> Double {
        guard let first = xs.first, let last = xs.last else { return .nan }
        if x <= first { return ys[0] }
        if x >= last { return ys[ys.count - 1] }
        let upper = xs.firstIndex { $0 >= x } ?? xs.count - 1
        if xs[upper] == x { return ys[upper] }
        let lower = upper - 1
        return ys[lower] + (ys[upper] - ys[lower]) * (x - xs[lower]) / (xs[upper] - xs[lower])
    }
}

/// What a range test found: its schedule, every step's rate and losses, why it ended, and the
/// suggestions of `LRSuggestion.all`.
public struct LRFinderResult: Codable, Equatable, Sendable {
    public var schedule: LRFinderSchedule
    public var points: [LRFinderPoint]
    public var stop: LRFinder.Stop
    public var suggestions: [LRSuggestion]

    public init(schedule: LRFinderSchedule, points: [LRFinderPoint], stop: LRFinder.Stop) {
        self.schedule = schedule
        self.points = points
        self.stop = stop
        self.suggestions = LRSuggestion.all(points, steps: schedule.steps)
    }

    /// The suggestion of `method`, if it had enough points.
    public func suggestion(_ method: LRSuggestion.Method) -> LRSuggestion? {
        suggestions.first { $0.method == method }
    }
}
