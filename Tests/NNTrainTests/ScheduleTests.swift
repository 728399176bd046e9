import Foundation
import Testing
@testable import NNTrain

/// Every schedule against torch.optim.lr_scheduler, with the expected values computed here
/// independently of the implementation: either by hand from the class's documented formula at points
/// where it is exact (a restart, a peak, a phase's midpoint), or by transcribing the way PyTorch itself
/// produces them in the usual loop (the recursive `get_lr` chain of the per-epoch classes, OneCycleLR's
/// list of phases, the triangle of CyclicLR measured from the cycle start, SGDR's cycles found by
/// subtraction instead of a logarithm).
@Suite struct ScheduleTests {
    static let stepsPerEpoch = 7

    /// The position of batch `batch` of epoch `epoch`.
    static func at(epoch: Int, batch: Int = 0, stepsPerEpoch: Int = stepsPerEpoch) -> SchedulePosition {
        SchedulePosition(epoch: epoch, step: epoch * stepsPerEpoch + batch, stepsPerEpoch: stepsPerEpoch)
    }

    /// The position of the `step`-th optimizer step of the run.
    static func at(step: Int, stepsPerEpoch: Int = stepsPerEpoch) -> SchedulePosition {
        SchedulePosition(epoch: step / stepsPerEpoch, step: step, stepsPerEpoch: stepsPerEpoch)
    }

