import Foundation
import SwiftProtobuf

/// `logging.tensorboard: true`: the run's figures as TensorBoard event files in `RUN_DIR/tensorboard/`
/// (one `TensorBoardWriter` file per session of the run), what PyTorch users write with
/// `SummaryWriter` and Lightning writes by default. A `TrainingObserver` before the epoch's checkpoint
/// (as steps.csv is), so a checkpoint never holds a step whose events are not on disk:
///
/// - each epoch, at the global step at its end (`Trainer.stepCount`), every metrics.csv column as a
///   scalar under a readable tag (`tag(forColumn:)`: `loss/train`, `accuracy/val`, `lr`,
///   `grad_norm/mean`, …; `epoch` itself too, as Lightning logs it, so the step of each epoch can be read
///   back), then flushed;
/// - with `logging.every_n_steps` N > 0, each N-th step taken: `step/loss`, `step/lr`, `step/grad_norm`
///   and each layer's `step/grad_norm/layer<i>` (steps.csv's figures);
/// - the per-layer statistics (`LayerStatistics`: gradient norm, weight norm, dead ReLUs) with or without
///   `logging.layer_stats`, which adds them to the CSV files;
/// - with `logging.histograms`, once per epoch, each parameter tensor's values and its gradient of the
///   epoch's last step (after clipping, as `p.grad` holds them) as `add_histogram` makes them
///   (`weights/layers.0.weight`, `gradients/layers.0.weight`, …);
/// - the HParams plugin's three summaries as `torch.utils.tensorboard.summary.hparams` writes them (see
///   `hparamsSummaries`), so TensorBoard's HPARAMS tab compares the runs of a sweep (`tensorboard --logdir
///   SWEEP_DIR`), with the test figures (`loss/test`, …) added when the run ends;
/// - a resumed run's file starts with SummaryWriter's `purge_step` marker at the step after its checkpoint's,
///   so the events an interrupted session wrote after that checkpoint are dropped by TensorBoard's reader.
final class TensorBoardLog: TrainingObserver {
    /// The folder in the run directory.
    static let folderName = "tensorboard"

    let writer: TensorBoardWriter
    private let columns: MetricsLog.Columns
    private let everyNSteps: Int
    private let histograms: Bool

