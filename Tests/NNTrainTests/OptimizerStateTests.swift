import Testing
@testable import NNTrain

/// A restored optimizer takes exactly the steps the saved one would have taken.
@Suite struct OptimizerStateTests {
    static func make(_ name: OptimizerKind) -> any Optimizer {
        var section = Configuration.OptimizerSection()
        section.name = name
        section.momentum = name == .sgd || name == .rmsprop ? 0.9 : 0
        section.amsgrad = name == .adam
        section.centered = name == .rmsprop
        section.weightDecay = 0.01
        return section.makeOptimizer(groups: [ParameterGroup(range: 0..<5, weightDecay: true)])
    }

    static func steps(_ optimizer: any Optimizer, _ theta: inout [Float], count: Int) {
        for _ in 0..<count {
            let gradient = OptimizerTests.gradient(theta.map(Double.init)).map(Float.init)
            theta.withUnsafeMutableBufferPointer { p in
                gradient.withUnsafeBufferPointer { optimizer.step(parameters: p, gradients: $0, learningRate: 0.01, momentum: nil) }
            }
        }
    }

    @Test(arguments: OptimizerKind.allCases)
    func restoringTheStateContinuesBitForBit(name: OptimizerKind) throws {
        let original = Self.make(name)
        var theta = OptimizerTests.start.map(Float.init)
        Self.steps(original, &theta, count: 3)
        let saved = original.state
        var resumedTheta = theta
        let resumed = Self.make(name)
        try resumed.restore(saved)
        #expect(resumed.state == saved)
        Self.steps(original, &theta, count: 2)
        Self.steps(resumed, &resumedTheta, count: 2)
        #expect(theta == resumedTheta)
    }

    @Test func aStateOfTheWrongSizeIsRefusedAndChangesNothing() {
        let adam = Self.make(.adam)
        var state = adam.state
        state.buffers["exp_avg"] = [1, 2]
        #expect(throws: OptimizerStateMismatch.self) { try adam.restore(state) }
        #expect(adam.state == Self.make(.adam).state)
        state = adam.state
        state.counters["step"] = nil
        #expect(throws: OptimizerStateMismatch.self) { try adam.restore(state) }
    }
}
