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
    /// The decoder layer's last product folded into the final layer or `postprocessor` (`DecoderTail`), in an
    /// f32 model where that narrows; nil otherwise (and for the multimodal decoder).
    let outputTail: DecoderTail?
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
            context = try ComputeContext(threads: options.threads, precision: options.precision,
                                         f32Linear: options.f32Linear)
        } catch {
            throw ModelLoadError.invalidConfig(key: "threads", reason: "oneDNN engine could not start: \(error)")
        }
        // bf16, or f32 through the convolution: every linear layer is packed as it loads (its pages released).
        source.packer = context.packsWeights ? context : nil
        let folds = options.foldsCrossAttention && options.precision == .f32
        source.retainedLayers = folds ? DecoderTail.readLayers : []
        defer { (source.packer, source.retainedLayers) = (nil, []) }
        let parts = try architecture.family.build(source, config: config, context: context)
        preprocessor = try Self.interpolating(parts.preprocessor, options.interpolatePositionEncoding)
        let encoder = try PerceiverEncoder(source, config: config, inputChannels: parts.preprocessor.numChannels,
                                           folding: folds, text: parts.preprocessor as? TextPreprocessor)
        var multimodal = parts.multimodal
        multimodal?.shared.foldsAttention = folds
        self.multimodal = multimodal
        guard var decoder = multimodal?.shared ?? parts.decoder else {
            throw ModelLoadError.invalidConfig(key: "architectures", reason: "\(architecture) builds no decoder")
        }
        decoder.foldsAttention = folds
        // The query side that is weights (the latents, a query table) projected once, here.
        let context = self.context
        do {
            (self.encoder, self.decoder) = try context.run { () throws(InferenceError) in
                (try encoder.projectingLatents(context: context), try decoder.projectingTable(context: context))
            }
        } catch {
            throw ModelLoadError.invalidConfig(key: "architectures", reason: "projecting the constant queries: \(error)")
        }
        postprocessor = parts.postprocessor
        outputTail = folds && parts.multimodal == nil
            ? try DecoderTail.of(decoder, head: parts.postprocessor, context: context) : nil
        // The originals kept for the folds (`DecoderTail.readLayers`): the tail has read its two; the query
        // projection stays only where a decode may fold a single-head attention (`FoldedDecoderAttention`).
        decoder.layer.mlp2.releaseRetainedOriginal()
        decoder.finalLayer?.releaseRetainedOriginal()
        if decoder.layer.attention.heads != 1 { decoder.layer.query.releaseRetainedOriginal() }
        parameterCount = source.parameterCount
    }

    /// Runs one forward pass over a batch.
    /// - Throws: `InferenceError` naming the input at fault, or `.backend` on an engine failure.
    /// Optical-flow frames larger than `train_size` are tiled (`FlowTiling`, `predictTiled`).
    public func predict(_ inputs: ModelInputs) throws(InferenceError) -> ModelOutputs {
        if let tiling = try flowTiling(inputs) { return try predictTiled(inputs, tiling: tiling) }
        return try predict(inputs, context: context)
    }

    /// Runs several requests in one forward pass (see `forward(batch:context:)`): each gets its own outputs
    /// or its own error, in order.
    public func predict(batch items: [ModelInputs]) -> [Result<ModelOutputs, InferenceError>] {
        context.run { forward(batch: items, context: context) }
    }

    /// Runs the encoder over `inputs` and returns its latents, which any number of `decode` calls can read.
    /// They keep only what the decoder needs later: the input's length, or an optical-flow pair's frames (not
    /// its preprocessed array).
    /// - Throws: `InferenceError` naming the input at fault, or `.backend` on an engine failure.
    public func encode(_ inputs: ModelInputs) throws(InferenceError) -> Latents {
        try context.run { () throws(InferenceError) -> Latents in
            try encode(inputs, context: context).keepingOnlyInputs()
        }
    }

    /// Decodes `latents` for the outputs `selection` asks for (`output_positions`, `queries`,
    /// `output_positions_<modality>`; nothing: the default outputs), with no encoder pass. The outputs equal
    /// those of `predict` on the inputs the latents came from (bit for bit for the default outputs; rows the
    /// optical-flow decoder rebuilds for chosen pixels within the rounding of a shorter matmul).
    /// - Throws: `InferenceError` naming the selection at fault, or `.backend` on an engine failure.
    public func decode(_ latents: Latents, selecting selection: ModelInputs = ModelInputs())
        throws(InferenceError) -> ModelOutputs {
        try checkShape(of: latents)
        return try context.run { () throws(InferenceError) -> ModelOutputs in
            try decode(latents, selection, context: context)
        }
    }

    /// Latents given as a tensor (the `latents` input): `(B, N, D)` of this model, with `selection` supplying
    /// what the decoder needs from the input side (an optical-flow pair's frames).
    /// - Throws: `InferenceError.badShape` naming `latents` when the shape is not this model's.
    public func latents(_ tensor: Tensor, for selection: ModelInputs) throws(InferenceError) -> Latents {
        let (n, d) = (encoder.numLatents, encoder.latentChannels)
        guard tensor.shape.count == 3, tensor.shape[0] >= 1, tensor.shape[1] == n, tensor.shape[2] == d else {
            throw InferenceError.badShape(tensor: "latents", expected: "(B, \(n), \(d))", actual: tensor.shape)
        }
        let rows = preprocessor.rowSource(selection)
        let rowCount = rows == nil ? (selection.inputIDs?.shape.last ?? 0) : preparedRowCount
        return Latents(batch: tensor.shape[0], latentCount: n, channels: d, values: tensor.scalars,
                       side: InputSide(rowCount: rowCount, rows: rows))
    }

    /// M when it is fixed by the model (optical flow's pixels), else 0.
    var preparedRowCount: Int {
        if let flow = preprocessor as? FlowPreprocessor { return flow.height * flow.width }
        return 0
    }

    func checkShape(of latents: Latents) throws(InferenceError) {
        guard latents.latentCount == encoder.numLatents, latents.channels == encoder.latentChannels else {
            throw InferenceError.badShape(tensor: "latents", expected: "(B, \(encoder.numLatents), "
                                          + "\(encoder.latentChannels))",
                                          actual: [latents.batch, latents.latentCount, latents.channels])
        }
    }

    /// Runs requests, some with latents already encoded, in as few passes as possible (`forward(batch:)`):
    /// each gets its own outputs and the latents it was encoded into, or its own error, in order.
    public func predict(batch requests: [PassRequest]) -> [Result<PassResult, InferenceError>] {
        context.run { forward(batch: requests, context: context) }
    }

    /// Forward passes run and rows computed so far, over every instance of this model.
    public var counts: EngineCounts { counter.counts }

    /// Floating-point operations of the matmuls this model's own context has run (2 per multiply-add): a
    /// benchmark divides the difference over one pass by its time.
    public var matmulFLOPs: Int { context.run { context.matmulFLOPs } }

    /// The matmul FLOPs of the model's arithmetic as `transformers` computes it that folds removed from this
    /// model's passes so far (`FoldedCrossAttention`, `TabulatedKeyValues`, `FoldedDecoderAttention`,
    /// `DecoderTail`): `matmulFLOPs + foldedFLOPs` is what they would have run.
    public var foldedFLOPs: Int { context.run { context.foldedFLOPs } }

    /// `body` (calls of this model's own `predict`) with every primitive timed, and the table of those times
    /// (`OpProfile`): for benchmarks and tests; serving never profiles. Every pass on the model's own context
    /// while `body` runs is counted, from whichever thread, so profile a model nothing else is using.
    public func profiled<T>(_ body: () throws -> T) rethrows -> (T, OpProfile) {
        context.run { context.startProfiling() }
        defer { _ = context.run { context.stopProfiling() } }
        let result = try body()
        return (result, context.run { context.stopProfiling() })
    }

    func predict(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> ModelOutputs {
        try context.run { () throws(InferenceError) -> ModelOutputs in try forward(inputs, context: context) }
    }

    /// One request's forward pass, the encoder then the decoder; the caller holds `context`.
    /// With a `latents` input, the decoder alone.
    func forward(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> ModelOutputs {
        if let given = try givenLatents(inputs) { return try decode(given, inputs, context: context) }
        return try decode(try encode(inputs, context: context), inputs, context: context)
    }

    /// The preprocessor and the encoder over `inputs`; the latents' input side holds the preprocessed rows
    /// (and how to rebuild them once the pass is over). The caller holds `context`.
    func encode(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> Latents {
        let prepared = try preprocessor(inputs, context: context)
        let z = try encode(prepared, context: context)
        let rows = preprocessor.rowSource(inputs).map { HeldRows(prepared: prepared, rebuild: $0) }
        return Latents(batch: prepared.batch, latentCount: encoder.numLatents, channels: encoder.latentChannels,
                       values: z, side: InputSide(rowCount: prepared.rows, rows: rows))
    }

    /// The encoder over prepared inputs: the one place a forward pass is counted.
    func encode(_ prepared: PreparedInputs, context: ComputeContext) throws(InferenceError) -> [Float] {
        counter.record(rows: prepared.batch)
        return try encoder(prepared, context: context)
    }

    /// The decoder over `latents` for the outputs `inputs` selects; no encoder pass. The caller holds `context`.
    func decode(_ latents: Latents, _ inputs: ModelInputs, context: ComputeContext) throws(InferenceError)
        -> ModelOutputs {
        if let multimodal {
            return try multimodal(inputs, latents: latents.values, batch: latents.batch,
                                  latentRows: encoder.numLatents, chunkRows: options.decoderChunkRows, context: context)
        }
        let queries = try decoder.queries(for: inputs, side: latents.side, batch: latents.batch, context: context)
        return ModelOutputs(logits: try decode(latents.values, batch: latents.batch, queries: queries,
                                               context: context))
    }

    /// The decoder and postprocessor over latents `z (B, N, D)`.
    func decode(_ z: [Float], batch: Int, queries: PerceiverDecoder.Queries,
                context: ComputeContext) throws(InferenceError) -> Tensor {
        let kv = try decoder.layer.project(z, batch: batch, rows: encoder.numLatents, bias: nil, context: context)
        let values = try decoder.decode(queries, keyValues: kv, chunkRows: options.decoderChunkRows,
                                        head: postprocessor, tail: outputTail, context: context)
        let channels = postprocessor.channels(decoded: decoder.outputChannels)
        return Tensor(shape: postprocessor.shape(batch: batch, queries: queries, channels: channels), scalars: values)
    }

    /// Whether it takes `interpolate_pos_encoding` (`ModelInputs.interpolatePositionEncoding`): a
    /// `PerceiverForImageClassificationLearned`, whose learned positions can be interpolated to any image size.
    public var interpolatesPositionEncoding: Bool { preprocessor is LearnedImagePreprocessor }

    /// `preprocessor`, interpolating on every request when `always` (`ExecutionOptions.interpolatePositionEncoding`).
    /// - Throws: `ModelLoadError.invalidConfig` when it has no learned positions to interpolate.
    private static func interpolating(_ preprocessor: any InputPreprocessor,
                                      _ always: Bool) throws(ModelLoadError) -> any InputPreprocessor {
        guard always else { return preprocessor }
        guard var learned = preprocessor as? LearnedImagePreprocessor else {
            throw ModelLoadError.invalidConfig(key: "interpolate_pos_encoding",
                                               reason: "applies to PerceiverForImageClassificationLearned only")
        }
        learned.alwaysInterpolates = true
        return learned
    }

    /// The inputs this model takes, in metadata order.
    public var inputSpecs: [TensorSpec] {
        if let multimodal { return preprocessor.inputSpecs + multimodal.inputSpecs + [latentsSpec] }
        return preprocessor.inputSpecs + [
            TensorSpec(name: "output_positions", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true),
            TensorSpec(name: "queries", datatypes: ["FP32"], shape: [-1, -1, decoder.queryChannels], isOptional: true),
            latentsSpec,
        ]
    }

    /// `latents (B, N, D)`: as an input, latents a client got back from an earlier request (the `latents`
    /// output), decoded without the encoder; the encoder inputs may then be left out, except what the decoder
    /// still reads from them (an optical-flow pair's frames).
    public var latentsSpec: TensorSpec {
        TensorSpec(name: "latents", datatypes: ["FP32"], shape: [-1, encoder.numLatents, encoder.latentChannels],
                   isOptional: true)
    }

    /// The `latents` input as latents, when given.
    /// - Throws: `InferenceError.badShape` when it is not this model's `(B, N, D)`.
    func givenLatents(_ inputs: ModelInputs) throws(InferenceError) -> Latents? {
        guard let value = inputs["latents"] else { return nil }
        guard case .floats(let tensor) = value else {
            throw InferenceError.badValue(tensor: "latents", reason: "latents are FP32")
        }
        return try latents(tensor, for: inputs)
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
