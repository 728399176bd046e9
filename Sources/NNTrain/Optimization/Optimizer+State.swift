/// What an optimizer carries from one step to the next, for checkpoints: its buffers (each as long
/// as the parameter buffer, or empty where the optimizer keeps none, e.g. amsgrad's maximum when
/// amsgrad is off; a missing buffer stands for an empty one) and its counters, by PyTorch's names for
/// them where it has them (`momentum_buffer`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `square_avg`,
/// `grad_avg`, `sum`, `step`, `mu_product`). Each optimizer lists its own (`Optimizer.state`), beside
/// the buffers themselves. Restoring the state of an optimizer built from the same configuration
/// makes its next steps exactly those the saved one would have taken.
public struct OptimizerState: Equatable, Sendable {
    public var buffers: [String: [Float]]
    public var counters: [String: Double]
    /// Buffers that are empty until the optimizer fills them, then one value per parameter (LBFGS's history,
    /// `old_dirs.<i>`): a saved one may be empty or as long as the state's longest buffer, whatever the
    /// current one holds.
    public var growingBuffers: Set<String> = []

    public init(buffers: [String: [Float]] = [:], counters: [String: Double] = [:]) {
        self.buffers = buffers
        self.counters = counters
    }

    /// A saved state that `Optimizer.restore(_:)` has checked against the optimizer's own: it holds
    /// every buffer the optimizer has, each of the same length (an empty one may have been left out of
    /// the file, and reads as empty), and every counter. Asking it for a name the optimizer's `state`
    /// does not list is a programming error (a `load` that does not match its `state`), which the
    /// state round-trip test of every optimizer kind catches.
    public struct Verified {
        private let state: OptimizerState

        /// `saved`, checked against `current` (the optimizer's own state); a misfit is described in one line.
        fileprivate init(_ saved: OptimizerState, current: OptimizerState) throws(OptimizerStateMismatch) {
            var buffers: [String: [Float]] = [:]
            for (name, buffer) in current.buffers {
                // A checkpoint stores no empty buffer (amsgrad's maximum when amsgrad is off).
                guard let savedBuffer = saved.buffers[name] ?? (buffer.isEmpty ? [] : nil) else {
                    throw OptimizerStateMismatch(description: "missing buffer \(name)")
                }
                let growing = current.growingBuffers.contains(name)
                    && (savedBuffer.isEmpty || savedBuffer.count == current.buffers.values.map(\.count).max())
                guard savedBuffer.count == buffer.count || growing else {
                    throw OptimizerStateMismatch(
                        description: "buffer \(name) holds \(savedBuffer.count) values; expected \(buffer.count)")
                }
                buffers[name] = savedBuffer
            }
            var counters: [String: Double] = [:]
            for name in current.counters.keys {
                guard let value = saved.counters[name] else {
                    throw OptimizerStateMismatch(description: "missing counter \(name)")
                }
                counters[name] = value
            }
            state = OptimizerState(buffers: buffers, counters: counters)
        }

        /// The saved buffer `name`.
        public func buffer(_ name: String) -> [Float] {
            guard let buffer = state.buffers[name] else { preconditionFailure("the optimizer's state has no buffer \(name)") }
            return buffer
        }

        /// The saved counter `name`.
        public func counter(_ name: String) -> Double {
            guard let value = state.counters[name] else { preconditionFailure("the optimizer's state has no counter \(name)") }
            return value
        }
    }
}

extension Optimizer {
    /// The optimizer's counters (`state.counters`: `step`, `mu_product`, `has_momentum_buffer`, …). Setting
    /// them, to counters taken from this optimizer, leaves its buffers as they are: the trainer keeps one set per
    /// cohort of layers that began stepping together (`Trainer.optimizerStep`), as torch keeps a `step` per
    /// parameter.
    public var counters: [String: Double] {
        get { state.counters }
        set {
            var state = self.state
            state.counters = newValue
            do { try restore(state) } catch {
                preconditionFailure("an optimizer refused its own buffers with counters of its own: \(error.description)")
            }
        }
    }

    /// Puts back a state taken from an optimizer of the same kind and parameter count; a state that
    /// does not fit (a missing buffer, a wrong length, a missing counter) is refused with a
    /// one-line description of the misfit, and the optimizer is left unchanged.
    public func restore(_ state: OptimizerState) throws(OptimizerStateMismatch) {
        load(try OptimizerState.Verified(state, current: self.state))
    }
}

/// Why a saved optimizer state does not fit the optimizer it was given to.
public struct OptimizerStateMismatch: Error, CustomStringConvertible {
    public var description: String
}
