import ArgumentParser
import Foundation
import NNTrain

/// `nntrain run CONFIG`: train the model a config describes and write its run directory.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train from a YAML config; write metrics.csv, config.yaml and summary.json to the run directory.")

    @Argument(help: "The YAML config file, e.g. configs/fashion-mnist.txt.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a config key, e.g. --set training.epochs=1 (repeatable; the value is YAML).",
        valueName: "section.key=value"))
    var overrides: [String] = []

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        let display: ProgressDisplay? = quiet ? nil
            : ProgressDisplay(live: Terminal.standardOutputIsTerminal)
        let summary = try TrainingRun.execute(configPath: config, overrides: overrides, observer: display)
        display?.finished(summary)
    }
}
