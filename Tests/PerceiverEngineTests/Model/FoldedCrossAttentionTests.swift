import Testing
@testable import PerceiverEngine
import Support

/// The encoder's single-head cross-attention folded into the latents' queries at load (`FoldedCrossAttention`,
/// issue 23): the same layer, fewer FLOPs.
@Suite struct FoldedCrossAttentionTests {
    /// Models whose encoder folds: one cross-attention head, and `2 N C < (qk + v)(C + N)` (N latents, C input
    /// channels). The others keep their projections: two heads (masked LM, sequence classifier, conv).
    static let folding = ["learned", "fourier", "flow", "flow_tiles", "multimodal"]
    static let projecting = ["mlm", "seqcls", "conv"]

    @Test func foldsWhereItIsCheaper() throws {
        for name in Self.folding {
            let encoder = try Fixtures.model(name).encoder
            #expect(encoder.foldsCrossAttention && encoder.foldedCrossAttention != nil, "\(name)")
        }
        for name in Self.projecting {
            let encoder = try Fixtures.model(name).encoder
            #expect(!encoder.foldsCrossAttention && encoder.foldedCrossAttention == nil, "\(name)")
        }
        // The geometry of the two benchmark models: the vision perceiver folds (2 x 512 x 512 < 1024 x 1024),
        // the language perceiver's eight heads do not.
        #expect(FoldedCrossAttention.isCheaper(latents: 512, inputChannels: 512, qk: 512, v: 512, heads: 1))
        #expect(!FoldedCrossAttention.isCheaper(latents: 256, inputChannels: 768, qk: 256, v: 1280, heads: 8))
        // One head where the latents outnumber what the projections would save: 2 x 1024 x 64 > (16 + 16)(64 + 1024).
        #expect(!FoldedCrossAttention.isCheaper(latents: 1024, inputChannels: 64, qk: 16, v: 16, heads: 1))
    }

    @Test func theOptionTurnsItOff() throws {
        var options = ExecutionOptions()
        options.foldsCrossAttention = false
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("learned"), options: options)
        #expect(!model.encoder.foldsCrossAttention && model.encoder.foldedCrossAttention == nil)
    }

    /// Every case of a folding model, folded and unfolded, against `transformers` at the manifest's tolerance
    /// (1e-4 max abs, 1e-5 relative L2): the fold changes only the order of f32 sums. The unfolded pass runs
    /// exactly the FLOPs the folded one ran plus those it counts as folded away.
    @Test(arguments: Fixtures.caseNames.filter { name in
        FoldedCrossAttentionTests.folding.contains { name.hasPrefix($0 + "_") }
    })
    func bothOrdersMatchTransformers(caseName: String) throws {
        // The figures for docs/engine.md "Parity with transformers": `swift test --filter FoldedCrossAttention`.
        try checkFoldedAndUnfolded(caseName, labels: ("folded", "unfolded"))
    }

    /// One layer, folded and not, over a batch of two with masked keys (a key bias no image model has): the
    /// fold drops the key bias term `s Q bk` (a constant per row of scores) and moves the value bias after the
    /// attention, so only rounding separates the two. Each of the four reordered products (`Q Wk` then `X`,
    /// against `Q` then `X Wk^T`; `P X` then `Wv`, against `P` then `X Wv^T`) sums at most K = 40 terms of
    /// order 1 after the layer norm, within (K - 1) u of their magnitude both ways (Higham 3.1); the output
    /// projection and MLP carry that through products of at most 40 terms more, so 4 x 2 x 2 x 39 u relative to
    /// the largest output (at least 1) bounds the difference. A wrong bias, a missed mask or a transposed fold
    /// moves outputs by their own size.
    @Test func aLayerFoldsWithMaskedKeys() throws {
        let context = try ComputeContext(threads: 1)
        let (n, m, d, c, batch) = (6, 40, 24, 20, 2)
        let layer = try PerceiverLayer(RandomWeights(seed: 23), "cross", .init(
            isCross: true, queryDim: d, keyValueDim: c, qkChannels: 16, vChannels: 12, heads: 1, wideningFactor: 2,
            useQueryResidual: true))
        var rng = SplitMix64(seed: 5)
        let latents = rng.floats(n * d)
        let x = repeated(latents, times: batch)
        let inputs = rng.floats(batch * m * c)
        var bias = [Float](repeating: 0, count: batch * m)
        for key in [0, 7, 39] { bias[key] = -Float.greatestFiniteMagnitude }
        for key in 0..<20 { bias[m + key] = -Float.greatestFiniteMagnitude }
        let (projected, folded) = try context.run { () throws(InferenceError) in
            let queries = try layer.projectQueries(latents, rows: n, context: context)
            let fold = try FoldedCrossAttention(layer, projectedQueries: queries, rows: n, context: context)
            return (try layer(x, batch: batch, queryRows: n, keyValues: inputs, keyRows: m, keyBias: bias,
                              context: context),
                    try fold(layer, latents: x, batch: batch, inputs: inputs, inputRows: m, keyBias: bias,
                             context: context))
        }
        let largest = projected.reduce(Float(0)) { max($0, abs($1)) }
        let tolerance = 4 * 2 * 2 * 39 * Float.ulpOfOne / 2 * max(largest, 1)
        #expect(NaiveReference.maxAbsDifference(folded, projected) <= tolerance)
        // The mask matters: without it the fold's answer moves far beyond that.
        let unmasked = try context.run { () throws(InferenceError) in
            try layer(x, batch: batch, queryRows: n, keyValues: inputs, keyRows: m, keyBias: nil, context: context)
        }
        #expect(NaiveReference.maxAbsDifference(unmasked, projected) > 100 * tolerance)
    }
}
