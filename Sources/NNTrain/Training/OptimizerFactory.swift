/// Builds the optimizer a config names, with state sized for `parameterCount` parameters.
public func makeOptimizer(_ section: Configuration.OptimizerSection, parameterCount: Int) -> any Optimizer {
    let groups = [ParameterGroup(range: 0..<parameterCount, weightDecay: true)]
    switch section.name {
    case .sgd:
        return SGD(groups: groups, momentum: section.momentum, weightDecay: section.weightDecay)
    case .adam:
        return Adam(groups: groups, beta1: section.betas[0], beta2: section.betas[1],
                    eps: section.eps, weightDecay: section.weightDecay)
    }
}
