import Foundation
import Testing

@testable import NNTrain

/// ELU, SELU, Mish, Softplus and Hardswish against torch's formulas written out in Double
/// (aten/src/ATen/native/cpu/Activation.cpp), values worked by hand, and the derivative's
/// convention at each kink as ATen's backward kernels have it.
@Suite struct ActivationTests {
    static let seluAlpha = 1.6732632423543772848170429916717, seluScale = 1.0507009873554804934193349852946

    /// f(z) and f'(z) in Double, as torch defines them.
    static func reference(_ activation: Activation, _ z: Double) -> (value: Double, derivative: Double) {
        switch activation {
        case .elu(let alpha):
            let a = Double(alpha)
            return z > 0 ? (z, 1) : (a * (exp(z) - 1), a * exp(z))
        case .selu:
            return z > 0 ? (seluScale * z, seluScale) : (seluScale * seluAlpha * (exp(z) - 1), seluScale * seluAlpha * exp(z))
        case .mish:
            let softplus = log(1 + exp(z)), t = tanh(softplus), sigma = 1 / (1 + exp(-z))
            return (z * t, t + z * sigma * (1 - t * t))
        case .softplus(let beta, let threshold):
            let b = Double(beta)
            if b * z > Double(threshold) { return (z, 1) }
            return (log(1 + exp(b * z)) / b, exp(b * z) / (1 + exp(b * z)))
        case .hardswish:
            let derivative = z < -3 ? 0 : z <= 3 ? (2 * z + 3) / 6 : 1
            return (z * min(max(z + 3, 0), 6) / 6, derivative)
        default:
            Issue.record("no reference for \(activation)")
            return (.nan, .nan)
        }
    }

    static let activations: [Activation] = [
        .elu(alpha: 1), .elu(alpha: 0.5), .selu, .mish, .softplus(beta: 1, threshold: 20),
        .softplus(beta: 2, threshold: 1), .hardswish,
    ]
    static let points: [Float] = [-30, -4, -3.001, -3, -2.5, -1, -0.25, 0, 0.4, 0.5, 1, 2.999, 3, 3.001, 5, 12, 30]

    /// Forward (by the fp32 kernel, z as a bias over a zero product) and backward (dy = 1, from the
    /// kept pre-activation) at each point, within float32's rounding of the Double reference.
    func run(_ activation: Activation, _ points: [Float], precision: Precision = .fp32)
        -> (y: [Float], kept: [Float], dz: [Float])
    {
        let n = points.count
        let y = FloatBuffer(count: n), kept = FloatBuffer(count: n), g = FloatBuffer(count: n)
        var bias = points
        bias.withUnsafeMutableBufferPointer { b in
            activation.applyWithBias(y.matrix(rows: 1, columns: n), bias: b.baseAddress!,
                                     preActivation: kept.matrix(rows: 1, columns: n), precision: precision)
        }
        for i in 0..<n { g.base[i] = 1 }
        activation.backward(gradient: g.matrix(rows: 1, columns: n), output: y.matrix(rows: 1, columns: n),
                            preActivation: kept.matrix(rows: 1, columns: n), precision: precision)
        return ((0..<n).map { y.base[$0] }, (0..<n).map { kept.base[$0] }, (0..<n).map { g.base[$0] })
    }

