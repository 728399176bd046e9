import Foundation

/// How weights are chosen for pruning (`pruning.method`).
public enum PruningMethod: String, CaseIterable, Codable, Sendable {
    /// Unstructured: the individual weights of least |w|, as `torch.nn.utils.prune.l1_unstructured`
    /// (per layer) or `prune.global_unstructured(..., pruning_method=prune.L1Unstructured)` (one
    /// threshold over every pruned layer).
    case magnitude
    /// Structured: whole hidden units (rows of a weight [out, in]) of least L2 norm of their incoming
    /// weights, as `prune.ln_structured(module, "weight", amount, n=2, dim=0)`; the next layer's input
    /// columns of a pruned unit are masked with it.
    case neurons
}

/// Whether magnitude pruning ranks each layer's weights on their own or all together (`pruning.scope`).
public enum PruningScope: String, CaseIterable, Codable, Sendable {
    case layer, global
}

/// When the masks are computed (`pruning.schedule`).
public enum PruningScheduleKind: String, CaseIterable, Codable, Sendable {
    /// Once, to the final sparsity, before the first step of `start_epoch`.
    case once
    /// Zhu & Gupta's (2017) cubic ramp from `initial_sparsity` to `sparsity` (see `PruningSchedule`).
    case gradual
}

/// The sparsity a pruning schedule asks for, a pure function of the optimizer steps taken (as a
/// learning-rate schedule is of its position, so a resume needs only the step count).
///
/// Gradual pruning follows Zhu & Gupta, "To prune, or not to prune" (2017), eq. 1:
///
///     s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³      for t ∈ {t₀, t₀ + Δt, …, t₀ + n·Δt}
///
/// with t the batches trained before the one about to run ((epoch − 1)·B + its index; the optimizer
/// steps taken, counting any a loss scaler skipped, so that an fp16 run's skipped steps cannot push
/// the last pruning step out of `end_epoch`), t₀ = (start_epoch − 1)·B the first batch of
/// `start_epoch` (B batches per epoch), Δt = `every_n_steps`, and n = ⌊(S − 1)/Δt⌋ for the
/// S = (end_epoch − start_epoch + 1)·B steps of the pruning epochs, so that the last pruning step,
/// where s_t = s_f, is within `end_epoch`. When the epochs hold no second pruning step (n = 0), the
/// one pruning step at t₀ prunes to s_f, as `once` does. After t₀ + n·Δt the masks stay fixed
/// (fine-tuning). `once` prunes to s_f at t₀ alone.
public struct PruningSchedule: Equatable, Sendable {
    public var initialSparsity: Double
    public var finalSparsity: Double
    /// t₀: the optimizer steps taken before the first pruning step.
    public var firstStep: Int
    /// Δt: steps between pruning steps.
    public var interval: Int
    /// n: the number of pruning steps after the first.
    public var count: Int

    public init(initialSparsity: Double, finalSparsity: Double, firstStep: Int, interval: Int, count: Int) {
        self.initialSparsity = initialSparsity
        self.finalSparsity = finalSparsity
        self.firstStep = firstStep
        self.interval = max(interval, 1)
        self.count = max(count, 0)
    }

    /// The schedule of a config's `pruning` section for a run of `epochs` epochs (end_epoch's default)
    /// of `stepsPerEpoch` steps.
    public init(_ section: Configuration.PruningSection, epochs: Int, stepsPerEpoch: Int) {
        let batches = max(stepsPerEpoch, 1)
        let first = (section.startEpoch - 1) * batches
        switch section.schedule {
        case .once:
            self.init(initialSparsity: section.sparsity, finalSparsity: section.sparsity, firstStep: first, interval: 1,
                      count: 0)
        case .gradual:
            let endEpoch = max(section.endEpoch ?? epochs, section.startEpoch)
            let span = (endEpoch - section.startEpoch + 1) * batches
            let interval = max(section.everyNSteps, 1)
            self.init(initialSparsity: section.initialSparsity, finalSparsity: section.sparsity, firstStep: first,
                      interval: interval, count: (span - 1) / interval)
        }
    }

    /// The last step index at which the schedule prunes: t₀ + n·Δt.
    public var lastStep: Int { firstStep + count * interval }

