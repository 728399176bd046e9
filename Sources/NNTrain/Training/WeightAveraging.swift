import Foundation

/// An averaged copy of the model's weights, as torch.optim.swa_utils.AveragedModel keeps it
/// (`use_buffers=False`): the parameters are averaged, the batch-norm running statistics are copied
/// from the model at every update, and `count` is its `n_averaged`. Its two kinds:
///
///     ema (get_ema_multi_avg_fn(decay)):  ema ← lerp(ema, w, 1 − d)          = d·ema + (1 − d)·w
///     swa (the default, get_swa_multi_avg_fn): swa ← lerp(swa, w, 1/(n + 1))   = (n·swa + w)/(n + 1)
///
/// where n is `count` before the update; the first update (n = 0) copies w. Both go through
/// `torch._foreach_lerp_`, whose CPU kernel (aten/src/ATen/native/cpu/LerpKernel.cpp, `lerp_vec`)
/// computes in fp32 with one fused multiply-add: |t| < 0.5: fma(t, w − a, a); otherwise
/// fma(t − 1, w − a, w); t is the weight rounded to fp32 (1 − d from the double `decay`, 1/(n + 1)
/// from the counter as the float tensor torch divides it into). So the SWA average after k updates
/// is the plain mean of the k models, to fp32 rounding.
///
/// The trainer owns its averages (`Trainer.ema`, `Trainer.swa`) rather than an observer: the
/// averages are checkpoint state (tensors `ema.<name>`, `swa.<name>`), validation and the test
/// may evaluate them instead of the running weights, and SWA's SWALR sets the lr of every step,
/// none of which an observer may do (see `TrainingObserver`).
public final class WeightAverage {
    public enum Kind: Equatable, Sendable {
        /// An exponential moving average with decay d.
        case ema(decay: Double)
        /// The equal-weight mean of stochastic weight averaging.
        case swa
        /// ASGD's averaged iterates ā (`optimizer.ax`), which the optimizer computes in its step;
        /// the average only mirrors them (`mirror`) and is never `update`d.
        case iterates
    }

    public let kind: Kind
    /// The averaged parameters, in the flat parameter buffer's layout.
    public private(set) var parameters: [Float]
    /// The batch norms' running mean and variance, as `Network.Snapshot` orders them, copied from the
    /// model at each update (and recomputed by `Trainer.updateBatchNorm`).
    public internal(set) var runningStatistics: [[Float]]
    /// AveragedModel's n_averaged: the updates so far.
    public private(set) var count = 0
    /// The running weights while the average is swapped into the network (`Trainer.withAverage`).
    private var held: [Float]

    /// An average of `network`'s weights that starts as their copy (AveragedModel deep-copies the model).
    init(kind: Kind, network: Network) {
        self.kind = kind
        let snapshot = network.snapshot()
        parameters = snapshot.parameters
        runningStatistics = snapshot.runningStatistics
        held = snapshot.parameters
    }

    /// The weight t of the lerp from the average towards the weights at the next update.
    var nextWeight: Float {
        switch kind {
        case .ema(let decay): Float(1 - decay)
        case .swa: 1 / Float(count + 1)
        case .iterates: 0
        }
    }

    /// torch.lerp's fp32 CPU arithmetic (`lerp_vec`): a + t·(b − a), fused, computed from the nearer end.
    @inline(__always)
    static func lerp(_ a: Float, _ b: Float, weight t: Float) -> Float {
        abs(t) < 0.5 ? a.addingProduct(t, b - a) : b.addingProduct(t - 1, b - a)
    }

    /// AveragedModel.update_parameters(model): the first update copies the weights, each later one
    /// lerps the average towards them (see the type's comment); the batch-norm statistics are copied
    /// either way, and `count` grows by one. Allocates nothing.
    func update(from network: Network) {
        let weights = network.parameters.values.base, n = min(parameters.count, network.parameters.count)
        let copy = count == 0, t = nextWeight
        parameters.withUnsafeMutableBufferPointer { average in
            for i in 0..<n { average[i] = copy ? weights[i] : Self.lerp(average[i], weights[i], weight: t) }
        }
        copyStatistics(of: network)
        count += 1
    }

    /// Makes the average ASGD's ā: a copy of `averaged` (the optimizer's `ax`, in the flat parameter
    /// layout), with `network`'s batch-norm statistics (ASGD averages parameters, not buffers: torch users
    /// copy `ax` into the parameters and keep the module's running statistics) and `count` the
    /// optimizer's steps. Allocates nothing.
    func mirror(_ averaged: [Float], steps: Int, network: Network) {
        parameters.withUnsafeMutableBufferPointer { target in
            for (i, value) in averaged.prefix(target.count).enumerated() { target[i] = value }
        }
        copyStatistics(of: network)
        count = steps
    }

    /// Copies every batch norm's running mean and variance from `network`.
    private func copyStatistics(of network: Network) {
        var index = 0
        for case let norm as BatchNorm in network.layers where index + 1 < runningStatistics.count {
            Self.copy(norm.runningMean, into: &runningStatistics[index])
            Self.copy(norm.runningVariance, into: &runningStatistics[index + 1])
            index += 2
        }
    }

