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
        section.t0 = 2  // asgd averages from step 4, within the steps below
        section.maxIter = 3  // lbfgs: 9 iterations in the 3 steps before the save, 6 after
        section.historySize = 4  // and its history wraps before the save
        return section.makeOptimizer(groups: [ParameterGroup(range: 0..<5, weightDecay: true)])
    }

    static func steps(_ optimizer: any Optimizer, _ theta: inout [Float], count: Int) {
        for _ in 0..<count {
            if let lbfgs = optimizer as? LBFGS {
                LBFGSTests.step(lbfgs, &theta, lr: 0.01, objective: LBFGSTests.quadratic)
                continue
            }
            let gradient = OptimizerTests.gradient(theta.map(Double.init)).map(Float.init)
            theta.withUnsafeMutableBufferPointer { p in
                gradient.withUnsafeBufferPointer {
                    optimizer.step(parameters: p, gradients: $0, learningRate: 0.01, momentum: nil)
                }
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

    /// The names each optimizer gives its state are PyTorch's and the checkpoint's (`optimizer.<buffer>`
    /// tensors, counters in `nntrain.state`): renaming one would make older checkpoints unreadable.
    @Test(arguments: OptimizerKind.allCases)
    func stateNamesAreTheCheckpointFormats(name: OptimizerKind) {
        let expected: (buffers: Set<String>, counters: Set<String>) = switch name {
        case .sgd: (["momentum_buffer"], ["has_momentum_buffer"])
        case .adam, .adamw: (["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], ["step"])
        case .rmsprop: (["square_avg", "grad_avg", "momentum_buffer"], [])
        case .adagrad: (["sum"], ["step"])
        case .nadam: (["exp_avg", "exp_avg_sq"], ["step", "mu_product"])
        case .adadelta: (["square_avg", "acc_delta"], [])
        case .adamax: (["exp_avg", "exp_inf"], ["step"])
        case .radam: (["exp_avg", "exp_avg_sq"], ["step"])
        case .rprop: (["prev", "step_size"], ["step"])
        case .asgd: (["ax"], ["step", "eta", "mu"])
        case .lbfgs: (Set(["d", "prev_flat_grad"] + (0..<4).flatMap { ["old_dirs.\($0)", "old_stps.\($0)"] }),
                      Set(["t", "H_diag", "prev_loss", "n_iter", "func_evals"] + (0..<4).map { "ro.\($0)" }))
        }
        let state = Self.make(name).state
        #expect(Set(state.buffers.keys) == expected.buffers)
        #expect(Set(state.counters.keys) == expected.counters)
    }

    /// A checkpoint leaves out empty buffers (amsgrad's maximum when amsgrad is off): restoring
    /// without them works, and they stay empty.
    @Test func aMissingEmptyBufferRestoresAsEmpty() throws {
        let adam = Adam(groups: [ParameterGroup(range: 0..<5, weightDecay: true)])
        var theta = OptimizerTests.start.map(Float.init)
        Self.steps(adam, &theta, count: 2)
        var saved = adam.state
        #expect(saved.buffers.removeValue(forKey: "max_exp_avg_sq") == [])
        let resumed = Adam(groups: [ParameterGroup(range: 0..<5, weightDecay: true)])
        try resumed.restore(saved)
        #expect(resumed.state == adam.state)
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
