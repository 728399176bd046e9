import ArgumentParser
import Foundation
import NNTrain

/// `nntrain lr-find CONFIG`: the learning-rate range test (fastai's lr_find) on a config.
struct LRFindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "Find a learning rate: train on successive batches while the lr grows exponentially, "
            + "and suggest one from the loss curve (fastai's lr_find).",
        discussion: "Writes lr_find.csv and lr_find.svg into the config's run directory (or --out); its metrics "
            + "and checkpoints are left alone. The suggestions are fastai's: valley (recommended), slide, minimum "
            + "(the lr at the lowest loss / 10) and steep (steepest descent).")

    @Argument(help: "The YAML config file, e.g. configs/fashion-mnist.txt.", completion: .configFile)
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a config key, as for run (repeatable).", valueName: "section.key=value"), completion: .configKeys)
    var overrides: [String] = []

    @Option(help: ArgumentHelp("The first step's learning rate.", valueName: "lr"))
    var start: Double = 1e-7

    @Option(help: ArgumentHelp("The learning rate the schedule grows towards.", valueName: "lr"))
    var end: Double = 10

    @Option(help: ArgumentHelp("Steps at most (fewer when the loss diverges first).", valueName: "n"))
    var steps: Int = 100

    @Option(help: ArgumentHelp("The folder for lr_find.csv and lr_find.svg (default: the run directory).", valueName: "dir"),
            completion: .directory)
    var out: String?

    @Flag(help: "Print one JSON object (points, suggestions, why it stopped) instead of the summary.")
    var json = false

    func run() throws {
        let schedule = try LRFinderSchedule(startLearningRate: start, endLearningRate: end, steps: steps)
        let outcome = try LRRangeTest.execute(configPath: config, overrides: overrides, schedule: schedule, folder: out)
        let result = outcome.result
        if json {
            for warning in outcome.dataWarnings { Terminal.printWarning(warning) }
            print(String(decoding: try result.json(), as: UTF8.self))
            return
        }
        let stop = result.stop == .diverged
            ? "stopped after \(result.points.count) steps: the smoothed loss passed 4x its minimum"
            : "all \(result.points.count) steps"
        for note in outcome.dataNotes { print(note) }
        for warning in outcome.dataWarnings { Terminal.printWarning(warning) }
        print("lr-find: lr from \(ConsoleFormat.significant(start)) towards \(ConsoleFormat.significant(end)), \(stop)")
        for suggestion in result.suggestions {
            let note = suggestion.method == .valley ? "  (recommended)" : ""
            print("  \(suggestion.method.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))"
                + "\(ConsoleFormat.significant(suggestion.learningRate))\(note)")
        }
        if let valley = result.suggestion(.valley) {
            let lr = ConsoleFormat.significant(valley.learningRate)
            print("recommendation: optimizer.lr: \(lr)  "
                + "(e.g. \(ShellQuoting.command(["nntrain", "run", config, "--set", "optimizer.lr=\(lr)"])))")
        } else {
            print("recommendation: none (too few steps before the loss diverged; try a smaller --start or more --steps)")
        }
        print("wrote \(outcome.csvPath), \(outcome.svgPath)")
    }
}