    /// Zeroes the average where `pruner`'s masks prune (see `Pruner.mask(average:)`).
    func applyMasks(of pruner: Pruner) { pruner.mask(average: &parameters) }

    /// Element-wise copy (not an array assignment, which would make the layer's next in-place
    /// update copy its buffer).
    private static func copy(_ source: [Float], into target: inout [Float]) {
        target.withUnsafeMutableBufferPointer { target in
            for (i, value) in source.prefix(target.count).enumerated() { target[i] = value }
        }
    }

    /// The average as a network snapshot (for checkpoints, restore_best and evaluation).
    public var snapshot: Network.Snapshot {
        Network.Snapshot(parameters: parameters, runningStatistics: runningStatistics)
    }

    /// The saved average and its count (see `AveragedWeights`).
    public var state: AveragedWeights { AveragedWeights(model: snapshot, count: count) }

    /// Puts back a saved average of a model of the same layout (checked by the trainer's `restore`).
    func restore(_ state: AveragedWeights) {
        parameters = state.model.parameters
        runningStatistics = state.model.runningStatistics
        count = state.count
    }

    /// Runs `body` with the average in `network` in place of the running weights (parameters and
    /// batch-norm statistics), then puts the running weights back, exactly.
    func swappedIn<R>(_ network: Network, _ body: () throws(NNTrainError) -> R) throws(NNTrainError) -> R {
        let values = network.parameters.values.base, n = min(held.count, network.parameters.count)
        held.withUnsafeMutableBufferPointer { held in for i in 0..<n { held[i] = values[i] } }
        let norms = network.layers.compactMap { $0 as? BatchNorm }
        let heldStatistics = norms.flatMap { [$0.runningMean, $0.runningVariance] }
        network.restore(snapshot)
        defer {
            held.withUnsafeBufferPointer { held in for i in 0..<n { values[i] = held[i] } }
            for (k, norm) in norms.enumerated() {
                norm.runningMean = heldStatistics[2 * k]
                norm.runningVariance = heldStatistics[2 * k + 1]
            }
        }
        return try body()
    }
}

/// A saved `WeightAverage`: its model (parameters and batch-norm statistics) and n_averaged.
public struct AveragedWeights: Equatable, Sendable {
    public var model: Network.Snapshot
    public var count: Int

    public init(model: Network.Snapshot, count: Int) {
        self.model = model
        self.count = count
    }
}

/// Which weights are a run's final model: the ones validated (when an average is), tested, and
/// that `nntrain eval`, `predict` and `export` read from last.bin (`nntrain.final_model`).
public enum FinalModel: String, Equatable, Sendable, Codable {
    /// The network's own weights: the running weights, or restore_best's best epoch.
    case model
    /// The exponential moving average (`ema.evaluate: true`, no epoch restored).
    case ema
    /// The SWA average, batch norms recomputed by update_bn (no epoch restored).
    case swa
    /// ASGD's averaged parameters ā (the optimizer state's `ax`) with the model's batch-norm statistics,
    /// after ASGD's first step (no epoch restored).
    case ax
}

/// SWALR (torch.optim.swa_utils.SWALR), stepped once at the end of each averaged epoch: the lr
/// anneals from its value when SWA starts to `swa_lr` over `anneal_epochs` epochs, then stays. Its
/// k-th step (`get_lr` with `_step_count` = k + 1, step = k; step = max(1, k) when anneal_epochs = 0)
/// works back from the optimizer's current lr to the one it annealed from and forward again:
///
///     prev_t  = clamp((step − 1)/max(1, anneal_epochs), 0, 1),  prev_α = f(prev_t)
///     lr₀     = swa_lr if prev_α = 1, else (lr − prev_α·swa_lr)/(1 − prev_α)    (`_get_initial_lr`)
///     t       = clamp(step/max(1, anneal_epochs), 0, 1),          α = f(t)
///     lr     ← swa_lr·α + lr₀·(1 − α)
///
/// with f(t) = (1 − cos(π·t))/2 (cos) or t (linear), in Double as Python computes it. From then on
/// it sets the lr of every step (the regular schedule is no longer stepped, as in swa_utils'
/// recipe, so a momentum it cycled stays at its last value).
public struct SWALR: Equatable, Sendable, Codable {
    /// The lr SWALR last set (the optimizer group's `lr`).
    public var learningRate: Double
    /// The momentum (or β1) of the last step before SWA, which the schedule no longer changes; nil
    /// when the schedule leaves momentum alone.
    public var momentum: Double?

    /// The lr of SWALR's `step`-th step from `lr`, the lr its previous step left.
    public static func learningRate(step: Int, from lr: Double, swaLR: Double, annealEpochs: Int,
                                    strategy: SWAAnnealStrategy) -> Double {
        func anneal(_ t: Double) -> Double { strategy == .cos ? (1 - cos(Double.pi * t)) / 2 : t }
        let step = annealEpochs == 0 ? max(1, step) : step
        let epochs = Double(max(1, annealEpochs))
        let prevAlpha = anneal(max(0, min(1, Double(step - 1) / epochs)))
        let initial = prevAlpha == 1 ? swaLR : (lr - prevAlpha * swaLR) / (1 - prevAlpha)
        let alpha = anneal(max(0, min(1, Double(step) / epochs)))
        return swaLR * alpha + initial * (1 - alpha)
    }
}
