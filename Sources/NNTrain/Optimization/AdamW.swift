/// AdamW (Loshchilov & Hutter, 2019) exactly as torch.optim.AdamW, which is Adam with decoupled
/// weight decay: the decay shrinks θ before the Adam step instead of entering the moments.
///
///     θ ← θ·(1 − γλ)                      (only in groups with weightDecay)
///     then Adam's step on the raw gradient g (see `Adam`)
///
/// PyTorch's defaults: (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0.01, amsgrad false (γ is passed to each
/// step; PyTorch's default is 1e-3). PyTorch raises ValueError unless γ ≥ 0, ε ≥ 0, 0 ≤ β1 < 1,
/// 0 ≤ β2 < 1 and λ ≥ 0.
public final class AdamW: Adam {
    public init(groups: [ParameterGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0.01, amsgrad: Bool = false) {
        super.init(groups: groups, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                   amsgrad: amsgrad, decoupledWeightDecay: true)
    }
}
