#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// A contiguous run of the flat parameter buffer and whether weight decay applies to it (batch-norm
/// parameters are excluded from decay by default, as a PyTorch user does with two param groups).
///
/// Split by layer (`ParameterStore.groups(decayBatchNorm:byLayer:)`), a group also says which linear layer
/// `layer` its tensors belong to, so the trainer can leave a frozen layer out of a step (`active` false: the
/// optimizer neither reads nor writes its parameters or state, as torch.optim skips a parameter whose grad is
/// None) or step a layer at its own learning rate (`optimizer.layer_lr`, see `Trainer.optimizerStep`).
public struct ParameterGroup: Equatable, Sendable {
    public var range: Range<Int>
    public var weightDecay: Bool
    /// The linear layer (`layers.<i>` with its norm, slopes and projection) of every tensor in the group; nil
    /// when the groups were not split by layer.
    public var layer: Int?
    /// Whether an optimizer step touches the group (false while its layer is frozen, or while another layer's
    /// learning rate is being applied).
    public var active = true

    public init(range: Range<Int>, weightDecay: Bool, layer: Int? = nil) {
        self.range = range
        self.weightDecay = weightDecay
        self.layer = layer
    }
}

/// Updates parameters from their gradients. Every optimizer works over the model's flat parameter
/// and gradient buffers (see `ParameterStore`), elementwise, so a step is one loop per parameter group
/// over contiguous memory with no allocation; its state (moments, step count) is laid out the same way.
///
/// Each optimizer equals the torch.optim class it is named after (PyTorch 2.x, the single-tensor
/// "for-loop" implementation, maximize=False): the same order of operations, each rounded to single
/// precision as torch's portable CPU kernels round it, with the scalars that PyTorch computes as Python
/// floats (bias corrections, step sizes) computed in double precision. Against PyTorch 2.x run with
/// ATEN_CPU_CAPABILITY=default, five steps agree bit for bit, save where torch's sqrt (1 ulp from the
/// correctly rounded value for about 0.5% of inputs) differs; its AVX2/AVX-512 kernels fuse multiply-adds,
/// which moves results by a few ulps. γ arrives in single precision, so scalars such as γ/(1 − β1ᵗ) are
/// PyTorch's for the learning rate Float(γ), which can differ in the last bit from its for a γ that
/// Float cannot represent.
/// Hyperparameters are checked by the configuration layer; each initialiser documents the ranges for
/// which PyTorch raises ValueError.
///
/// A new optimizer is a file here with its update rule, `step`, `state` and `load`, and a case of
/// `OptimizerKind` (the compiler then asks for its default learning rate, `hasMomentum` and its line
/// in `makeOptimizer`), plus its hyperparameters in the configuration's key table.
public protocol Optimizer: AnyObject {
    /// The runs of the flat buffer the optimizer steps; a step skips the inactive ones (`ParameterGroup.active`).
    /// The ranges are fixed (they tile the buffer the optimizer was built for): only `active` may change.
    var groups: [ParameterGroup] { get set }
    /// One update. (LBFGS, which needs the objective itself, steps through its own
    /// `step(parameters:gradients:learningRate:evaluate:)`, which `Trainer.closureStep` calls.)
    /// `learningRate` is γ for this step (the schedule's value). `momentum`, when non-nil,
    /// replaces for this step the optimizer's momentum (SGD, RMSprop) or β1 (Adam, AdamW, NAdam) —
    /// the one_cycle and cyclic schedules cycle it, as PyTorch's OneCycleLR/CyclicLR write group['momentum']
    /// or group['betas'][0]. An optimizer without one (Adagrad, see `OptimizerKind.hasMomentum`) ignores it.
    func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
              learningRate: Float, momentum: Double?)
    /// What this optimizer carries from one step to the next (see `OptimizerState`): every buffer and
    /// counter its steps read, by PyTorch's names for them, declared in the optimizer's own file beside
    /// the buffers. A checkpoint writes it as it is (`optimizer.<buffer>` tensors, the counters in
    /// `nntrain.state`), so the names are part of the file format.
    var state: OptimizerState { get }
    /// Puts back a saved state that `restore(_:)` has checked against `state`: every buffer and counter
    /// `state` lists, and nothing else, so that the next step is the one the saved optimizer would have taken.
    func load(_ state: OptimizerState.Verified)
}

