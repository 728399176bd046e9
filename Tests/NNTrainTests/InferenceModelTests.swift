import Foundation
import Testing

@testable import NNTrain

/// `InferenceModel`: a checkpoint's model with batch norm folded into the linear layers and dropout
/// gone computes what the checkpoint's own network computes in evaluation mode.
@Suite struct InferenceModelTests {
    /// A 5-6-4-3 gelu model with batch norm and dropout, trained a few epochs on the prediction tests' table.
    static func checkpoint(in folder: TemporaryFolder) throws -> String {
        var config = Configuration()
        config.model.hidden = [6, 4]
        config.model.activation = .gelu
        config.model.batchNorm = true
        config.model.dropout = 0.2
        config.optimizer.lr = 0.05
        config.training.epochs = 5
        config.training.batchSize = .rows(16)
        let trainer = Trainer(configuration: config, data: try PredictionTests.tableData())
        _ = try trainer.train()
        let path = folder.file("bn.bin")
        try Checkpoint(trainer: trainer, bestRecord: nil, reason: .final).write(to: path)
        return path
    }

    /// The folded model's forward pass written out in Double: (x − shift)·scale, then each layer's
    /// x Wᵀ + b and its activation.
    static func forward(_ model: InferenceModel, _ raw: [Float]) -> [Double] {
        var h = raw.indices.map { (Double(raw[$0]) - Double(model.normalizer.shift[$0])) * Double(model.normalizer.scale[$0]) }
        for layer in model.layers {
            h = (0..<layer.outputs).map { j in
                let row = layer.weight[j * layer.inputs..<(j + 1) * layer.inputs]
                let z = zip(row, h).reduce(Double(layer.bias[j])) { $0 + Double($1.0) * $1.1 }
                switch layer.activation {
                case .identity: return z
                case .gelu: return 0.5 * z * (1 + erf(z / 2.0.squareRoot()))
                default: return .nan
                }
            }
        }
        return h
    }

    @Test func foldedBatchNormComputesWhatTheNetworkComputes() throws {
        let folder = try TemporaryFolder()
        let path = try Self.checkpoint(in: folder)
        let model = try InferenceModel(checkpointPath: path)
        #expect(model.layers.map(\.inputs) == [5, 6, 4])
        #expect(model.layers.map(\.outputs) == [6, 4, 3])
        #expect(model.layers.map(\.activation) == [.gelu, .gelu, .identity])
        #expect(model.architecture == "5-6-4-3 gelu, batch norm (folded)")
        #expect(model.classNames.count == 3 && model.task == .classification)
        let file = try CheckpointFile.read(path: path)
        #expect(model.fingerprint == file.metadata["nntrain.crc32"] && model.fingerprint.count == 8)

        let predictor = try Predictor(checkpointPath: path, batchCapacity: 4)
        let test = try PredictionTests.tableData().test
        guard case .floats(let features) = test.features else {
            Issue.record("the table's features are floats")
            return
        }
        let rows = (0..<4).map { Array(features[$0 * 5..<($0 + 1) * 5]) }
        for (row, raw) in rows.enumerated() { _ = predictor.inputRow(row).initialize(from: raw) }
        let outputs = predictor.outputs(rows: 4)  // normalises the rows in place, then the network in eval mode
        var largest = 0.0
        for (row, raw) in rows.enumerated() {
            let expected = Self.forward(model, raw)
            for j in 0..<3 {
                let actual = Double(outputs.base[row * 3 + j])
                largest = max(largest, abs(actual - expected[j]) / max(1, abs(expected[j])))
            }
        }
        // Batch norm is not the identity after 5 epochs: the folded weights differ from the linear layer's.
        let checkpoint = try Checkpoint.read(path: path)
        let firstWeight = checkpoint.state.model.parameters.prefix(30).map { $0 }
        #expect(model.layers[0].weight != firstWeight)
        #expect(largest < 1e-5, "largest relative difference \(largest)")
    }
}
