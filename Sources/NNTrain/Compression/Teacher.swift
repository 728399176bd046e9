import Foundation

/// The teacher of a distillation run (`distillation.teacher`): one checkpoint's model, or several
/// (an ensemble), each rebuilt as `CheckpointEvaluation.model` rebuilds a checkpoint's network but in
/// the student's precision, run in evaluation mode (dropout off, batch norm's running statistics) on
/// the very batch the student sees, after augmentation. Its outputs are computed per batch into a
/// buffer of its own and never stored beyond it.
///
/// Each member takes the batch as its own normaliser would have made it: the student's rows are
/// x = (r − s)·c of the raw features r (shift s, scale c ≠ 0, see `Normalizer`), so a member with
/// shift s' and scale c' takes x' = (x/c + s − s')·c'. With the same normaliser (a teacher trained on
/// the same data with the same normalisation) x' = x and the rows are passed as they are.
///
///     classification:  outputs = (1/M) Σ_m softmax(z_m/T)      [B, K], each row a distribution
///     regression:      outputs = (1/M) Σ_m z_m                  [B, K], in the target's units
///
/// softmax with the row maximum subtracted before exp, as `Loss` computes it.
public final class Teacher {
    /// What a checkpoint records of each member: where it was read and the checkpoint's own CRC-32 of
    /// its data section (`nntrain.crc32`), by which a resume recognises it.
    public struct Record: Codable, Equatable, Sendable {
        public var path: String
        public var fingerprint: String

        public init(path: String, fingerprint: String) {
            self.path = path
            self.fingerprint = fingerprint
        }
    }

    struct Member {
        let network: Network
        /// The member's own normaliser mapped from the student's: x' = x·a + b per feature; nil when
        /// the normalisers are the same.
        let inputMap: (a: [Float], b: [Float])?
    }

    public let records: [Record]
    let members: [Member]
    /// T of the softened probabilities; unused for regression.
    public let temperature: Float
    public let producesProbabilities: Bool
    public let outputWidth: Int
    private var rowCapacity = 0
    private var result = FloatBuffer(count: 0)
    private var mappedInput = FloatBuffer(count: 0)

    /// A teacher of the given networks (each with its normaliser) for a student whose inputs are
    /// normalised by `studentNormalizer`.
    public init(members: [(network: Network, normalizer: Normalizer, record: Record)], studentNormalizer: Normalizer,
                temperature: Float, producesProbabilities: Bool) {
        precondition(!members.isEmpty, "Teacher: no member")
        records = members.map(\.record)
        self.members = members.map { member in
            guard member.normalizer != studentNormalizer else { return Member(network: member.network, inputMap: nil) }
            let s = studentNormalizer, t = member.normalizer
            let a = zip(t.scale, s.scale).map { $0 / $1 }
            let b = (0..<t.shift.count).map { (s.shift[$0] - t.shift[$0]) * t.scale[$0] }
            return Member(network: member.network, inputMap: (a, b))
        }
        self.temperature = temperature
        self.producesProbabilities = producesProbabilities
        outputWidth = members[0].network.outputWidth
    }

    /// Sizes the buffers for batches of up to `rows` rows (a no-op when already large enough).
    public func reserve(rows: Int) {
        guard rows > rowCapacity else { return }
        rowCapacity = rows
        result = FloatBuffer(count: rows * outputWidth)
        if members.contains(where: { $0.inputMap != nil }) {
            mappedInput = FloatBuffer(count: rows * (members.first?.network.inputWidth ?? 0))
        }
        for member in members { member.network.reserve(rows: rows) }
    }

