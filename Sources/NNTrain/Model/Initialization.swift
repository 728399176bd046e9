/// Initial values of the parameters.
///
/// PyTorch's nn.Linear default (torch/nn/modules/linear.py, `reset_parameters`): the weight is
/// kaiming_uniform_ with a = √5, which for fan_in = in_features works out to U(−1/√fan_in, 1/√fan_in);
/// the bias is U(−1/√fan_in, 1/√fan_in) too. Draws go layer by layer, weight then bias, row-major,
/// from the given generator.
public enum Initialization {
    public static func pytorchLinearDefault(_ network: Network, random: inout RandomGenerator) {
        let values = network.parameters.values.base
        for case let dense as Dense in network.layers {
            let bound = 1 / Float(dense.inputWidth).squareRoot()
            for tensor in [dense.weight, dense.bias] {
                for i in tensor.offset..<(tensor.offset + tensor.count) {
                    values[i] = (2 * random.nextUnitFloat() - 1) * bound
                }
            }
        }
    }
}