    @Test(arguments: activations)
    func valuesAndDerivativesAreTorchs(activation: Activation) {
        #expect(activation.needsPreActivation)
        let (y, kept, dz) = run(activation, Self.points)
        for (i, z) in Self.points.enumerated() {
            let (value, derivative) = Self.reference(activation, Double(z))
            #expect(kept[i] == z)
            #expect(abs(Double(y[i]) - value) <= 4e-7 * max(1, abs(value)), "\(activation) f(\(z)) = \(y[i]), expected \(value)")
            #expect(abs(Double(dz[i]) - derivative) <= 4e-7 * max(1, abs(derivative)),
                    "\(activation) f'(\(z)) = \(dz[i]), expected \(derivative)")
            // value(at:), which neuron pruning's export uses, runs the same kernel without a buffer for z.
            #expect(activation.value(at: z) == y[i])
        }
    }

    /// Numbers worked by hand, and the kinks: ELU's and SELU's derivative at 0 is the left one (ATen
    /// tests z ≤ 0), hardswish's is (2z + 3)/6 on the closed [−3, 3] and 0 below, softplus is the
    /// identity only where βz exceeds the threshold strictly.
    @Test func handWorkedValuesAndTheKinks() {
        let hardswish = run(.hardswish, [-3.5, -3, -1.5, 0, 1.5, 3, 3.5])
        #expect(hardswish.y == [0, 0, -0.375, 0, 1.125, 3, 3.5])
        #expect(hardswish.dz == [0, -0.5, 0, 0.5, 1, 1.5, 1])
        let elu = run(.elu(alpha: 0.5), [0, 1e-30, -1e-30])
        #expect(elu.y[0] == 0 && elu.dz == [0.5, 1, 0.5])
        let selu = run(.selu, [0, 1])
        #expect(selu.dz[0] == Float(Self.seluScale * Self.seluAlpha) && selu.dz[1] == Float(Self.seluScale))
        #expect(selu.y[1] == Float(1.0507009873554804934193349852946))
        // β = 2, threshold 1: at z = 0.5, βz = 1 is not above it: log(1 + e)/2 = 0.6566308, e/(1 + e);
        // just above, z itself; at 0, log 2 / 2.
        let softplus = run(.softplus(beta: 2, threshold: 1), [0.5, 0.50001, 0])
        #expect(abs(softplus.y[0] - 0.6566308) < 1e-7 && abs(softplus.dz[0] - 0.7310586) < 1e-7)
        #expect(softplus.y[1] == 0.50001 && softplus.dz[1] == 1)
        #expect(abs(softplus.y[2] - 0.3465736) < 1e-7 && softplus.dz[2] == 0.5)
        let mish = run(.mish, [0, 1])
        // mish(1) = tanh(log(1 + e)) = 0.8650984, mish'(0) = tanh(log 2) = 0.6.
        #expect(mish.y[0] == 0 && abs(mish.y[1] - 0.8650984) < 1e-7 && abs(mish.dz[0] - 0.6) < 1e-7)
    }

    /// In fp16 and bf16 z (bias added) is rounded and kept, y is f of it rounded, and the gradient is
    /// rounded, as PyTorch stores each tensor in the low-precision type.
    @Test(arguments: [Precision.fp16, .bf16])
    func mixedPrecisionRoundsTheKeptInputTheOutputAndTheGradient(precision: Precision) throws {
        let format = try #require(precision.format)
        let points: [Float] = [-2.3456789, -0.7777777, 0.1234567, 1.9876543, 2.7182818]
        for activation in Self.activations {
            let (y, kept, dz) = run(activation, points, precision: precision)
            for (i, z) in points.enumerated() {
                let v = format.rounded(z)
                #expect(kept[i] == v)
                #expect(y[i] == format.rounded(activation.value(at: v)), "\(activation) \(precision) at \(z)")
                let unrounded = run(activation, [v]).dz[0]
                #expect(dz[i] == format.rounded(unrounded))
            }
        }
    }

    /// `value(at:)`, which neuron pruning's export calls for a pruned unit's constant output f(b),
    /// runs without a pre-activation buffer; GELU and SiLU used to read through a nil one.
    @Test func valueAtNeedsNoPreActivationBuffer() {
        #expect(abs(Double(Activation.gelu.value(at: 1)) - 0.5 * (1 + erf(1 / 2.0.squareRoot()))) < 1e-7)
        #expect(abs(Double(Activation.silu.value(at: 1)) - 1 / (1 + exp(-1.0))) < 1e-7)
        #expect(Activation.hardswish.value(at: -1.5) == -0.375)
    }

    @Test func configNamesAndParameters() {
        #expect(Activation(.elu, eluAlpha: 0.3) == .elu(alpha: 0.3))
        #expect(Activation(.softplus, softplusBeta: 2, softplusThreshold: 5) == .softplus(beta: 2, threshold: 5))
        #expect(Activation(.softplus) == .softplus(beta: 1, threshold: 20))
        #expect(Activation(.elu) == .elu(alpha: 1))
        #expect([Activation(.selu), Activation(.mish), Activation(.hardswish)] == [.selu, .mish, .hardswish])
    }
}
