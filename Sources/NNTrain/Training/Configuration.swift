/// Everything a run is made of, as read from the YAML config file (plus `--set` overrides) and
/// validated before any work starts. Defaults are PyTorch's where PyTorch has one.
///
/// The file format, keys and defaults are documented in README.md ("Config reference");
/// `ConfigurationParser` reads and validates it, `resolvedYAML()` writes it back out.
public struct Configuration: Equatable, Sendable {
    /// Seeds every random draw of the run (initialisation, split, shuffling).
    public var seed: UInt64 = 42
    public var data = DataSection()
    public var model = ModelSection()
    public var loss: LossKind = .crossEntropy
    public var optimizer = OptimizerSection()
    public var training = TrainingSection()
    public var output = OutputSection()

    public init() {}

    public struct DataSection: Equatable, Sendable {
        public var dataset: DatasetKind = .fashionMNIST
        /// Folder of the four .gz files (fashion-mnist) or the CSV file (bonus), relative to the
        /// working directory. Default: `data/fashion-mnist` or `data/bonus.csv`.
        public var path: String = "data/fashion-mnist"
        /// Fraction of the training set held out for validation, drawn with the seed; 0 ≤ x < 1.
        public var validationSplit: Double = 0.1
        /// Fraction of a CSV dataset held out as the test set (Fashion-MNIST ships its own); 0 < x < 1.
        public var testSplit: Double = 0.2
        public var normalize: Normalization = .scale
        public init() {}
    }

    public struct ModelSection: Equatable, Sendable {
        /// Widths of the hidden layers; `[]` is a linear model.
        public var hidden: [Int] = [256, 128]
        public var activation: ActivationKind = .relu
        public init() {}
    }

    public struct OptimizerSection: Equatable, Sendable {
        public var name: OptimizerKind = .adam
        /// Learning rate γ, > 0. Default 0.001 (Adam's PyTorch default; SGD has none in PyTorch).
        public var lr: Double = 0.001
        /// SGD momentum μ, 0 ≤ μ < 1 (PyTorch default 0).
        public var momentum: Double = 0
        /// Adam's (β1, β2), each in [0, 1) (PyTorch default (0.9, 0.999)).
        public var betas: [Double] = [0.9, 0.999]
        /// Adam's ε, ≥ 0 (PyTorch default 1e-8).
        public var eps: Double = 1e-8
        /// L2 penalty λ added to the gradient (g + λθ), ≥ 0 (PyTorch default 0).
        public var weightDecay: Double = 0
        public init() {}
    }

    public struct TrainingSection: Equatable, Sendable {
        /// Passes over the training split, ≥ 1.
        public var epochs: Int = 15
        /// Rows per optimizer step, ≥ 1. The last batch of an epoch may be smaller (PyTorch's
        /// DataLoader with drop_last=False).
        public var batchSize: Int = 128
        public init() {}
    }

    public struct OutputSection: Equatable, Sendable {
        /// The run directory; nil means `runs/<config file name without extension>`.
        public var dir: String? = nil
        public init() {}
    }
}

public enum DatasetKind: String, CaseIterable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case bonus
}

public enum Normalization: String, CaseIterable, Sendable {
    /// Features as stored (pixels 0...255).
    case none
    /// Pixels divided by 255; CSV columns min-max scaled to 0...1 with the training split's range.
    case scale
    /// (x − mean) / std with the training split's statistics: one mean and std over all pixels for
    /// images (as torchvision's Normalize on one channel), per column for CSV data.
    case standardize
}

public enum ActivationKind: String, CaseIterable, Sendable {
    case relu
    case leakyRelu = "leaky_relu"
    case gelu
    case tanh
    case sigmoid
}

public enum LossKind: String, CaseIterable, Sendable {
    /// Softmax cross-entropy over class logits, mean over the batch (nn.CrossEntropyLoss).
    case crossEntropy = "cross_entropy"
    /// Mean squared error over every output of every row (nn.MSELoss, reduction "mean").
    case mse
}

public enum OptimizerKind: String, CaseIterable, Sendable {
    case sgd
    case adam
}
