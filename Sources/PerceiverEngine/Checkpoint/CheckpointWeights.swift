/// A `WeightSource` over a loaded checkpoint that records which tensors were taken, so loading can refuse
/// a checkpoint with tensors the architecture does not use.
final class CheckpointWeights: WeightSource {
    let checkpoint: Checkpoint
    private var taken: Set<String> = []
    private(set) var parameterCount = 0
    var packer: ComputeContext?
    var retainedLayers: [String] = []

    init(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
    }

    func tensor(_ name: String, shape: [Int], isBuffer: Bool) throws(ModelLoadError) -> WeightTensor {
        guard let entry = checkpoint.info(name) else { throw ModelLoadError.missingTensor(name) }
        guard entry.shape == shape else {
            throw ModelLoadError.shapeMismatch(tensor: name, expected: shape, actual: entry.shape)
        }
        let tensor = try checkpoint.floatTensor(name)
        taken.insert(name)
        if !isBuffer { parameterCount += tensor.count }
        return tensor
    }

    func ignore(_ name: String) {
        if checkpoint.info(name) != nil { taken.insert(name) }
    }

    /// Throws `unusedTensor` for the first (sorted) checkpoint tensor nobody asked for.
    func checkAllUsed() throws(ModelLoadError) {
        for name in checkpoint.tensorNames where !taken.contains(name) {
            throw ModelLoadError.unusedTensor(name)
        }
    }
}