    static func expectClose(_ actual: Double?, _ expected: Double, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else {
            Issue.record("\(what): nil, expected \(expected)", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(actual - expected) <= 1e-12 * abs(expected) + 1e-15, "\(what): \(actual) vs \(expected)",
                sourceLocation: sourceLocation)
    }

    /// The rates of epochs 0..<count as PyTorch's per-epoch loop produces them: the constructor's
    /// `step()` computes epoch 0's rate from the configured one, and each `scheduler.step()` at the end
    /// of epoch e − 1 computes epoch e's from the current one (`get_lr` with `last_epoch = e`).
    static func torchChain(base: Double, epochs count: Int, getLR: (_ lastEpoch: Int, _ lr: Double) -> Double) -> [Double] {
        var lr = getLR(0, base)
        var rates = [lr]
        for epoch in 1..<count {
            lr = getLR(epoch, lr)
            rates.append(lr)
        }
        return rates
    }

    /// Checks that every step of each epoch (its first and last batch) runs at the epoch's expected rate.
    static func expectPerEpoch(_ schedule: LearningRateSchedule, base: Double, _ expected: [Double],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        for (epoch, rate) in expected.enumerated() {
            for batch in [0, stepsPerEpoch - 1] {
                let values = schedule.values(at: at(epoch: epoch, batch: batch), baseLR: base)
                expectClose(values.learningRate, rate, "\(schedule) epoch \(epoch) batch \(batch)",
                            sourceLocation: sourceLocation)
                #expect(values.momentum == nil, sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: Per-epoch schedules

    @Test func constantIsTheConfiguredRate() {
        Self.expectPerEpoch(.constant(), base: 0.03, [0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03])
    }

    @Test func constantMultipliesByFactorForTotalIters() {
        // ConstantLR.get_lr: lr·factor at epoch 0, lr / factor at epoch total_iters, else unchanged.
        let (factor, iters) = (0.5, 3)
        let expected = Self.torchChain(base: 0.08, epochs: 6) { epoch, lr in
            if epoch == 0 { return lr * factor }
            return epoch == iters ? lr * (1 / factor) : lr
        }
        Self.expectPerEpoch(.constant(factor: factor, totalIters: iters), base: 0.08, expected)
        // By hand: 0.04 for epochs 0, 1, 2, then 0.08.
        Self.expectPerEpoch(.constant(factor: factor, totalIters: iters), base: 0.08, [0.04, 0.04, 0.04, 0.08, 0.08, 0.08])
        // ConstantLR's docstring (factor 0.5, total_iters 4): 0.025 for epochs 0-3, then 0.05.
        Self.expectPerEpoch(.constant(factor: 0.5, totalIters: 4), base: 0.05, [0.025, 0.025, 0.025, 0.025, 0.05, 0.05])
        // The closed form's factor + (1 − factor), bit for bit, after total_iters.
        let rate = LearningRateSchedule.constant(factor: 0.3, totalIters: 5).values(at: Self.at(epoch: 5), baseLR: 0.1)
        #expect(rate.learningRate == 0.1 * (0.3 + 1 * (1 - 0.3)))
    }

    @Test func polynomialDecaysToZeroOverTotalIters() {
        // PolynomialLR.get_lr: lr · ((1 − e/T) / (1 − (e − 1)/T))^power for 0 < e ≤ T, else unchanged.
        let (iters, power) = (4, 2.0)
        let expected = Self.torchChain(base: 0.1, epochs: 7) { epoch, lr in
            if epoch == 0 || epoch > iters { return lr }
            let factor = (1.0 - Double(epoch) / Double(iters)) / (1.0 - Double(epoch - 1) / Double(iters))
            return lr * pow(factor, power)
        }
        Self.expectPerEpoch(.polynomial(totalIters: iters, power: power), base: 0.1, expected)
        // By hand: (1 − e/4)² = 1, 0.5625, 0.25, 0.0625, 0, then 0.
        Self.expectPerEpoch(.polynomial(totalIters: iters, power: power), base: 0.1,
                            [0.1, 0.05625, 0.025, 0.00625, 0, 0, 0])
        // PyTorch's defaults (total_iters 5, power 1): PolynomialLR's docstring with lr 0.001 → 0.0008, 0.0006, ...
        Self.expectPerEpoch(.polynomial(), base: 0.001, [0.001, 0.0008, 0.0006, 0.0004, 0.0002, 0, 0])
    }

    @Test func constantAndPolynomialBehindAWarmup() {
        // Two epochs of 3 steps each ramp to the wrapped schedule's rate at its epoch 0; its clock then starts.
        let constant = Warmup(.epochs(2), then: .constant(factor: 0.5, totalIters: 2))
        let polynomial = Warmup(.epochs(2), then: .polynomial(totalIters: 2, power: 1))
        for (step, expected) in [(0, 0.05 / 6), (5, 0.05), (6, 0.05), (8, 0.05), (9, 0.05), (11, 0.05), (12, 0.1)] {
            let position = Self.at(step: step, stepsPerEpoch: 3)
            Self.expectClose(constant.values(at: position, baseLR: 0.1).learningRate, expected, "constant step \(step)")
        }
        for (step, expected) in [(0, 0.1 / 6), (5, 0.1), (6, 0.1), (9, 0.05), (12, 0), (20, 0)] {
            let position = Self.at(step: step, stepsPerEpoch: 3)
            Self.expectClose(polynomial.values(at: position, baseLR: 0.1).learningRate, expected, "polynomial step \(step)")
        }
    }

    @Test func stepDecaysEveryStepSizeEpochs() {
        // StepLR.get_lr: lr·gamma when last_epoch is a non-zero multiple of step_size, else unchanged.
        let expected = Self.torchChain(base: 0.05, epochs: 95) { epoch, lr in
            epoch != 0 && epoch % 30 == 0 ? lr * 0.1 : lr
        }
        Self.expectPerEpoch(.step(stepSize: 30), base: 0.05, expected)
        // StepLR's docstring: 0.05 before epoch 30, 0.005 from 30, 0.0005 from 60.
        let schedule = LearningRateSchedule.step(stepSize: 30)
        for (epoch, rate) in [(29, 0.05), (30, 0.005), (59, 0.005), (60, 0.0005), (89, 0.0005), (90, 0.00005)] {
            Self.expectClose(schedule.values(at: Self.at(epoch: epoch), baseLR: 0.05).learningRate, rate, "epoch \(epoch)")
        }
    }

    @Test func multiStepDecaysAtEachMilestone() {
        // MultiStepLR.get_lr: lr·gamma when last_epoch is a milestone, else unchanged.
        let milestones = [2, 5, 6]
        let expected = Self.torchChain(base: 0.2, epochs: 9) { epoch, lr in
            milestones.contains(epoch) ? lr * 0.5 : lr
        }
        #expect(expected.map { ($0 * 1000).rounded() } == [200, 200, 100, 100, 100, 50, 25, 25, 25])
        Self.expectPerEpoch(.multiStep(milestones: milestones, gamma: 0.5), base: 0.2, expected)
    }

    @Test func exponentialMultipliesByGammaEachEpoch() {
        let expected = Self.torchChain(base: 0.1, epochs: 40) { epoch, lr in epoch == 0 ? lr : lr * 0.9 }
        Self.expectPerEpoch(.exponential(gamma: 0.9), base: 0.1, expected)
    }

    @Test func cosineFollowsTorchRecursion() {
        // CosineAnnealingLR.get_lr in the loop, including its branch at the bottom of the cosine.
        let base = 0.1, etaMin = 0.001, tMax = 10
        let t = Double(tMax)
        let expected = Self.torchChain(base: base, epochs: 3 * tMax + 1) { epoch, lr in
            if epoch == 0 { return lr }
            if (epoch - 1 - tMax) % (2 * tMax) == 0 { return lr + (base - etaMin) * (1 - cos(.pi / t)) / 2 }
            return (1 + cos(.pi * Double(epoch) / t)) / (1 + cos(.pi * Double(epoch - 1) / t)) * (lr - etaMin) + etaMin
        }
        Self.expectPerEpoch(.cosine(tMax: tMax, etaMin: etaMin), base: base, expected)
        // The closed form by hand: base at 0, halfway at T_max / 2, η_min at T_max, back up after.
        let schedule = LearningRateSchedule.cosine(tMax: tMax, etaMin: etaMin)
        let rate = { (epoch: Int) in schedule.values(at: Self.at(epoch: epoch), baseLR: base).learningRate }
        Self.expectClose(rate(0), base, "epoch 0")
        Self.expectClose(rate(5), (base + etaMin) / 2, "epoch T_max/2")
        Self.expectClose(rate(10), etaMin, "epoch T_max")
        Self.expectClose(rate(11), rate(9), "epoch T_max + 1 mirrors T_max − 1")
    }

    @Test func linearInterpolatesFactorOverTotalIters() {
        // LinearLR.get_lr: start_factor at epoch 0, then the multiplicative step below until total_iters.
        let (start, end, iters) = (0.25, 1.0, 4)
        let expected = Self.torchChain(base: 0.08, epochs: 8) { epoch, lr in
            if epoch == 0 { return lr * start }
            if epoch > iters { return lr }
            return lr * (1 + (end - start) / (Double(iters) * start + Double(epoch - 1) * (end - start)))
        }
        Self.expectPerEpoch(.linear(startFactor: start, endFactor: end, totalIters: iters), base: 0.08, expected)
        // By hand: factors 0.25, 0.4375, 0.625, 0.8125, then 1.
        let byHand = [0.25, 0.4375, 0.625, 0.8125, 1, 1, 1, 1].map { 0.08 * $0 }
        Self.expectPerEpoch(.linear(startFactor: start, endFactor: end, totalIters: iters), base: 0.08, byHand)
        // PyTorch's defaults: 1/3 rising to 1 over 5 epochs.
        Self.expectPerEpoch(.linear(), base: 0.3, [0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3])
    }

    // MARK: CosineAnnealingWarmRestarts

    /// SGDR's T_cur and T_i at fractional epoch t, finding the cycle by walking the cycle lengths.
    static func sgdrCycle(at t: Double, t0: Int, tMult: Int) -> (tCur: Double, tI: Double) {
        var start = 0.0, length = Double(t0)
        while t >= start + length {
            start += length
            length *= Double(tMult)
        }
        return (t - start, length)
    }

    @Test(arguments: [(3, 1), (1, 2), (2, 3)])
    func cosineRestartsFollowsDocumentedLoop(t0: Int, tMult: Int) {
        // PyTorch's documented loop runs batch i with the rate scheduler.step(epoch + i / iters) set after
        // the batch before it: step s at fractional epoch (s − 1) / iters, step 0 at epoch 0.
        let base = 0.1, etaMin = 0.002, perEpoch = 5
        let schedule = LearningRateSchedule.cosineRestarts(t0: t0, tMult: tMult, etaMin: etaMin)
        for step in 0..<(perEpoch * 40) {
            let t = Double(max(step - 1, 0)) / Double(perEpoch)
            let (tCur, tI) = Self.sgdrCycle(at: t, t0: t0, tMult: tMult)
            let expected = etaMin + (base - etaMin) * (1 + cos(.pi * tCur / tI)) / 2
            let actual = schedule.values(at: Self.at(step: step, stepsPerEpoch: perEpoch), baseLR: base)
            Self.expectClose(actual.learningRate, expected, "t_0 \(t0) t_mult \(tMult) step \(step)")
            #expect(actual.momentum == nil)
        }
    }

    @Test func cosineRestartsAroundEachRestart() {
        let half = { (angle: Double) in 0.05 * (1 + cos(angle)) }  // base 0.1, η_min 0
        // T_0 = 2 epochs of 4 batches, T_mult = 1: restarts at fractional epochs 2, 4, ...
        let constant = LearningRateSchedule.cosineRestarts(t0: 2)
        let rate1 = { (epoch: Int, batch: Int) in
            constant.values(at: Self.at(epoch: epoch, batch: batch, stepsPerEpoch: 4), baseLR: 0.1).learningRate
        }
        Self.expectClose(rate1(0, 0), 0.1, "first step")
        Self.expectClose(rate1(0, 1), 0.1, "second step, still at epoch 0")
        Self.expectClose(rate1(0, 2), half(.pi * 0.25 / 2), "epoch 0.25")
        Self.expectClose(rate1(2, 0), half(.pi * 1.75 / 2), "epoch 2 batch 0 runs at epoch 1.75")
        Self.expectClose(rate1(2, 1), 0.1, "restart at epoch 2.0")
        Self.expectClose(rate1(2, 2), half(.pi * 0.25 / 2), "epoch 2.25")
        Self.expectClose(rate1(4, 1), 0.1, "restart at epoch 4.0")

        // T_0 = 1, T_mult = 2, 2 batches per epoch: cycles [0, 1), [1, 3), [3, 7), [7, 15).
        let doubling = LearningRateSchedule.cosineRestarts(t0: 1, tMult: 2)
        let rate2 = { (step: Int) in doubling.values(at: Self.at(step: step, stepsPerEpoch: 2), baseLR: 0.1).learningRate }
        Self.expectClose(rate2(2), 0.05, "epoch 0.5, halfway through T_i = 1")
        Self.expectClose(rate2(3), 0.1, "restart at epoch 1")
        Self.expectClose(rate2(5), 0.05, "epoch 2, halfway through T_i = 2")
        Self.expectClose(rate2(6), half(.pi * 1.5 / 2), "epoch 2.5")
        Self.expectClose(rate2(7), 0.1, "restart at epoch 3")
        Self.expectClose(rate2(11), 0.05, "epoch 5, halfway through T_i = 4")
        Self.expectClose(rate2(15), 0.1, "restart at epoch 7")

        // PyTorch counts cycles with a logarithm: for T_0 = 1, T_mult = 3 the fifth cycle starts at epoch
        // 1 + 3 + 9 + 27 + 81 = 121, but Python's math.log(243, 3) is 4.999999999999999, so PyTorch puts
        // epoch 121.0 at the end of the fourth cycle (T_cur = T_i = 81): η_min, and the restart a step later.
        let tripling = LearningRateSchedule.cosineRestarts(t0: 1, tMult: 3)
        let rate4 = { (step: Int) in tripling.values(at: Self.at(step: step, stepsPerEpoch: 2), baseLR: 0.1).learningRate }
        Self.expectClose(rate4(2 * 121 + 1), 0, "epoch 121.0, as PyTorch rounds it")
        Self.expectClose(rate4(2 * 121 + 2), half(.pi * 0.5 / 243), "epoch 121.5, in the fifth cycle")

        // A fractional epoch with η_min: 3 batches per epoch, step 5 runs at epoch 1 + 1/3 of T_0 = 2.
        let fractional = LearningRateSchedule.cosineRestarts(t0: 2, etaMin: 0.01)
        let rate3 = fractional.values(at: Self.at(epoch: 1, batch: 2, stepsPerEpoch: 3), baseLR: 0.1).learningRate
        Self.expectClose(rate3, 0.01 + 0.09 * (1 + cos(2 * .pi / 3)) / 2, "epoch 4/3")
        Self.expectClose(rate3, 0.0325, "epoch 4/3 by hand")
    }

    // MARK: OneCycleLR

    /// OneCycleLR.get_lr transcribed: walk the list of phases to the first whose end_step ≥ step.
    static func torchOneCycle(_ s: LearningRateSchedule.OneCycle, step: Int) -> (lr: Double, momentum: Double) {
        let total = Double(s.totalSteps), initial = s.maxLR / s.divFactor, minLR = initial / s.finalDivFactor
        typealias Phase = (endStep: Double, startLR: Double, endLR: Double, startMomentum: Double, endMomentum: Double)
        let phases: [Phase] = s.threePhase
            ? [(s.pctStart * total - 1, initial, s.maxLR, s.maxMomentum, s.baseMomentum),
               (2 * s.pctStart * total - 2, s.maxLR, initial, s.baseMomentum, s.maxMomentum),
               (total - 1, initial, minLR, s.maxMomentum, s.maxMomentum)]
            : [(s.pctStart * total - 1, initial, s.maxLR, s.maxMomentum, s.baseMomentum),
               (total - 1, s.maxLR, minLR, s.baseMomentum, s.maxMomentum)]
        let anneal = { (start: Double, end: Double, pct: Double) -> Double in
            s.annealing == .cos ? end + (start - end) / 2 * (cos(.pi * pct) + 1) : (end - start) * pct + start
        }
        var startStep = 0.0
        for (i, phase) in phases.enumerated() {
            if Double(step) <= phase.endStep || i == phases.count - 1 {
                let pct = (Double(step) - startStep) / (phase.endStep - startStep)
                return (anneal(phase.startLR, phase.endLR, pct), anneal(phase.startMomentum, phase.endMomentum, pct))
            }
            startStep = phase.endStep
        }
        return (.nan, .nan)
    }

    static func expectOneCycle(_ cycle: LearningRateSchedule.OneCycle, step: Int, lr: Double, momentum: Double,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let values = LearningRateSchedule.oneCycle(cycle).values(at: at(step: step), baseLR: 123)
        expectClose(values.learningRate, lr, "lr at step \(step)", sourceLocation: sourceLocation)
        expectClose(values.momentum, momentum, "momentum at step \(step)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [false, true], [LearningRateSchedule.OneCycle.Annealing.cos, .linear])
    func oneCycleMatchesTorchPhases(threePhase: Bool, annealing: LearningRateSchedule.OneCycle.Annealing) {
        for (total, pct) in [(25, 0.2), (100, 0.3), (37, 0.45), (10, 0.05)] {
            let cycle = LearningRateSchedule.OneCycle(maxLR: 0.4, totalSteps: total, pctStart: pct,
                                                      annealing: annealing, threePhase: threePhase)
            for step in 0..<total {
                let expected = Self.torchOneCycle(cycle, step: step)
                Self.expectOneCycle(cycle, step: step, lr: expected.lr, momentum: expected.momentum)
            }
        }
    }

    @Test func oneCycleTwoPhasesByHand() {
        // 25 steps, pct_start 0.2: the rise ends at step 0.2·25 − 1 = 4, the fall at 24.
        let cycle = LearningRateSchedule.OneCycle(maxLR: 0.5, totalSteps: 25, pctStart: 0.2)
        let initial = 0.5 / 25, minLR = initial / 1e4
        Self.expectOneCycle(cycle, step: 0, lr: initial, momentum: 0.95)
        Self.expectOneCycle(cycle, step: 2, lr: (initial + 0.5) / 2, momentum: 0.9)
        Self.expectOneCycle(cycle, step: 4, lr: 0.5, momentum: 0.85)
        Self.expectOneCycle(cycle, step: 14, lr: (0.5 + minLR) / 2, momentum: 0.9)
        Self.expectOneCycle(cycle, step: 24, lr: minLR, momentum: 0.95)
        // PyTorch raises past the last step; here the schedule stays at the last step's values.
        Self.expectOneCycle(cycle, step: 25, lr: minLR, momentum: 0.95)
        Self.expectOneCycle(cycle, step: 1000, lr: minLR, momentum: 0.95)
        // Linear annealing: a quarter of the way up the rise, a quarter of the way down the fall.
        var linear = cycle
        linear.annealing = .linear
        Self.expectOneCycle(linear, step: 1, lr: initial + (0.5 - initial) / 4, momentum: 0.925)
        Self.expectOneCycle(linear, step: 9, lr: 0.5 - (0.5 - minLR) / 4, momentum: 0.875)
    }

    @Test func oneCycleThreePhasesByHand() {
        // 25 steps, pct_start 0.2: phases end at 4, 2·0.2·25 − 2 = 8 and 24.
        let cycle = LearningRateSchedule.OneCycle(maxLR: 0.5, totalSteps: 25, pctStart: 0.2, threePhase: true)
        let initial = 0.02, minLR = initial / 1e4
        Self.expectOneCycle(cycle, step: 0, lr: initial, momentum: 0.95)
        Self.expectOneCycle(cycle, step: 2, lr: (initial + 0.5) / 2, momentum: 0.9)
        Self.expectOneCycle(cycle, step: 4, lr: 0.5, momentum: 0.85)
        Self.expectOneCycle(cycle, step: 6, lr: (initial + 0.5) / 2, momentum: 0.9)
        Self.expectOneCycle(cycle, step: 8, lr: initial, momentum: 0.95)
        Self.expectOneCycle(cycle, step: 16, lr: (initial + minLR) / 2, momentum: 0.95)
        Self.expectOneCycle(cycle, step: 24, lr: minLR, momentum: 0.95)
    }

    @Test func oneCycleIgnoresConfiguredRateAndCanLeaveMomentum() {
        let cycle = LearningRateSchedule.OneCycle(maxLR: 0.5, totalSteps: 25, pctStart: 0.2, cycleMomentum: false)
        let schedule = LearningRateSchedule.oneCycle(cycle)
        #expect(schedule.values(at: Self.at(step: 3), baseLR: 1) == schedule.values(at: Self.at(step: 3), baseLR: 0.001))
        #expect(schedule.values(at: Self.at(step: 4), baseLR: 1) == ScheduledValues(learningRate: 0.5, momentum: nil))
    }

    // MARK: CyclicLR

    /// CyclicLR's triangle measured from the start of the cycle: 0 at the start, 1 after `up` steps,
    /// back to 0 after `down` more.
    static func triangle(step: Int, up: Int, down: Int) -> (height: Double, cycle: Int) {
        let k = step % (up + down)
        return (k <= up ? Double(k) / Double(up) : Double(up + down - k) / Double(down), step / (up + down) + 1)
    }

    @Test(arguments: [LearningRateSchedule.Cyclic.Mode.triangular, .triangular2, .expRange])
    func cyclicFollowsTriangle(mode: LearningRateSchedule.Cyclic.Mode) {
        for (up, down) in [(4, 4), (3, 5), (5, nil as Int?)] {
            let cyclic = LearningRateSchedule.Cyclic(baseLR: 0.01, maxLR: 0.1, stepSizeUp: up, stepSizeDown: down,
                                                     mode: mode, gamma: 0.97)
            for step in 0..<60 {
                let (height, cycle) = Self.triangle(step: step, up: up, down: down ?? up)
                let scale = switch mode {
                case .triangular: 1.0
                case .triangular2: 1 / pow(2, Double(cycle - 1))
                case .expRange: pow(0.97, Double(step))
                }
                let values = LearningRateSchedule.cyclic(cyclic).values(at: Self.at(step: step), baseLR: 5)
                Self.expectClose(values.learningRate, 0.01 + 0.09 * height * scale, "\(mode) lr at step \(step)")
                Self.expectClose(values.momentum, 0.9 - 0.1 * height * scale, "\(mode) momentum at step \(step)")
            }
        }
    }

    @Test func cyclicByHand() {
        func values(_ cyclic: LearningRateSchedule.Cyclic, _ step: Int) -> ScheduledValues {
            LearningRateSchedule.cyclic(cyclic).values(at: Self.at(step: step), baseLR: 5)
        }
        let triangular = LearningRateSchedule.Cyclic(baseLR: 0.1, maxLR: 1.0, stepSizeUp: 4)
        for (step, lr, momentum) in [(0, 0.1, 0.9), (2, 0.55, 0.85), (4, 1.0, 0.8), (6, 0.55, 0.85), (8, 0.1, 0.9),
                                     (12, 1.0, 0.8)] {
            Self.expectClose(values(triangular, step).learningRate, lr, "triangular lr at \(step)")
            Self.expectClose(values(triangular, step).momentum, momentum, "triangular momentum at \(step)")
        }
        // triangular2 halves the amplitude every cycle: peaks at 0.1 + 0.9, 0.1 + 0.45, 0.1 + 0.225.
        var halving = triangular
        halving.mode = .triangular2
        for (step, lr, momentum) in [(4, 1.0, 0.8), (12, 0.55, 0.85), (20, 0.325, 0.875), (16, 0.1, 0.9)] {
            Self.expectClose(values(halving, step).learningRate, lr, "triangular2 lr at \(step)")
            Self.expectClose(values(halving, step).momentum, momentum, "triangular2 momentum at \(step)")
        }
        // exp_range scales by gamma^step.
        var exponential = triangular
        exponential.mode = .expRange
        exponential.gamma = 0.9
        Self.expectClose(values(exponential, 4).learningRate, 0.1 + 0.9 * pow(0.9, 4), "exp_range peak")
        Self.expectClose(values(exponential, 2).momentum, 0.9 - 0.1 * 0.5 * pow(0.9, 2), "exp_range momentum")
        // Uneven halves: up 2, down 6, so step 5 is halfway down.
        let uneven = LearningRateSchedule.Cyclic(baseLR: 0.1, maxLR: 1.0, stepSizeUp: 2, stepSizeDown: 6,
                                                 cycleMomentum: false)
        #expect(values(uneven, 2) == ScheduledValues(learningRate: 1.0, momentum: nil))
        Self.expectClose(values(uneven, 5).learningRate, 0.55, "halfway down")
    }

    // MARK: Warm-up

    @Test func warmupRampsToCosineThenStartsItsClock() {
        // 5 warm-up steps in front of a cosine over 10 epochs of 4 steps.
        let base = 0.2, perEpoch = 4
        let warmup = Warmup(.steps(5), then: .cosine(tMax: 10))
        let rate = { (step: Int) in
            warmup.values(at: Self.at(step: step, stepsPerEpoch: perEpoch), baseLR: base).learningRate
        }
        Self.expectClose(rate(0), base / 5, "first warm-up step")
        Self.expectClose(rate(2), base * 3 / 5, "third warm-up step")
        Self.expectClose(rate(4), base, "last warm-up step")
        Self.expectClose(rate(5), base, "first step after, mid training epoch 1: cosine epoch 0")
        // The per-epoch schedule moves at the training epochs' boundaries: step 8 starts epoch 2.
        Self.expectClose(rate(7), base, "cosine epoch 0, last batch")
        Self.expectClose(rate(8), base * (1 + cos(.pi / 10)) / 2, "cosine epoch 1")
        Self.expectClose(rate(9), base * (1 + cos(.pi / 10)) / 2, "cosine epoch 1")
        Self.expectClose(rate(5 + 5 * perEpoch), base / 2, "cosine epoch 5 = T_max / 2")
        Self.expectClose(rate(5 + 10 * perEpoch), 0, "cosine epoch 10 = T_max")
    }

    @Test func warmupInEpochsShiftsWholeEpochs() {
        let warmup = Warmup(.epochs(2), then: .step(stepSize: 1, gamma: 0.5))
        #expect(warmup.steps(stepsPerEpoch: 3) == 6)
        let rate = { (epoch: Int, batch: Int) in
            warmup.values(at: Self.at(epoch: epoch, batch: batch, stepsPerEpoch: 3), baseLR: 0.6).learningRate
        }
        Self.expectClose(rate(0, 0), 0.1, "step 0 of 6")
        Self.expectClose(rate(1, 2), 0.6, "step 5 of 6")
        Self.expectClose(rate(2, 0), 0.6, "StepLR epoch 0")
        Self.expectClose(rate(3, 2), 0.3, "StepLR epoch 1")
        Self.expectClose(rate(4, 1), 0.15, "StepLR epoch 2")
    }

    @Test func warmupKeepsWrappedMomentumAndZeroLengthIsTransparent() {
        let cycle = LearningRateSchedule.oneCycle(.init(maxLR: 0.5, totalSteps: 25, pctStart: 0.2))
        let warmup = Warmup(.steps(4), then: cycle)
        let first = warmup.values(at: Self.at(step: 1), baseLR: 1)
        Self.expectClose(first.learningRate, 0.02 * 2 / 4, "OneCycle's initial rate, half warmed up")
        Self.expectClose(first.momentum, 0.95, "OneCycle's initial momentum")
        #expect(warmup.values(at: Self.at(step: 8), baseLR: 1) == cycle.values(at: Self.at(step: 4), baseLR: 1))
        let none = Warmup(.steps(0), then: .cosine(tMax: 3))
        for step in 0..<30 {
            #expect(none.values(at: Self.at(step: step), baseLR: 0.1)
                == LearningRateSchedule.cosine(tMax: 3).values(at: Self.at(step: step), baseLR: 0.1))
        }
    }

    // MARK: ReduceLROnPlateau

    /// Steps `scheduler` once per metric, returning the rate after each step.
    static func rates(_ scheduler: inout ReduceLROnPlateau, _ metrics: [Double]) -> [Double] {
        metrics.map { metric in
            scheduler.step(metric: metric)
            return scheduler.learningRate
        }
    }

    static func expectRates(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        for (epoch, (a, e)) in zip(actual, expected).enumerated() {
            expectClose(a, e, "after epoch \(epoch + 1)", sourceLocation: sourceLocation)
        }
    }

    @Test func plateauCutsAfterPatienceBadEpochs() {
        // patience 2: the third bad epoch in a row cuts the rate at its end.
        var plateau = ReduceLROnPlateau(learningRate: 0.1, patience: 2)
        let metrics = [1.0, 0.9, 0.95, 0.92, 0.91, 0.85, 0.86, 0.87, 0.88, 0.89]
        //             best  best  bad1  bad2  cut   best  bad1  bad2  cut   bad1
        Self.expectRates(Self.rates(&plateau, metrics),
                         [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001])
        #expect(plateau.best == 0.85 && plateau.badEpochs == 1 && plateau.cooldownCounter == 0)
    }

    @Test func plateauDefaultsNeedElevenBadEpochs() {
        var plateau = ReduceLROnPlateau(learningRate: 1)
        let rates = Self.rates(&plateau, [5] + Array(repeating: 6, count: 11))
        Self.expectRates(rates, Array(repeating: 1, count: 11) + [0.1])
    }

    @Test func plateauHonoursRelativeAndAbsoluteThresholds() {
        // Relative 1e-4: from best 1.0 a metric must be below 0.9999 to count.
        var relative = ReduceLROnPlateau(learningRate: 0.1, patience: 0)
        Self.expectRates(Self.rates(&relative, [1.0, 0.99995, 0.9998]), [0.1, 0.01, 0.01])
        #expect(relative.best == 0.9998)
        // Absolute 0.1: from best 1.0 a metric must be below 0.9.
        var absolute = ReduceLROnPlateau(learningRate: 0.1, patience: 1, threshold: 0.1, thresholdMode: .absolute)
        Self.expectRates(Self.rates(&absolute, [1.0, 0.95, 0.91, 0.89, 0.85]), [0.1, 0.1, 0.01, 0.01, 0.01])
        #expect(absolute.best == 0.89 && absolute.badEpochs == 1)
        // With no threshold, a metric equal to the best is not an improvement.
        var strict = ReduceLROnPlateau(learningRate: 0.1, patience: 0, threshold: 0, thresholdMode: .absolute)
        Self.expectRates(Self.rates(&strict, [1.0, 1.0]), [0.1, 0.01])
    }

    @Test func plateauCooldownIgnoresBadEpochs() {
        var plateau = ReduceLROnPlateau(learningRate: 0.1, patience: 0, cooldown: 2)
        let cuts = [1.0, 2, 2, 2, 2, 2].map { plateau.step(metric: $0) }
        #expect(cuts == [false, true, false, false, true, false])
        #expect(plateau.cooldownCounter == 1)
        Self.expectClose(plateau.learningRate, 0.001, "two cuts")
    }

    @Test func plateauStopsAtMinLRAndSkipsCutsBelowEps() {
        var floored = ReduceLROnPlateau(learningRate: 0.1, factor: 0.5, patience: 0, minLR: 0.04)
        Self.expectRates(Self.rates(&floored, [1, 2, 2, 2]), [0.1, 0.05, 0.04, 0.04])
        // A cut of 1.35e-8 exceeds eps = 1e-8; the next, of 1.35e-9, does not.
        var tiny = ReduceLROnPlateau(learningRate: 1.5e-8, patience: 0)
        let cuts = [1.0, 2, 2].map { tiny.step(metric: $0) }
        #expect(cuts == [false, true, false])
        Self.expectClose(tiny.learningRate, 1.5e-9, "one cut")
    }

    @Test func plateauInMaxMode() {
        var plateau = ReduceLROnPlateau(learningRate: 0.1, mode: .max, patience: 1)
        // 0.60005 is not above 0.6 · (1 + 1e-4) = 0.60006.
        Self.expectRates(Self.rates(&plateau, [0.5, 0.6, 0.60005, 0.59, 0.7]), [0.1, 0.1, 0.1, 0.01, 0.01])
        #expect(plateau.best == 0.7 && plateau.badEpochs == 0)
        var fresh = ReduceLROnPlateau(learningRate: 0.1, mode: .max)
        #expect(fresh.best == -.infinity)
        fresh.step(metric: -1e300)
        #expect(fresh.best == -1e300)
    }

    @Test func plateauNaNIsNeverBetter() {
        var plateau = ReduceLROnPlateau(learningRate: 0.1, patience: 1)
        Self.expectRates(Self.rates(&plateau, [1, .nan, .nan]), [0.1, 0.1, 0.01])
        #expect(plateau.best == 1)
    }

    // MARK: Parameters out of range (the config layer refuses them; see ScheduleConfigTests)

    @Test func invalidParametersAndPositionsNeverTrap() {
        let schedules: [LearningRateSchedule] = [
            .step(stepSize: 0), .step(stepSize: -3), .cosine(tMax: 0), .cosineRestarts(t0: 0, tMult: 0),
            .cosineRestarts(t0: -1, tMult: -5), .linear(totalIters: 0), .polynomial(totalIters: 0), .polynomial(totalIters: -2),
            .constant(factor: 0.5, totalIters: -1),
            .oneCycle(.init(maxLR: 0.1, totalSteps: 0)), .oneCycle(.init(maxLR: 0.1, totalSteps: -4)),
            .oneCycle(.init(maxLR: 0.1, totalSteps: 10, pctStart: 0.1)),
            .cyclic(.init(baseLR: 0.01, maxLR: 0.1, stepSizeUp: 0, stepSizeDown: -2)),
        ]
        let positions = [SchedulePosition(epoch: 0, step: 0, stepsPerEpoch: 0),
                         SchedulePosition(epoch: -2, step: -9, stepsPerEpoch: -1),
                         SchedulePosition(epoch: 3, step: 40, stepsPerEpoch: 0),
                         SchedulePosition(epoch: Int.max, step: Int.max, stepsPerEpoch: Int.max)]
        for schedule in schedules {
            for position in positions {
                let lr = schedule.values(at: position, baseLR: 0.1).learningRate
                #expect(lr.isFinite, "\(schedule) at \(position): \(lr)")
            }
        }
        let warmup = Warmup(.epochs(Int.max), then: .constant())
        #expect(warmup.steps(stepsPerEpoch: 2) == Int.max)
        #expect(warmup.values(at: SchedulePosition(epoch: 5, step: 10, stepsPerEpoch: 2), baseLR: 1).learningRate.isFinite)
    }
}
