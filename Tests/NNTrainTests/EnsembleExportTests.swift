import Foundation
import Testing

@testable import NNTrain

/// The ensemble's ONNX graph (`ONNXExport.encode(ensemble:opset:)`), decoded and checked without
/// Python: one input encoding shared by the members, each member under its `member<m>/` prefix with its
/// own normaliser, each member's softmax, their Mean as the one output, the members' fingerprints in the
/// metadata; members of other inputs or classes refused. ONNX Runtime runs such a file in
/// data-scripts/onnx-check.py against `nntrain predict A.bin B.bin`.
@Suite struct EnsembleExportTests {
    /// `ONNXExportTests.tableModel` with another normaliser, other weights and another fingerprint.
    static func otherTableModel() -> InferenceModel {
        var model = ONNXExportTests.tableModel()
        model.normalizer = Normalizer(shift: Array(repeating: 1, count: 5), scale: Array(repeating: 2, count: 5))
        model.layers[0].weight = model.layers[0].weight.map { -$0 / 10 }
        model.fingerprint = "87654321"
        model.architecture = "5-2-3 relu (other)"
        return model
    }

    @Test func aClassifierEnsembleSharesTheEncodingAndAveragesTheMembersSoftmax() throws {
        let models = [ONNXExportTests.tableModel(), Self.otherTableModel()]
        let onnx = try ONNXExportTests.decode(try ONNXExport.encode(ensemble: models, opset: 17))
        #expect(onnx.graph.input.map(\.name) == ["size", "colour", "weight"])
        #expect(onnx.graph.output.map { "\(ONNXExportTests.signature($0))" } == ["(\"probabilities\", 1, [\"batch\", \"3\"])"])
        let types = onnx.graph.node.map(\.opType)
        // The encoding once (Imputer for size, OneHotEncoder → Flatten → MatMul for colour, Concat), then per member
        // Sub, Mul, Gemm, Relu, Gemm, Softmax; then Mean.
        let member = ["Sub", "Mul", "Gemm", "Relu", "Gemm", "Softmax"]
        #expect(types == ["Imputer", "OneHotEncoder", "Flatten", "MatMul", "Concat"] + member + member + ["Mean"])
        for index in 0..<2 {
            let prefix = "member\(index)/"
            let centred = try ONNXExportTests.node(prefix + "normalizer/centred", in: onnx)
            #expect(centred.input == ["features", prefix + "normalizer/shift"])
            #expect(try ONNXExportTests.floats(prefix + "normalizer/shift", in: onnx) == models[index].normalizer.shift)
            #expect(try ONNXExportTests.floats(prefix + "normalizer/scale", in: onnx) == models[index].normalizer.scale)
            #expect(try ONNXExportTests.floats(prefix + "layer0/weight", in: onnx) == models[index].layers[0].weight)
            let softmax = try ONNXExportTests.node(prefix + "probabilities", in: onnx)
            #expect(softmax.opType == "Softmax" && softmax.input == [prefix + "layer1/linear"])
            #expect(try ONNXExportTests.attribute("axis", of: softmax).i == -1)
        }
        let mean = try ONNXExportTests.node("probabilities", in: onnx)
        #expect(mean.opType == "Mean" && mean.input == ["member0/probabilities", "member1/probabilities"])
        let metadata = ONNXExportTests.metadata(onnx)
        #expect(metadata["member_fingerprints"] == "[\"12345678\",\"87654321\"]")
        #expect(metadata["checkpoint_fingerprint"] == nil && metadata["quantization"] == "none")
        #expect(metadata["architecture"] == "ensemble of 2: 5-2-3 relu; 5-2-3 relu (other)")
        #expect(metadata["class_names"] == "[\"cat\",\"dog\",\"eel\"]")
    }

    @Test func aRegressionEnsembleAveragesTheMembersValuesAfterTheirTargetAffines() throws {
        var first = ONNXExportTests.tableModel(classes: [])
        first.layers[1] = .init(inputs: 2, outputs: 1, weight: [1, 1], bias: [0], activation: .identity)
        first.classNames = []
        first.targetScaling = TargetScaling(shift: 10, scale: 3)
        var second = first
        second.targetScaling = TargetScaling(shift: -1, scale: 0.5)
        let onnx = try ONNXExportTests.decode(try ONNXExport.encode(ensemble: [first, second, first], opset: 17))
        #expect(onnx.graph.output.map { "\(ONNXExportTests.signature($0))" } == ["(\"value\", 1, [\"batch\", \"1\"])"])
        #expect(!onnx.graph.node.contains { $0.opType == "Softmax" })
        let mean = try ONNXExportTests.node("value", in: onnx)
        #expect(mean.opType == "Mean" && mean.input == ["member0/target/value", "member1/target/value", "member2/target/value"])
        #expect(try ONNXExportTests.floats("member1/target/shift", in: onnx) == [-1])
        #expect(try ONNXExportTests.floats("member2/target/scale", in: onnx) == [3])
    }

    @Test func membersOfOtherClassesOrInputsAreRefused() throws {
        let other = ONNXExportTests.tableModel(classes: ["cat", "dog", "fox"])
        #expect(throws: NNTrainError.self) {
            _ = try ONNXExport.encode(ensemble: [ONNXExportTests.tableModel(), other], opset: 17)
        }
        #expect {
            _ = try ONNXExport.encode(ensemble: [ONNXExportTests.imageModel(), ONNXExportTests.tableModel()], opset: 17)
        } throws: { error in
            let error = error as? NNTrainError
            return error?.kind == .data && error?.message.contains("0badf00d and 12345678") == true
        }
        #expect { _ = try ONNXExport.encode(ensemble: [ONNXExportTests.tableModel()] + [Self.otherTableModel()], opset: 12) }
            throws: { ($0 as? NNTrainError)?.kind == .usage }
    }
}
