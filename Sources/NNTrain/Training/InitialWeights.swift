import Foundation

/// The trained weights a new run starts from (`model.init_from`): fine-tuning, as a PyTorch user does with
/// `model.load_state_dict(...)` before training on new data with a new optimizer. The run is otherwise a new
/// one: its own directory, optimizer state, schedule, seed and data.
///
/// The file is an nntrain checkpoint (its served model: what `nntrain eval` evaluates, an EMA or SWA average
/// when that is the run's final model) or a safetensors state_dict, as `nntrain export --format safetensors`
/// writes it or `safetensors.torch.save_file(model.state_dict(), path)` saves an `nn.Sequential` of the same
/// layout (F32, F16 or F64 tensors; F16 and F64 converted to float32 as `tensor.float()` does). The
/// Sequential's positions (`StateDictExport`) map back to nntrain's names: the k-th position holding a 2-D
/// `weight` is linear layer k (`layers.<k>.weight` [out, in], `.bias` [out]); a position after it holding a
/// 1-D `weight` and a `bias` is its norm (`norms.<k>.weight`, `.bias`, and a batch norm's `.running_mean`,
/// `.running_var`; `num_batches_tracked` is not read), one holding a 1-D `weight` alone its nn.PReLU's slopes
/// (`activations.<k>.weight`). The `ResidualMLP` the export prints for a residual model nests the same in
/// `layers.<block>.<position>` and keeps `shortcuts.<k>.weight`. A safetensors file with nntrain's own names
/// (`layers.<k>.weight`) is read as they are.
///
/// Layers are matched by position and shape. The initialiser runs first, as in any run (same seed stream),
/// then the chosen linear layers i (`model.init_layers`, all by default) are overwritten:
///
///     W_i, b_i ← the file's, bit for bit          when its layers.i.weight has this model's [out_i, in_i]
///     γ_i, β_i, running_mean_i, running_var_i     with their layer, where the file has them in this shape
///     prelu's slopes a_i, a residual projection P_i    likewise
///     the head (i = last)                         keeps its fresh initialisation when its shape differs
///                                                 (another number of classes, classification → regression)
///
/// A hidden layer whose shape differs, or an input width that differs, is refused naming the layer and both
/// shapes. The input normalisation is the new data's, or with `model.init_normalizer` the file's (a
/// checkpoint's `normalizer.*`, an export's `nntrain.normalizer.shift/scale` metadata).
///
/// The run's checkpoints record where the weights came from (`Record`: the path, the CRC-32 of the file's
/// data section, which for a checkpoint is its own `nntrain.crc32`, and the layers copied), so a resume
/// reads nothing of the file: the weights are in the checkpoint already.
public struct InitialWeights: Sendable {
    /// What a checkpoint records (`nntrain.init_from`) of the file its run started from.
    public struct Record: Codable, Equatable, Sendable {
        public var path: String
        /// The CRC-32 (zlib's) of the file's safetensors data section, 8 hex digits.
        public var crc32: String
        /// The linear layers copied from it, each with its norm.
        public var layers: [Int]
        /// Whether the input normalisation is the file's (`model.init_normalizer`).
        public var normalizer: Bool

        public init(path: String, crc32: String, layers: [Int], normalizer: Bool) {
            self.path = path
            self.crc32 = crc32
            self.layers = layers
            self.normalizer = normalizer
        }
    }

    /// The parameter tensors to overwrite, by this model's names, with their values.
    public let copies: [(name: String, values: [Float])]
    /// The batch norms' running statistics to overwrite, by the norm's name (`norms.0`).
    public let runningStatistics: [(name: String, mean: [Float], variance: [Float])]
    /// The file's input normalisation with `model.init_normalizer`; nil: the data's.
    public let normalizer: Normalizer?
    public let record: Record
    /// The line printed at the start: which layers came from where.
    public let summary: String

