/// `PerceiverEncoder`: learned latents cross-attend once to the inputs, then a stack of self-attention
/// layers applied `num_blocks` times with shared weights (docs/reference/perceiver.md B.5).
///
/// Shapes: B batch, M input rows of C channels, N latents of D channels.
struct PerceiverEncoder: Sendable {
    let latents: WeightTensor            // (N, D) perceiver.embeddings.latents
    let crossAttention: PerceiverLayer
    let selfAttends: [PerceiverLayer]
    let numBlocks: Int
    /// `(N, qk)`: the latents' queries for the cross-attention (`PerceiverLayer.projectQueries`), computed once
    /// at load by `projectingLatents(context:)`: the latents are weights, so their layer norm and query
    /// projection are the same in every pass. Nil until then.
    private(set) var projectedLatents: [Float]?
    /// Whether `projectingLatents` folds the cross-attention into the latents' queries (`FoldedCrossAttention`):
    /// decided as the layer loads, since its key projection is then read once at load and never packed.
    let foldsCrossAttention: Bool
    /// The fold, made by `projectingLatents` when `foldsCrossAttention`; nil until then, or without one.
    private(set) var foldedCrossAttention: FoldedCrossAttention?
    /// Whether `projectingLatents` tabulates the cross-attention's keys and values over a text model's embeddings
    /// (`TabulatedKeyValues`): decided as the layer loads, since its two projections are then read once at load.
    let tabulatesKeyValues: Bool
    /// The text preprocessor whose tables `projectingLatents` projects, while `tabulatesKeyValues`.
    private let text: TextPreprocessor?
    /// The tables, made by `projectingLatents` when `tabulatesKeyValues`; nil until then, or without them.
    private(set) var tabulatedKeyValues: TabulatedKeyValues?

    var numLatents: Int { latents.shape[0] }
    var latentChannels: Int { latents.shape[1] }

    /// The encoder's tensor names, the same in every `PerceiverFor*` checkpoint (`PerceiverModel.embeddings` and
    /// `.encoder`); the layers' own modules are `PerceiverLayer.Names` under these prefixes.
    enum Names {
        static let latents = "perceiver.embeddings.latents"
        static let crossAttention = "perceiver.encoder.cross_attention"
        static func selfAttention(_ index: Int) -> String { "perceiver.encoder.self_attends.\(index)" }
    }

    /// - Parameters:
    ///   - folding: whether the cross-attention may fold (an f32 model with `foldsCrossAttention` set): into the
    ///     latents' queries where that is cheaper (`FoldedCrossAttention.isCheaper`), or, for the inputs of
    ///     `text`, into tables of keys and values where they fit (`TabulatedKeyValues.fits`); where both could,
    ///     the one with fewer FLOPs per input row.
    ///   - text: the model's text preprocessor, or nil.
    init(_ source: WeightSource, config: PerceiverConfig, inputChannels: Int, folding: Bool = false,
         text: TextPreprocessor? = nil) throws(ModelLoadError) {
        latents = try source.tensor(Names.latents, shape: [config.numLatents, config.dLatents])
        var cross = PerceiverLayer.Shape(
            isCross: true, queryDim: config.dLatents, keyValueDim: inputChannels,
            qkChannels: config.qkChannels, vChannels: config.vChannels,
            heads: config.numCrossAttentionHeads, wideningFactor: config.crossAttentionWideningFactor,
            useQueryResidual: config.useQueryResidual, shapeForAttention: config.crossAttentionShapeForAttention)
        let n = config.numLatents
        let folds = folding && FoldedCrossAttention.isCheaper(
            latents: n, inputChannels: inputChannels, qk: cross.qk, v: cross.v, heads: cross.heads)
        let tabulates = folding && text.map {
            TabulatedKeyValues.fits(tokens: $0.vocabularySize, positions: $0.maxLength, qk: cross.qk, v: cross.v)
        } == true
        // Per input row, the fold multiplies 2 N C; the tables leave the two attention products, (qk + v) N.
        foldsCrossAttention = folds && !(tabulates && (cross.qk + cross.v) * n <= 2 * n * inputChannels)
        tabulatesKeyValues = tabulates && !foldsCrossAttention
        self.text = tabulatesKeyValues ? text : nil
        cross.packsKey = !foldsCrossAttention && !tabulatesKeyValues
        cross.packsValue = !tabulatesKeyValues
        crossAttention = try PerceiverLayer(source, Names.crossAttention, cross)
        var layers: [PerceiverLayer] = []
        for i in 0..<config.numSelfAttendsPerBlock {
            layers.append(try PerceiverLayer(source, Names.selfAttention(i), .init(
                isCross: false, queryDim: config.dLatents, keyValueDim: config.dLatents,
                qkChannels: config.qkChannels, vChannels: config.vChannels,
                heads: config.numSelfAttentionHeads, wideningFactor: config.selfAttentionWideningFactor,
                useQueryResidual: true)))
        }
        selfAttends = layers
        numBlocks = config.numBlocks
    }

