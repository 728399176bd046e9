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
