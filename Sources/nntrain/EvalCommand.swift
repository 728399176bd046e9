import ArgumentParser
import Foundation
import NNTrain

/// `nntrain eval CHECKPOINT`: how good a trained model is, per class, from the checkpoint alone.
/// `nntrain eval A.bin B.bin ...`: the ensemble of the checkpoints (`EnsembleEvaluation`), each member's
/// figures beside it.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on its test (or validation, or training) data: loss, accuracy, "
            + "per-class precision/recall/F1, confusion matrix; MSE, RMSE, MAE, R² for regression. Several checkpoints: "
            + "their ensemble, each member beside it.")

    @Argument(help: ArgumentHelp("The checkpoint, e.g. runs/fashion-mnist/checkpoints/last.bin; several make an ensemble "
                                 + "(their probabilities, or values, averaged) evaluated beside each member.",
                                 valueName: "checkpoint"),
              completion: .checkpointFile)
    var checkpoints: [String]

    /// The first checkpoint: the only one, or the ensemble's first member (whose data and split are used).
    var checkpoint: String { checkpoints.first ?? "" }

    @Option(help: ArgumentHelp("The data (an IDX image set's folder or a CSV file, of the model's kind) instead of the "
                               + "checkpoint config's data.path; a CSV is encoded with the checkpoint's columns, categories "
                               + "and classes.",
                               valueName: "path"), completion: .csvFile)
    var data: String?

    @Option(help: ArgumentHelp("The split to evaluate, drawn as in training: test, val or train.", valueName: "split"))
    var split: CheckpointEvaluation.Split = .test

    @Option(name: .customLong("top-k"), help: ArgumentHelp(
        "Also report top-k accuracy, 1 ≤ k ≤ the number of classes; top-1 is the accuracy (classification; "
            + "default: \(defaultTopK), or the number of classes if fewer).", valueName: "k"))
    var topK: Int?

    /// The k of the top-k accuracy reported for a classifier when --top-k is not given.
    static let defaultTopK = 3

    @OptionGroup var quantization: QuantizationOptions

    @Flag(help: "Print one JSON object instead of the tables.")
    var json = false

    @Option(help: ArgumentHelp("Write the per-class table as CSV (class,precision,recall,f1,support).", valueName: "file"),
            completion: .csvFile)
    var csv: String?

    @Option(help: ArgumentHelp("Draw the confusion matrix as an SVG heatmap.", valueName: "file.svg"), completion: .svgFile)
    var plot: String?

    func validate() throws {
        if let topK, topK < 1 { throw ValidationError("--top-k \(topK): expected an integer from 1 to the number of classes") }
        if checkpoints.isEmpty { throw ValidationError("Missing expected argument '<checkpoint> ...'") }
        if checkpoints.count > 1, quantization.settings != nil { throw ValidationError(Ensemble.quantizationRefusal) }
    }

    func run() throws {
        var ensemble: EnsembleEvaluation?
        let evaluation: CheckpointEvaluation
        if checkpoints.count > 1 {
            let result = try EnsembleEvaluation.run(checkpointPaths: checkpoints, dataPath: data, split: split,
                                                    topK: topK.map { [$0] } ?? [], defaultTopK: Self.defaultTopK)
            (ensemble, evaluation) = (result, result.ensemble)
        } else {
            evaluation = try CheckpointEvaluation.run(checkpointPath: checkpoint, dataPath: data, split: split,
                                                      topK: topK.map { [$0] } ?? [], defaultTopK: Self.defaultTopK,
                                                      quantization: quantization.settings)
        }
        for warning in evaluation.warnings { Terminal.printWarning(warning) }
        if let report = evaluation.classification {
            if let csv { try OutputFile.write(Array(report.csv().utf8), to: csv) }
            if let plot {
                let names = report.classes.map(\.name)
                let heatmap = Heatmap(title: "Confusion matrix: \(evaluation.split.rawValue) split of \(evaluation.dataset)",
                                      rowLabels: names, columnLabels: names, counts: report.confusionMatrix)
                try OutputFile.write(Array(heatmap.svg().utf8), to: plot)
            }
        } else if csv != nil || plot != nil {
            throw NNTrainError(.usage, "--csv and --plot draw the per-class table and confusion matrix of a classifier; "
                + "\(checkpoint) is a regression model")
        } else if let topK {
            throw NNTrainError(.usage, "--top-k \(topK): top-k accuracy ranks the classes of a classifier; "
                + "\(checkpoint) is a regression model")
        }
        if json {
            print(String(decoding: try ensemble?.json() ?? evaluation.json(), as: UTF8.self))
            return
        }
        print(ensemble.map(Self.text) ?? Self.text(evaluation), terminator: "")
    }

    /// An ensemble's figures: one line per member and the ensemble's (loss, then accuracy and top-k, or
    /// MSE, RMSE, MAE and R²), then the ensemble's full report as for one checkpoint.
    static func text(_ e: EnsembleEvaluation) -> String {
        let rows = e.members.map { ($0.checkpoint, $0) } + [("ensemble (mean)", e.ensemble)]
        let nameWidth = max(rows.map(\.0.count).max() ?? 0, 6)
        func pad(_ text: String) -> String {
            text.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        }
        func cell(_ text: String) -> String { String(repeating: " ", count: max(10 - text.count, 1)) + text }
        var header = pad("member") + cell("loss")
        if let report = e.ensemble.classification {
            header += cell("accuracy") + report.topK.map { cell("top-\($0.k)") }.joined()
        } else {
            header += ["mse", "rmse", "mae", "r2"].map(cell).joined()
        }
        var text = header + "\n"
        for (name, figures) in rows {
            text += pad(name) + cell(String(format: "%.4f", figures.loss))
            if let report = figures.classification {
                text += cell(String(format: "%.4f", report.accuracy))
                    + report.topK.map { cell(String(format: "%.4f", $0.accuracy)) }.joined()
            } else if let report = figures.regression {
                text += [report.meanSquaredError, report.rootMeanSquaredError, report.meanAbsoluteError, report.r2]
                    .map { cell(String(format: "%.4f", $0)) }.joined()
            }
            text += "\n"
        }
        return text + "\n" + Self.text(e.ensemble)
    }

    /// The figures for a person at a terminal.
    static func text(_ e: CheckpointEvaluation) -> String {
        var text = e.notes.map { $0 + "\n" }.joined()
        text += "\(e.checkpoint): \(e.architecture), \(e.split.rawValue) split of \(e.dataset) (\(e.dataPath)), "
            + "\(e.rows) rows\n"
        if let quantization = e.quantization { text += quantization.text() }
        text += "loss \(String(format: "%.4f", e.loss))\n\n"
        if let report = e.classification {
            text += report.table() + "balanced accuracy \(String(format: "%.4f", report.balancedAccuracy))\n\n"
                + confusionTable(report)
        }
        if let report = e.regression {
            text += report.table()
        }
        if let weights = e.weights {
            let width = weights.map(\.name.count).max() ?? 0
            text += "\nlearned vs true weights (CSV units):\n"
            for w in weights {
                text += "  " + w.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(format: "  learned %10.4f  true %10.4f  error %6.2f%%\n", w.learned, w.truth, w.relativeError * 100)
            }
        }
        return text
    }

    /// The confusion matrix as text: a row per true class, a column per predicted class (numbered,
    /// with the numbers' names in the row labels).
    static func confusionTable(_ report: ClassificationReport) -> String {
        let names = report.classes.enumerated().map { "\($0.offset) \($0.element.name)" }
        let nameWidth = names.map(\.count).max() ?? 0
        let cellWidth = max(report.confusionMatrix.flatMap { $0 }.map { String($0).count }.max() ?? 1, 3) + 1
        func cell(_ text: String) -> String { String(repeating: " ", count: max(cellWidth - text.count, 0)) + text }
        var text = "confusion matrix (rows: true class, columns: predicted class)\n"
        text += String(repeating: " ", count: nameWidth) + report.classes.indices.map { cell("\($0)") }.joined() + "\n"
        for (name, row) in zip(names, report.confusionMatrix) {
            text += name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + row.map { cell("\($0)") }.joined() + "\n"
        }
        return text
    }
}

extension CheckpointEvaluation.Split: ExpressibleByArgument {}
