/// Updates parameters from their gradients. Every optimizer works over the model's flat parameter
/// and gradient buffers (see `ParameterStore`), elementwise, so a step is one loop over contiguous
/// memory with no allocation; its state (moments, step count) is laid out the same way.
public protocol Optimizer: AnyObject {
    /// One update θ ← θ − (step direction) with learning rate `learningRate` (the schedule's value
    /// for this step).
    func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
              learningRate: Float)
}
