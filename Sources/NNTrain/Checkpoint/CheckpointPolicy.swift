import Foundation

/// The `checkpoint:` section at work, writing into a run directory's `checkpoints/` folder:
///
///     last.bin         after every `every_n_epochs`-th epoch, on interruption, and when training ends
///     epoch-0007.bin   with `keep_last: K`, beside each every_n_epochs write; only the K newest are
///                      kept, the older deleted once the new one is safely on disk
///     best.bin         with `save_best`, whenever the monitored figure beats its best so far
///                      (strictly: below it for mode min, above for max, as Lightning's ModelCheckpoint)
///
/// Every file is written whole through a temporary file renamed into place (see OutputFile), so a
/// crash at any moment leaves the previous checkpoint intact. The best value so far travels in each
/// checkpoint, so a resumed run never replaces best.bin with a worse model.
public final class CheckpointPolicy {
    public let folder: String
    public let section: Configuration.CheckpointSection
    /// save_best's best figure so far.
    public private(set) var best: Checkpoint.BestRecord?
    /// The CRC-32 of the training rows, recorded in every checkpoint (see `Checkpoint.dataFingerprint`).
    public let dataFingerprint: String?

    public init(runDirectory: String, section: Configuration.CheckpointSection, best: Checkpoint.BestRecord? = nil,
                dataFingerprint: String? = nil) {
        folder = runDirectory + "/checkpoints"
        self.section = section
        self.best = best
        self.dataFingerprint = dataFingerprint
    }

    private func checkpoint(of trainer: Trainer, reason: Checkpoint.Reason) -> Checkpoint {
        var checkpoint = Checkpoint(trainer: trainer, bestRecord: best, reason: reason)
        checkpoint.dataFingerprint = dataFingerprint
        return checkpoint
    }

    public var lastPath: String { folder + "/last.bin" }
    public static func lastPath(runDirectory: String) -> String { runDirectory + "/checkpoints/last.bin" }
    public var bestPath: String { folder + "/best.bin" }
    public func epochPath(_ epoch: Int) -> String { folder + "/epoch-" + Self.fourDigits(epoch) + ".bin" }

    /// Applies the policy after an epoch whose metrics are `metrics`, the trainer at that epoch's end.
    /// Returns whether it wrote last.bin (every `every_n_epochs`-th epoch).
    @discardableResult
    public func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) -> Bool {
        var improved = false
        if section.saveBest, trainer.pruningSettled, let monitor = section.monitor, let value = metrics.value(of: monitor),
           isImprovement(value) {
            best = Checkpoint.BestRecord(value: value, epoch: metrics.epoch)
            improved = true
        }
        let due = metrics.epoch % section.everyNEpochs == 0
        guard improved || due else { return false }
        let bytes = try CheckpointFile.encode(checkpoint(of: trainer, reason: .epoch).contents())
        if improved { try OutputFile.write(bytes, to: bestPath) }
        guard due else { return false }
        if section.keepLast > 0 {
            try OutputFile.write(bytes, to: epochPath(metrics.epoch))
            pruneEpochFiles()
        }
        try OutputFile.write(bytes, to: lastPath)
        return true
    }

    /// Writes last.bin now (on interruption, or when training ended); returns its path.
    @discardableResult
    public func writeLast(trainer: Trainer, reason: Checkpoint.Reason) throws(NNTrainError) -> String {
        try checkpoint(of: trainer, reason: reason).write(to: lastPath)
        return lastPath
    }

    private func isImprovement(_ value: Double) -> Bool {
        guard let best else { return !value.isNaN }
        return section.mode == .max ? value > best.value : value < best.value
    }

    /// Deletes all but the `keep_last` newest epoch-NNNN.bin files. A file that cannot be deleted
    /// is left (it costs disk space, not correctness).
    private func pruneEpochFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let epochs = names.compactMap { name -> Int? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".bin") else { return nil }
            return Int(name.dropFirst("epoch-".count).dropLast(".bin".count))
        }.sorted()
        for epoch in epochs.dropLast(section.keepLast) { unlink(epochPath(epoch)) }
    }

    private static func fourDigits(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
