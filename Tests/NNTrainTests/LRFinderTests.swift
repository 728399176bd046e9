import Foundation
import Testing
@testable import NNTrain

/// The range test's arithmetic against fastai's definitions, on synthetic curves whose answers are
/// worked out by hand in the comments.
@Suite struct LRFinderTests {
    static func expectClose(_ actual: Double?, _ expected: Double, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else {
            Issue.record("\(what): nil, expected \(expected)", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(actual - expected) <= 1e-12 * abs(expected), "\(what): \(actual) vs \(expected)",
                sourceLocation: sourceLocation)
    }

    /// Geometric rates 1e-6 · 10^(i/4): equal steps in log lr.
    static func rates(_ count: Int) -> [Double] { (0..<count).map { 1e-6 * pow(10, Double($0) / 4) } }

    // MARK: Schedule and smoothing

    @Test func theScheduleIsFastaisSchedExpOverIterOverNumIt() throws {
        let schedule = try LRFinderSchedule()  // 1e-7 to 10 over 100 steps
        // pct = i/100: lr_0 = 1e-7; lr_50 = 1e-7 · (1e8)^0.5 = 1e-3; lr_99 = 1e-7 · 10^(8 · 0.99) = 10^0.92.
        Self.expectClose(schedule.learningRate(at: 0), 1e-7, "first")
        Self.expectClose(schedule.learningRate(at: 50), 1e-3, "middle")
        Self.expectClose(schedule.learningRate(at: 99), pow(10, 0.92), "last")
        #expect(throws: NNTrainError(.usage, "lr-find: 5 steps; expected at least 6")) { try LRFinderSchedule(steps: 5) }
        for (start, end) in [(0.0, 1.0), (1.0, 1.0), (-1.0, 1.0), (1e-3, .infinity), (.nan, 1)] {
            #expect(performing: { try LRFinderSchedule(startLearningRate: start, endLearningRate: end) },
                    throws: { ($0 as? NNTrainError)?.kind == .usage })
        }
    }

    @Test func smoothingIsBiasCorrectedAverage() {
        // Losses 1, 2, 3 with β = 0.98:
        //   avg₁ = 0.02 · 1 = 0.02                      smoothed₁ = 0.02 / (1 − 0.98) = 1
        //   avg₂ = 0.98 · 0.02 + 0.02 · 2 = 0.0596      smoothed₂ = 0.0596 / (1 − 0.9604) = 0.0596 / 0.0396
        //   avg₃ = 0.98 · 0.0596 + 0.06 = 0.118408      smoothed₃ = 0.118408 / (1 − 0.941192) = 0.118408 / 0.058808
        var smoother = SmoothedLoss()
        let smoothed = [1.0, 2, 3].map { smoother.add($0) }
        #expect(abs(smoothed[0] - 1) < 1e-12)
        #expect(abs(smoothed[1] - 0.0596 / 0.0396) < 1e-12)
        #expect(abs(smoothed[2] - 0.118408 / 0.058808) < 1e-12)
    }

    @Test func theTestStopsWhenTheSmoothedLossPassesFourTimesItsMinimum() throws {
        // Losses 1, 1, 1 smooth to 1, 1, 1; then 1000: avg₄ = 0.98 · 0.058808 + 20 = 20.05763184, over
        // 1 − 0.98⁴ = 0.07763184: 258.4 > 4 · 1, so the fourth step is recorded and the test stops.
        var finder = LRFinder(schedule: try LRFinderSchedule(startLearningRate: 1e-3, endLearningRate: 1, steps: 10))
        let going = [1.0, 1, 1, 1000].map { finder.record(loss: $0) }
        #expect(going == [true, true, true, false])
        #expect(finder.stop == .diverged && finder.points.count == 4 && finder.nextLearningRate == nil)
        Self.expectClose(finder.points[3].smoothedLoss, (0.98 * 0.058808 + 20) / (1 - pow(0.98, 4)), "smoothed₄")
        Self.expectClose(finder.points[3].learningRate, 1e-3 * pow(1000, 0.3), "lr₃")
        let afterStop = finder.record(loss: 1)
        #expect(!afterStop && finder.points.count == 4)  // nothing is recorded after the stop
        // Without stop_div the same losses run on; six steady steps complete a 6-step test.
        var patient = LRFinder(schedule: try LRFinderSchedule(startLearningRate: 1e-3, endLearningRate: 1, steps: 6),
                               stopOnDivergence: false)
        let patientGoing = [1.0, 1, 1, 1000, 1, 1].map { patient.record(loss: $0) }
        #expect(patientGoing == [true, true, true, true, true, false])
        #expect(patient.stop == .completed && patient.points.count == 6)
        // A NaN loss stops the test (fastai would run on with NaN).
        var broken = LRFinder(schedule: try LRFinderSchedule())
        let brokenGoing = [2.0, .nan].map { broken.record(loss: $0) }
        #expect(brokenGoing == [true, false] && broken.stop == .diverged)
    }

