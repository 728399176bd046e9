import Foundation
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM during `nntrain run`: the first asks training to stop after the
/// current step, write a checkpoint and exit with status 130; a second stops the process at once
/// (status 130), which leaves the last checkpoint intact since checkpoints are renamed into place
/// whole.
enum InterruptSignals {
    /// Signals received so far.
    private static let received = Atomic<Int>(0)

    /// Installs the handlers. The handler only counts, writes a fixed line to standard error and,
    /// the second time, calls `_exit`: all async-signal-safe.
    static func install() {
        _ = received.load(ordering: .relaxed)  // initialise the static outside the handler
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                if InterruptSignals.received.add(1, ordering: .relaxed).oldValue >= 1 { _exit(130) }
                let notice: StaticString = "\nnntrain: stopping after this step to write a checkpoint (press Ctrl-C again to stop at once)\n"
                notice.withUTF8Buffer { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Whether a signal asked training to stop.
    static var stopRequested: Bool { received.load(ordering: .relaxed) > 0 }
}
