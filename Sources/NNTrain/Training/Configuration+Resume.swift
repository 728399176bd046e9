/// What may change between a checkpoint's configuration and the one a run resumes with.
extension Configuration {
    /// Keys (or sections, ending in ".") whose change would make the saved state meaningless: the
    /// model's shapes, the data and its split (the seed draws it), the batches (their size sets
    /// the epoch's steps), the number format and loss scaler, and the optimizer's kind and the
    /// options that decide which buffers it keeps. A resume with one of these changed is refused.
    static let keysFixedOnResume = [
        "seed", "data.", "model.", "loss", "huber_delta", "training.batch_size", "training.precision",
        "training.loss_scale", "optimizer.name", "optimizer.momentum", "optimizer.amsgrad", "optimizer.centered",
    ]

    /// Keys that belong to one invocation, not to the run: where it writes and how long this
    /// invocation may take. A resume changes them without a word.
    static let keysOfOneInvocation: Set = ["output.dir", "training.max_seconds"]

    /// The value keys (`training.epochs`) whose values differ between `self` and `saved`, those of
    /// one invocation aside (where the run writes, its time limit: not part of what it computes).
    public func changedKeys(from saved: Configuration) -> [String] {
        Self.keys.valueEntries.compactMap { path, key in
            guard !Self.keysOfOneInvocation.contains(path), case .value(_, let write) = key.kind, write(self) != write(saved)
            else { return nil }
            return path
        }
    }

    /// Splits changed keys into those a resume refuses and those it allows (with a warning).
    public static func classifyForResume(_ changed: [String]) -> (refused: [String], allowed: [String]) {
        let refused = changed.filter { path in
            keysFixedOnResume.contains { $0.hasSuffix(".") ? path.hasPrefix($0) : path == $0 }
        }
        return (refused, changed.filter { !refused.contains($0) })
    }
}
