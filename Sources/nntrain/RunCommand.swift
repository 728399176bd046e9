import ArgumentParser
import Foundation
import NNTrain

/// `nntrain run CONFIG`: train the model a config describes and write its run directory.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train from a YAML config; write metrics.csv, checkpoints, config.yaml and summary.json to the run directory.",
        discussion: "Ctrl-C or SIGTERM stops after the current step, writes checkpoints/last.bin and exits with "
            + "status 130; a second Ctrl-C stops at once, naming the last checkpoint on disk. "
            + "'nntrain run CONFIG --resume' continues exactly where it stopped. "
            + "A run directory that already holds a run is refused (status 73) without --resume or --force, and one "
            + "another nntrain run is writing is refused (status 75). 'nntrain config --defaults' prints every config key "
            + "with its default, allowed values and meaning.\n\n"
            + "Environment: NNTRAIN_THREADS=N computes on N threads (matrix products and elementwise passes; default: "
            + "one per core). NNTRAIN_PORTABLE=1 is read when nntrain is built (make build, swift build), not when it "
            + "runs: it builds a binary for any CPU of its architecture instead of one for the building CPU's instructions.")

    @Argument(help: "The YAML config file, e.g. configs/fashion-mnist.txt.", completion: .configFile)
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a config key, e.g. --set training.epochs=1 (repeatable; the value is YAML).",
        valueName: "section.key=value"), completion: .configKeys)
    var overrides: [String] = []

    @Option(name: .customLong("resume"), defaultAsFlag: "", parsing: .next, help: ArgumentHelp(
        "Continue from the run directory's checkpoints/last.bin, or from the checkpoint at PATH.",
        valueName: "PATH"), completion: .checkpointFile)
    var resume: String? = nil

    @Flag(help: ArgumentHelp(
        "Start afresh in a run directory that already holds a run, deleting that run's files first (config.yaml, "
            + "metrics.csv, steps.csv, summary.json, curves.svg, checkpoints/, tensorboard/; nothing else)."))
    var force = false

    @Flag(name: .shortAndLong, help: ArgumentHelp("Print nothing but errors, warnings and the one line that says an "
        + "interruption or time limit stopped training."))
    var quiet = false

    func validate() throws {
        if force, resume != nil {
            throw ValidationError("--force and --resume exclude each other: --resume continues the run directory's run, "
                + "--force deletes it to start afresh")
        }
    }

    func run() throws {
        let display: ProgressDisplay? = quiet ? nil
            : ProgressDisplay(live: Terminal.standardOutputIsTerminal)
        let start: TrainingRun.Start = switch resume {
        case nil: force ? .overwrite : .fresh
        case ""?: .resumeLast
        case let path?: .resume(path: path)
        }
        InterruptSignals.install()
        let observers: [any TrainingObserver] = [InterruptSignals.Observer(), WarningPrinter()] + (display.map { [$0] } ?? [])
        let outcome = try TrainingRun.execute(configPath: config, overrides: overrides, start: start, observers: observers)
        switch outcome.ending {
        case .alreadyEnded(let line): Terminal.printLine(line)  // a resumed run that had already ended: nothing ran
        case .completed, .diverged: break  // the display showed the end (a diverged run's error is thrown)
        case .interrupted(let interruption): try report(interruption)
        }
    }

    /// The line that says where training stopped and how to go on; Ctrl-C or SIGTERM exit with status 130.
    private func report(_ interruption: TrainingRun.Interruption) throws {
        let place = TrainingRun.describe(interruption.position, of: interruption.batchesPerEpoch)
        let resumeCommand = ShellQuoting.command(["nntrain", "run", config] + overrides.flatMap { ["--set", $0] } + ["--resume"])
        if let limit = interruption.timeLimit {
            // A time limit ends the invocation normally (exit 0), as Lightning's max_time does.
            Terminal.printLine("time limit of \(limit) s (training.max_seconds) reached \(place); checkpoint "
                + "\(ShellQuoting.quote(interruption.checkpoint)); continue with: \(resumeCommand)")
            return
        }
        Terminal.printLine("interrupted \(place); checkpoint \(ShellQuoting.quote(interruption.checkpoint)); "
            + "resume with: \(resumeCommand)")
        throw ExitCode(NNTrainError.Kind.interrupted.rawValue)
    }
}

/// Prints a run's warnings (a resume's accepted config changes, the data's, the diagnostic warnings after an
/// epoch) on standard error, --quiet or not.
private final class WarningPrinter: TrainingObserver {
    func warning(_ message: String) { Terminal.printWarning(message) }
}
