/// The three training-time warnings of issue 19, each one line with the fix the PyTorch tutorials give,
/// each at most once per run (`Trainer.warningsGiven`, which checkpoints carry). Pure functions over an
/// epoch's figures; the trainer sends their lines to `TrainingObserver.warning(_:)` after the epoch's
/// `epochFinished`.
///
/// - vanishing (needs the layer statistics: `logging.layer_stats` or `tensorboard`): a layer's gradient norm stayed below 1e-4
///   (`LayerSums.vanishingRatio`) of the largest layer's at every step of an epoch.
/// - dead ReLUs (needs the layer statistics): more than 90% of a relu layer's units were dead in the
///   epoch (its mean dead fraction, see `LayerStatistics`).
/// - overfitting (always, with a validation split): val_loss[e] > val_loss[e−1] and
///   train_loss[e] < train_loss[e−1] for each of the last 3 epochs e.
public enum TrainingDiagnostics {
    /// Which warning; a run gives each at most once.
    public enum Warning: String, Sendable, Codable, CaseIterable {
        case vanishingGradients = "vanishing_gradients"
        case deadUnits = "dead_units"
        case overfitting
    }

    /// The fraction of a layer's units dead over an epoch above which it warns.
    public static let deadFractionLimit = 0.9
    /// The epochs of rising validation loss (with falling training loss) that make overfitting.
    public static let overfittingEpochs = 3

    /// The vanishing-gradient line for `epoch`, naming the first layer whose gradient norm was below
    /// 1e-4 of the largest layer's at every one of the epoch's `sums.steps` steps, and the layer of the
    /// largest mean norm (`metrics.gradientNorms`); nil when no layer was.
    public static func vanishingGradients(_ sums: LayerSums, _ metrics: LayerMetrics, epoch: Int) -> String? {
        guard sums.steps > 0, let layer = sums.vanishingSteps.firstIndex(where: { $0 == sums.steps }),
              let largest = metrics.gradientNorms.indices.max(by: { metrics.gradientNorms[$0] < metrics.gradientNorms[$1] })
        else { return nil }
        return "layer \(layer)'s gradient norm stayed below 1e-4 of layer \(largest)'s all epoch \(epoch): "
            + "vanishing gradients; try relu/gelu, kaiming init, batch norm"
    }

    /// The dead-ReLU line for `epoch`, naming the first layer whose mean dead fraction exceeds 90%; nil
    /// when none does.
    public static func deadUnits(_ metrics: LayerMetrics, epoch: Int) -> String? {
        guard let layer = metrics.deadFractions.firstIndex(where: { ($0 ?? 0) > deadFractionLimit }),
              let fraction = metrics.deadFractions[layer] else { return nil }
        let percent = Int((fraction * 100).rounded())
        return "\(percent)% of layer \(layer)'s ReLUs were dead in epoch \(epoch) (zero for every row of a batch): "
            + "lower the lr, or use leaky_relu"
    }

    /// The overfitting line when, over the last `overfittingEpochs` epochs of `history`, each epoch's
    /// validation loss rose and training loss fell against the epoch before; nil otherwise (too few
    /// epochs, no validation split).
    public static func overfitting(_ history: [EpochMetrics]) -> String? {
        let n = overfittingEpochs
        guard history.count > n else { return nil }
        let recent = Array(history.suffix(n + 1))
        for e in 1...n {
            guard let loss = recent[e].validation?.loss, let before = recent[e - 1].validation?.loss,
                  loss > before, recent[e].trainLoss < recent[e - 1].trainLoss else { return nil }
        }
        return "validation loss has risen for \(n) epochs (epochs \(recent[1].epoch)-\(recent[n].epoch)) while training "
            + "loss fell: overfitting; try early_stopping, dropout, weight_decay"
    }
}

extension Trainer {
    /// The warnings the epoch just finished (the last of `history`) calls for and the run has not given
    /// yet, marked as given. The layer warnings need `layerSums` (the epoch's, nil without layer statistics).
    func diagnosticWarnings(layerSums: LayerSums?) -> [String] {
        guard let metrics = history.last else { return [] }
        var candidates: [(TrainingDiagnostics.Warning, () -> String?)] = [
            (.overfitting, { TrainingDiagnostics.overfitting(self.history) }),
        ]
        if let layerSums, let layers = metrics.layers {
            candidates.insert(contentsOf: [
                (.vanishingGradients, { TrainingDiagnostics.vanishingGradients(layerSums, layers, epoch: metrics.epoch) }),
                (.deadUnits, { TrainingDiagnostics.deadUnits(layers, epoch: metrics.epoch) }),
            ], at: 0)
        }
        var lines: [String] = []
        for (warning, line) in candidates where !warningsGiven.contains(warning) {
            guard let line = line() else { continue }
            warningsGiven.insert(warning)
            lines.append(line)
        }
        return lines
    }
}
