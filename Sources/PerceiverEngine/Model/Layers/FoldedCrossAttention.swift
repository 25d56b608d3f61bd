/// The encoder's single-head cross-attention folded into its constant queries (issue 23).
///
/// The latents are weights, so the cross-attention's queries `Q = LN1(latents) Wq^T + bq (N, qk)` are the same in
/// every pass (`PerceiverEncoder.projectedLatents`). With one head and scale `s = 1/sqrt(qk)`, the scores against
/// the layer-normed inputs `X = LN2(inputs) (M, C)` are
///
///     s Q K^T = s Q (X Wk^T + 1 bk^T)^T = (s Q Wk) X^T + (s Q bk) 1^T
///
/// The last term is one constant per latent's row of scores, and a softmax does not change when a row is shifted
/// by a constant, so it is dropped; `F = s Q Wk (N, C)` is computed once at load. Each row of the probabilities
/// `P` sums to 1, so
///
///     P V = P (X Wv^T + 1 bv^T) = (P X) Wv^T + bv
///
/// and the value projection runs over the N latents after the attention instead of over the M inputs. A pass
/// then multiplies `F X^T` and `P X` (2 N C multiply-adds per input row) instead of the two projections and the
/// two attention products (`(qk + v)(C + N)` per row). The vision perceiver (N = C = qk = v = 512) does half the
/// work on its 50,176 pixels: 51 of the 103 GFLOP of its cross-attention. The rounding differs from the unfolded
/// order only as any reordering of f32 sums does (`FoldedCrossAttentionTests` holds both to `transformers`).
///
/// A layer with H heads would fold into `N H` score rows of C channels each, more work than the projections at
/// every size served here (the language perceiver: 8 heads), so only one head folds (`isCheaper`).
struct FoldedCrossAttention: Sendable {
    /// `F = s Q Wk`, `(N, C)`: the queries of an attention whose keys and values are the layer-normed inputs.
    let queries: [Float]
    /// One head over the input's C channels; the scale is inside `queries`.
    let attention: MultiHeadAttention

    /// N
    var rows: Int { queries.count / attention.qkChannels }

    /// Whether the fold multiplies fewer FLOPs per input row than the projections do.
    static func isCheaper(latents n: Int, inputChannels c: Int, qk: Int, v: Int, heads: Int) -> Bool {
        heads == 1 && 2 * n * c < (qk + v) * (c + n)
    }

    /// Folds `layer`'s key projection into its queries `q (N, qk)` (`projectQueries` of the latents).
    init(_ layer: PerceiverLayer, projectedQueries q: [Float], rows n: Int,
         context: ComputeContext) throws(InferenceError) {
        let (qk, c) = (layer.key.outFeatures, layer.key.inFeatures)
        precondition(layer.attention.heads == 1 && q.count == n * qk, "fold: one head, (N, qk) queries")
        let scale = layer.attention.scoreScale ?? Float(1 / Double(qk).squareRoot())
        // (N, qk) x (qk, C): Wk read as stored.
        queries = try layer.key.leftMultiplying(q, rows: n, scale: scale, context: context)
        attention = MultiHeadAttention(heads: 1, qkChannels: c, vChannels: c, scoreScale: 1)
    }

    /// `layer` over the latents `x (B, N, D)` attending to `inputs (B, M, C)` with their `(B, M)` key bias:
    /// what `layer(x, ..., keyValues: inputs, ...)` returns, `(B, N, D)`.
    func callAsFunction(_ layer: PerceiverLayer, latents x: [Float], batch: Int, inputs: [Float], inputRows m: Int,
                        keyBias: [Float]?, context: ComputeContext) throws(InferenceError) -> [Float] {
        guard let norm = layer.keyValueNorm else { preconditionFailure("a fold is of a cross-attention layer") }
        let c = attention.qkChannels
        let normalized = try norm(inputs, rows: batch * m, context: context)
        let kv = KeyValues(k: .f32(normalized), v: .f32(normalized), batch: batch, rows: m, bias: keyBias)
        let mixed = try attention(q: repeated(queries, times: batch), keyValues: kv, batchOffset: 0, batch: batch,
                                  queryRows: rows, context: context)
        let heads = try layer.value(mixed, rows: batch * rows, context: context)
        let (qk, v) = (layer.key.outFeatures, layer.value.outFeatures)
        let unfolded = 2 * batch * (m * c * (qk + v) + rows * m * (qk + v))
        let folded = 2 * batch * (2 * rows * m * c + rows * c * v)
        context.countFolded(unfolded - folded)
        return try layer.finish(x, attended: heads, rows: batch * rows, context: context)
    }
}
