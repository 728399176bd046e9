/// What an optimizer carries from one step to the next, for checkpoints: its buffers (each as long
/// as the parameter buffer, or empty where the optimizer keeps none, e.g. amsgrad's maximum when
/// amsgrad is off; a missing buffer stands for an empty one) and its counters. Restoring the state of an optimizer built from the same
/// configuration makes its next steps exactly those the saved one would have taken.
public struct OptimizerState: Equatable, Sendable {
    public var buffers: [String: [Float]]
    public var counters: [String: Double]

    public init(buffers: [String: [Float]] = [:], counters: [String: Double] = [:]) {
        self.buffers = buffers
        self.counters = counters
    }
}

extension Optimizer {
    /// The optimizer's state (see `OptimizerState`), by PyTorch's names for it where it has them
    /// (`momentum_buffer`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `square_avg`, `grad_avg`,
    /// `sum`, `step`, `mu_product`).
    public var state: OptimizerState {
        switch self {
        case let sgd as SGD:
            OptimizerState(buffers: ["momentum_buffer": sgd.momentumBuffer],
                           counters: ["has_momentum_buffer": sgd.hasMomentumBuffer ? 1 : 0])
        case let adam as Adam:
            OptimizerState(buffers: ["exp_avg": adam.firstMoment, "exp_avg_sq": adam.secondMoment,
                                     "max_exp_avg_sq": adam.maxSecondMoment],
                           counters: ["step": Double(adam.stepCount)])
        case let rmsprop as RMSprop:
            OptimizerState(buffers: ["square_avg": rmsprop.squareAverage, "grad_avg": rmsprop.gradientAverage,
                                     "momentum_buffer": rmsprop.momentumBuffer])
        case let adagrad as Adagrad:
            OptimizerState(buffers: ["sum": adagrad.sum], counters: ["step": Double(adagrad.stepCount)])
        case let nadam as NAdam:
            OptimizerState(buffers: ["exp_avg": nadam.firstMoment, "exp_avg_sq": nadam.secondMoment],
                           counters: ["step": Double(nadam.stepCount), "mu_product": Double(nadam.muProduct)])
        default:
            OptimizerState()
        }
    }

    /// Puts back a state taken from an optimizer of the same kind and parameter count; a state that
    /// does not fit (a missing buffer, a wrong length, a missing counter) is refused with a
    /// one-line description of the misfit, and the optimizer is left unchanged.
    public func restore(_ state: OptimizerState) throws(OptimizerStateMismatch) {
        let current = self.state
        for (name, buffer) in current.buffers {
            // A checkpoint stores no empty buffer (amsgrad's maximum when amsgrad is off).
            guard let saved = state.buffers[name] ?? (buffer.isEmpty ? [] : nil) else {
                throw OptimizerStateMismatch(description: "missing buffer \(name)")
            }
            guard saved.count == buffer.count else {
                throw OptimizerStateMismatch(description: "buffer \(name) holds \(saved.count) values; expected \(buffer.count)")
            }
        }
        for name in current.counters.keys where state.counters[name] == nil {
            throw OptimizerStateMismatch(description: "missing counter \(name)")
        }
        let step = Int(state.counters["step"] ?? 0)
        switch self {
        case let sgd as SGD:
            sgd.momentumBuffer = state.buffers["momentum_buffer"] ?? []
            sgd.hasMomentumBuffer = state.counters["has_momentum_buffer"] == 1
        case let adam as Adam:
            adam.firstMoment = state.buffers["exp_avg"] ?? []
            adam.secondMoment = state.buffers["exp_avg_sq"] ?? []
            adam.maxSecondMoment = state.buffers["max_exp_avg_sq"] ?? []
            adam.stepCount = step
        case let rmsprop as RMSprop:
            rmsprop.squareAverage = state.buffers["square_avg"] ?? []
            rmsprop.gradientAverage = state.buffers["grad_avg"] ?? []
            rmsprop.momentumBuffer = state.buffers["momentum_buffer"] ?? []
        case let adagrad as Adagrad:
            adagrad.sum = state.buffers["sum"] ?? []
            adagrad.stepCount = step
        case let nadam as NAdam:
            nadam.firstMoment = state.buffers["exp_avg"] ?? []
            nadam.secondMoment = state.buffers["exp_avg_sq"] ?? []
            nadam.stepCount = step
            nadam.muProduct = Float(state.counters["mu_product"] ?? 1)
        default:
            break
        }
    }
}

/// Why a saved optimizer state does not fit the optimizer it was given to.
public struct OptimizerStateMismatch: Error, CustomStringConvertible {
    public var description: String
}
