import CFloatingPoint
import Foundation

/// The training loop. For each epoch: shuffle the training rows with the seeded generator, then
/// per batch
///
///     gather + normalise rows → forward → loss and ∂L/∂output → backward → optimizer step
///
/// then evaluate the validation split. Buffers are sized once in `init`, so the steps allocate
/// nothing. The same configuration and seed give the same numbers on the same machine.
public final class Trainer {
    public let configuration: Configuration
    public let data: TrainingData
    public let network: Network
    public let loss: Loss
    public let optimizer: any Optimizer
    /// Rows per evaluation pass (larger than a typical batch: evaluation keeps no gradients).
    static let evaluationRows = 1024

    private let trainLoader: BatchLoader
    private var shuffleRandom: RandomGenerator
    private var order: [Int32]

    /// Random streams of a run, one per purpose, so each draws the same numbers whatever the others do.
    enum RandomStream: UInt64 { case initialization = 1, shuffle = 2 }

    public init(configuration: Configuration, data: TrainingData) {
        self.configuration = configuration
        self.data = data
        network = Network.mlp(inputWidth: data.train.featureCount, hidden: configuration.model.hidden,
                              outputWidth: data.outputWidth, activation: Activation(configuration.model.activation))
        let batchRows = min(configuration.training.batchSize, data.train.count)
        network.reserve(rows: max(batchRows, Trainer.evaluationRows))
        var initRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.initialization.rawValue)
        Initialization.pytorchLinearDefault(network, random: &initRandom)
        loss = Loss(configuration.loss)
        optimizer = makeOptimizer(configuration.optimizer, parameterCount: network.parameters.count)
        trainLoader = BatchLoader(dataset: data.train, normalizer: data.normalizer, capacity: batchRows)
        shuffleRandom = RandomGenerator(seed: configuration.seed, stream: RandomStream.shuffle.rawValue)
        order = (0..<Int32(data.train.count)).map { $0 }
    }

    /// Number of optimizer steps in one epoch (the last batch may be smaller).
    public var batchesPerEpoch: Int {
        let rows = trainLoader.capacity
        return (data.train.count + rows - 1) / rows
    }

    /// Trains for `training.epochs` epochs, reporting to `observer`; returns every epoch's metrics.
    /// Throws `.diverged` when a batch's loss stops being finite.
    ///
    /// Subnormal floats (below 1.2e-38) are flushed to zero while training, as most GPU training
    /// does: Adam's moments of rarely active inputs decay geometrically into the subnormal range,
    /// where x86 arithmetic is up to a hundred times slower, which doubled the epoch time on
    /// Fashion-MNIST from the second epoch on. Values that small change no update measurably.
    public func train(observer: (any TrainingObserver)?, epochFinished: (EpochMetrics) throws(NNTrainError) -> Void)
        throws(NNTrainError) -> [EpochMetrics]
    {
        let floatingPointMode = nntrain_flush_subnormals()
        defer { nntrain_restore_floating_point_mode(floatingPointMode) }
        var history: [EpochMetrics] = []
        let epochs = configuration.training.epochs
        for epoch in 1...epochs {
            let metrics = try trainEpoch(epoch, epochs: epochs, observer: observer)
            history.append(metrics)
            try epochFinished(metrics)
            observer?.epochFinished(metrics, epochs: epochs)
        }
        return history
    }

    private func trainEpoch(_ epoch: Int, epochs: Int, observer: (any TrainingObserver)?) throws(NNTrainError) -> EpochMetrics {
        let batches = batchesPerEpoch, batchRows = trainLoader.capacity, rowCount = data.train.count
        let learningRate = configuration.optimizer.lr
        observer?.epochStarted(epoch: epoch, epochs: epochs, batches: batches)
        shuffleRandom.shuffle(&order)
        var sums = LossSums()
        let start = DispatchTime.now().uptimeNanoseconds
        try order.withUnsafeBufferPointer { (order) throws(NNTrainError) in
            for batch in 0..<batches {
                let range = (batch * batchRows)..<min((batch + 1) * batchRows, rowCount)
                try trainLoader.withBatch(order: order, range: range) { (x, targets) throws(NNTrainError) in
                    let output = network.forward(x, training: true)
                    loss.evaluate(output: output, targets: targets, gradient: network.outputGradient, into: &sums)
                    guard sums.loss.isFinite else {
                        throw NNTrainError(.diverged, "training diverged at epoch \(epoch), step \(batch + 1): "
                            + "the loss became \(sums.loss); try a smaller optimizer.lr than \(configuration.optimizer.lr)")
                    }
                    network.backward(input: x)
                    optimizer.step(parameters: network.parameters.values.storage,
                                   gradients: UnsafeBufferPointer(network.parameters.gradients.storage),
                                   learningRate: Float(learningRate), momentum: nil)
                }
                observer?.batchFinished(epoch: epoch, batch: batch + 1, batches: batches,
                                        meanLoss: sums.loss / Double(sums.rows))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return EpochMetrics(
            epoch: epoch, learningRate: learningRate, trainLoss: sums.loss / Double(sums.rows),
            trainAccuracy: data.isClassification ? Double(sums.correct) / Double(sums.rows) : nil,
            validation: data.validation.count > 0 ? evaluate(data.validation) : nil,
            epochSeconds: seconds, samplesPerSecond: Double(rowCount) / max(seconds, 1e-9))
    }

    /// Loss and metrics of the current model on `dataset`, in eval mode, in its natural row order.
    public func evaluate(_ dataset: Dataset) -> EvaluationMetrics {
        let chunk = min(network.rowCapacity, max(dataset.count, 1))
        let loader = BatchLoader(dataset: dataset, normalizer: data.normalizer, capacity: chunk)
        let order = (0..<Int32(dataset.count)).map { $0 }
        var sums = LossSums(), regression = RegressionSums()
        order.withUnsafeBufferPointer { order in
            for start in stride(from: 0, to: dataset.count, by: chunk) {
                loader.withBatch(order: order, range: start..<min(start + chunk, dataset.count)) { x, targets in
                    let output = network.forward(x, training: false)
                    loss.evaluate(output: output, targets: targets, gradient: nil, into: &sums)
                    if case .values(let y) = targets { regression.add(output: output, targets: y) }
                }
            }
        }
        let rows = max(sums.rows, 1)
        let classification = data.isClassification
        return EvaluationMetrics(
            rows: sums.rows, loss: sums.loss / Double(rows),
            accuracy: classification ? Double(sums.correct) / Double(rows) : nil,
            meanAbsoluteError: classification ? nil : regression.meanAbsoluteError,
            r2: classification ? nil : regression.r2)
    }
}