    /// The sparsity to prune to before the step that follows `step` steps taken, or nil when that step
    /// is not a pruning step (before t₀, between pruning steps, after t₀ + n·Δt).
    public func sparsity(atStep step: Int) -> Double? {
        guard step >= firstStep, step <= lastStep, (step - firstStep) % interval == 0 else { return nil }
        return target(atStep: step)
    }

    /// s_t of the formula at any step, held constant between pruning steps: 0 before t₀ (nothing
    /// pruned yet), s_f after the last pruning step.
    public func target(atStep step: Int) -> Double {
        guard step >= firstStep else { return 0 }
        guard count > 0 else { return finalSparsity }
        let k = min((step - firstStep) / interval, count)
        let remaining = 1 - Double(k) / Double(count)
        return finalSparsity + (initialSparsity - finalSparsity) * remaining * remaining * remaining
    }

    /// Whether the schedule still has pruning steps after `step` steps taken (the epoch line shows
    /// sparsity while it does).
    public func isRunning(atStep step: Int) -> Bool { step <= lastStep }
}

/// The masks' arithmetic, as pure functions over plain arrays (a mask holds 1 where a weight is kept
/// and 0 where it is pruned, as PyTorch's `weight_mask` buffer does).
///
/// How many: PyTorch's `_compute_nparams_toprune` takes `round(amount · size)`, Python's round, which
/// rounds halves to even; so does `prunedCount`. Masks are cumulative as Zhu & Gupta's are: what is
/// pruned stays pruned, and a sparsity s asks for round(s · size) pruned entries in all, the entries
/// already pruned counted first (their weights are exactly zero, so they are the smallest anyway).
///
/// Ties: `torch.topk` (which l1_unstructured, global_unstructured and ln_structured call with
/// largest=False or largest=True) does not say which of equal values it returns first. Here equal
/// magnitudes (or norms) are broken by position: the entry with the smaller flat index in
/// `weight.view(-1)` order (row-major [out, in]; for `global`, the layers concatenated in order,
/// as global_unstructured concatenates them) is pruned first.
public enum PruningMasks {
    /// round(sparsity · size), halves to even (Python's round, as torch's `_compute_nparams_toprune`).
    public static func prunedCount(sparsity: Double, size: Int) -> Int {
        let count = Int((sparsity * Double(size)).rounded(.toNearestOrEven))
        return min(max(count, 0), size)
    }

    /// The mask of `weights` pruned to `sparsity` by magnitude, keeping what `previous` (the current
    /// mask, all ones when nothing is pruned yet) prunes: the round(s·n) entries of least |w| are 0.
    /// Over one layer this is l1_unstructured; over the concatenation of several, global_unstructured.
    public static func magnitude(weights: [Float], previous: [Float], sparsity: Double) -> [Float] {
        let size = weights.count
        let target = prunedCount(sparsity: sparsity, size: size)
        var mask = previous.count == size ? previous : [Float](repeating: 1, count: size)
        let alreadyPruned = mask.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        guard target > alreadyPruned else { return mask }
        // Entries still kept, in order of |w| then index; the first (target − already pruned) go.
        let kept = (0..<size).filter { mask[$0] != 0 }
        let order = kept.sorted { a, b in
            let (x, y) = (abs(weights[a]), abs(weights[b]))
            return x < y || (x == y && a < b)
        }
        for index in order.prefix(target - alreadyPruned) { mask[index] = 0 }
        return mask
    }

    /// The L2 norm of each row of `weights` ([rows, columns] row-major) with `mask` applied, summed
    /// in Double (torch.norm(w, p=2, dim=1) over the masked weight).
    public static func rowNorms(weights: [Float], mask: [Float], rows: Int, columns: Int) -> [Double] {
        (0..<rows).map { row in
            var sum = 0.0
            for column in 0..<columns {
                let value = Double(weights[row * columns + column] * mask[row * columns + column])
                sum += value * value
            }
            return sum.squareRoot()
        }
    }

