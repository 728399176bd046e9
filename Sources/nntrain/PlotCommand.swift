import ArgumentParser
import NNTrain

/// `nntrain plot RUN_DIR`: draw a run's learning curves from its metrics.csv.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's metrics.csv as curves.svg: loss, accuracy (or MAE and R²) and learning rate per epoch.",
        discussion: "The loss is drawn on a log axis when it spans more than two decades (or with --log-y). With the "
            + "run's summary.json, the best epoch and an early stop are marked, and a run without validation shows its "
            + "test figures as points.")

    @Argument(help: ArgumentHelp("The run directory, e.g. runs/fashion-mnist.", valueName: "run-dir"), completion: .directory)
    var runDirectory: String

    @Option(help: ArgumentHelp("The SVG file to write (default: <run-dir>/curves.svg).", valueName: "file"), completion: .svgFile)
    var out: String?

    @Flag(name: .customLong("log-y"), help: "Draw the loss on a log axis, however few decades it spans.")
    var logScaleLoss = false

    func run() throws {
        print(try LearningCurves.write(runDirectory: runDirectory, to: out, logScaleLoss: logScaleLoss))
    }
}
