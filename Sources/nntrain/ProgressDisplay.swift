import Foundation
import NNTrain

/// What a person sees while `nntrain run` trains: on a terminal, a live bar redrawn in place during
/// each epoch, then the epoch's figures; in a pipe or CI log, just one plain line per epoch.
final class ProgressDisplay: TrainingObserver, RunObserver {
    let live: Bool
    private var lastDraw: UInt64 = 0
    /// Redraw the bar at most this often.
    private let drawInterval: UInt64 = 100_000_000

    init(live: Bool) { self.live = live }

    func runStarted(_ plan: TrainingRun.Plan) {
        let widths = plan.layerWidths.map(String.init).joined(separator: "-")
        emit("nntrain: \(plan.dataset), MLP \(widths) (\(plan.parameterCount) parameters), "
            + "\(plan.trainRows) train / \(plan.validationRows) validation / \(plan.testRows) test rows "
            + "loaded in \(format(plan.loadSeconds, 2))s; OpenBLAS \(plan.blasKernel) x\(plan.blasThreads) threads; "
            + "run directory \(plan.runDirectory)")
        if let checkpoint = plan.resumedFrom, let position = plan.resumePosition {
            emit("resuming from \(checkpoint) at epoch \(position.epoch), step \(position.batch)")
        }
    }

    func epochStarted(epoch: Int, epochs: Int, batches: Int) { lastDraw = 0 }

    func batchFinished(epoch: Int, batch: Int, batches: Int, meanLoss: Double) {
        guard live else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw >= drawInterval || batch == batches else { return }
        lastDraw = now
        let width = 30, filled = width * batch / max(batches, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\u{1B}[2Kepoch \(epoch) [\(bar)] \(batch)/\(batches) loss \(format(meanLoss, 4))")
    }

    func epochFinished(_ m: EpochMetrics, epochs: Int) {
        var parts = ["epoch \(m.epoch)/\(epochs)", "train_loss \(format(m.trainLoss, 4))"]
        if let accuracy = m.trainAccuracy { parts.append("train_acc \(percent(accuracy))") }
        if let v = m.validation {
            parts.append("val_loss \(format(v.loss, 4))")
            if let accuracy = v.accuracy { parts.append("val_acc \(percent(accuracy))") }
            if let r2 = v.r2 { parts.append("val_r2 \(format(r2, 4))") }
        }
        parts.append("lr \(m.learningRate)")
        if let precision = m.mixedPrecision {
            if let scale = precision.lossScale { parts.append("loss_scale " + String(format: "%g", scale)) }
            parts.append("skipped \(precision.skippedSteps)")
        }
        parts.append("\(format(m.epochSeconds, 2))s")
        parts.append("\(Int(m.samplesPerSecond.rounded())) samples/s")
        emit(parts.joined(separator: "  "))
    }

    func finished(_ summary: RunSummary) {
        var parts: [String] = []
        if let test = summary.test {
            parts.append("test_loss \(format(test.loss, 4))")
            if let accuracy = test.accuracy { parts.append("test_acc \(percent(accuracy))") }
            if let r2 = test.r2 { parts.append("test_r2 \(format(r2, 4))") }
        }
        let ending = summary.ended == "completed" ? "" : "\(summary.ended); "
        let best = summary.bestEpoch.map { "best epoch \($0); " } ?? ""
        emit("done: " + parts.joined(separator: "  ") + "  (\(ending)\(best)\(summary.runDirectory)/summary.json)")
        for w in summary.weights ?? [] {
            emit("  \(w.name): learned \(format(w.learned, 4)), true \(format(w.truth, 4)), "
                + "relative error \(percent(w.relativeError))")
        }
    }

    /// Ends the bar's line, so that the interruption notice starts on a line of its own.
    func interrupted() {
        if live { write("\n") }
    }

    /// A finished line: on a terminal it replaces the bar.
    private func emit(_ line: String) { write((live ? "\r\u{1B}[2K" : "") + line + "\n") }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    private func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }
}
