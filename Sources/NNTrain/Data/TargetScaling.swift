/// The standardisation of a regression target (`data.standardize_target`): the training split's
/// targets have mean μ (`shift`) and population standard deviation σ (`scale`, dividing by n as
/// NumPy's `std` and scikit-learn's `StandardScaler` do; 1 for a constant target, whose spread is 0),
/// and the network learns z = (y − μ) / σ, which `TargetAffine` turns back into y = σ·z + μ as the
/// network's last, parameter-free step. So the loss, every metric, eval, predict, lr-find and the
/// weight report all see y in the target's own units, and the formula exists once, in `apply`.
///
/// With Adam this trains as scikit-learn's `TransformedTargetRegressor(MLPRegressor(...),
/// transformer=StandardScaler())`, which fits the MLP on (y − μ)/σ: the MSE in target units is σ² times
/// the MSE on z, so every gradient is σ² times the one the standardised fit sees, and Adam's update
/// m̂/(√v̂ + ε) does not change when every gradient is multiplied by a constant (up to ε, 1e-8). The
/// limits: SGD's step is proportional to the gradient, so its effective learning rate is σ² times
/// larger (a target of σ ≈ 77 makes lr 0.01 into 59: the same lr is not the same run); the loss and
/// val_loss are reported in target units (σ² times scikit-learn's `loss_curve_`); early stopping's
/// `min_delta` is in target units; weight decay and L1 act on weights that now predict z, not y;
/// and scikit-learn computes μ and σ in float64 over the whole training set it is given, where
/// nntrain takes its training split (after the validation rows are held out).
public struct TargetScaling: Sendable, Equatable {
    /// μ, added after scaling.
    public var shift: Float
    /// σ, the factor the network's raw output is multiplied by.
    public var scale: Float

    public init(shift: Float, scale: Float) {
        self.shift = shift
        self.scale = scale
    }

    /// μ and σ of `targets` (the training split's), summed in Double; σ is 1 when the targets have
    /// no spread (all equal, or none) or a spread so small that it is not a positive normal Float.
    public init(fitting targets: [Float]) {
        let n = Double(targets.count)
        let mean = targets.isEmpty ? 0 : targets.reduce(0.0) { $0 + Double($1) } / n
        let squares = targets.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        let deviation = Float(targets.isEmpty ? 0 : (squares / n).squareRoot())
        self.init(shift: Float(mean), scale: deviation.isNormal && deviation.isFinite ? deviation : 1)
    }

    /// y = σ·z + μ in Float: the one place the affine is computed (the network's `TargetAffine`).
    @inline(__always)
    public func apply(_ z: Float) -> Float { scale * z + shift }

    /// For a linear model z = Σ_j w_j x_j + b whose output this scaling maps, the same model in target
    /// units: y = σ·z + μ = Σ_j (σ w_j) x_j + (σ b + μ). Computed in Double (the bonus weight report).
    public func denormalizeLinear(weights: [Float], bias: Float) -> (weights: [Float], bias: Float) {
        (weights.map { Float(Double(scale) * Double($0)) }, Float(Double(scale) * Double(bias) + Double(shift)))
    }
}