    // MARK: Which points the methods see

    @Test func theWindowSkipsATenthOfTheStepsAndTheLastFive() {
        #expect(LRSuggestion.window(count: 100, steps: 100) == 10..<95)
        #expect(LRSuggestion.window(count: 30, steps: 100) == 10..<25)  // stopped early
        #expect(LRSuggestion.window(count: 12, steps: 100) == 0..<0)    // Python's empty slice
        #expect(LRSuggestion.window(count: 6, steps: 6) == 0..<1)
        // A NaN at step 50 cuts the window there: steps 10…49.
        let points = (0..<100).map { LRFinderPoint(learningRate: Double($0 + 1), loss: 1, smoothedLoss: $0 == 50 ? .nan : 1) }
        let (rates, losses) = LRSuggestion.analysed(points, steps: 100)
        #expect(rates.first == 11 && rates.count == 40 && losses.count == 40)
    }

    // MARK: Suggestions

    /// A V in log lr: losses 10, 9, …, 1 at i = 0…9, then 2, 3, …, 11 at i = 10…19.
    static let vee = (0..<20).map { Double(abs($0 - 9) + 1) }

    @Test func valleyPicksTwoThirdsDownTheLongestDecreasingRun() throws {
        // lds[i] = i + 1 for i ≤ 9; past the bottom each loss is above the later part of the descent,
        // so lds ≤ 9 there. max_end = 9 (first with lds 10), max_start = 9 − 10 = −1;
        // sections = 10/3 = 3.33: idx = −1 + 3 + ⌊1.67⌋ = 3.
        let rates = Self.rates(20)
        let valley = try #require(LRSuggestion.valley(rates, Self.vee))
        #expect(valley.learningRate == rates[3] && valley.pointLoss == 7)
        // The subsequence need not start at 0: losses 1, 5, 4, 3, 2, 0.5, 6 have lds 1, 1, 2, 3, 4, 5, 1;
        // max_end = 5, max_start = 5 − 5 = 0 (one before the 5 at index 1, as fastai counts);
        // sections = 5/3: idx = 0 + 1 + ⌊0.83⌋ = 1.
        let offset = try #require(LRSuggestion.valley(Self.rates(7), [1, 5, 4, 3, 2, 0.5, 6]))
        #expect(offset.learningRate == Self.rates(7)[1])
        // Two points going down from index 0: idx = −1 + 0 + 0, Python's last element.
        #expect(LRSuggestion.valley([1, 2], [2, 1])?.learningRate == 2)
        #expect(LRSuggestion.valley([1, 2, 3], [2, 1, 3])?.learningRate == 3)
        #expect(LRSuggestion.valley([4], [1])?.learningRate == 4)
        #expect(LRSuggestion.valley([], []) == nil)
    }

    @Test func steepPicksTheMostNegativeSlopeInLogLR() throws {
        // Equal log steps, so the slopes order as the differences −0.1, −0.4, −1.5, −2, −0.2, −0.1, 0.2,
        // 1.1, 3: the steepest runs from index 3 to 4; the suggestion is its left end, loss 3.
        let losses = [5, 4.9, 4.5, 3, 1, 0.8, 0.7, 0.9, 2, 5]
        let steep = try #require(LRSuggestion.steep(Self.rates(10), losses))
        #expect(steep.learningRate == Self.rates(10)[3] && steep.pointLoss == 3)
        // The slope is per unit of ln lr: rates 1e-3, 1e-2, 1e-1, 1e2 and losses 3, 2.5, 1.5, 0 give
        // −0.5/ln 10, −1/ln 10, −1.5/(3 ln 10) = −0.5/ln 10: the second segment, though the third drops most.
        #expect(LRSuggestion.steep([1e-3, 1e-2, 1e-1, 1e2], [3, 2.5, 1.5, 0])?.learningRate == 1e-2)
        #expect(LRSuggestion.steep([1], [1]) == nil)
    }

    @Test func minimumIsATenthOfTheLowestLossRate() throws {
        // The V's lowest loss is 1 at index 9: suggest lr₉ / 10, marked at (lr₉, 1).
        let rates = Self.rates(20)
        let minimum = try #require(LRSuggestion.minimum(rates, Self.vee))
        #expect(minimum.learningRate == rates[9] / 10 && minimum.pointLearningRate == rates[9] && minimum.pointLoss == 1)
        #expect(LRSuggestion.minimum([1, 2, 3], [2, 1, 1])?.pointLearningRate == 2)  // first of equal minima
        #expect(LRSuggestion.minimum([], []) == nil)
    }

