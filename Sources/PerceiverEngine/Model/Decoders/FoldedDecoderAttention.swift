/// A single-head decoder cross-attention folded into its keys and values, once per request (issue 23).
///
/// The decoder's keys `K (Nk, qk)` and values `V (Nk, v)` come from the latents, once a request
/// (`PerceiverLayer.project`); its queries `Q = LN1(X) Wq^T + bq` are query rows, often many (optical flow: one a
/// pixel). With one head and scale s,
///
///     s Q K^T = LN1(X) (s K Wq)^T + 1 (s K bq)^T
///
/// so the scores come straight from the layer-normed query rows against `G = s K Wq (Nk, Dq)`, plus one bias per
/// key, `g = s K bq`, which the attention adds as it adds a mask. Each row of the probabilities `P` sums to 1, so
/// the output projection moves before the attention:
///
///     P V Wo^T + bo = P U,   U = V Wo^T + 1 bo^T   (Nk, Dout)
///
/// `G`, `g` and `U` cost `Nk qk Dq + Nk v Dout` multiply-adds a request; each query row then costs
/// `Nk (Dq + Dout)` instead of `Dq qk` (the query projection) `+ Nk (qk + v) + v Dout`. A decode folds where that
/// is fewer for the rows it decodes (`costs`): optical flow's full field (182,528 pixels, Nk = 2,048,
/// Dq = Dout = 322, qk = v = 512) multiplies 483 GFLOP there instead of 886; a classifier's single query does not
/// fold.
/// The rounding is that of reordered f32 sums (`FoldedDecoderAttentionTests`; flow and multimodal against
/// `transformers` in `FoldedCrossAttentionTests`).
struct FoldedDecoderAttention {
    /// `G (B, Nk, Dq)` as keys, `U (B, Nk, Dout)` as values, `g` (plus the latents' own bias, if any) as the bias.
    let keyValues: KeyValues
    /// One head over the query rows' `Dq` channels; the scale is inside `G`.
    let attention: MultiHeadAttention
    /// The matmul FLOPs the fold removes from the decode (per-request work counted against it).
    let savedFLOPs: Int

    /// The multiply-adds of `rows` query rows (of `batch` elements) through the attention and output projection,
    /// folded and not; `projected`: the queries' projections are at hand (a query table's), so the unfolded
    /// attention would not project them.
    static func costs(_ layer: PerceiverLayer, keyRows nk: Int, batch: Int, rows: Int,
                      projected: Bool) -> (folded: Int, unfolded: Int) {
        let (dq, qk, v, dout) = (layer.query.inFeatures, layer.query.outFeatures, layer.value.outFeatures,
                                 layer.output.outFeatures)
        let folded = batch * nk * (qk * dq + v * dout) + rows * nk * (dq + dout)
        let unfolded = rows * ((projected ? 0 : dq * qk) + nk * (qk + v) + v * dout)
        return (folded, unfolded)
    }

    /// The fold of `layer` over its projected `keyValues` for `rows` query rows, or nil where it would not save
    /// FLOPs (or the layer has several heads, or the keys are bf16). Reads the query projection's weights as
    /// loaded (`WeightSource.retainedLayers`).
    init?(_ layer: PerceiverLayer, keyValues kv: KeyValues, rows: Int, projected: Bool,
          context: ComputeContext) throws(InferenceError) {
        guard layer.attention.heads == 1, case .f32(let k) = kv.k, case .f32(let v) = kv.v else { return nil }
        let (folded, unfolded) = Self.costs(layer, keyRows: kv.rows, batch: kv.batch, rows: rows, projected: projected)
        guard folded < unfolded else { return nil }
        let (dq, qk, total) = (layer.query.inFeatures, layer.query.outFeatures, kv.batch * kv.rows)
        let scale = layer.attention.scoreScale ?? Float(1 / Double(qk).squareRoot())
        // G = s K Wq: (B Nk, qk) x (qk, Dq), Wq read as stored.
        let g = try layer.query.leftMultiplying(k, rows: total, scale: scale, context: context)
        // The bias per key, s K bq, added to the latents' own.
        var bias = kv.bias ?? [Float](repeating: 0, count: total)
        if let bq = layer.query.bias {
            k.withUnsafeBufferPointer { k in
                for r in 0..<total {
                    var sum: Float = 0
                    for j in 0..<qk { sum += k[r * qk + j] * bq.data[j] }
                    bias[r] += scale * sum
                }
            }
        }
        // U = V Wo^T + bo: the output projection, bias included, over the Nk values.
        let u = try layer.output(v, rows: total, context: context)
        keyValues = KeyValues(k: .f32(g), v: .f32(u), batch: kv.batch, rows: kv.rows, bias: bias)
        attention = MultiHeadAttention(heads: 1, qkChannels: dq, vChannels: layer.output.outFeatures, scoreScale: 1)
        savedFLOPs = 2 * (unfolded - folded)
    }

    /// `layer`'s residual `A` and MLP hidden rows for the query rows `x (B, Nq, Dq)`, which attend to elements
    /// `batchOffset..<batchOffset + B` of the keys and values: what `layer.residualAndHidden` returns.
    func residualAndHidden(_ layer: PerceiverLayer, _ x: [Float], batch: Int, queryRows: Int, batchOffset: Int,
                           context: ComputeContext) throws(InferenceError) -> (residual: [Float], hidden: [Float]) {
        let rows = batch * queryRows
        let normalized = try layer.queryNorm(x, rows: rows, context: context)
        var a = try attention(q: normalized, keyValues: keyValues, batchOffset: batchOffset, batch: batch,
                              queryRows: queryRows, context: context)
        if layer.useQueryResidual {
            for i in a.indices { a[i] += x[i] }
        }
        return (a, try layer.mlpHidden(a, rows: rows, context: context))
    }
}
