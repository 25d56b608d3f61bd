/// One `PerceiverLayer` of `transformers`: attention (cross or self) with its projections, then a
/// pre-LayerNorm MLP, each with a residual (docs/reference/perceiver.md B.2-B.4).
///
/// Shapes: B batch, Nq query rows of width Dq, Nk key/value rows of width Dkv.
struct PerceiverLayer: Sendable {
    let queryNorm: LayerNormWeights          // attention.self.layernorm1 (Dq)
    let keyValueNorm: LayerNormWeights?      // attention.self.layernorm2 (Dkv), cross-attention only
    let query: LinearWeights                 // Dq -> qk
    let key: LinearWeights                   // Dkv -> qk
    let value: LinearWeights                 // Dkv -> v
    let output: LinearWeights                // v -> Dq (cross) or v (self)
    let mlpNorm: LayerNormWeights            // layernorm
    let mlp1: LinearWeights                  // mlp.dense1: Dq -> widening * Dq
    let mlp2: LinearWeights                  // mlp.dense2
    let attention: MultiHeadAttention
    let useQueryResidual: Bool

    /// The dimensions of one layer, derived as in `PerceiverSelfAttention.__init__` (docs/reference/perceiver.md B.1).
    struct Shape {
        var isCross: Bool
        var queryDim: Int
        var keyValueDim: Int
        var qkChannels: Int?
        var vChannels: Int?
        var heads: Int
        var wideningFactor: Int
        var useQueryResidual: Bool
        var shapeForAttention = "kv"
        /// Whether the key projection is packed like the other layers; false when it is only read at load, to be
        /// folded into the constant queries (`FoldedCrossAttention`).
        var packsKey = true
        /// Whether the value projection is packed; false when it is only read at load, into the tables of a text
        /// model's keys and values (`TabulatedKeyValues`).
        var packsValue = true

        /// The query/key channels: `qk_channels`, else the key/value input's width (a cross-attention shaped
        /// "kv") or the queries'.
        var qk: Int { qkChannels ?? (isCross && shapeForAttention == "kv" ? keyValueDim : queryDim) }
        /// The value channels: `v_channels`, else `qk`.
        var v: Int { vChannels ?? qk }
    }

    /// The modules under a layer's prefix, as `transformers`' `PerceiverLayer` names them; each is a
    /// `LayerNorm` or `Linear` with `.weight` and `.bias`.
    enum Names {
        static let queryNorm = "attention.self.layernorm1"
        static let keyValueNorm = "attention.self.layernorm2"
        static let query = "attention.self.query"
        static let key = "attention.self.key"
        static let value = "attention.self.value"
        static let output = "attention.output.dense"
        static let mlpNorm = "layernorm"
        static let mlp1 = "mlp.dense1"
        static let mlp2 = "mlp.dense2"
    }

    /// Loads the layer under `prefix` (e.g. `perceiver.encoder.self_attends.3`).
    init(_ source: WeightSource, _ prefix: String, _ shape: Shape) throws(ModelLoadError) {
        let (qk, v) = (shape.qk, shape.v)
        let outDim = shape.isCross ? shape.queryDim : v
        guard qk % shape.heads == 0, v % shape.heads == 0 else {
            throw ModelLoadError.invalidConfig(key: "num_*_heads",
                                               reason: "\(prefix): qk (\(qk)) and v (\(v)) must divide by \(shape.heads) heads")
        }
        guard outDim == shape.queryDim else {
            throw ModelLoadError.invalidConfig(key: "v_channels",
                                               reason: "\(prefix): self-attention needs v_channels == d_latents")
        }
        let name = { (module: String) in prefix + "." + module }
        queryNorm = try LayerNormWeights(source, name(Names.queryNorm), channels: shape.queryDim)
        keyValueNorm = shape.isCross
            ? try LayerNormWeights(source, name(Names.keyValueNorm), channels: shape.keyValueDim) : nil
        query = try LinearWeights(source, name(Names.query), in: shape.queryDim, out: qk)
        key = try LinearWeights(source, name(Names.key), in: shape.keyValueDim, out: qk, pack: shape.packsKey)
        value = try LinearWeights(source, name(Names.value), in: shape.keyValueDim, out: v, pack: shape.packsValue)
        output = try LinearWeights(source, name(Names.output), in: v, out: outDim)
        mlpNorm = try LayerNormWeights(source, name(Names.mlpNorm), channels: shape.queryDim)
        let hidden = shape.wideningFactor * shape.queryDim
        mlp1 = try LinearWeights(source, name(Names.mlp1), in: shape.queryDim, out: hidden)
        mlp2 = try LinearWeights(source, name(Names.mlp2), in: hidden, out: shape.queryDim)
        attention = MultiHeadAttention(heads: shape.heads, qkChannels: qk, vChannels: v)
        useQueryResidual = shape.useQueryResidual
    }

    /// Rows of key/value input projected per call: bounds the layer-normed copy of a large input (the 182,528
    /// pixels of an optical-flow pair) to a chunk.
    static let projectionChunkRows = 16384

