import Foundation

/// What `nntrain eval A.bin B.bin ...` computes: the ensemble of the checkpoints (`Ensemble`: the
/// members' probabilities, or values, averaged) on one split, with each member's own figures on the
/// same rows beside it.
///
/// The rows are those of the first member's split (its config and seed draw them, as a single
/// `nntrain eval` of it would); every member reads them raw and normalises them with its own
/// normaliser, in its own training precision and in evaluation mode. A CSV member whose input
/// schema differs from the first's (fold models: each fitted its fills and categories on its own
/// training rows) encodes the file with its own schema; its split must then hold the same rows with
/// the same targets, or it is refused. A member's figures are what
/// `nntrain eval` of it alone reports on those rows (its own loss, without label smoothing).
///
/// The ensemble's loss: classification, the mean over rows of −log p̄_y (the cross-entropy of the
/// averaged probabilities, `F.nll_loss(torch.log(p̄), y)`, computed in log space so it stays finite);
/// regression, the first member's loss (MSE, MAE or Huber) of ȳ. Its classification figures rank p̄.
public struct EnsembleEvaluation: Codable, Sendable {
    /// The ensemble's figures; `checkpoint` lists the members' paths, `architecture` says how they
    /// are combined.
    public var ensemble: CheckpointEvaluation
    /// Each member's figures, in the order given.
    public var members: [CheckpointEvaluation]

    /// Evaluates the ensemble of the checkpoints at `checkpointPaths` (at least two) as
    /// `CheckpointEvaluation.run` evaluates one, with the same arguments. Throws `.data` for members
    /// that do not agree (`Ensemble.members`: the first difference), besides what a single evaluation throws.
    public static func run(checkpointPaths: [String], dataPath: String? = nil, split: CheckpointEvaluation.Split,
                           topK: [Int] = [], defaultTopK: Int? = nil) throws(NNTrainError) -> EnsembleEvaluation
    {
        let members = try Ensemble.members(paths: checkpointPaths, ownEncodings: true)
        let first = members[0]
        let classNames = first.checkpoint.classNames
        let topK = try CheckpointEvaluation.resolvedTopK(topK, defaultTopK: defaultTopK, classCount: classNames.count,
                                                         path: first.path)
        let (data, configuration) = try CheckpointEvaluation.data(of: first.checkpoint, path: first.path, dataPath: dataPath)
        let dataset = try CheckpointEvaluation.dataset(split, of: data, configuration: configuration, path: first.path)
        var warnings = data.warnings
        var evaluations: [CheckpointEvaluation] = []
        var outputs: [FloatBuffer] = []
        for member in members {
            let memberConfiguration = try member.checkpoint.configuration(path: member.path)
            let network = try CheckpointEvaluation.model(of: member.checkpoint, configuration: memberConfiguration,
                                                         path: member.path)
            guard member.checkpoint.normalizer.scale.count == network.inputWidth else {
                throw .data(member.path, "its normaliser has \(member.checkpoint.normalizer.scale.count) features but the "
                    + "model takes \(network.inputWidth) inputs; expected a checkpoint written by nntrain run")
            }
            if let why = Self.otherRows(memberConfiguration, than: configuration, split: split) {
                warnings.append("\(member.path) was trained with \(why) than \(first.path): its figures are on "
                    + "\(first.path)'s \(split.rawValue) split, which may hold rows it was trained on")
            }
            let memberDataset = try Self.rows(for: member, like: first, dataset: dataset, dataPath: dataPath, split: split)
            let loss = Loss(memberConfiguration.loss, huberDelta: memberConfiguration.huberDelta)
            let (memberOutputs, sums) = CheckpointEvaluation.outputs(of: network, on: memberDataset,
                                                                      normalizer: member.checkpoint.normalizer, loss: loss)
            var evaluation = CheckpointEvaluation(
                checkpoint: member.path, architecture: member.checkpoint.architecture,
                dataset: configuration.data.dataset.rawValue, dataPath: configuration.data.path, split: split,
                rows: dataset.count, loss: sums.loss / Double(max(sums.rows, 1)))
            try evaluation.report(outputs: memberOutputs, targets: dataset.targets, classNames: classNames, topK: topK)
            evaluations.append(evaluation)
            let buffer = FloatBuffer(count: memberOutputs.count)
            _ = buffer.storage.update(fromContentsOf: memberOutputs)
            outputs.append(buffer)
        }

        let width = first.checkpoint.classNames.isEmpty ? 1 : classNames.count
        let views = outputs.map { $0.matrix(rows: dataset.count, columns: width) }
        let averaged = FloatBuffer(count: dataset.count * width)
        let mean = averaged.matrix(rows: dataset.count, columns: width)
        Ensemble.average(views, classification: !classNames.isEmpty, into: mean)
        var loss = 0.0
        switch dataset.targets {
        case .classes(let labels):
            for (row, label) in labels.enumerated() {
                loss += Ensemble.negativeLogLikelihood(views.map { UnsafePointer($0.base + row * width) }, width: width,
                                                       label: Int(label))
            }
        case .values(let values):
            var sums = LossSums()
            values.withUnsafeBufferPointer { values in
                guard let base = values.baseAddress else { return }
                Loss(configuration.loss, huberDelta: configuration.huberDelta)
                    .evaluate(output: mean, targets: .values(base), gradient: nil, into: &sums)
            }
            loss = sums.loss
        }
        let combined = classNames.isEmpty ? "mean of the members' values" : "mean of the members' probabilities"
        var ensemble = CheckpointEvaluation(
            checkpoint: checkpointPaths.joined(separator: " + "),
            architecture: "ensemble of \(members.count) (\(combined))", dataset: configuration.data.dataset.rawValue,
            dataPath: configuration.data.path, split: split, rows: dataset.count,
            loss: loss / Double(max(dataset.count, 1)), notes: data.notes, warnings: warnings)
        try ensemble.report(outputs: Array(mean.elements), targets: dataset.targets, classNames: classNames, topK: topK)
        return EnsembleEvaluation(ensemble: ensemble, members: evaluations)
    }

