import Foundation
import NNTrain

/// What a person sees while `nntrain run` trains: on a terminal, a live bar redrawn in place during
/// each epoch (with tqdm's elapsed time, ETA and rate), then the epoch's figures; in a pipe or CI log,
/// just one plain line per epoch; at the end, the test figures (or, on a terminal, the end of the bar's
/// line when Ctrl-C stopped training). The texts are `ConsoleFormat`'s.
final class ProgressDisplay: TrainingObserver {
    let live: Bool
    private var lastDraw: UInt64 = 0
    /// Redraw the bar at most this often.
    private let drawInterval: UInt64 = 100_000_000
    /// When the current epoch started (for the bar's elapsed time and ETA), and the run's epochs.
    private var epochStart: UInt64 = 0
    /// The batch this session of the epoch started after (nonzero when resumed mid-epoch).
    private var initialBatch = 0
    private var epochs = 0

    /// The terminal's width in columns (80 when it cannot be read): the bar is cut to one column
    /// less, since a bar that wrapped could not be redrawn in place.
    private let columns: Int

    init(live: Bool) {
        self.live = live
        var size = winsize()
        columns = live && ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 1 ? Int(size.ws_col) : 80
    }

    func runStarted(_ plan: TrainingRun.Plan) {
        for note in plan.dataNotes { emit(note) }
        let widths = plan.layerWidths.map(String.init).joined(separator: "-")
        emit("nntrain: \(plan.dataset), MLP \(widths) (\(plan.parameterCount) parameters), "
            + "\(plan.trainRows) train / \(plan.validationRows) validation / \(plan.testRows) test rows "
            + "loaded in \(format(plan.loadSeconds, 2))s; OpenBLAS \(plan.blasKernel) x\(plan.blasThreads) threads; "
            + "run directory \(plan.runDirectory)")
        if let checkpoint = plan.resumedFrom, let position = plan.resumePosition {
            emit("resuming from \(checkpoint) at epoch \(position.epoch), step \(position.batch)")
        }
    }

    func epochStarted(_ trainer: Trainer) {
        lastDraw = 0
        epochStart = DispatchTime.now().uptimeNanoseconds
        initialBatch = trainer.position.batch
        epochs = trainer.configuration.training.epochs
    }

    func afterStep(_ step: StepReport, trainer: Trainer) {
        guard live else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let batch = step.position.batch, batches = step.batchesPerEpoch
        guard now - lastDraw >= drawInterval || batch == batches else { return }
        lastDraw = now
        let bar = ConsoleFormat.progressBar(epoch: step.position.epoch, epochs: epochs, batch: batch, batches: batches,
                                            initialBatch: initialBatch, meanLoss: step.epochMeanLoss,
                                            elapsed: Double(now - epochStart) / 1e9)
        write("\r\u{1B}[2K" + bar.prefix(columns - 1))
    }

    func epochFinished(_ m: EpochMetrics, trainer: Trainer) {
        emit(ConsoleFormat.epochLine(m, epochs: epochs))
        if let stats = ConsoleFormat.precisionStatsLine(m) { emit(stats) }
    }

    /// The test figures of a run that ran to its end or its time limit; after Ctrl-C, the end of the
    /// bar's line, so that the interruption notice starts on a line of its own. Nothing for a diverged
    /// run, whose error says it all.
    func runEnded(_ summary: RunSummary, ending: TrainingRun.Ending) {
        switch ending {
        case .completed: finished(summary)
        case .interrupted(let interruption) where interruption.timeLimit != nil: finished(summary)
        case .interrupted: if live { write("\n") }
        case .diverged, .alreadyEnded: break
        }
    }

    private func finished(_ summary: RunSummary) {
        var parts: [String] = []
        if let test = summary.test {
            parts.append("test_loss \(ConsoleFormat.significant(test.loss))")
            if let accuracy = test.accuracy { parts.append("test_acc \(ConsoleFormat.percent(accuracy))") }
            if let r2 = test.r2 { parts.append("test_r2 \(format(r2, 4))") }
        }
        let ending = summary.ended == "completed" ? "" : "\(summary.ended); "
        let best = summary.bestEpoch.map { "best epoch \($0); " } ?? ""
        // The training speed over the whole run (the epoch lines leave it out to stay short).
        let speed = summary.epochsCompleted > 0 ? "\(Int(summary.samplesPerSecond.rounded())) samples/s; " : ""
        emit("done: " + parts.joined(separator: "  ") + "  (\(ending)\(best)\(speed)\(summary.runDirectory)/summary.json)")
        for w in summary.weights ?? [] {
            emit("  \(w.name): learned \(format(w.learned, 4)), true \(format(w.truth, 4)), "
                + "relative error \(ConsoleFormat.percent(w.relativeError))")
        }
    }

    /// A finished line: on a terminal it replaces the bar.
    private func emit(_ line: String) { write((live ? "\r\u{1B}[2K" : "") + line + "\n") }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