    /// The rows (units) of a weight [rows, columns] to prune so that round(s·rows) are pruned in all,
    /// `prunedRows` (those already pruned) first, then those of least L2 norm of their masked weights,
    /// ties by the smaller row: ln_structured(n=2, dim=0). Returned sorted.
    public static func neuronRows(weights: [Float], mask: [Float], rows: Int, columns: Int, prunedRows: Set<Int>,
                                  sparsity: Double) -> [Int] {
        let target = prunedCount(sparsity: sparsity, size: rows)
        guard target > prunedRows.count else { return prunedRows.sorted() }
        let norms = rowNorms(weights: weights, mask: mask, rows: rows, columns: columns)
        let candidates = (0..<rows).filter { !prunedRows.contains($0) }
            .sorted { a, b in norms[a] < norms[b] || (norms[a] == norms[b] && a < b) }
        return (prunedRows.union(candidates.prefix(target - prunedRows.count))).sorted()
    }
}

/// What the pruning masks zero, as `nntrain inspect` and summary.json report it: the fraction of each
/// masked weight tensor that is zero, of all of them together, and for neurons the hidden widths the
/// model has at inference (the units whose mask row is not all zero).
public struct PruningFigures: Equatable, Sendable, Codable {
    public var method: String
    public var sparsity: Double
    public var layers: [LayerSparsity]
    public var hiddenWidths: [Int]?

    public struct LayerSparsity: Equatable, Sendable, Codable {
        public var name: String
        public var sparsity: Double
    }

    /// The figures of `masks` (by PyTorch's buffer name, `layers.0.weight_mask`) over the linear layers'
    /// `weights` (name and shape [out, in], in the model's order; other tensors are passed over); nil
    /// without a method or without masks.
    public init?(method: PruningMethod?, weights: [(name: String, shape: [Int])], masks: [String: [Float]]) {
        guard let method, !masks.isEmpty else { return nil }
        var layers: [LayerSparsity] = [], zeros = 0, total = 0, widths: [Int] = []
        let linear = weights.filter { $0.name.hasPrefix("layers.") && $0.name.hasSuffix(".weight") }
        for (index, (name, shape)) in linear.enumerated() {
            guard let mask = masks[name + "_mask"] else { continue }
            let pruned = mask.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            layers.append(LayerSparsity(name: name, sparsity: mask.isEmpty ? 0 : Double(pruned) / Double(mask.count)))
            zeros += pruned
            total += mask.count
            if method == .neurons, index < linear.count - 1, shape.count == 2, shape[0] * shape[1] == mask.count {
                let columns = shape[1]
                widths.append((0..<shape[0]).filter { row in
                    !mask[(row * columns)..<((row + 1) * columns)].allSatisfy { $0 == 0 }
                }.count)
            }
        }
        self.method = method.rawValue
        sparsity = total == 0 ? 0 : Double(zeros) / Double(total)
        self.layers = layers
        hiddenWidths = method == .neurons ? widths : nil
    }
}

/// The pruning state of a training run: which linear layers' weights are pruned, their masks (laid
/// over the model's flat parameter buffer, 1 everywhere else), and the schedule. The trainer calls it
/// at three named places of a step (see `Trainer.step`):
///
///  1. `prepareStep(batchesBefore:optimizer:)` before the step: on a pruning step of the schedule, the masks
///     are recomputed from the current weights, the weights and the optimizer state (momentum, Adam's
///     moments, …) of newly pruned weights set to zero;
///  2. `maskGradients` after back-propagation, before L1, clipping and the optimizer: g ← g ⊙ m, the
///     gradient PyTorch's pruned module gives (its forward uses weight_orig ⊙ mask, so ∂L/∂weight_orig
///     is ∂L/∂weight ⊙ mask), so clipping's norm counts only the kept weights;
///  3. `maskWeights` after the optimizer step: θ ← θ ⊙ m, one pass over the flat buffer, so a pruned
///     weight is exactly zero whatever the optimizer did (weight decay of 0 and a zero state and
///     gradient move nothing, but the pass makes it certain).
///
/// Multiplying by 1 leaves every kept value (and every other parameter) exactly as it was, so an
/// unpruned run's numbers do not change.
public final class Pruner {
    /// One pruned weight tensor.
    public struct Layer: Equatable, Sendable {
        /// The weight's name (`layers.0.weight`), shape [out, in] and place in the flat buffer.
        public var tensor: ParameterStore.Tensor
        /// Index of the linear layer (0 for the first), as `layers.<i>` names it.
        public var index: Int
        public var rows: Int { tensor.shape.first ?? 0 }
        public var columns: Int { tensor.shape.count > 1 ? tensor.shape[1] : 1 }
        public var range: Range<Int> { tensor.offset..<(tensor.offset + tensor.count) }
        /// The name of its mask in a checkpoint: PyTorch's buffer name, `layers.<i>.weight_mask`.
        public var maskName: String { tensor.name + "_mask" }
    }

