import ArgumentParser
import Foundation
import NNTrain

/// `nntrain predict CHECKPOINT INPUT`: a trained model's predictions for new rows, as CSV.
/// `nntrain predict A.bin B.bin ... INPUT`: the ensemble's (see `Ensemble`), each member's prediction beside it.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every row of a CSV file (the model's feature columns by name) or an IDX images file "
            + "with a checkpoint, or the ensemble of several: one CSV row each with the class and its probability, "
            + "or the value.",
        discussion: "Rows stream in batches, so memory is bounded by the batch, not the file. When the input holds "
            + "the target column, a line on standard error gives the accuracy (or MSE and R²). See docs/predict.md.")

    @Argument(help: ArgumentHelp("The checkpoint(s), then the input. The checkpoint, e.g. runs/penguins/checkpoints/last.bin; "
        + "several make an ensemble (their probabilities, or values, averaged; each member's prediction in a column "
        + "prediction_1, ...). The input: a CSV file with the model's feature columns, or an IDX images file "
        + "(raw or .gz) for a model of images; - reads standard input (either, gzip told by its first bytes).",
        valueName: "checkpoint ... input"), completion: .csvFile)
    var arguments: [String]

    /// Every positional argument but the last: the checkpoints.
    var checkpoints: [String] { Array(arguments.dropLast()) }
    /// The last positional argument: the rows.
    var input: String { arguments.last ?? "" }

    @Option(help: ArgumentHelp("Write the predictions to this CSV file (default: standard output).", valueName: "file"),
            completion: .csvFile)
    var out: String?

    @Option(name: .customLong("keep-columns"), help: ArgumentHelp(
        "Copy these input columns to the output after row, e.g. id,name (CSV input).", valueName: "columns"))
    var keepColumns: String?

    @Flag(help: "Add one column per class with its probability (p_<class>).")
    var probabilities = false

    @Option(name: .customLong("top-k"), help: ArgumentHelp(
        "Add the k most probable classes and their probabilities (top1,p_top1,...), 1 ≤ k ≤ the number of classes.",
        valueName: "k"))
    var topK: Int?

    @Option(name: .customLong("batch-size"), help: ArgumentHelp(
        "Rows read and predicted at a time, 1 to \(Prediction.maxBatchSize) (default: \(Prediction.defaultBatchSize), "
            + "eval's, with which the outputs equal eval's to the last bit).", valueName: "rows"))
    var batchSize: Int = Prediction.defaultBatchSize

    @OptionGroup var quantization: QuantizationOptions

    func validate() throws {
        if arguments.count < 2 {
            throw ValidationError(arguments.isEmpty ? "Missing expected argument '<checkpoint>'"
                : "Missing expected argument '<input>': expected the checkpoint(s), then the rows to predict")
        }
        if checkpoints.count > 1, quantization.settings != nil { throw ValidationError(Ensemble.quantizationRefusal) }
        if let topK, topK < 1 { throw ValidationError("--top-k \(topK): expected an integer from 1 to the number of classes") }
        if let keepColumns, keepColumns.split(separator: ",", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            throw ValidationError("--keep-columns '\(keepColumns)': expected column names separated by commas, e.g. id,name")
        }
    }

    func run() throws {
        let options = Prediction.Options(
            keptColumns: keepColumns.map { $0.split(separator: ",").map(String.init) } ?? [],
            probabilities: probabilities, topK: topK ?? 0, batchSize: batchSize, quantization: quantization.settings)
        let summary: Prediction.Summary
        if let out {
            let file = try OutputFile.Stream(path: out)
            summary = try Prediction.run(checkpointPaths: checkpoints, inputPath: input, options: options,
                                         write: file.append)
            try file.finish()
        } else {
            summary = try Prediction.run(checkpointPaths: checkpoints, inputPath: input, options: options,
                                         write: StandardOutput.write)
        }
        for line in Self.lines(summary) { Terminal.printLine(line) }
    }

    /// The lines on standard error after the predictions: the quantization (with --quantize), unknown
    /// categories (a warning), filled missing values, and the figures against the target.
    static func lines(_ summary: Prediction.Summary) -> [String] {
        var lines = summary.quantization.map { $0.text().split(separator: "\n").map(String.init) } ?? []
        if summary.unknownCategories > 0 {
            lines.append("warning: \(summary.unknownCategories) categorical value\(summary.unknownCategories == 1 ? "" : "s") "
                + "not seen in training, encoded as all zeros (as OneHotEncoder(handle_unknown='ignore'))")
        }
        if summary.filledValues > 0 {
            lines.append("filled \(summary.filledValues) missing value\(summary.filledValues == 1 ? "" : "s") "
                + "with the training split's fill")
        }
        let labelled = "\(summary.labelledRows) of \(summary.rows) rows with a target"
        if let accuracy = summary.accuracy {
            let unknown = summary.unknownLabels == 0 ? ""
                : ", \(summary.unknownLabels) of them of a class the model does not know"
            lines.append("accuracy \(ConsoleFormat.percent(accuracy)) (\(summary.correct) right, \(labelled)\(unknown))")
        }
        if let mse = summary.meanSquaredError, let r2 = summary.r2 {
            lines.append("MSE \(ConsoleFormat.significant(mse)), R² \(ConsoleFormat.significant(r2)) (\(labelled))")
        }
        if !summary.members.isEmpty, summary.labelledRows > 0 {
            if let last = lines.indices.last { lines[last] = "ensemble of \(summary.members.count): " + lines[last] }
            for (index, member) in summary.members.enumerated() {
                let name = "prediction_\(index + 1) \(member.path)"
                if summary.task == .classification {
                    let accuracy = Double(member.correct) / Double(summary.labelledRows)
                    lines.append("\(name): accuracy \(ConsoleFormat.percent(accuracy)) (\(member.correct) right)")
                } else if let mse = member.meanSquaredError, let r2 = member.r2 {
                    lines.append("\(name): MSE \(ConsoleFormat.significant(mse)), R² \(ConsoleFormat.significant(r2))")
                }
            }
        }
        return lines
    }
}