    /// - Parameters:
    ///   - x: `(B, Nq, Dq)` queries (latents or decoder queries).
    ///   - keyValues: `(B, Nk, Dkv)` inputs for cross-attention; nil for self-attention.
    ///   - keyBias: `(B, Nk)` additive mask bias, cross-attention only.
    ///   - projectedQueries: `(B, Nq, qk)`, `projectQueries(x)` computed before (cross-attention only), or nil.
    /// - Returns: `(B, Nq, Dq)`.
    func callAsFunction(_ x: [Float], batch: Int, queryRows: Int, keyValues: [Float]?, keyRows: Int,
                        keyBias: [Float]?, projectedQueries: [Float]? = nil,
                        context: ComputeContext) throws(InferenceError) -> [Float] {
        if let keyValues {
            let kv = try project(keyValues, batch: batch, rows: keyRows, bias: keyBias, context: context)
            return try self(x, batch: batch, queryRows: queryRows, keyValues: kv, batchOffset: 0,
                            projectedQueries: projectedQueries, context: context)
        }
        let rows = batch * queryRows
        let qn = try queryNorm(x, rows: rows, context: context)
        let kv = try project(normalized: qn, batch: batch, rows: queryRows, context: context)
        return try self(x, batch: batch, queryRows: queryRows, keyValues: kv, batchOffset: 0,
                        projectedQueries: try query(qn, rows: rows, context: context), context: context)
    }

    /// Cross-attention of `x (B, Nq, Dq)` to key/values already projected by `project`; batch element b of `x`
    /// attends to element `batchOffset + b` of them. `projectedQueries` is `projectQueries(x)` when the caller
    /// has it (queries that are rows of a constant table, projected at load), else nil. Returns `(B, Nq, Dq)`.
    func callAsFunction(_ x: [Float], batch: Int, queryRows: Int, keyValues: KeyValues, batchOffset: Int,
                        projectedQueries: [Float]? = nil, context: ComputeContext) throws(InferenceError) -> [Float] {
        var (a, hidden) = try residualAndHidden(x, batch: batch, queryRows: queryRows, keyValues: keyValues,
                                                batchOffset: batchOffset, projectedQueries: projectedQueries,
                                                context: context)
        try mlp2.accumulate(hidden, rows: batch * queryRows, into: &a, context: context)
        return a
    }

    /// The cross-attention `callAsFunction(_:batch:queryRows:keyValues:batchOffset:...)` computes, stopped
    /// before the MLP's second product: `A` (the output projection, plus the query residual) and the MLP's
    /// hidden rows `H = GELU(LN(A) W1^T + b1)`, whose sum `A + H W2^T + b2` is the layer's output. A decoder
    /// whose output goes through linear maps only folds `W2` into them (`DecoderTail`).
    func residualAndHidden(_ x: [Float], batch: Int, queryRows: Int, keyValues: KeyValues, batchOffset: Int,
                           projectedQueries: [Float]? = nil,
                           context: ComputeContext) throws(InferenceError) -> (residual: [Float], hidden: [Float]) {
        let q: [Float]
        if let projectedQueries { q = projectedQueries } else { q = try projectQueries(x, rows: batch * queryRows, context: context) }
        let heads = try attention(q: q, keyValues: keyValues, batchOffset: batchOffset, batch: batch,
                                  queryRows: queryRows, context: context)
        return try residualAndHidden(x, attended: heads, rows: batch * queryRows, context: context)
    }

    /// The attention queries of `x (rows, Dq)`: `LN1` then the query projection, `(rows, qk)`. Rows are
    /// independent, so the rows of a constant query table (learned latents, the masked-LM decoder's position
    /// embeddings, a classifier's query) are computed once at load and gathered per request.
    func projectQueries(_ x: [Float], rows: Int, context: ComputeContext) throws(InferenceError) -> [Float] {
        try query(try queryNorm(x, rows: rows, context: context), rows: rows, context: context)
    }