extension ParameterGroup {
    /// The number of parameters `groups` cover. They must tile 0..<count in order, without gap or
    /// overlap, and cover at least one parameter: groups come from the model's layout, never from
    /// input, so anything else is a programming error.
    static func parameterCount(of groups: [ParameterGroup]) -> Int {
        var end = 0
        for group in groups {
            precondition(group.range.lowerBound == end, "parameter groups must tile the flat buffer in order")
            end = group.range.upperBound
        }
        precondition(end > 0, "parameter groups must cover at least one parameter")
        return end
    }

    /// λ of the L2 term g ← g + λθ in this group: λ, or 0 where decay is excluded (g + 0·θ = g exactly,
    /// so an excluded group follows the no-decay trajectory bit for bit).
    func l2(_ weightDecay: Double) -> Float {
        self.weightDecay ? Float(weightDecay) : 0
    }

    /// Both kinds of weight decay as the Adam family applies them in one loop: θ ← θ·shrink, then
    /// g ← g + l2·θ. Coupled (L2): (1, λ); decoupled (AdamW): (1 − γλ, 0), γλ a Python float product
    /// as in torch's `param.mul_(1 - lr * weight_decay)`; excluded group: (1, 0). Multiplying by 1 and
    /// adding 0·θ leave every value exactly as it was.
    func decayTerms(_ weightDecay: Double, decoupled: Bool, learningRate: Float) -> (shrink: Float, l2: Float) {
        guard self.weightDecay, decoupled else { return (1, l2(weightDecay)) }
        return (Float(1 - Double(learningRate) * weightDecay), 0)
    }
}

extension Array where Element == ParameterGroup {
    /// Calls `body(group, range)` for pieces of every active group's range, spread over the cores by
    /// `Parallel.forEachPiece`: together the calls cover each parameter of an active group exactly once, with the
    /// group it belongs to. The optimizers' steps are elementwise, so this changes no value.
    @inline(__always)
    func forEachPiece(parameterCount: Int, _ body: (ParameterGroup, Range<Int>) -> Void) {
        Parallel.forEachPiece(of: parameterCount) { piece in
            for group in self where group.active {
                let range = group.range.clamped(to: piece)
                if !range.isEmpty { body(group, range) }
            }
        }
    }
}

/// The base addresses of the flat buffers, which must hold the `count` parameters the optimizer was
/// built for (a programming error otherwise: the model sizes both). `count` is positive, so neither
/// address is nil.
@inline(__always)
func flatPointers(_ parameters: UnsafeMutableBufferPointer<Float>, _ gradients: UnsafeBufferPointer<Float>,
                  count: Int) -> (UnsafeMutablePointer<Float>, UnsafePointer<Float>) {
    precondition(parameters.count == count && gradients.count == count,
                 "the optimizer was built for \(count) parameters")
    return (parameters.baseAddress.unsafelyUnwrapped, gradients.baseAddress.unsafelyUnwrapped)
}

/// `start.lerp_(end, w)` with a scalar weight w given as a Python float, as ATen's scalar kernel
/// computes it in single precision:
///
///     start + w·(end − start)          if |w| < 0.5
///     end − (end − start)·(1 − w)      otherwise
///
/// The second form is written end + (1 − w)·(start − end), the same value bit for bit, so both are
/// `base + coefficient·(other − base)` and the choice is two selects on a loop-invariant flag.
struct Lerp {
    private let small: Bool
    private let coefficient: Float

    init(weight: Double) {
        let w = Float(weight)
        small = abs(w) < 0.5
        coefficient = small ? w : 1 - w
    }

    @inline(__always)
    func callAsFunction(_ start: Float, _ end: Float) -> Float {
        let base = small ? start : end, other = small ? end : start
        return base + coefficient * (other - base)
    }
}

/// √x, correctly rounded like `Float.squareRoot()`. On Linux, `squareRoot()` calls libm's `sqrtf` for
/// negative or NaN inputs (to set errno), and that call stops LLVM from vectorising any loop holding it;
/// SSE's sqrtss gives the same value with no call, so the optimizer loops run four lanes at a time.
@inline(__always)
func squareRoot(_ x: Float) -> Float {
    #if arch(x86_64)
    _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x)))
    #else
    x.squareRoot()
    #endif
}
