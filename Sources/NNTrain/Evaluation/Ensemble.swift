import Foundation

/// Several checkpoints used as one model (`nntrain eval A.bin B.bin`, `predict A.bin B.bin INPUT`,
/// `export A.bin B.bin --out ensemble.onnx`): every member sees the same raw rows and the outputs are
/// averaged, as the deep-ensembles recipe (Lakshminarayanan et al., 2017) and torch's
/// `torch.stack([softmax(m(x), -1) for m in models]).mean(0)` do:
///
///     classification:  p̄ = (1/M) Σ_m softmax(z_m)       [B, K], each row a distribution
///     regression:      ȳ = (1/M) Σ_m y_m                 [B, K], in the target's units
///
/// Members must share what turns a raw row into model input before normalisation (the input
/// schema: image size, or the table's columns in order with their encodings, categories and
/// missing-value fills), the task (classification or regression, and a table's target column) and the
/// classes in order; the first difference from the first member is refused, naming both values.
///
/// Normalisation may differ: each member normalises the raw (encoded) rows with its own normaliser,
/// the one it was trained with, so members trained with different seeds (hence different training
/// splits and statistics) or normalisation modes combine. This is what `Teacher` computes from the
/// student's normalised rows by mapping them to each member's normaliser.
public enum Ensemble {
    /// One member: its path, its checkpoint, and the checkpoint's own CRC-32 (`nntrain.crc32`).
    public struct Member: Sendable {
        public var path: String
        public var checkpoint: Checkpoint
        public var fingerprint: String
    }

    /// The refusal of `--quantize` with several checkpoints (eval, predict and export).
    public static let quantizationRefusal =
        "--quantize quantizes one checkpoint's model; an ensemble of several "
        + "checkpoints runs in float32 as trained: expected one checkpoint with --quantize, or no --quantize"

    /// Reads and verifies each checkpoint at `paths` (≥ 1) and checks that every one agrees with the
    /// first (`firstDifference`); refuses the first that does not with `.data`, naming both paths.
    /// `ownEncodings`: a table's input columns are not compared (only its target), for a caller that
    /// encodes the raw rows with each member's own schema (`EnsembleEvaluation`: the fold models of a
    /// CSV, each with the fills and categories of its own training rows).
    public static func members(paths: [String], ownEncodings: Bool = false) throws(NNTrainError) -> [Member] {
        precondition(!paths.isEmpty, "Ensemble.members: no checkpoint")
        var members: [Member] = []
        for path in paths {
            let file = try CheckpointFile.read(path: path)
            let checkpoint = try Checkpoint(contents: file, path: path)
            let member = Member(path: path, checkpoint: checkpoint, fingerprint: file.metadata[CheckpointFile.checksumKey] ?? "")
            if let first = members.first,
               let difference = firstDifference(first.checkpoint, checkpoint, ownEncodings: ownEncodings)
            {
                throw .data(
                    path,
                    "\(difference.theirs) but \(first.path) \(difference.ours); expected ensemble members "
                        + "trained on the same inputs, task and classes (for a CSV: the same data, seed and splits)")
            }
            members.append(member)
        }
        return members
    }

    /// The first way in which `other` would read raw rows or name outputs unlike `first`, as two
    /// phrases ("its X is a" for `other`, "has b" for `first`), or nil when they agree. Checked in
    /// order: the task, a table's target column, the input (image size; columns by position: name,
    /// numeric or categorical, categories, missing-value fill; the missing-value texts), the classes.
    /// Normalisers are not compared (see the type's comment); with `ownEncodings`, nor a table's input columns.
    static func firstDifference(_ first: Checkpoint, _ other: Checkpoint, ownEncodings: Bool = false)
        -> (theirs: String, ours: String)?
    {
        func task(_ c: Checkpoint) -> String { c.classNames.isEmpty ? "regression" : "classification" }
        if task(first) != task(other) { return ("is a \(task(other)) model", "is a \(task(first)) model") }
        switch (first.inputSchema, other.inputSchema) {
        case (.images(let r1, let c1), .images(let r2, let c2)):
            if (r1, c1) != (r2, c2) {
                return ("takes images of \(r2)×\(c2) pixels", "takes images of \(r1)×\(c1)")
            }
        case (.table(let a), .table(let b)):
            if ownEncodings, a.target != b.target { return ("predicts the column '\(b.target)'", "predicts '\(a.target)'") }
            if !ownEncodings, let difference = firstDifference(a, b) { return difference }
        case (.images, .table): return ("takes table columns", "takes images")
        case (.table, .images): return ("takes images", "takes table columns")
        }
        if first.classNames != other.classNames {
            return ("has the classes \(Teacher.describe(other.classNames))", "has \(Teacher.describe(first.classNames))")
        }
        return nil
    }

