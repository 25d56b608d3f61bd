import Support

/// Where a model's tensors come from while it is built: a checkpoint on disk, or seeded random values.
///
/// Builders ask for every tensor by its exact `transformers` state-dict name and the shape the config
/// implies; the source refuses a missing tensor or a wrong shape, and afterwards reports tensors nobody
/// asked for.
protocol WeightSource: AnyObject {
    /// The float tensor `name`, which must have exactly `shape`. Buffers (BatchNorm running stats) are
    /// not counted as parameters.
    func tensor(_ name: String, shape: [Int], isBuffer: Bool) throws(ModelLoadError) -> WeightTensor
    /// Accepts `name` as known but unused by inference (BatchNorm's `num_batches_tracked`).
    func ignore(_ name: String)
    /// Sum of the element counts of every parameter handed out so far.
    var parameterCount: Int { get }
    /// The context that packs each linear layer's weights as it is loaded (`ComputeContext.pack`: a bf16
    /// model's, or an f32 model's where its linear layers run as convolutions); nil when nothing is packed.
    var packer: ComputeContext? { get set }
    /// How the prefixes of linear layers end whose loaded pages stay resident after packing, because a fold at
    /// load reads them once the model is built (`DecoderTail`); empty: every packed original is released.
    var retainedLayers: [String] { get set }
}

extension WeightSource {
    /// Whether the linear layer under `prefix` keeps its loaded pages after packing (`retainedLayers`).
    func retains(_ prefix: String) -> Bool {
        retainedLayers.contains { prefix.hasSuffix($0) }
    }
}

extension WeightSource {
    func tensor(_ name: String, shape: [Int]) throws(ModelLoadError) -> WeightTensor {
        try tensor(name, shape: shape, isBuffer: false)
    }
}

/// Deterministic pseudo-random weights for benchmarks and tests that need a model of a real size without
/// a checkpoint: linear weights uniform in ±1/sqrt(fan_in), layer-norm scales 1, the rest small.
final class RandomWeights: WeightSource {
    private var generator: SplitMix64
    private(set) var parameterCount = 0
    var packer: ComputeContext?
    var retainedLayers: [String] = []

    init(seed: UInt64) {
        // One increment past `seed`, as these weights have always been drawn, so that `PerceiverModel.random`
        // builds the same model for the same seed (RandomWeightsTests pins the first values).
        generator = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    func tensor(_ name: String, shape: [Int], isBuffer: Bool) throws(ModelLoadError) -> WeightTensor {
        let count = shape.reduce(1, *)
        if !isBuffer { parameterCount += count }
        let isNorm = name.contains("layernorm") || name.contains("batchnorm")
        if isNorm && (name.hasSuffix(".weight") || name.hasSuffix("running_var")) {
            return WeightTensor(shape: shape, values: [Float](repeating: 1, count: count))
        }
        let bound: Float = shape.count >= 2 ? 1 / Float(shape.dropFirst().reduce(1, *)).squareRoot() : 0.05
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = generator.nextFloat(in: -bound...bound) }
        return WeightTensor(shape: shape, values: values)
    }

    func ignore(_ name: String) {}
}
