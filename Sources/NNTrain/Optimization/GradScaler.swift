/// Loss scaling for mixed precision, as torch.amp.GradScaler does it (PyTorch 2.x,
/// torch/amp/grad_scaler.py and the _amp_update_scale_ kernel), with its defaults: initial scale
/// S = 2^16 = 65536, growth factor 2, backoff factor 0.5, growth interval 2000.
///
/// Small gradients underflow to zero in fp16 (below 2^-24); multiplying the loss by S multiplies
/// every gradient of the backward pass by S, lifting them into range. Per step:
///
///     ∂(S·L)/∂output = S · ∂L/∂output                         (fp32, before back-propagation)
///     g ← g · (1/S)                                            (fp32; 1/S in double, then rounded, as torch)
///     found_inf = any g is ±inf or NaN
///     found_inf:  skip the optimizer step;   S ← S · 0.5;  tracker ← 0
///     otherwise:  take it;   tracker ← tracker + 1;  if tracker = 2000: S ← S · 2 (unless that is
///                 infinite), tracker ← 0
///
/// A fixed scale (`isDynamic` false) multiplies, unscales and skips alike but never changes S (the
/// static loss scaling of NVIDIA's apex). Gradient clipping and the L1 term come after unscaling,
/// which `Network.finishGradients` does (torch's _amp_foreach_non_finite_check_and_unscale_).
/// The whole state is public, for checkpoints.
public struct GradScaler: Equatable, Sendable, Codable {
    /// torch's defaults.
    public static let initialScale: Float = 65536
    public static let growthFactor: Float = 2
    public static let backoffFactor: Float = 0.5
    public static let growthInterval = 2000

    /// S, the loss-gradient multiplier (a float32 tensor in torch).
    public private(set) var scale: Float
    /// Whether S grows and backs off (`loss_scale: dynamic`) or stays as given (a number).
    public let isDynamic: Bool
    /// Consecutive steps without inf/NaN since S last changed (torch's `_growth_tracker`).
    public private(set) var growthTracker: Int
    /// Steps skipped for inf/NaN gradients so far in the run.
    public private(set) var skippedSteps: Int

    public init(scale: Float = GradScaler.initialScale, isDynamic: Bool, growthTracker: Int = 0, skippedSteps: Int = 0) {
        self.scale = scale
        self.isDynamic = isDynamic
        self.growthTracker = growthTracker
        self.skippedSteps = skippedSteps
    }

    /// The scaler a `training.loss_scale` setting asks for; nil for `none`.
    public init?(_ setting: LossScaling) {
        switch setting {
        case .none: return nil
        case .dynamic: self.init(isDynamic: true)
        case .fixed(let scale): self.init(scale: Float(scale), isDynamic: false)
        }
    }

    /// 1/S, computed as torch computes `inv_scale` (`scale.double().reciprocal().float()`).
    public var inverseScale: Float { Float(1 / Double(scale)) }

    /// Multiplies the loss gradient by S, in place.
    public func scaleLossGradient(_ gradient: MatrixView) {
        let g = gradient.base, s = scale
        for i in 0..<gradient.count { g[i] *= s }
    }

    /// Records a step's outcome: skipped for inf/NaN gradients (`foundNonFinite`) or taken, and
    /// moves S by the rule above when dynamic.
    public mutating func update(foundNonFinite: Bool) {
        if foundNonFinite {
            skippedSteps += 1
            guard isDynamic else { return }
            scale *= Self.backoffFactor
            growthTracker = 0
        } else if isDynamic {
            growthTracker += 1
            guard growthTracker == Self.growthInterval else { return }
            let grown = scale * Self.growthFactor
            if grown.isFinite { scale = grown }
            growthTracker = 0
        }
    }
}