    private static func firstDifference(_ a: TableSchema, _ b: TableSchema) -> (theirs: String, ours: String)? {
        if a.target != b.target { return ("predicts the column '\(b.target)'", "predicts '\(a.target)'") }
        for (index, (x, y)) in zip(a.columns, b.columns).enumerated() where x != y {
            if x.name != y.name {
                return ("has the column '\(y.name)' at input column \(index + 1)", "has '\(x.name)'")
            }
            return ("encodes the column '\(y.name)' as \(describe(y.encoding))", "as \(describe(x.encoding))")
        }
        if a.columns.count != b.columns.count {
            return ("has \(b.columns.count) input columns", "has \(a.columns.count)")
        }
        if a.missingValues != b.missingValues {
            return ("reads \(b.missingValues) as missing", "reads \(a.missingValues)")
        }
        return nil
    }

    private static func describe(_ encoding: TableSchema.Encoding) -> String {
        switch encoding {
        case .numeric(let fill): "a number" + (fill.map { " (missing values filled with \($0))" } ?? " (missing values refused)")
        case .categorical(let categories, let fill):
            "one-hot over [\(Teacher.shortList(categories))]"
                + (fill.map { " (missing values filled with \($0))" } ?? " (missing values refused)")
        }
    }

    /// The ensemble's outputs for one batch from its members' `outputs` (each [rows, K], logits of a
    /// classifier or values of a regression), written into `result` [rows, K]: p̄ or ȳ of the type's
    /// comment. Each softmax is `Predictor.probabilities`'s (max subtracted, summed in Double); the
    /// mean is summed in Double and rounded to Float once.
    public static func average(_ outputs: [MatrixView], classification: Bool, into result: MatrixView) {
        precondition(
            !outputs.isEmpty && outputs.allSatisfy { $0.rows == result.rows && $0.columns == result.columns },
            "Ensemble.average: outputs of other shapes")
        let width = result.columns, share = 1 / Double(outputs.count)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { sums in  // on the stack: no heap block a batch
            for row in 0..<result.rows {
                for k in 0..<width { sums[k] = 0 }
                for output in outputs {
                    let z = output.base + row * width
                    guard classification else {
                        for k in 0..<width { sums[k] += Double(z[k]) }
                        continue
                    }
                    var largest = -Double.infinity
                    for k in 0..<width { largest = max(largest, Double(z[k])) }
                    var total = 0.0
                    for k in 0..<width { total += exp(Double(z[k]) - largest) }
                    for k in 0..<width { sums[k] += exp(Double(z[k]) - largest) / total }
                }
                for k in 0..<width { result.base[row * width + k] = Float(sums[k] * share) }
            }
        }
    }

    /// −log p̄_y of one row: the ensemble's cross-entropy (`F.nll_loss(torch.log(p̄), y)`), computed in
    /// log space from the members' logits, log p̄_y = logsumexp_m(log_softmax(z_m)_y) − log M, so it
    /// stays finite where p̄_y would round to 0.
    static func negativeLogLikelihood(_ logits: [UnsafePointer<Float>], width: Int, label: Int) -> Double {
        var logProbabilities: [Double] = []
        for z in logits {
            var largest = -Double.infinity
            for k in 0..<width { largest = max(largest, Double(z[k])) }
            var total = 0.0
            for k in 0..<width { total += exp(Double(z[k]) - largest) }
            logProbabilities.append(Double(z[label]) - largest - log(total))
        }
        let top = logProbabilities.max() ?? 0
        let sum = logProbabilities.reduce(0) { $0 + exp($1 - top) }
        return -(top + log(sum) - log(Double(logits.count)))
    }
}
