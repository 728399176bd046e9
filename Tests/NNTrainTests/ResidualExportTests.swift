import Foundation
import Testing

@testable import NNTrain

/// Export of residual models (`model.residual`): the inference form carries each block's shortcut, and its
/// forward passes (`QuantizedInference`) compute what the network computes in evaluation mode.
@Suite struct ResidualExportTests {
    /// A 3-6-6-4-2 residual model (an identity shortcut around layer 1, a projection 6→4 around layer 2) with
    /// `norm`, gelu and dropout, trained 3 epochs on `LayerNormWiringTests.data()`, as a checkpoint.
    static func checkpoint(norm: NormKind = .none, activation: ActivationKind = .gelu) throws -> Checkpoint {
        var config = Configuration()
        config.model.hidden = [6, 6, 4]
        config.model.residual = true
        config.model.norm = norm
        config.model.activation = activation
        config.model.dropout = 0.1
        config.training.epochs = 3
        config.training.batchSize = .rows(8)
        let trainer = Trainer(configuration: config, data: LayerNormWiringTests.data())
        _ = try trainer.train()
        let bytes = CheckpointFile.encode(try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).contents())
        return try Checkpoint(contents: CheckpointFile.verify(bytes, path: "last.bin"), path: "last.bin")
    }

    /// The residual forward pass written out in Double from the inference form: each layer
    /// h' = f(LN?(h Wᵀ + b)) (+ h, or + h Pᵀ), with `round` applied to every stored weight (fp16's binary16).
    static func reference(_ model: InferenceModel, _ x: [Double], round: (Float) -> Float = { $0 }) -> [Double] {
        var h = x
        for layer in model.layers {
            var z = (0..<layer.outputs).map { j in
                (0..<layer.inputs).reduce(Double(round(layer.bias[j]))) {
                    $0 + Double(round(layer.weight[j * layer.inputs + $1])) * h[$1]
                }
            }
            if let norm = layer.layerNorm {
                let mean = z.reduce(0, +) / Double(z.count)
                let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(z.count)
                z = z.indices.map { j in
                    Double(norm.scale[j]) * (z[j] - mean) / (variance + 1e-5).squareRoot() + Double(norm.shift[j])
                }
            }
            var y = z.map { Double(layer.activation.value(at: Float($0))) }
            switch layer.shortcut {
            case nil: break
            case .identity: y = y.indices.map { y[$0] + h[$0] }
            case .projection(let p):
                y = y.indices.map { j in
                    (0..<layer.inputs).reduce(y[j]) { $0 + Double(round(p[j * layer.inputs + $1])) * h[$1] }
                }
            }
            h = y
        }
        return h
    }

    /// The inference form has an identity shortcut on layer 1 and the projection `shortcuts.2.weight` on layer 2,
    /// and its float32 forward pass equals the network's in evaluation mode (to 1e-6) and the Double formula.
    @Test(arguments: [NormKind.none, .batch, .layer])
    func inferenceFormComputesTheResidualNetwork(norm: NormKind) throws {
        let checkpoint = try Self.checkpoint(norm: norm)
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: "last.bin")
        let network = try CheckpointEvaluation.model(of: checkpoint, configuration: checkpoint.configuration(path: "c"),
                                                     path: "c")
        let projection = network.parameters.valuesArray(of: try #require(network.parameters.tensor(named: "shortcuts.2.weight")))
        #expect(projection.count == 24)
        #expect(model.layers.map(\.shortcut) == [nil, .identity, .projection(projection), nil])
        let rows = 5
        var random = RandomGenerator(seed: 9)
        var x = (0..<(rows * 3)).map { _ in Float(random.nextGaussian()) }
        let inference = QuantizedInference(model: model, weights: .fp32, rowCapacity: rows)
        network.reserve(rows: rows)
        x.withUnsafeMutableBufferPointer { buffer in
            let input = MatrixView(base: buffer.baseAddress!, rows: rows, columns: 3)
            let exported = inference.forward(input)
            let exportedValues = Array(UnsafeBufferPointer(start: exported.base, count: exported.count))
            let trained = network.forward(input, training: false)
            let trainedValues = Array(UnsafeBufferPointer(start: trained.base, count: trained.count))
            for r in 0..<rows {
                let expected = Self.reference(model, (0..<3).map { Double(buffer[r * 3 + $0]) })
                // Without its shortcuts the model computes something else: the test can tell.
                var plain = model
                for k in plain.layers.indices { plain.layers[k].shortcut = nil }
                let unskipped = Self.reference(plain, (0..<3).map { Double(buffer[r * 3 + $0]) })
                #expect(zip(unskipped, expected).contains { abs($0 - $1) > 1e-3 })
                for c in 0..<2 {
                    let e = exportedValues[r * 2 + c], t = trainedValues[r * 2 + c]
                    #expect(abs(e - t) <= 1e-6 * max(1, abs(t)), "\(e) vs \(t)")
                    #expect(abs(Double(e) - expected[c]) <= 1e-5 * max(1, abs(expected[c])))
                }
            }
        }
    }

    /// fp16 rounds P as it rounds W and b (binary16 values), and counts it at 2 bytes a weight; int8 keeps P float32.
    @Test func fp16RoundsTheProjectionAndModelBytesCountIt() throws {
        let checkpoint = try Self.checkpoint()
        let model = try InferenceModel(checkpoint: checkpoint, fingerprint: "", path: "last.bin")
        var x: [Float] = [0.3, -1.2, 0.7]
        let inference = QuantizedInference(model: model, weights: .fp16, rowCapacity: 1)
        let output = x.withUnsafeMutableBufferPointer { buffer in
            let y = inference.forward(MatrixView(base: buffer.baseAddress!, rows: 1, columns: 3))
            return Array(UnsafeBufferPointer(start: y.base, count: y.count))
        }
        let expected = Self.reference(model, x.map(Double.init), round: Binary16.rounded)
        for c in 0..<2 { #expect(abs(Double(output[c]) - expected[c]) <= 1e-5 * max(1, abs(expected[c]))) }
        let weightsAndBiases = 3 * 6 + 6 + 6 * 6 + 6 + 6 * 4 + 4 + 4 * 2 + 2
        #expect(QuantizationMode.none.modelBytes(of: model) == 4 * (weightsAndBiases + 24))
        #expect(QuantizationMode.fp16.modelBytes(of: model) == 2 * (weightsAndBiases + 24))
    }
}
