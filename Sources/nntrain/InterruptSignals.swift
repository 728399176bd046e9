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
    /// the second time, calls `_exit`: all async-signal-safe. A SIGINT the parent set to be ignored
    /// (a background job of a non-interactive shell) stays ignored, as the shell intended; the two
    /// signals are unblocked, since a process inherits its parent thread's signal mask.
    static func install() {
        _ = received.load(ordering: .relaxed)  // initialise the static outside the handler
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in [SIGINT, SIGTERM] {
            sigaddset(&signals, signalNumber)
            let previous = signal(signalNumber, SIG_IGN)  // SIG_IGN is the handler address 1
            if signalNumber == SIGINT, unsafeBitCast(previous, to: Int.self) == 1 { continue }
            signal(signalNumber) { _ in
                if InterruptSignals.received.add(1, ordering: .relaxed).oldValue >= 1 { _exit(130) }
                let notice: StaticString = "\nnntrain: stopping after this step to write a checkpoint (press Ctrl-C again to stop at once)\n"
                notice.withUTF8Buffer { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Whether a signal asked training to stop.
    static var stopRequested: Bool { received.load(ordering: .relaxed) > 0 }
}
