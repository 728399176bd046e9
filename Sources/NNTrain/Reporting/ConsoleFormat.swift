import Foundation

/// The figures nntrain prints for people, as text: the numbers (4 significant digits, as `'%.4g'`
/// formats them in Python), tqdm's elapsed/remaining time, the live bar and the epoch line of
/// `nntrain run`. Pure functions, so that every format can be tested without a terminal.
public enum ConsoleFormat {
    /// The widest an epoch line may be: every option on (classification with validation, fp16 with
    /// loss scaling) fits 100 columns for runs of up to 999 epochs and epochs under 1000 s.
    public static let lineWidth = 100

    /// A number to 4 significant digits, C's and Python's `%.4g`: `0.04665`, `0.001`, `3e-05`,
    /// `1235`, `1.235e+04`, `nan`, `inf`. Every learning rate, loss and fraction a person reads is
    /// written this way (files keep full precision).
    public static func significant(_ value: Double) -> String {
        String(format: "%.4g", value)
    }

    /// A fraction as a percentage with two decimals: `87.65%`.
    public static func percent(_ fraction: Double) -> String {
        String(format: "%.2f%%", fraction * 100)
    }

    /// A loss scale: `2^16` for a power of two (GradScaler's scales are 65536 · 2^k), otherwise `%g`.
    public static func lossScale(_ scale: Double) -> String {
        let exponent = scale.exponent
        if scale > 0, scale.isFinite, scale == Double(sign: .plus, exponent: exponent, significand: 1) {
            return "2^\(exponent)"
        }
        return String(format: "%g", scale)
    }

    /// tqdm's `format_interval`: whole seconds as `mm:ss`, or `h:mm:ss` from an hour on
    /// (`00:07`, `12:34`, `1:02:03`); a negative or non-finite time is `?`.
    public static func interval(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "?" }
        let whole = Int(seconds), hours = whole / 3600, minutes = whole / 60 % 60, rest = whole % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%02d:%02d", minutes, rest)
    }

    /// tqdm's time and rate block after `done` of `total` steps in `elapsed` seconds:
    /// `[00:12<00:31, 9.81it/s]`, or `[00:04<01:10, 1.52s/it]` when a step takes more than a second,
    /// and `[00:00<?, ?it/s]` before the first step. The remaining time is (total − done) / rate at
    /// the epoch's average rate so far (tqdm with `smoothing=0`).
    public static func timing(done: Int, total: Int, elapsed: Double) -> String {
        guard done > 0, elapsed > 0 else { return "[\(interval(elapsed))<?, ?it/s]" }
        let rate = Double(done) / elapsed
        let remaining = Double(max(total - done, 0)) / rate
        let speed = rate < 1 ? String(format: "%.2fs/it", 1 / rate) : String(format: "%.2fit/s", rate)
        return "[\(interval(elapsed))<\(interval(remaining)), \(speed)]"
    }

    /// The live bar redrawn during an epoch:
    /// `ep 3/15 [########............] 120/469 loss 0.3456 [00:12<00:31, 9.81it/s]`. `initialBatch` is
    /// where this session of the epoch began (a resume mid-epoch): the rate and the time left count
    /// only the batches since, as tqdm's `initial=` does.
    public static func progressBar(epoch: Int, epochs: Int, batch: Int, batches: Int, initialBatch: Int = 0,
                                   meanLoss: Double, elapsed: Double) -> String {
        let width = 20, filled = width * min(max(batch, 0), batches) / max(batches, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "ep \(epoch)/\(epochs) [\(bar)] \(batch)/\(batches) loss \(significant(meanLoss)) "
            + timing(done: batch - initialBatch, total: batches - initialBatch, elapsed: elapsed)
    }

    /// The line printed after each epoch, groups two spaces apart:
    ///
    ///     ep 3/15  loss 0.3456 acc 87.65%  val 0.3821 86.10%  lr 0.04665  scale 2^16 skip 2  sparsity 45.20%  0.33s
    ///
    /// the epoch; the training loss and accuracy; the validation loss and accuracy (R² for
    /// regression: `val 0.3821 r2 0.9876`); the lr of the epoch's last step; in fp16/bf16 the loss
    /// scale (without scaling: none) and the steps skipped for inf/NaN gradients; with pruning, the
    /// fraction of the masked weights that is zero at the epoch's end; the epoch's training seconds
    /// (without validation, see `duration`).
    public static func epochLine(_ metrics: EpochMetrics, epochs: Int) -> String {
        var groups = ["ep \(metrics.epoch)/\(epochs)",
                      "loss \(significant(metrics.trainLoss))" + (metrics.trainAccuracy.map { " acc \(percent($0))" } ?? "")]
        if let validation = metrics.validation {
            groups.append("val \(significant(validation.loss))" + (validation.accuracy.map { " \(percent($0))" } ?? "")
                + (validation.r2.map { " r2 " + String(format: "%.4f", $0) } ?? ""))
        }
        groups.append("lr \(significant(metrics.learningRate))")
        if let precision = metrics.mixedPrecision {
            groups.append("scale \(precision.lossScale.map(lossScale) ?? "none") skip \(precision.skippedSteps)")
        }
        if let pruning = metrics.pruning { groups.append("sparsity \(percent(pruning.sparsity))") }
        groups.append(duration(metrics.epochSeconds))
        return groups.joined(separator: "  ")
    }

    /// A duration to 3 significant digits: `0.331s`, `12.3s`; whole seconds from 1000 s (`1235s`);
    /// milliseconds below 10 ms (`0.194ms`, as a tiny model's epoch takes), where `%.3g` seconds
    /// would turn to exponent notation.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 0.01 { return String(format: "%.3gms", seconds * 1000) }
        return String(format: seconds < 1000 ? "%.3gs" : "%.0fs", seconds)
    }

    /// With `logging.precision_stats`, the line under the epoch line: of the activation-gradient
    /// values rounded to fp16/bf16 in the epoch, the fractions that underflowed to zero and
    /// overflowed to infinity (metrics.csv's grad_underflow and grad_overflow), e.g.
    /// `  gradients rounded: 1.234e-05 underflowed to 0, 0 overflowed to inf`; nil without them.
    public static func precisionStatsLine(_ metrics: EpochMetrics) -> String? {
        guard let precision = metrics.mixedPrecision, let underflow = precision.gradientUnderflow,
              let overflow = precision.gradientOverflow else { return nil }
        return "  gradients rounded: \(significant(underflow)) underflowed to 0, \(significant(overflow)) overflowed to inf"
    }
}