    public let method: PruningMethod
    public let scope: PruningScope
    public let schedule: PruningSchedule
    /// The pruned weights, in the model's order: every hidden layer's, and the output layer's with
    /// include_output (magnitude only; neurons prunes hidden units, and with them the next layer's inputs,
    /// so there `layers` also holds the layer after the last pruned one).
    public let layers: [Layer]
    /// Hidden units pruned so far, by linear layer index (neurons only).
    public private(set) var prunedUnits: [Int: Set<Int>] = [:]
    /// The mask over the whole flat parameter buffer.
    private let mask: FloatBuffer
    private let parameters: ParameterStore

    /// The pruner of `section` (whose method is `method`) for the model whose parameters are
    /// `parameters`, over `epochs` epochs of `stepsPerEpoch` steps; nothing is pruned yet.
    public init(_ section: Configuration.PruningSection, method: PruningMethod, parameters: ParameterStore, epochs: Int,
                stepsPerEpoch: Int) {
        self.method = method
        scope = method == .magnitude ? section.scope : .layer
        schedule = PruningSchedule(section, epochs: epochs, stepsPerEpoch: stepsPerEpoch)
        self.parameters = parameters
        let weights = parameters.tensors.filter { $0.role == .weight }
        let last = weights.count - 1
        layers = weights.enumerated().compactMap { index, tensor in
            let included = switch method {
            case .magnitude: index < last || section.includeOutput
            case .neurons: true  // the output layer only has its input columns masked
            }
            return included ? Layer(tensor: tensor, index: index) : nil
        }
        mask = FloatBuffer(count: parameters.count)
        mask.storage.update(repeating: 1)
    }

    /// The mask of `layer`, as an array (1 kept, 0 pruned).
    public func mask(of layer: Layer) -> [Float] { Array(mask.storage[layer.range]) }

    /// Every pruned layer's mask by its checkpoint name (`layers.0.weight_mask`).
    public var masks: [(name: String, mask: [Float])] { layers.map { ($0.maskName, mask(of: $0)) } }

    /// Fraction of `layer`'s weights pruned.
    public func sparsity(of layer: Layer) -> Double {
        let zeros = mask.storage[layer.range].reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        return layer.range.isEmpty ? 0 : Double(zeros) / Double(layer.range.count)
    }