    /// Keys and values of a cross-attention input `(B, Nk, Dkv)`: `LN2` then the two projections, a chunk of
    /// rows at a time (in a bf16 model each chunk's keys and values are converted as they are projected).
    func project(_ input: [Float], batch: Int, rows: Int, bias: [Float]?,
                 context: ComputeContext) throws(InferenceError) -> KeyValues {
        guard keyValueNorm != nil else { preconditionFailure("project(_:) is for cross-attention layers") }
        let total = batch * rows
        precondition(input.count == total * key.inFeatures, "key/value input: shape mismatch")
        let chunk = min(total, Self.projectionChunkRows)
        if total <= chunk || context.precision == .f32 {
            var k = uninitializedFloats(total * key.outFeatures)
            var v = uninitializedFloats(total * value.outFeatures)
            try projectChunks(input, total: total, chunk: chunk, context: context) { (start, count, n) throws(InferenceError) in
                try k.withUnsafeMutableBufferPointer { (k) throws(InferenceError) in
                    try key.apply(n, rows: count, into: k.baseAddress! + start * key.outFeatures, context: context)
                }
                try v.withUnsafeMutableBufferPointer { (v) throws(InferenceError) in
                    try value.apply(n, rows: count, into: v.baseAddress! + start * value.outFeatures, context: context)
                }
            }
            return attention.keyValues(k: k, v: v, batch: batch, rows: rows, bias: bias, precision: context.precision)
        }
        var k = [UInt16](unsafeUninitializedCapacity: total * key.outFeatures) { $1 = $0.count }
        var v = [UInt16](unsafeUninitializedCapacity: total * value.outFeatures) { $1 = $0.count }
        var projected = uninitializedFloats(chunk * max(key.outFeatures, value.outFeatures))
        // Projects one chunk's normalized rows through `layer` and stores them, as bf16, at row `start` of `out`.
        func project(_ layer: LinearWeights, _ normalized: UnsafePointer<Float>, start: Int, count: Int,
                     into out: inout [UInt16]) throws(InferenceError) {
            try projected.withUnsafeMutableBufferPointer { (y) throws(InferenceError) in
                try layer.apply(normalized, rows: count, into: y.baseAddress!, context: context)
                out.withUnsafeMutableBufferPointer {
                    BFloat16.convert(y.baseAddress!, to: $0.baseAddress! + start * layer.outFeatures,
                                     count: count * layer.outFeatures)
                }
            }
        }
        try projectChunks(input, total: total, chunk: chunk, context: context) { (start, count, n) throws(InferenceError) in
            try project(key, n, start: start, count: count, into: &k)
            try project(value, n, start: start, count: count, into: &v)
        }
        return KeyValues(k: .bf16(k), v: .bf16(v), batch: batch, rows: rows, bias: bias)
    }

    /// Layer-normalizes `input` `chunk` rows at a time into one reused buffer and hands each chunk's first
    /// row, row count and normalized rows to `body`.
    private func projectChunks(_ input: [Float], total: Int, chunk: Int, context: ComputeContext,
                               _ body: (Int, Int, UnsafePointer<Float>) throws(InferenceError) -> Void)
        throws(InferenceError) {
        guard let keyValueNorm else { return }
        var normalized = uninitializedFloats(chunk * key.inFeatures)
        try input.withUnsafeBufferPointer { (src) throws(InferenceError) in
            try normalized.withUnsafeMutableBufferPointer { (n) throws(InferenceError) in
                for start in stride(from: 0, to: total, by: chunk) {
                    let count = min(chunk, total - start)
                    try context.layerNorm(rows: count, channels: keyValueNorm.channels,
                                          src: src.baseAddress! + start * key.inFeatures,
                                          gamma: keyValueNorm.gamma.data, beta: keyValueNorm.beta.data,
                                          dst: n.baseAddress!)
                    try body(start, count, n.baseAddress!)
                }
            }
        }
    }

    /// Self-attention's keys and values, from the layer-normed queries, in the type the context multiplies with.
    private func project(normalized: [Float], batch: Int, rows: Int,
                         context: ComputeContext) throws(InferenceError) -> KeyValues {
        attention.keyValues(k: try key(normalized, rows: batch * rows, context: context),
                            v: try value(normalized, rows: batch * rows, context: context),
                            batch: batch, rows: rows, bias: nil, precision: context.precision)
    }

    /// The rest of the layer after the attention, from its heads `(rows, v)`: the output projection, the optional
    /// query residual (`x (rows, Dq)`), then the MLP with its residual.
    func finish(_ x: [Float], attended heads: [Float], rows: Int,
                context: ComputeContext) throws(InferenceError) -> [Float] {
        var (a, hidden) = try residualAndHidden(x, attended: heads, rows: rows, context: context)
        // Y = A + MLP(LN(A)), the residual fused into dense2.
        try mlp2.accumulate(hidden, rows: rows, into: &a, context: context)
        return a
    }

    /// `finish` up to the MLP's second product: `A` and the MLP's hidden rows `GELU(LN(A) W1^T + b1)`.
    private func residualAndHidden(_ x: [Float], attended heads: [Float], rows: Int,
                                   context: ComputeContext) throws(InferenceError) -> (residual: [Float], hidden: [Float]) {
        // A = O Wo^T + bo (+ x when use_query_residual: the un-normalized query).
        var a: [Float]
        if useQueryResidual {
            a = x
            try output.accumulate(heads, rows: rows, into: &a, context: context)
        } else {
            a = try output(heads, rows: rows, context: context)
        }
        return (a, try mlpHidden(a, rows: rows, context: context))
    }

    /// The MLP's hidden rows `GELU(LN(A) W1^T + b1)` of the residual `a (rows, Dq)`.
    func mlpHidden(_ a: [Float], rows: Int, context: ComputeContext) throws(InferenceError) -> [Float] {
        try mlp1(try mlpNorm(a, rows: rows, context: context), rows: rows, context: context, gelu: true)
    }
}