    /// - Parameters:
    ///   - inputs: `(B, M, C)` preprocessed inputs.
    ///   - keyBias: `(B, M)` additive mask bias or nil.
    /// - Returns: `z`, `(B, N, D)`.
    func callAsFunction(_ inputs: PreparedInputs, context: ComputeContext) throws(InferenceError) -> [Float] {
        let latentCount = latents.count
        var z = uninitializedFloats(inputs.batch * latentCount)
        z.withUnsafeMutableBufferPointer { dst in
            for b in 0..<inputs.batch {
                (dst.baseAddress! + b * latentCount).update(from: latents.data, count: latentCount)
            }
        }
        if let foldedCrossAttention {
            z = try foldedCrossAttention(crossAttention, latents: z, batch: inputs.batch, inputs: inputs.values,
                                         inputRows: inputs.rows, keyBias: inputs.keyBias, context: context)
        } else if let tabulatedKeyValues, let tokens = inputs.tokens {
            let kv = try tabulatedKeyValues.keyValues(tokens: tokens, inputs: inputs.values, batch: inputs.batch,
                                                      rows: inputs.rows, bias: inputs.keyBias,
                                                      attention: crossAttention.attention, context: context)
            z = try crossAttention(z, batch: inputs.batch, queryRows: numLatents, keyValues: kv, batchOffset: 0,
                                   projectedQueries: projectedLatents.map { repeated($0, times: inputs.batch) },
                                   context: context)
        } else {
            z = try crossAttention(z, batch: inputs.batch, queryRows: numLatents, keyValues: inputs.values,
                                   keyRows: inputs.rows, keyBias: inputs.keyBias,
                                   projectedQueries: projectedLatents.map { repeated($0, times: inputs.batch) },
                                   context: context)
        }
        // Every self-attention layer has the same shapes: a warm-up runs one, which creates their primitives.
        let (blocks, layers) = context.warmsUp ? (min(numBlocks, 1), Array(selfAttends.prefix(1)))
            : (numBlocks, selfAttends)
        for _ in 0..<blocks {
            for layer in layers {
                z = try layer(z, batch: inputs.batch, queryRows: numLatents, keyValues: nil, keyRows: numLatents,
                              keyBias: nil, context: context)
            }
        }
        return z
    }

    /// This encoder with `projectedLatents`, or where it folds `foldedCrossAttention` (made from them, which
    /// the pass then reads instead), and where it tabulates `tabulatedKeyValues`, computed on `context` (held
    /// by the caller).
    func projectingLatents(context: ComputeContext) throws(InferenceError) -> PerceiverEncoder {
        var copy = self
        let queries = try crossAttention.projectQueries(latents.values, rows: numLatents, context: context)
        if foldsCrossAttention {
            copy.foldedCrossAttention = try FoldedCrossAttention(crossAttention, projectedQueries: queries,
                                                                 rows: numLatents, context: context)
        } else {
            copy.projectedLatents = queries
        }
        if let text {
            copy.tabulatedKeyValues = try TabulatedKeyValues(crossAttention, text: text, context: context)
        }
        return copy
    }
}
