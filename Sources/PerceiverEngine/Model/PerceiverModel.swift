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

    let preprocessor: any InputPreprocessor
    let encoder: PerceiverEncoder
    let decoder: PerceiverDecoder
    let postprocessor: Postprocessor
    let context: ComputeContext
    let counter = EngineCounter()

    init(config: PerceiverConfig, architecture: Architecture, source: WeightSource, storedDTypes: [String],
         options: ExecutionOptions) throws(ModelLoadError) {
        guard options.precision == .f32 else {
            throw ModelLoadError.unsupportedPrecision(options.precision.rawValue)
        }
        self.config = config
        self.architecture = architecture
        self.storedDTypes = storedDTypes
        self.options = options
        do {
            context = try ComputeContext(threads: options.threads)
        } catch {
            throw ModelLoadError.invalidConfig(key: "threads", reason: "oneDNN engine could not start: \(error)")
        }
        let parts = try Self.build(architecture, config: config, source: source, context: context)
        preprocessor = parts.preprocessor
        encoder = try PerceiverEncoder(source, config: config, inputChannels: parts.preprocessor.numChannels)
        decoder = parts.decoder
        postprocessor = parts.postprocessor
        parameterCount = source.parameterCount
    }

    /// The family-specific parts of `architecture` (PERCEIVER.md A).
    private static func build(_ architecture: Architecture, config: PerceiverConfig, source: WeightSource,
                              context: ComputeContext) throws(ModelLoadError)
        -> (preprocessor: any InputPreprocessor, decoder: PerceiverDecoder, postprocessor: Postprocessor) {
        switch architecture {
        case .maskedLM:
            let text = try TextPreprocessor(source, config: config)
            let bias = try source.tensor("embedding_decoder.bias", shape: [config.vocabSize])
            return (text, try .maskedLanguageModel(source, config: config),
                    .embeddingDecoder(LinearWeights(weight: text.embeddings, bias: bias)))
        case .sequenceClassification:
            return (try TextPreprocessor(source, config: config), try .classification(source, config: config),
                    .classification)
        case .imageClassificationLearned:
            return (try LearnedImagePreprocessor(source, config: config, context: context),
                    try .classification(source, config: config), .classification)
        case .imageClassificationFourier:
            return (FourierImagePreprocessor(), try .classification(source, config: config), .classification)
        case .imageClassificationConvProcessing:
            return (try ConvImagePreprocessor(source), try .classification(source, config: config), .classification)
        }
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

    func predict(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> ModelOutputs {
        try context.run { () throws(InferenceError) -> ModelOutputs in
            let prepared = try preprocessor(inputs, context: context)
            let queries = try decoder.queries(for: inputs, prepared: prepared)
            return ModelOutputs(logits: try forward(prepared, queries: queries, context: context))
        }
    }

    /// Encoder, decoder and postprocessor over prepared inputs: the one place a forward pass is counted.
    func forward(_ prepared: PreparedInputs, queries: PerceiverDecoder.Queries,
                 context: ComputeContext) throws(InferenceError) -> Tensor {
        counter.record(rows: prepared.batch)
        let z = try encoder(prepared, context: context)
        let decoded = try decoder(queries, latents: z, batch: prepared.batch, latentRows: encoder.numLatents,
                                  context: context)
        return try postprocessor(decoded, batch: prepared.batch, queries: queries, channels: decoder.outputChannels,
                                 context: context)
    }

    /// The inputs this model takes, in metadata order.
    public var inputSpecs: [TensorSpec] {
        preprocessor.inputSpecs + [
            TensorSpec(name: "output_positions", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true),
            TensorSpec(name: "queries", datatypes: ["FP32"], shape: [-1, -1, decoder.queryChannels], isOptional: true),
        ]
    }

    /// The outputs this model produces.
    public var outputSpecs: [TensorSpec] {
        let shape = architecture.isClassifier ? [-1, decoder.outputChannels] : [-1, -1, config.vocabSize]
        return [TensorSpec(name: "logits", datatypes: ["FP32"], shape: shape, isOptional: false)]
    }

    /// Number of oneDNN primitives created so far; constant across repeated calls of one shape.
    var primitiveCount: Int { context.run { context.primitiveCount } }
}
