/// Updates parameters from their gradients. Every optimizer works over the model's flat parameter
/// and gradient buffers (see `ParameterStore`), elementwise, so a step is one loop over contiguous
/// memory with no allocation; its state (moments, step count) is laid out the same way.
public protocol Optimizer: AnyObject {
    /// One update θ ← θ − (step direction) with learning rate `learningRate` (the schedule's value
    /// for this step).
    func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
              learningRate: Float)
}

/// Builds the optimizer a config names, with state sized for `parameterCount` parameters.
public func makeOptimizer(_ section: Configuration.OptimizerSection, parameterCount: Int) -> any Optimizer {
    switch section.name {
    case .sgd:
        return SGD(parameterCount: parameterCount, momentum: Float(section.momentum),
                   weightDecay: Float(section.weightDecay))
    case .adam:
        return Adam(parameterCount: parameterCount, beta1: section.betas[0], beta2: section.betas[1],
                    eps: Float(section.eps), weightDecay: Float(section.weightDecay))
    }
}