    /// Writes the copied tensors into `network` (built from the configuration `load` checked them against).
    public func apply(to network: Network) {
        let values = network.parameters.values.base
        for copy in copies {
            guard let tensor = network.parameters.tensor(named: copy.name), tensor.count == copy.values.count else { continue }
            copy.values.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                (values + tensor.offset).update(from: base, count: tensor.count)
            }
        }
        for statistics in runningStatistics {
            for case let norm as BatchNorm in network.layers where norm.name == statistics.name {
                norm.runningMean = statistics.mean
                norm.runningVariance = statistics.variance
            }
        }
    }
}

extension InitialWeights {
    /// A tensor of the file, under nntrain's name.
    struct Source {
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        var normalizer: Normalizer?
        var linearCount: Int { tensors.keys.filter { $0.hasPrefix("layers.") && $0.hasSuffix(".weight") }.count }
    }

    /// The initial weights `configuration.model.initFrom` names for a model of `data`'s widths, or nil without
    /// one. A missing or unreadable file keeps its error's kind, its message placed at `model.init_from`'s
    /// line of `file`; shapes that cannot be matched are refused (`.config`) there too.
    public static func load(for configuration: Configuration, data: TrainingData, file: String)
        throws(NNTrainError) -> InitialWeights?
    {
        let model = configuration.model
        guard let path = model.initFrom else { return nil }
        func refuse(_ message: String, key: String = "model.init_from") -> NNTrainError {
            configuration.keySources.problem(key, "\(path): \(message)", file: file)
        }
        let source: Source, crc: String
        do { (source, crc) = try read(path: path) } catch {
            throw NNTrainError(error.kind, configuration.keySources.problem("model.init_from", error.message,
                                                                          file: file).message)
        }
        let widths = [data.train.featureCount] + model.hidden + [data.outputWidth]
        let linearCount = widths.count - 1
        func shape(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ", ") + "]" }
        /// Why the file's `name` is not copied into a tensor of `expected` shape.
        func absent(_ name: String, _ expected: [Int]) -> String {
            source.tensors[name].map { "the file's \(name) is \(shape($0.shape)), this model's \(shape(expected))" }
                ?? "not in the file"
        }
        guard let first = source.tensors["layers.0.weight"], first.shape.count == 2 else {
            throw refuse("has no first linear layer (layers.0.weight, or 0.weight in an nn.Sequential); expected the "
                + "weights of an MLP")
        }
        guard first.shape[1] == widths[0] else {
            throw refuse("its model takes \(first.shape[1]) inputs but \(configuration.data.path) gives \(widths[0]) "
                + "(layers.0.weight: the file's \(shape(first.shape)), this model's \(shape([widths[1], widths[0]]))); "
                + "expected weights trained on inputs of this kind")
        }
        var normalizer: Normalizer?
        if model.initNormalizer {
            guard let saved = source.normalizer else {
                throw refuse("has no input normalisation (a checkpoint's normalizer.*, an export's nntrain.normalizer.* "
                    + "metadata); expected an nntrain file, or model.init_normalizer: false", key: "model.init_normalizer")
            }
            guard saved.shift.count == widths[0] else {
                throw refuse("normalises \(saved.shift.count) inputs but the data have \(widths[0]); expected the same "
                    + "inputs", key: "model.init_normalizer")
            }
            normalizer = saved
        }
        // Layers match by index, so with every layer chosen the file must have as many (its head is the last).
        guard model.initLayers != nil || source.linearCount == linearCount else {
            throw refuse("has \(source.linearCount) linear layers, this model \(linearCount) (model.hidden \(model.hidden)); "
                + "expected as many, or model.init_layers naming the layers to copy")
        }
        let chosen = Set(model.initLayers ?? Array(0..<linearCount))
        let isPReLU = if case .prelu = model.activationFunction { true } else { false }
        var copies: [(name: String, values: [Float])] = []
        var running: [(name: String, mean: [Float], variance: [Float])] = []
        var copied: [Int] = [], fresh: [String] = [], notes: [String] = []
        for i in 0..<linearCount {
            let isHead = i == linearCount - 1
            guard chosen.contains(i) else { continue }
            let expected = [widths[i + 1], widths[i]]
            let name = "layers.\(i)"
            guard let weight = source.tensors[name + ".weight"] else {
                if isHead {
                    fresh.append("layer \(i) (head) fresh: not in the file")
                    continue
                }
                throw refuse("has \(source.linearCount) linear layers, this model \(linearCount); expected a layer \(i) "
                    + "of shape \(shape(expected)) (model.hidden as the file's, or model.init_layers without \(i))")
            }
            guard weight.shape == expected else {
                if isHead {
                    fresh.append("layer \(i) (head) fresh: \(shape(weight.shape)) vs \(shape(expected))")
                    continue
                }
                throw refuse("\(name).weight: the file's \(shape(weight.shape)), this model's \(shape(expected)); "
                    + "expected the same hidden widths (model.hidden) or model.init_layers without \(i)")
            }
            guard let bias = source.tensors[name + ".bias"], bias.shape == [widths[i + 1]] else {
                throw refuse("\(name).bias: expected shape [\(widths[i + 1])] beside its weight, "
                    + (source.tensors[name + ".bias"].map { "not \(shape($0.shape))" } ?? "not missing"))
            }
            copies += [(name + ".weight", weight.values), (name + ".bias", bias.values)]
            copied.append(i)
            let norm = "norms.\(i)", width = [widths[i + 1]]
            let hasNorm = !isHead && model.norm != .none
            // The file's norm is a batch norm when it has running statistics, else a layer norm; only its kind is copied.
            let fileNorm: NormKind = source.tensors[norm + ".running_mean"] == nil ? .layer : .batch
            if hasNorm, source.tensors[norm + ".weight"] != nil, fileNorm != model.norm {
                notes.append("\(norm) fresh: the file's is a \(fileNorm.rawValue) norm, this model's a "
                    + "\(model.norm.rawValue) norm")
            } else if hasNorm {
                if let gamma = source.tensors[norm + ".weight"], let beta = source.tensors[norm + ".bias"],
                   gamma.shape == width, beta.shape == width {
                    copies += [(norm + ".weight", gamma.values), (norm + ".bias", beta.values)]
                } else {
                    notes.append("\(norm) fresh: " + absent(norm + ".weight", width))
                }
                if model.norm == .batch, let mean = source.tensors[norm + ".running_mean"],
                   let variance = source.tensors[norm + ".running_var"], mean.shape == width, variance.shape == width {
                    running.append((norm, mean.values, variance.values))
                } else if model.norm == .batch {
                    notes.append("\(norm) running statistics fresh: " + absent(norm + ".running_mean", width))
                }
            } else if source.tensors[norm + ".weight"] != nil {
                notes.append("\(norm) of the file unused: this model has no norm there")
            }
            // prelu's slopes and a residual block's projection come with their layer, as its norm does.
            let slopes = "activations.\(i).weight", shortcut = "shortcuts.\(i).weight"
            let modelShapes = [slopes: isPReLU && !isHead ? width : nil,
                               shortcut: model.residual && i >= 1 && !isHead && widths[i] != widths[i + 1]
                                   ? expected : nil]
            for (tensor, modelShape) in modelShapes.sorted(by: { $0.key < $1.key }) {
                let saved = source.tensors[tensor]
                if let modelShape {
                    if let saved, saved.shape == modelShape {
                        copies.append((tensor, saved.values))
                    } else {
                        notes.append("\(tensor.dropLast(".weight".count)) fresh: " + absent(tensor, modelShape))
                    }
                } else if saved != nil {
                    notes.append("\(tensor.dropLast(".weight".count)) of the file unused: this model has none there")
                }
            }
        }
        let unchosen = (0..<linearCount).filter { !chosen.contains($0) }
        func layers(_ indices: [Int]) -> String {
            (indices.count == 1 ? "layer " : "layers ") + indices.map(String.init).joined(separator: ", ")
        }
        var parts = [copied.isEmpty ? "no layer copied" : layers(copied) + " copied"] + fresh
        if !unchosen.isEmpty { parts.append(layers(unchosen) + " initialised (not in model.init_layers)") }
        parts += notes
        parts.append("input normalisation: " + (normalizer == nil ? "the new data's" : "the file's"))
        let summary = "init_from \(path) (CRC-32 \(crc)): " + parts.joined(separator: "; ")
        return InitialWeights(copies: copies, runningStatistics: running, normalizer: normalizer,
                              record: Record(path: path, crc32: crc, layers: copied, normalizer: normalizer != nil),
                              summary: summary)
    }

    /// The file's tensors under nntrain's names, its normaliser when it has one, and the CRC-32 of its data section.
    static func read(path: String) throws(NNTrainError) -> (Source, String) {
        let expected = "an nntrain checkpoint (.bin) or a safetensors state_dict"
        let bytes: [UInt8]
        do {
            let file = try InputFile(path: path, expected: expected)
            guard file.size <= CheckpointFile.maxFileSize else {
                throw NNTrainError.data(path, "the file is \(file.size) bytes; expected at most \(CheckpointFile.maxFileSize)")
            }
            bytes = try file.read(at: 0, count: file.size)
        }
        if CheckpointFile.foreignFileReason(bytes) != nil {
            throw .data(path, "is neither an nntrain checkpoint nor a safetensors file; expected \(expected), like "
                + "runs/NAME/checkpoints/last.bin or the output of nntrain export --format safetensors")
        }
        let contents = try SafeTensors.decode(bytes, path: path, dtypes: SafeTensors.DType.allCases)
        let crc = CheckpointFile.hex(CheckpointFile.crc32(SafeTensors.dataSection(of: bytes)))
        if contents.metadata[CheckpointFile.formatKey] == CheckpointFile.formatName {
            let checkpoint = try Checkpoint(contents: CheckpointFile.verify(bytes, path: path), path: path)
            return (source(of: checkpoint), crc)
        }
        return (try source(stateDict: contents, path: path), crc)
    }

    /// A checkpoint's served model (`Checkpoint.servedModel`) under its own names.
    static func source(of checkpoint: Checkpoint) -> Source {
        var source = Source(normalizer: checkpoint.normalizer)
        let model = checkpoint.servedModel
        var offset = 0
        for (name, shape) in checkpoint.parameterLayout {
            let count = shape.reduce(1, *)
            guard offset + count <= model.parameters.count else { break }
            source.tensors[name] = (shape, Array(model.parameters[offset..<offset + count]))
            offset += count
        }
        for (index, norm) in checkpoint.batchNormNames.enumerated() where 2 * index + 1 < model.runningStatistics.count {
            let mean = model.runningStatistics[2 * index], variance = model.runningStatistics[2 * index + 1]
            source.tensors[norm + ".running_mean"] = ([mean.count], mean)
            source.tensors[norm + ".running_var"] = ([variance.count], variance)
        }
        return source
    }

    /// A state_dict's tensors under nntrain's names: an nn.Sequential's positions mapped back (see the type's
    /// comment), or nntrain's own names as they are; the normaliser from `nntrain.normalizer.*` when present.
    static func source(stateDict contents: SafeTensors, path: String) throws(NNTrainError) -> Source {
        var source = Source()
        let parameterNames: Set = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
        // A position is the Sequential's index, or (block, index) in the export's ResidualMLP (`layers.<b>.<k>.*`).
        var positions: [[Int]: [(parameter: String, tensor: SafeTensors.Tensor)]] = [:]
        var nntrainNames = false
        for (name, tensor) in contents.tensors {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let kinds: Set = ["layers", "norms", "activations", "shortcuts"]
            if parts.count == 3, kinds.contains(parts[0]), Int(parts[1]) != nil, parameterNames.contains(parts[2]) {
                if parts[2] != "num_batches_tracked" { source.tensors[name] = (tensor.shape, try floats(tensor, name, path)) }
                nntrainNames = nntrainNames || parts[0] != "shortcuts"
                continue
            }
            let indices = parts.dropLast().map { Int($0) }
            let nested = parts.count == 4 && parts[0] == "layers" ? Array(indices.dropFirst()) : indices
            guard let parameter = parts.last, parameterNames.contains(parameter), (1...2).contains(nested.count),
                  parts.count == 2 || parts.count == 4 && parts[0] == "layers",
                  case let position = nested.compactMap({ $0 }), position.count == nested.count, position.allSatisfy({ $0 >= 0 })
            else {
                throw .data(path, "tensor \(name) is not an nn.Sequential state_dict name; expected names like 0.weight, "
                    + "0.bias, 1.running_mean (as nntrain export --format safetensors writes them)")
            }
            guard !(positions[position] ?? []).contains(where: { $0.parameter == parameter }) else {
                throw .data(path, "tensor \(name) repeats position \(position.map(String.init).joined(separator: ".")) "
                    + "under another spelling; expected each nn.Sequential position once")
            }
            positions[position, default: []].append((parameter, tensor))
        }
        guard !nntrainNames || positions.isEmpty else {
            throw .data(path, "mixes nntrain's tensor names (layers.0.weight) with an nn.Sequential's (0.weight); "
                + "expected one or the other")
        }
        var linear = -1
        for position in positions.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let entries = positions[position] ?? []
            let label = position.map(String.init).joined(separator: ".")
            guard let weight = entries.first(where: { $0.parameter == "weight" }) else { continue }
            let prefix: String
            if weight.tensor.shape.count == 2 {
                linear += 1
                prefix = "layers.\(linear)"
            } else {
                guard linear >= 0 else {
                    throw .data(path, "tensor \(label).weight of shape \(weight.tensor.shape) comes before any linear "
                        + "layer; expected an nn.Sequential starting with nn.Linear")
                }
                // A norm has a bias beside its weight; nn.PReLU's slopes are a weight alone.
                prefix = entries.contains(where: { $0.parameter == "bias" }) ? "norms.\(linear)" : "activations.\(linear)"
            }
            for entry in entries where entry.parameter != "num_batches_tracked" {
                let name = "\(label).\(entry.parameter)"
                source.tensors[prefix + "." + entry.parameter] = (entry.tensor.shape, try floats(entry.tensor, name, path))
            }
        }
        let shift = contents.metadata["nntrain.normalizer.shift"], scale = contents.metadata["nntrain.normalizer.scale"]
        if shift != nil || scale != nil {
            guard let shifts = shift.flatMap(floatList), let scales = scale.flatMap(floatList), shifts.count == scales.count
            else {
                throw .data(path, "metadata nntrain.normalizer.shift and .scale hold \(shift.flatMap(floatList)?.count ?? 0) "
                    + "and \(scale.flatMap(floatList)?.count ?? 0) numbers; expected two JSON arrays of one number per input "
                    + "(as nntrain export writes them)")
            }
            source.normalizer = Normalizer(shift: shifts, scale: scales)
        }
        return source
    }

    /// A floating-point tensor's elements as float32 (F16 exactly, F64 rounded to nearest).
    private static func floats(_ tensor: SafeTensors.Tensor, _ name: String, _ path: String) throws(NNTrainError) -> [Float] {
        switch tensor.dtype {
        case .f32: return tensor.elements(as: Float.self)
        case .f16: return tensor.elements(as: UInt16.self).map { Float(Float16(bitPattern: $0)) }
        case .f64: return tensor.elements(as: Double.self).map { Float($0) }
        default:
            throw .data(path, "tensor \(name) is \(tensor.dtype.rawValue); expected F32, F16 or F64 weights")
        }
    }

    /// A JSON array of numbers as `StateDictExport.jsonArray` writes it (NaN and ±Infinity included); nil otherwise.
    static func floatList(_ text: String) -> [Float]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { return nil }
        let inner = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        guard !inner.isEmpty else { return [] }
        var values: [Float] = []
        for item in inner.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Float(item.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(value)
        }
        return values
    }
}