    /// `dataset` (the first member's rows), or for a table member whose schema differs from the
    /// first's, the same split encoded with its own schema, checked to hold the same rows (count and
    /// targets).
    static func rows(for member: Ensemble.Member, like first: Ensemble.Member, dataset: Dataset, dataPath: String?,
                     split: CheckpointEvaluation.Split) throws(NNTrainError) -> Dataset
    {
        guard case .table(let own) = member.checkpoint.inputSchema, case .table(let theirs) = first.checkpoint.inputSchema,
              own != theirs
        else { return dataset }
        let (data, configuration) = try CheckpointEvaluation.data(of: member.checkpoint, path: member.path, dataPath: dataPath)
        let rows = try CheckpointEvaluation.dataset(split, of: data, configuration: configuration, path: member.path)
        let same: Bool = switch (rows.targets, dataset.targets) {
        case (.classes(let a), .classes(let b)): a == b
        case (.values(let a), .values(let b)): a == b
        default: false
        }
        guard rows.count == dataset.count, same else {
            throw .data(member.path, "encodes its input with its own columns, and its \(split.rawValue) split holds other "
                + "rows (\(rows.count)) than \(first.path)'s (\(dataset.count)); expected members whose \(split.rawValue) "
                + "splits are the same rows (the same data file, seed and test_split)")
        }
        return rows
    }

    /// Why `member`'s config would draw other rows for `split` than `first`'s (another data file,
    /// seed, split fraction or fold count; for the training and validation splits another fold), or nil
    /// when the rows are the same or are a test set of their own (a test file, an image set's test
    /// images) that no member trained on.
    static func otherRows(_ member: Configuration, than first: Configuration, split: CheckpointEvaluation.Split) -> String? {
        if split == .test, first.data.dataset.isImages || first.data.testPath != nil { return nil }
        let (a, b) = (member.data, first.data)
        if a.path != b.path { return "other data (\(a.path))" }
        if member.seed != first.seed { return "another seed (\(member.seed), not \(first.seed))" }
        if a.folds != b.folds { return "other folds (data.folds \(a.folds.map(String.init) ?? "unset"))" }
        if a.folds == nil, a.validationSplit != b.validationSplit { return "another validation_split (\(a.validationSplit))" }
        // Cross-validation's fold models (`nntrain cv --ensemble`) share the test rows; their validation rows differ.
        if split != .test, a.fold != b.fold { return "another fold (data.fold \(a.fold ?? 0))" }
        if !a.dataset.isImages, a.testPath != b.testPath || a.testFraction != b.testFraction {
            return "another test split"
        }
        return nil
    }

    /// The JSON text (see ReportJSON).
    public func json() throws(NNTrainError) -> Data {
        try ReportJSON.encode(self, naming: "eval")
    }
}
