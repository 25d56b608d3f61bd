import Foundation

/// A loaded Perceiver IO model: preprocessor, encoder, decoder and postprocessor with their weights, and
/// the compute context that runs them.
///
/// Weights are immutable after load and shared; `predict` serializes on the model's compute context, so
/// one model may be called from any thread.
public final class PerceiverModel: Sendable {
    /// The class from `config.json`.
    public let architecture: Architecture
    /// The parsed `config.json`.
    public let config: PerceiverConfig
    /// Trainable parameters (buffers such as BatchNorm running stats excluded), as `num_parameters()`.
    public let parameterCount: Int
    /// The dtypes the checkpoint stores (F32, F16, BF16); empty for random weights.
    public let storedDTypes: [String]
    /// The settings the model was loaded with.
    public let options: ExecutionOptions
    /// How an encoded image becomes `pixel_values` (image classifiers only): `preprocessor_config.json` or defaults.
    public let imageProcessor: ImageProcessor?

    let preprocessor: any InputPreprocessor
    let encoder: PerceiverEncoder
    let decoder: PerceiverDecoder
    let postprocessor: any Postprocessor
    /// The per-modality decoder of the multimodal family (whose `decoder` is then its shared inner decoder).
    let multimodal: MultimodalDecoder?
    let context: ComputeContext
    let counter = EngineCounter()

    init(config: PerceiverConfig, architecture: Architecture, source: WeightSource, storedDTypes: [String],
         options: ExecutionOptions, preprocessorConfig: Data? = nil) throws(ModelLoadError) {
        self.config = config
        imageProcessor = try ImageProcessor.forModel(architecture, config: config, json: preprocessorConfig)
        self.architecture = architecture
        self.storedDTypes = storedDTypes
        self.options = options
        do {
            context = try ComputeContext(threads: options.threads, precision: options.precision)
        } catch {
            throw ModelLoadError.invalidConfig(key: "threads", reason: "oneDNN engine could not start: \(error)")
        }
        // bf16: every linear layer is packed as it loads (and its f32 pages released).
        source.bf16Packer = options.precision == .bf16 ? context : nil
        defer { source.bf16Packer = nil }
        let parts = try architecture.family.build(source, config: config, context: context)
        preprocessor = parts.preprocessor
        encoder = try PerceiverEncoder(source, config: config, inputChannels: parts.preprocessor.numChannels)
        multimodal = parts.multimodal
        guard let decoder = parts.multimodal?.shared ?? parts.decoder else {
            throw ModelLoadError.invalidConfig(key: "architectures", reason: "\(architecture) builds no decoder")
        }
        self.decoder = decoder
        postprocessor = parts.postprocessor
        parameterCount = source.parameterCount
    }

    /// Runs one forward pass over a batch.
    /// - Throws: `InferenceError` naming the input at fault, or `.backend` on an engine failure.
    public func predict(_ inputs: ModelInputs) throws(InferenceError) -> ModelOutputs {
        try predict(inputs, context: context)
    }

    /// Runs several requests in one forward pass (see `forward(batch:context:)`): each gets its own outputs
    /// or its own error, in order.
    public func predict(batch items: [ModelInputs]) -> [Result<ModelOutputs, InferenceError>] {
        context.run { forward(batch: items, context: context) }
    }

    /// Forward passes run and rows computed so far, over every instance of this model.
    public var counts: EngineCounts { counter.counts }

    /// Floating-point operations of the matmuls this model's own context has run (2 per multiply-add): a
    /// benchmark divides the difference over one pass by its time.
    public var matmulFLOPs: Int { context.run { context.matmulFLOPs } }

    func predict(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> ModelOutputs {
        try context.run { () throws(InferenceError) -> ModelOutputs in try forward(inputs, context: context) }
    }

    /// One request's forward pass; the caller holds `context`.
    func forward(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> ModelOutputs {
        let prepared = try preprocessor(inputs, context: context)
        if let multimodal {
            let z = try encode(prepared, context: context)
            return try multimodal(inputs, latents: z, batch: prepared.batch, latentRows: encoder.numLatents,
                                  chunkRows: options.decoderChunkRows, context: context)
        }
        let queries = try decoder.queries(for: inputs, prepared: prepared)
        return ModelOutputs(logits: try forward(prepared, queries: queries, context: context))
    }

    /// The encoder over prepared inputs: the one place a forward pass is counted.
    private func encode(_ prepared: PreparedInputs, context: ComputeContext) throws(InferenceError) -> [Float] {
        counter.record(rows: prepared.batch)
        return try encoder(prepared, context: context)
    }

    /// Encoder, decoder and postprocessor over prepared inputs.
    func forward(_ prepared: PreparedInputs, queries: PerceiverDecoder.Queries,
                 context: ComputeContext) throws(InferenceError) -> Tensor {
        let z = try encode(prepared, context: context)
        let kv = try decoder.layer.project(z, batch: prepared.batch, rows: encoder.numLatents, bias: nil,
                                           context: context)
        let values = try decoder.decode(queries, keyValues: kv, chunkRows: options.decoderChunkRows,
                                        head: postprocessor, context: context)
        let channels = postprocessor.channels(decoded: decoder.outputChannels)
        return Tensor(shape: postprocessor.shape(batch: prepared.batch, queries: queries, channels: channels),
                      scalars: values)
    }

    /// The inputs this model takes, in metadata order.
    public var inputSpecs: [TensorSpec] {
        if let multimodal { return preprocessor.inputSpecs + multimodal.inputSpecs }
        return preprocessor.inputSpecs + [
            TensorSpec(name: "output_positions", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true),
            TensorSpec(name: "queries", datatypes: ["FP32"], shape: [-1, -1, decoder.queryChannels], isOptional: true),
        ]
    }

    /// The outputs this model produces, with their shapes for the default queries.
    public var outputSpecs: [TensorSpec] {
        if let multimodal { return multimodal.outputSpecs }
        let shape = postprocessor.metadataShape(decoded: decoder.outputChannels)
        return [TensorSpec(name: "logits", datatypes: ["FP32"], shape: shape, isOptional: false)]
    }

    /// Number of oneDNN primitives created so far; constant across repeated calls of one shape.
    var primitiveCount: Int { context.run { context.primitiveCount } }
}