    /// Fraction of all `layers`' weights pruned.
    public var overallSparsity: Double {
        let total = layers.reduce(0) { $0 + $1.range.count }
        let zeros = layers.reduce(0) { sum, layer in sum + mask.storage[layer.range].reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
        return total == 0 ? 0 : Double(zeros) / Double(total)
    }

    /// The masks' figures now, for metrics.csv.
    public var metrics: PruningMetrics {
        PruningMetrics(sparsity: overallSparsity, layers: layers.map { sparsity(of: $0) })
    }

    /// The masks' figures now, for summary.json.
    public var figures: PruningFigures? {
        PruningFigures(method: method, weights: parameters.tensors.map { ($0.name, $0.shape) },
                       masks: Dictionary(masks, uniquingKeysWith: { first, _ in first }))
    }

    /// Before the step of the batch that follows `batchesBefore` batches: on a pruning step, prunes to the schedule's
    /// sparsity and zeroes the newly pruned weights and their optimizer state. Returns whether it pruned.
    @discardableResult
    public func prepareStep(batchesBefore: Int, optimizer: (any Optimizer)?) -> Bool {
        guard let sparsity = schedule.sparsity(atStep: batchesBefore) else { return false }
        prune(to: sparsity)
        maskWeights()
        if let optimizer { zeroPrunedState(of: optimizer) }
        return true
    }

    /// Recomputes the masks for `sparsity` from the current weights (cumulatively: what is pruned stays so).
    public func prune(to sparsity: Double) {
        let values = parameters.values.storage
        switch (method, scope) {
        case (.magnitude, .layer):
            for layer in layers {
                let updated = PruningMasks.magnitude(weights: Array(values[layer.range]), previous: mask(of: layer),
                                                     sparsity: sparsity)
                setMask(updated, of: layer)
            }
        case (.magnitude, .global):
            let weights = layers.flatMap { Array(values[$0.range]) }
            let updated = PruningMasks.magnitude(weights: weights, previous: layers.flatMap { mask(of: $0) },
                                                 sparsity: sparsity)
            var start = 0
            for layer in layers {
                setMask(Array(updated[start..<(start + layer.range.count)]), of: layer)
                start += layer.range.count
            }
        case (.neurons, _):
            for (position, layer) in layers.enumerated() where position < layers.count - 1 {
                let rows = PruningMasks.neuronRows(
                    weights: Array(values[layer.range]), mask: mask(of: layer), rows: layer.rows, columns: layer.columns,
                    prunedRows: prunedUnits[layer.index] ?? [], sparsity: sparsity)
                prunedUnits[layer.index] = Set(rows)
                let next = layers[position + 1]
                for row in rows {
                    for column in 0..<layer.columns { mask.storage[layer.tensor.offset + row * layer.columns + column] = 0 }
                    for output in 0..<next.rows where row < next.columns {
                        mask.storage[next.tensor.offset + output * next.columns + row] = 0
                    }
                }
            }
        }
    }

    /// Puts back saved masks (a checkpoint's), in `layers`' order; a neurons pruner recovers its pruned
    /// units as the rows whose mask is all zero.
    public func restore(masks saved: [[Float]]) {
        for (layer, values) in zip(layers, saved) where values.count == layer.range.count {
            setMask(values, of: layer)
        }
        if method == .neurons {
            prunedUnits = [:]
            for layer in layers.dropLast() {
                let values = mask(of: layer)
                prunedUnits[layer.index] = Set((0..<layer.rows).filter { row in
                    values[(row * layer.columns)..<((row + 1) * layer.columns)].allSatisfy { $0 == 0 }
                })
            }
        }
    }

    private func setMask(_ values: [Float], of layer: Layer) {
        for (offset, value) in values.enumerated() { mask.storage[layer.tensor.offset + offset] = value }
    }

    /// g ← g ⊙ m over the flat gradient buffer.
    public func maskGradients() { multiply(parameters.gradients.storage) }

    /// θ ← θ ⊙ m over the flat parameter buffer.
    public func maskWeights() { multiply(parameters.values.storage) }

    /// θ̄ ⊙ mask on an average of the weights in the flat buffer's layout (`WeightAverage`): torch's
    /// AveragedModel of a pruned module averages `weight_orig` and copies `weight_mask`, so its weight
    /// is the average times the mask, zero where pruned.
    func mask(average: inout [Float]) { average.withUnsafeMutableBufferPointer { multiply($0) } }

    /// Over the pruned weights' ranges only: the mask is 1 everywhere else, so the rest of the buffer
    /// (biases, norm parameters, unpruned layers) needs no pass.
    private func multiply(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard let base = buffer.baseAddress, let factors = mask.storage.baseAddress else { return }
        for layer in layers where layer.range.upperBound <= buffer.count {
            for index in layer.range { base[index] *= factors[index] }
        }
    }

    /// Sets to zero every per-parameter buffer of the optimizer's state (momentum_buffer, exp_avg,
    /// exp_avg_sq, max_exp_avg_sq, square_avg, grad_avg, sum) at the pruned weights, so that nothing
    /// accumulated before pruning moves them again; counters are left as they are.
    public func zeroPrunedState(of optimizer: any Optimizer) {
        var state = optimizer.state
        var changed = false
        for (name, buffer) in state.buffers where buffer.count == parameters.count {
            var zeroed = buffer
            for layer in layers {
                for index in layer.range where mask.storage[index] == 0 { zeroed[index] = 0 }
            }
            if zeroed != buffer {
                state.buffers[name] = zeroed
                changed = true
            }
        }
        guard changed else { return }
        do { try optimizer.restore(state) } catch {
            preconditionFailure("an optimizer refused its own state: \(error.description)")
        }
    }
}