    @Test func slideWalksLeftUntilTheGradientsAgree() throws {
        // Losses 20 − i for i ≤ 17, then 3, 3: numpy.gradient is −1 at 0…16, (3 − 4)/2 = −0.5 at 17,
        // (3 − 3)/2 = 0 at 18, and 3 − 3 = 0 at 19. Pairs (r, l) from (19, 4): |0 − (−1)| = 1, then (18, 3):
        // 1, then (17, 2): 0.5, all above 0.005, so l = 4, 3, 2 are visited; (16, 1) agree: stop at lr₂,
        // whose loss (interpolated exactly at a recorded rate) is 18.
        let rates = Self.rates(20)
        let losses = (0..<20).map { Double(max(20 - $0, 3)) }
        let slide = try #require(LRSuggestion.slide(rates, losses))
        #expect(slide.learningRate == rates[2])
        Self.expectClose(slide.pointLoss, 18, "interpolated loss")
        // A flat curve agrees at once: the first left index, n − 16 = 4.
        #expect(LRSuggestion.slide(rates, Array(repeating: 1, count: 20))?.learningRate == rates[4])
        // i²: the gradients differ by about 30 at every pair, so the walk runs off the left end: lr₀.
        #expect(LRSuggestion.slide(rates, (0..<20).map { Double($0 * $0) })?.learningRate == rates[0])
        #expect(LRSuggestion.slide(Self.rates(15), Array(repeating: 1, count: 15)) == nil)  // fastai: IndexError
        // numpy.interp between points: halfway in log lr between losses 2 and 4 is 3.
        #expect(LRSuggestion.interpolate(0.5, [0, 1], [2, 4]) == 3)
        #expect(LRSuggestion.interpolate(-1, [0, 1], [2, 4]) == 2 && LRSuggestion.interpolate(9, [0, 1], [2, 4]) == 4)
    }

    // MARK: Result and reports

    /// A 100-step test on a loss that is a parabola in log₁₀ lr with its bottom at lr = 1e-2, rising
    /// steeply after: it diverges before the end.
    static func simulated() throws -> LRFinderResult {
        var finder = LRFinder(schedule: try LRFinderSchedule())
        while let lr = finder.nextLearningRate {
            let x = log10(lr) + 2
            finder.record(loss: 1 + 0.05 * x * x + (x > 0 ? 5 * x * x * x : 0))
        }
        return finder.result()
    }

    @Test func aFullTestGivesEverySuggestionAndParsableReports() throws {
        let result = try Self.simulated()
        #expect(result.stop == .diverged && result.points.count < 100)
        #expect(result.suggestions.map(\.method) == [.valley, .slide, .minimum, .steep])
        // The average lags the loss, so the smoothed curve bottoms out right of the true bottom at 1e-2,
        // within the next decade; minimum suggests a tenth of that rate.
        let minimum = try #require(result.suggestion(.minimum))
        #expect(minimum.pointLearningRate > 1e-2 && minimum.pointLearningRate < 1e-1)
        #expect(minimum.learningRate == minimum.pointLearningRate / 10)
        // The diverging tail is outside the window: every marked point is below 4 × the lowest loss.
        let lowest = try #require(result.points.map(\.smoothedLoss).min())
        #expect(result.suggestions.allSatisfy { $0.pointLoss < 4 * lowest })
        let csv = result.csv().split(separator: "\n")
        #expect(csv.first == "lr,loss,smoothed_loss" && csv.count == result.points.count + 1)
        #expect(csv[1] == "1e-07,\(result.points[0].loss),\(result.points[0].smoothedLoss)")
        let document = try SVGCheck.parse(result.svg())
        let texts = SVGCheck.texts(in: document)
        #expect(texts.contains("smoothed loss") && texts.contains("learning rate (log scale)"))
        #expect(texts.contains("valley: " + String(format: "%.4g", try #require(result.suggestion(.valley)).learningRate)))
        #expect(texts.contains("1e-07") && texts.contains("0.01"))
        #expect(SVGCheck.elements("g", ofClass: "marker", in: document).count == 4)
        let json = try #require(try JSONSerialization.jsonObject(with: result.json()) as? [String: Any])
        #expect((json["suggestions"] as? [[String: Any]])?.first?["method"] as? String == "valley")
        #expect((json["schedule"] as? [String: Any])?["steps"] as? Int == 100)
        #expect(try ReportJSON.decode(LRFinderResult.self, from: result.json()) == result)
    }
}
