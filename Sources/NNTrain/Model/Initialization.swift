/// Initial values of the parameters, as torch.nn.init computes them, for every linear layer
/// (fan_in = in_features, fan_out = out_features of its weight [out, in]):
///
/// | scheme          | weight                                                  | torch.nn.init              |
/// |-----------------|---------------------------------------------------------|----------------------------|
/// | default         | U(−1/√fan_in, 1/√fan_in)                                 | nn.Linear.reset_parameters (*) |
/// | xavier_uniform  | U(−a, a), a = gain·√(6/(fan_in + fan_out)), gain 1       | xavier_uniform_            |
/// | xavier_normal   | N(0, std²), std = gain·√(2/(fan_in + fan_out)), gain 1   | xavier_normal_             |
/// | kaiming_uniform | U(−b, b), b = gain·√(3/fan_in)                           | kaiming_uniform_(mode='fan_in') |
/// | kaiming_normal  | N(0, std²), std = gain/√fan_in                           | kaiming_normal_(mode='fan_in')  |
/// | lecun_normal    | N(0, std²), std = 1/√fan_in                              | kaiming_normal_(nonlinearity='linear') |
/// | uniform         | U(a, b)                                                  | uniform_                   |
/// | normal          | N(0, std²)                                               | normal_                    |
///
/// (*) nn.Linear.reset_parameters is kaiming_uniform_ with a = √5: gain √(2/(1 + 5)), so b = 1/√fan_in.
///
/// Xavier (Glorot) initialisation keeps the variance of activations and gradients alike across layers
/// (Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks",
/// AISTATS 2010, eq. 16); Kaiming (He) initialisation does so for rectifiers, whose outputs have half
/// the variance (He, Zhang, Ren & Sun, "Delving Deep into Rectifiers", ICCV 2015, arXiv:1502.01852, eq. 10).
/// Kaiming's gain is the one for the network's activation (nn.init.calculate_gain): relu √2,
/// leaky_relu √(2/(1 + slope²)), tanh 5/3, sigmoid 1, selu 3/4; gelu, silu, elu, mish, softplus and
/// hardswish, which calculate_gain refuses ("Unsupported nonlinearity"), take relu's √2: each is the
/// identity for large z and near 0 for very negative z, as relu. LeCun normal is the initialisation
/// nn.SELU's documentation asks for (kaiming_normal_ with nonlinearity='linear', not 'selu', "in order
/// to get Self-Normalizing Neural Networks"; Klambauer et al. 2017, section 3), so it is `model.init`'s
/// default for selu (`Configuration.applyRulesBetweenKeys`); it takes no gain. prelu, which calculate_gain
/// does not know either, takes leaky_relu's gain with its initial slope a, √(2/(1 + a²)) (1.372 for
/// torch's 0.25): the condition ½(1 + a²)·fan_in·Var[w] = 1 that He et al. 2015 derive for PReLU (eq. 15
/// and the paragraph after it), i.e. torch's kaiming_normal_(w, a=0.25, nonlinearity='leaky_relu').
/// Biases are nn.Linear's U(−1/√fan_in, 1/√fan_in) or zero. Batch and layer norms start at γ = 1, β = 0
/// (nn.BatchNorm1d's and nn.LayerNorm's reset_parameters); PReLU's slopes at their `initial` (nn.PReLU's
/// `init`, a constant: no draw). Draws go layer by layer, weight then bias, row-major, from the given generator.
public struct Initialization: Equatable, Sendable {
    public var scheme: InitializationKind
    public var bias: BiasInitialization
    /// [a, b] of `uniform`.
    public var range: (Float, Float)
    /// Standard deviation of `normal`.
    public var std: Float

    public init(scheme: InitializationKind = .default, bias: BiasInitialization = .default,
                range: (Float, Float) = (0, 1), std: Float = 1) {
        self.scheme = scheme
        self.bias = bias
        self.range = range
        self.std = std
    }

    public static func == (a: Initialization, b: Initialization) -> Bool {
        a.scheme == b.scheme && a.bias == b.bias && a.range == b.range && a.std == b.std
    }

