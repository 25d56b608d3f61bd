/// One `PerceiverLayer` of `transformers`: attention (cross or self) with its projections, then a
/// pre-LayerNorm MLP, each with a residual (PERCEIVER.md B.2-B.4).
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

    /// The dimensions of one layer, derived as in `PerceiverSelfAttention.__init__` (PERCEIVER.md B.1).
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
    }

    /// Loads the layer under `prefix` (e.g. `perceiver.encoder.self_attends.3`).
    init(_ source: WeightSource, _ prefix: String, _ shape: Shape) throws(ModelLoadError) {
        let qk = shape.qkChannels
            ?? (shape.isCross && shape.shapeForAttention == "kv" ? shape.keyValueDim : shape.queryDim)
        let v = shape.vChannels ?? qk
        let outDim = shape.isCross ? shape.queryDim : v
        guard qk % shape.heads == 0, v % shape.heads == 0 else {
            throw ModelLoadError.invalidConfig(key: "num_*_heads",
                                               reason: "\(prefix): qk (\(qk)) and v (\(v)) must divide by \(shape.heads) heads")
        }
        guard outDim == shape.queryDim else {
            throw ModelLoadError.invalidConfig(key: "v_channels",
                                               reason: "\(prefix): self-attention needs v_channels == d_latents")
        }
        let a = prefix + ".attention"
        queryNorm = try LayerNormWeights(source, a + ".self.layernorm1", channels: shape.queryDim)
        keyValueNorm = shape.isCross
            ? try LayerNormWeights(source, a + ".self.layernorm2", channels: shape.keyValueDim) : nil
        query = try LinearWeights(source, a + ".self.query", in: shape.queryDim, out: qk)
        key = try LinearWeights(source, a + ".self.key", in: shape.keyValueDim, out: qk)
        value = try LinearWeights(source, a + ".self.value", in: shape.keyValueDim, out: v)
        output = try LinearWeights(source, a + ".output.dense", in: v, out: outDim)
        mlpNorm = try LayerNormWeights(source, prefix + ".layernorm", channels: shape.queryDim)
        let hidden = shape.wideningFactor * shape.queryDim
        mlp1 = try LinearWeights(source, prefix + ".mlp.dense1", in: shape.queryDim, out: hidden)
        mlp2 = try LinearWeights(source, prefix + ".mlp.dense2", in: hidden, out: shape.queryDim)
        attention = MultiHeadAttention(heads: shape.heads, qkChannels: qk, vChannels: v)
        useQueryResidual = shape.useQueryResidual
    }

    /// - Parameters:
    ///   - x: `(B, Nq, Dq)` queries (latents or decoder queries).
    ///   - keyValues: `(B, Nk, Dkv)` inputs for cross-attention; nil for self-attention.
    ///   - keyBias: `(B, Nk)` additive mask bias, cross-attention only.
    /// - Returns: `(B, Nq, Dq)`.
    func callAsFunction(_ x: [Float], batch: Int, queryRows: Int, keyValues: [Float]?, keyRows: Int,
                        keyBias: [Float]?, context: ComputeContext) throws(InferenceError) -> [Float] {
        let rows = batch * queryRows
        let qn = try queryNorm(x, rows: rows, context: context)
        let kvRows = keyValues == nil ? rows : batch * keyRows
        let kvn: [Float]
        if let keyValues, let keyValueNorm {
            kvn = try keyValueNorm(keyValues, rows: kvRows, context: context)
        } else {
            kvn = qn
        }
        let q = try query(qn, rows: rows, context: context)
        let k = try key(kvn, rows: kvRows, context: context)
        let v = try value(kvn, rows: kvRows, context: context)
        let heads = try attention(q: q, k: k, v: v, batch: batch, queryRows: queryRows,
                                  keyRows: keyValues == nil ? queryRows : keyRows,
                                  keyBias: keyBias, context: context)
        // A = O Wo^T + bo (+ x when use_query_residual: the un-normalized query).
        var a: [Float]
        if useQueryResidual {
            a = x
            try output.accumulate(heads, rows: rows, into: &a, context: context)
        } else {
            a = try output(heads, rows: rows, context: context)
        }
        // Y = A + MLP(LN(A)), the residual fused into dense2.
        let hidden = try mlp1(try mlpNorm(a, rows: rows, context: context), rows: rows, context: context, gelu: true)
        try mlp2.accumulate(hidden, rows: rows, into: &a, context: context)
        return a
    }
}
