import Foundation
import NNTrain
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM during `nntrain run`: the first asks training to stop after the
/// current step, write a checkpoint and exit with status 130; a second stops the process at once
/// (status 130), which leaves the last checkpoint intact since checkpoints are renamed into place
/// whole, and says which checkpoint that is.
enum InterruptSignals {
    /// Signals received so far.
    private static let received = Atomic<Int>(0)

    /// The line a second signal writes before stopping. A handler may not allocate, lock or format,
    /// so the main thread formats the line whenever a checkpoint lands (`Observer`) into one
    /// of two fixed buffers, then publishes it: `published` holds length × 2 + buffer index. The
    /// handler reads the published buffer, which the main thread leaves alone until the next
    /// checkpoint (an epoch later), so the handler never sees a line half-written (hence the buffers'
    /// `nonisolated(unsafe)`: `published`'s release and acquire order the accesses).
    private static let noticeCapacity = 4096
    nonisolated(unsafe) private static let noticeBuffers = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * noticeCapacity)
    private static let published = Atomic<Int>(0)

    /// Installs the handlers. The handler only counts, writes a fixed line to standard error and,
    /// the second time, writes the published line and calls `_exit`: all async-signal-safe. A SIGINT
    /// the parent set to be ignored (a background job of a non-interactive shell) stays ignored, as
    /// the shell intended; the two signals are unblocked, since a process inherits its parent
    /// thread's signal mask.
    static func install() {
        _ = received.load(ordering: .relaxed)  // initialise the statics outside the handler
        publish(notice(checkpoint: nil))
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in [SIGINT, SIGTERM] {
            sigaddset(&signals, signalNumber)
            let previous = signal(signalNumber, SIG_IGN)  // SIG_IGN is the handler address 1
            if signalNumber == SIGINT, unsafeBitCast(previous, to: Int.self) == 1 { continue }
            signal(signalNumber) { _ in
                if InterruptSignals.received.add(1, ordering: .relaxed).oldValue >= 1 {
                    let line = InterruptSignals.published.load(ordering: .acquiring)
                    _ = write(STDERR_FILENO, InterruptSignals.noticeBuffers + (line & 1) * InterruptSignals.noticeCapacity,
                              line >> 1)
                    _exit(130)
                }
                let notice: StaticString = """
                    \nnntrain: stopping after this step to write a checkpoint \
                    (press Ctrl-C again to stop at once)\n
                    """
                notice.withUTF8Buffer { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// The signals as a run's observer: training stops after the step during which the first came,
    /// and each checkpoint the run writes becomes the one a second names.
    final class Observer: TrainingObserver {
        func shouldStop(_ trainer: Trainer) -> Bool { InterruptSignals.received.load(ordering: .relaxed) > 0 }

        func checkpointWritten(path: String, position: TrainingPosition) {
            InterruptSignals.publish(InterruptSignals.notice(checkpoint: (path, position)))
        }
    }

    /// What a second signal prints: `nntrain: interrupted again: stopped at once; the last checkpoint
    /// on disk is runs/x/checkpoints/last.bin (after epoch 2)`, or `...; no checkpoint was written yet`.
    static func notice(checkpoint: (path: String, position: TrainingPosition)?) -> String {
        "\nnntrain: interrupted again: stopped at once; " + (checkpoint.map {
            "the last checkpoint on disk is \(ShellQuoting.quote($0.path)) (\(TrainingRun.describe($0.position)))"
        } ?? "no checkpoint was written yet") + "\n"
    }

    /// Copies `line` (cut to the buffer's size) into the buffer the handler is not reading and
    /// makes it the one a second signal writes.
    private static func publish(_ line: String) {
        let index = 1 - published.load(ordering: .relaxed) & 1
        let bytes = Array(line.utf8.prefix(noticeCapacity))
        bytes.withUnsafeBufferPointer {
            if let base = $0.baseAddress { (noticeBuffers + index * noticeCapacity).update(from: base, count: $0.count) }
        }
        published.store(bytes.count << 1 | index, ordering: .releasing)
    }
}