    /// The teacher's outputs for the student's normalised rows `x` (rows ≤ the reserved capacity):
    /// p_t for classification, z_t for regression, as the type's comment says. The view is valid until
    /// the next call.
    public func outputs(for x: MatrixView) -> MatrixView {
        precondition(x.rows <= rowCapacity, "Teacher: \(x.rows) rows beyond the reserved \(rowCapacity)")
        let out = result.matrix(rows: x.rows, columns: outputWidth)
        out.elements.update(repeating: 0)
        let share = 1 / Float(members.count), inverseT = 1 / temperature
        for member in members {
            var input = x
            if let (a, b) = member.inputMap {
                input = mappedInput.matrix(rows: x.rows, columns: x.columns)
                for i in 0..<x.rows {
                    let row = i * x.columns
                    for j in 0..<x.columns { input.base[row + j] = x.base[row + j] * a[j] + b[j] }
                }
            }
            let z = member.network.forward(input, training: false)
            for i in 0..<x.rows {
                let row = z.base + i * outputWidth, target = out.base + i * outputWidth
                guard producesProbabilities else {
                    for k in 0..<outputWidth { target[k] += share * row[k] }
                    continue
                }
                var maxValue = -Float.infinity
                for k in 0..<outputWidth { maxValue = max(maxValue, row[k] * inverseT) }
                var sumExp: Float = 0
                for k in 0..<outputWidth { sumExp += expf(row[k] * inverseT - maxValue) }
                let logSumExp = maxValue + logf(sumExp)
                for k in 0..<outputWidth { target[k] += share * expf(row[k] * inverseT - logSumExp) }
            }
        }
        return out
    }
}

extension Teacher {
    /// The teacher `configuration.distillation` names for a student trained on `data`, or nil without
    /// one. Each checkpoint is read and verified, rebuilt in the student's precision, and refused
    /// (`.config`, at the line of `distillation.teacher` in `file`) when its inputs (input schema: image
    /// size, or the table's encoded columns) or its classes differ from the data's, naming both; a
    /// missing or damaged file keeps its error's kind, its message placed at that line too.
    public static func load(for configuration: Configuration, data: TrainingData, file: String)
        throws(NNTrainError) -> Teacher?
    {
        let section = configuration.distillation
        guard !section.teacher.isEmpty else { return nil }
        var members: [(network: Network, normalizer: Normalizer, record: Record)] = []
        for path in section.teacher {
            func refuse(_ message: String) -> NNTrainError {
                configuration.keySources.problem("distillation.teacher", "\(path): \(message)", file: file)
            }
            let contents: SafeTensors, checkpoint: Checkpoint
            do {
                contents = try CheckpointFile.read(path: path)
                checkpoint = try Checkpoint(contents: contents, path: path)
            } catch {  // a missing or damaged file: its own kind of error, placed at the config's line
                throw NNTrainError(error.kind, configuration.keySources.problem("distillation.teacher", error.message,
                                                                              file: file).message)
            }
            guard checkpoint.inputSchema == data.schema else {
                throw refuse("the teacher takes \(describe(checkpoint.inputSchema)) but \(configuration.data.path) gives "
                    + "\(describe(data.schema)); expected a teacher trained on data of this kind")
            }
            guard checkpoint.classNames == data.train.classNames else {
                throw refuse("the teacher's classes are \(describe(checkpoint.classNames)) but the data's are "
                    + "\(describe(data.train.classNames)); expected a teacher with the data's classes in the same order")
            }
            var teacherConfiguration = try checkpoint.configuration(path: path)
            teacherConfiguration.training.precision = configuration.training.precision
            let network = try CheckpointEvaluation.model(of: checkpoint, configuration: teacherConfiguration, path: path)
            guard network.inputWidth == data.train.featureCount, network.outputWidth == data.outputWidth else {
                throw refuse("the teacher maps \(network.inputWidth) inputs to \(network.outputWidth) outputs but the data "
                    + "have \(data.train.featureCount) features and \(data.outputWidth) outputs; expected the same widths")
            }
            let fingerprint = contents.metadata[CheckpointFile.checksumKey] ?? ""
            members.append((network, checkpoint.normalizer, Record(path: path, fingerprint: fingerprint)))
        }
        return Teacher(members: members, studentNormalizer: data.normalizer, temperature: Float(section.temperature),
                       producesProbabilities: data.isClassification)
    }

    private static func describe(_ schema: InputSchema) -> String {
        switch schema {
        case .images(let rows, let columns): "images of \(rows)×\(columns) pixels"
        case .table(let table): "\(table.width) table inputs [\(shortList(schema.encodedNames))]"
        }
    }

    static func describe(_ classes: [String]) -> String {
        classes.isEmpty ? "none (a regression target)" : "[\(shortList(classes))]"
    }

    /// At most eight names, then how many more.
    static func shortList(_ names: [String]) -> String {
        names.count <= 8 ? names.joined(separator: ", ")
            : names.prefix(8).joined(separator: ", ") + ", ... (\(names.count) in all)"
    }
}