    /// Opens a new event file in `runDirectory`/tensorboard for a run of `configuration` (its hparams
    /// those of `hyperparameters`), whose metrics.csv has `columns`. `resumedStep` is the step count of
    /// the checkpoint a resumed run starts from; nil for a new run.
    init(runDirectory: String, configuration: Configuration, columns: MetricsLog.Columns,
         hyperparameters: [(key: String, text: String)], resumedStep: Int?) throws(NNTrainError) {
        let folder = runDirectory + "/" + Self.folderName
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw NNTrainError.cannotWrite(folder, "cannot create the TensorBoard folder (\(error.localizedDescription))")
        }
        writer = try TensorBoardWriter(folder: folder, purgeStep: resumedStep.map { $0 + 1 })
        self.columns = columns
        everyNSteps = configuration.logging.everyNSteps
        histograms = configuration.logging.histograms
        let metrics = Self.metricTags(columns: columns, validation: configuration.data.hasValidation)
        for summary in Self.hparamsSummaries(hyperparameters, metrics: metrics) {
            writer.add(summary, step: 0, wallTime: Date().timeIntervalSince1970)
        }
        try writer.flush()
    }

    func afterStep(_ step: StepReport, trainer: Trainer) throws(NNTrainError) {
        guard everyNSteps > 0, let norm = step.gradientNorm, step.stepCount % everyNSteps == 0 else { return }
        var scalars = [("step/loss", step.loss), ("step/lr", step.learningRate), ("step/grad_norm", norm)]
        for (layer, layerNorm) in (trainer.layerStatistics?.lastStepGradientNorms ?? []).enumerated() {
            scalars.append(("step/grad_norm/layer\(layer)", layerNorm))
        }
        addScalars(scalars, step: step.stepCount)
    }

    func epochFinished(_ metrics: EpochMetrics, trainer: Trainer) throws(NNTrainError) {
        // An epoch that diverged at its end is no epoch of the run (the run's files refuse it next).
        guard trainer.modelIsFinite, (metrics.validation?.loss ?? 0).isFinite else { return }
        let scalars = MetricsLog.fields(of: metrics, columns).compactMap { field in
            field.value.map { (Self.tag(forColumn: field.name), $0) }
        }
        addScalars(scalars, step: trainer.stepCount)
        if histograms { addHistograms(of: trainer.network, step: trainer.stepCount) }
        try writer.flush()
    }

    /// When the run has ended (after summary.json): the test figures at the last step of a completed run
    /// and, unless it was stopped to be resumed, the HParams session's end (success, or failure for a
    /// diverged run); then the rest of the file is written.
    func finish(summary: RunSummary, ending: TrainingRun.Ending, step: Int) throws(NNTrainError) {
        // An interrupted session's test figures would sit at the step its resume starts from, after the purge.
        if let test = summary.test, case .completed = ending {
            let figures: [(String, Double?)] = [("loss/test", test.loss), ("accuracy/test", test.accuracy),
                                                ("mae/test", test.meanAbsoluteError), ("r2/test", test.r2)]
            addScalars(figures.compactMap { tag, value in value.map { (tag, $0) } }, step: step)
        }
        let status: Tensorboard_Status? = switch ending {
        case .completed: .success
        case .diverged: .failure
        case .interrupted, .alreadyEnded: nil
        }
        if let status {
            var end = Tensorboard_SessionEndInfo()
            end.status = status
            end.endTimeSecs = Date().timeIntervalSince1970
            writer.add(Self.hparamsSummary(tag: Self.sessionEndTag, .sessionEndInfo(end)), step: 0,
                       wallTime: Date().timeIntervalSince1970)
        }
        try writer.flush()
    }

    private func addScalars(_ scalars: [(tag: String, value: Double)], step: Int) {
        guard !scalars.isEmpty else { return }
        let values = scalars.map { scalar in
            Tensorboard_Summary.Value.with {
                $0.tag = scalar.tag
                $0.simpleValue = Float(scalar.value)
            }
        }
        writer.add(Tensorboard_Summary.with { $0.value = values }, step: step, wallTime: Date().timeIntervalSince1970)
    }

    private func addHistograms(of network: Network, step: Int) {
        let parameters = network.parameters
        for tensor in parameters.tensors {
            let range = tensor.offset..<(tensor.offset + tensor.count)
            writer.addHistogram(tag: "weights/" + tensor.name, values: parameters.values.storage[range], step: step)
            writer.addHistogram(tag: "gradients/" + tensor.name, values: parameters.gradients.storage[range], step: step)
        }
    }

    // MARK: Tags

    /// The scalar tag of a metrics.csv column: `<figure>/<split>` for the loss and metrics
    /// (`loss/train`, `accuracy/val`, `mae/val`), the rest grouped by what they measure (`grad_norm/mean`,
    /// `time/epoch_seconds`, `precision/loss_scale`, `sparsity/all`, `sparsity/layer1`), and a column of
    /// layer i (`grad_norm_layer0`) as `grad_norm/layer0`. TensorBoard groups tags by their first part.
    static func tag(forColumn column: String) -> String {
        if let tag = fixedTags[column] { return tag }
        if let range = column.range(of: "_layer", options: .backwards) {
            return column[..<range.lowerBound] + "/layer" + column[range.upperBound...]
        }
        if column.hasPrefix("sparsity_") { return "sparsity/layer" + column.dropFirst("sparsity_".count) }
        return column
    }

    private static let fixedTags = [
        "train_loss": "loss/train", "train_acc": "accuracy/train", "val_loss": "loss/val", "val_acc": "accuracy/val",
        "val_mae": "mae/val", "val_r2": "r2/val", "grad_norm_mean": "grad_norm/mean", "grad_norm_max": "grad_norm/max",
        "epoch_seconds": "time/epoch_seconds", "samples_per_second": "time/samples_per_second",
        "loss_scale": "precision/loss_scale", "skipped_steps": "precision/skipped_steps",
        "grad_underflow": "precision/grad_underflow", "grad_overflow": "precision/grad_overflow", "sparsity": "sparsity/all",
    ]

    // MARK: HParams

    /// The tags and plugin of torch.utils.tensorboard.summary.hparams (tensorboard/plugins/hparams/metadata.py).
    static let experimentTag = "_hparams_/experiment"
    static let sessionStartTag = "_hparams_/session_start_info"
    static let sessionEndTag = "_hparams_/session_end_info"
    static let pluginName = "hparams"

    /// The metrics the HPARAMS tab shows for each run: the last value of these scalars of the run.
    static func metricTags(columns: MetricsLog.Columns, validation: Bool) -> [(tag: String, dataset: Tensorboard_DatasetType)] {
        let figures = columns.classification ? ["loss", "accuracy"] : ["loss", "mae", "r2"]
        return [("loss/train", .datasetTraining)] + (validation ? figures.map { ("\($0)/val", .datasetValidation) } : [])
            + figures.map { ("\($0)/test", .datasetUnknown) }
    }

    /// The experiment and the session's start, as `hparams(hparam_dict, metric_dict)` makes them: each
    /// hyperparameter a bool, a number (float64) or else its YAML text (a string), in the session's
    /// `hparams` map and as an HParamInfo of that type (no domain, as torch writes numbers and
    /// TensorBoard then shows the values found); each metric a MetricInfo of its tag. Each summary is one
    /// Summary.Value with the tag and the plugin's content (HParamsPluginData, version 0) and no value.
    static func hparamsSummaries(_ hyperparameters: [(key: String, text: String)],
                                 metrics: [(tag: String, dataset: Tensorboard_DatasetType)]) -> [Tensorboard_Summary] {
        var start = Tensorboard_SessionStartInfo()
        start.startTimeSecs = Date().timeIntervalSince1970
        var experiment = Tensorboard_Experiment()
        for (key, text) in hyperparameters {
            let (value, type) = hyperparameterValue(text)
            start.hparams[key] = value
            experiment.hparamInfos.append(Tensorboard_HParamInfo.with {
                $0.name = key
                $0.type = type
            })
        }
        experiment.metricInfos = metrics.map { metric in
            Tensorboard_MetricInfo.with {
                $0.name.tag = metric.tag
                $0.datasetType = metric.dataset
            }
        }
        return [hparamsSummary(tag: experimentTag, .experiment(experiment)),
                hparamsSummary(tag: sessionStartTag, .sessionStartInfo(start))]
    }

    /// `true`/`false` a bool, a number a float64, anything else (a word, a list) its text without YAML's quotes.
    static func hyperparameterValue(_ text: String) -> (Google_Protobuf_Value, Tensorboard_DataType) {
        switch text {
        case "true", "false": return (Google_Protobuf_Value(boolValue: text == "true"), .bool)
        default:
            if let number = Double(text), number.isFinite { return (Google_Protobuf_Value(numberValue: number), .float64) }
            var unquoted = text
            if text.count >= 2, let first = text.first, first == text.last, first == "\"" || first == "'" {
                unquoted = String(text.dropFirst().dropLast())
            }
            return (Google_Protobuf_Value(stringValue: unquoted), .string)
        }
    }

    private static func hparamsSummary(tag: String, _ data: Tensorboard_HParamsPluginData.OneOf_Data) -> Tensorboard_Summary {
        var content = Tensorboard_HParamsPluginData()
        content.version = 0
        content.data = data
        let value = Tensorboard_Summary.Value.with {
            $0.tag = tag
            $0.metadata.pluginData.pluginName = pluginName
            $0.metadata.pluginData.content = (try? content.serializedData()) ?? Data()
        }
        return Tensorboard_Summary.with { $0.value = [value] }
    }

    /// The run's hyperparameters for the HPARAMS tab: each key of `configuration` that differs from its
    /// default or that `overrides` set (a sweep's or cv's `--set`, so every trial has each swept key), in
    /// the config's order, with its YAML text; keys of where and how the run writes (`logging`, `output`,
    /// `checkpoint`, `data.path`, `data.files`, the time limit) are not hyperparameters and are left out.
    static func hyperparameters(of configuration: Configuration, overrides: [String]) -> [(key: String, text: String)] {
        let defaults = Configuration()
        let overridden = Set(overrides.map { String($0.prefix { $0 != "=" }) })
        let excluded = ["logging.", "output.", "checkpoint.", "data.files.", "data.path", "training.max_seconds"]
        return Configuration.keys.valueEntries.compactMap { path, key in
            guard !excluded.contains(where: { $0.hasSuffix(".") ? path.hasPrefix($0) : path == $0 }),
                  key.condition?.holds(in: configuration) ?? true, let text = key.yamlText(in: configuration),
                  overridden.contains(path) || text != key.yamlText(in: defaults) else { return nil }
            return (path, text)
        }
    }
}
