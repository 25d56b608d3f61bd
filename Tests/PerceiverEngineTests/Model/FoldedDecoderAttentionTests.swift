import Testing
@testable import PerceiverEngine
import Support

/// A single-head decoder cross-attention folded into its keys and values per request (`FoldedDecoderAttention`,
/// issue 23). Its parity with `transformers` over whole models is in `FoldedCrossAttentionTests` (the flow and
/// multimodal cases, whose decoders fold, run both ways).
@Suite struct FoldedDecoderAttentionTests {
    /// Folds where the query rows outnumber what the per-request work costs: a flow field's pixels, not a
    /// single query; never with several heads.
    @Test func foldsWhereItIsCheaper() throws {
        let flow = try Fixtures.model("flow")
        let layer = flow.decoder.layer
        #expect(flow.decoder.foldsAttention && layer.attention.heads == 1)
        let (folded, unfolded) = FoldedDecoderAttention.costs(layer, keyRows: flow.config.numLatents, batch: 1,
                                                              rows: 48, projected: false)
        #expect(folded < unfolded)
        let single = FoldedDecoderAttention.costs(layer, keyRows: flow.config.numLatents, batch: 1, rows: 1,
                                                  projected: false)
        #expect(single.folded > single.unfolded)
        // The published flow geometry: 182,528 pixels, 2,048 latents of 512, 322-channel queries.
        let pixels = 182_528
        let published = (folded: 2_048 * (512 * 322 * 2) + pixels * 2_048 * 644,
                         unfolded: pixels * (322 * 512 + 2_048 * 1_024 + 512 * 322))
        // 241.4 against 443.0 G multiply-adds: 483 GFLOP instead of 886.
        #expect(published.folded / 100_000_000 == 2_414 && published.unfolded / 100_000_000 == 4_429)
        let mlm = try Fixtures.model("mlm")
        #expect(mlm.decoder.layer.attention.heads == 8)
        let context = mlm.context
        let kv = try context.run { () throws(InferenceError) in
            try mlm.decoder.layer.project([Float](repeating: 0.5, count: mlm.encoder.numLatents * mlm.encoder.latentChannels),
                                          batch: 1, rows: mlm.encoder.numLatents, bias: nil, context: context)
        }
        #expect(try context.run { () throws(InferenceError) in
            try FoldedDecoderAttention(mlm.decoder.layer, keyValues: kv, rows: 100_000, projected: false, context: context)
        } == nil)
    }

    /// One decoder layer, folded and not, over a batch of two with masked latents, with and without the query
    /// residual. The fold reorders four products (`K Wq` then the queries, against the queries through `Wq`
    /// then `K`; `V Wo^T` then `P`, against `P V` then `Wo`), each a sum of at most K = 40 terms of order 1,
    /// within (K - 1) u of their magnitude both ways (Higham 3.1); the MLP carries that through products of at
    /// most 40 terms more, so 4 x 2 x 2 x 39 u relative to the largest output (at least 1) bounds the
    /// difference, as for the encoder's fold (an estimate in the same terms: the MLP's layer norm rescales what it
    /// reads, here by at most a few). Dropping the per-key bias `s K bq`, or the mask, moves outputs by far more.
    @Test(arguments: [false, true])
    func aLayerFoldsWithMaskedLatents(queryResidual: Bool) throws {
        let context = try ComputeContext(threads: 1)
        let (nk, nq, dq, dl, batch) = (7, 30, 24, 20, 2)
        let layer = try PerceiverLayer(RandomWeights(seed: 31), "decoder", .init(
            isCross: true, queryDim: dq, keyValueDim: dl, qkChannels: 16, vChannels: 12, heads: 1, wideningFactor: 1,
            useQueryResidual: queryResidual))
        var rng = SplitMix64(seed: 9)
        let latents = rng.floats(batch * nk * dl)
        let queries = rng.floats(batch * nq * dq)
        var bias = [Float](repeating: 0, count: batch * nk)
        for key in [1, 5] { bias[key] = -Float.greatestFiniteMagnitude }
        bias[nk + 3] = -Float.greatestFiniteMagnitude
        let (folded, projected, unmasked, oneAtOffset, withoutKeyBias) = try context.run { () throws in
            let kv = try layer.project(latents, batch: batch, rows: nk, bias: bias, context: context)
            let fold = try #require(try FoldedDecoderAttention(layer, keyValues: kv, rows: batch * nq,
                                                               projected: false, context: context))
            // Batch element 1 alone, read at offset 1: the chunked decode's path.
            let second = Array(queries[(nq * dq)...])
            let one = try fold.residualAndHidden(layer, second, batch: 1, queryRows: nq, batchOffset: 1, context: context)
            let both = try fold.residualAndHidden(layer, queries, batch: batch, queryRows: nq, batchOffset: 0,
                                                  context: context)
            // The fold's keys and values with the mask alone as their bias: the queries' bias term left out.
            let masked = KeyValues(k: fold.keyValues.k, v: fold.keyValues.v, batch: batch, rows: nk, bias: bias)
            let normalized = try layer.queryNorm(queries, rows: batch * nq, context: context)
            let withoutKeyBias = try fold.attention(q: normalized, keyValues: masked, batchOffset: 0, batch: batch,
                                                    queryRows: nq, context: context)
            let withKeyBias = try fold.attention(q: normalized, keyValues: fold.keyValues, batchOffset: 0,
                                                 batch: batch, queryRows: nq, context: context)
            let plain = try layer.residualAndHidden(queries, batch: batch, queryRows: nq, keyValues: kv, batchOffset: 0,
                                                    context: context)
            let open = try layer.project(latents, batch: batch, rows: nk, bias: nil, context: context)
            let unmasked = try layer.residualAndHidden(queries, batch: batch, queryRows: nq, keyValues: open,
                                                       batchOffset: 0, context: context)
            return (both.residual + both.hidden, plain.residual + plain.hidden, unmasked.residual + unmasked.hidden,
                    (Array(both.residual[(nq * dq)...]), one.residual),
                    NaiveReference.maxAbsDifference(withoutKeyBias, withKeyBias))
        }
        let largest = projected.reduce(Float(0)) { max($0, abs($1)) }
        let tolerance = 4 * 2 * 2 * 39 * Float.ulpOfOne / 2 * max(largest, 1)
        let difference = NaiveReference.maxAbsDifference(folded, projected)
        print("decoder fold (query residual \(queryResidual)): max abs \(difference), tolerance \(tolerance)")
        #expect(difference <= tolerance)
        // Element 1 read at its batch offset, as a chunk of a longer decode: the same rows up to oneDNN's blocking
        // of a shorter product.
        #expect(NaiveReference.maxAbsDifference(oneAtOffset.0, oneAtOffset.1) <= tolerance)
        #expect(NaiveReference.maxAbsDifference(unmasked, projected) > 100 * tolerance)
        #expect(withoutKeyBias > 100 * tolerance)
    }
}