    /// nn.init.calculate_gain for the activation.
    static func gain(for activation: Activation) -> Float {
        switch activation {
        case .identity, .sigmoid: 1
        case .relu, .gelu, .silu, .elu, .mish, .softplus, .hardswish: Float(2).squareRoot()
        case .leakyRelu(let slope), .prelu(let slope): (2 / (1 + slope * slope)).squareRoot()
        case .tanh: 5.0 / 3
        case .selu: 3.0 / 4
        }
    }

    /// Sets every parameter of `network`; `activation` is the hidden layers' activation (for the gain).
    public func apply(to network: Network, activation: Activation, random: inout RandomGenerator) {
        let values = network.parameters.values.base
        for layer in network.layers {
            if let dense = layer as? Dense {
                let fanIn = Float(dense.inputWidth), fanOut = Float(dense.outputWidth)
                fillWeights(values + dense.weight.offset, dense.weight.count, fanIn: fanIn, fanOut: fanOut,
                            activation: activation, &random)
                let biases = values + dense.bias.offset
                switch bias {
                case .default:
                    Self.fillUniform(biases, dense.bias.count, -1 / fanIn.squareRoot(), 1 / fanIn.squareRoot(), &random)
                case .zero: biases.update(repeating: 0, count: dense.bias.count)
                }
            } else if let norm = layer as? BatchNorm {
                (values + norm.scale.offset).update(repeating: 1, count: norm.scale.count)
                (values + norm.shift.offset).update(repeating: 0, count: norm.shift.count)
            } else if let norm = layer as? LayerNorm {
                (values + norm.scale.offset).update(repeating: 1, count: norm.scale.count)
                (values + norm.shift.offset).update(repeating: 0, count: norm.shift.count)
            } else if let prelu = layer as? PReLU, case .prelu(let initial) = activation {
                (values + prelu.slope.offset).update(repeating: initial, count: prelu.slope.count)
            }
        }
        // A residual block's projection P [out, in] (nn.Linear(in, out, bias=False)) is a weight like the
        // layers': the same scheme with its own fan-in and fan-out, drawn after them in the flat buffer's order.
        for projection in network.skips.compactMap(\.projection) {
            let fanIn = Float(projection.shape[1]), fanOut = Float(projection.shape[0])
            fillWeights(values + projection.offset, projection.count, fanIn: fanIn, fanOut: fanOut, activation: activation,
                        &random)
        }
    }

    /// Fills `count` weights of a layer with `fanIn` inputs and `fanOut` outputs by `scheme`.
    private func fillWeights(_ weights: UnsafeMutablePointer<Float>, _ count: Int, fanIn: Float, fanOut: Float,
                             activation: Activation, _ random: inout RandomGenerator) {
        let gain = Self.gain(for: activation)
        switch scheme {
        case .default: Self.fillUniform(weights, count, -1 / fanIn.squareRoot(), 1 / fanIn.squareRoot(), &random)
        case .xavierUniform:
            let a = (6 / (fanIn + fanOut)).squareRoot()
            Self.fillUniform(weights, count, -a, a, &random)
        case .xavierNormal: Self.fillNormal(weights, count, (2 / (fanIn + fanOut)).squareRoot(), &random)
        case .kaimingUniform:
            let b = gain * (3 / fanIn).squareRoot()
            Self.fillUniform(weights, count, -b, b, &random)
        case .kaimingNormal: Self.fillNormal(weights, count, gain / fanIn.squareRoot(), &random)
        case .lecunNormal: Self.fillNormal(weights, count, 1 / fanIn.squareRoot(), &random)
        case .uniform: Self.fillUniform(weights, count, range.0, range.1, &random)
        case .normal: Self.fillNormal(weights, count, std, &random)
        }
    }

    /// U(low, high) as torch's uniform_: low + (high − low)·u with u uniform in [0, 1).
    private static func fillUniform(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ low: Float, _ high: Float,
                                    _ random: inout RandomGenerator) {
        for i in 0..<count { p[i] = low + (high - low) * random.nextUnitFloat() }
    }

    private static func fillNormal(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ std: Float,
                                   _ random: inout RandomGenerator) {
        for i in 0..<count { p[i] = std * Float(random.nextGaussian()) }
    }
}
