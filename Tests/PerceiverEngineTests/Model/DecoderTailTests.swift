import Testing
@testable import PerceiverEngine
import Support

/// The decoder layer's second MLP product folded into the linear map after it (`DecoderTail`, issue 23): the
/// same outputs, fewer FLOPs wherever the map narrows.
@Suite struct DecoderTailTests {
    /// Models whose final layer narrows the decoder's output (classifiers to their labels, optical flow to 2
    /// channels) fold into it; the fixture masked LM's head widens (32 channels to 262 tokens) and does not, and
    /// the multimodal decoder keeps its per-modality heads.
    @Test func foldsWhereTheMapNarrows() throws {
        for name in ["seqcls", "learned", "fourier", "conv", "flow"] {
            let model = try Fixtures.model(name)
            let tail = try #require(model.outputTail, "\(name)")
            #expect(!tail.replacesHead && tail.savedFLOPsPerRow > 0, "\(name)")
        }
        for name in ["mlm", "multimodal"] { #expect(try Fixtures.model(name).outputTail == nil, "\(name)") }
        var options = ExecutionOptions()
        options.foldsCrossAttention = false
        #expect(try PerceiverModel.load(directory: Fixtures.modelDirectory("flow"), options: options).outputTail == nil)
    }

    /// The conv classifier's cross-attention has two heads and no text: the tail is its only fold. Against
    /// `transformers` both ways, and the FLOPs the tail removes are counted.
    @Test(arguments: Fixtures.caseNames.filter { $0.hasPrefix("conv_") })
    func bothOrdersMatchTransformers(caseName: String) throws {
        try checkFoldedAndUnfolded(caseName, labels: ("tail folded", "tail unfolded"))
    }

    /// A masked LM whose head narrows (d_model 304 to 262 tokens, as the language perceiver's 768 does): the tail
    /// replaces the head. The decode with it against the decode without it, over the same latents, chunked.
    ///
    /// The bound, per output element k, from the arithmetic: both orders compute
    /// `Σ_j (A_j + Σ_i H_i W2_ji + b2_j) Wt_kj + bt_k`, the unfolded one summing over i (h terms) then j (D
    /// terms), the folded one over j for `Wt W2` and `A Wt^T`, then over i. Each sum's rounding is at most its
    /// length times u times the sum of its terms' magnitudes (Higham 3.1), and every term is within
    /// `S_k = Σ_j |Wt_kj| (|A_j| + Σ_i |H_i| |W2_ji| + |b2_j|) + |bt_k|`, so the two differ by at most
    /// 2 (h + D + 2) u S_k. Leaving out the hidden part moves them by its own size, far beyond.
    @Test func aNarrowingHeadFoldsWithTheSameOutputs() throws {
        var config = PerceiverConfig(architecture: "PerceiverForMaskedLM")
        (config.dModel, config.dLatents, config.numLatents, config.numSelfAttendsPerBlock) = (304, 32, 8, 1)
        (config.qkChannels, config.vChannels, config.maxPositionEmbeddings) = (32, 32, 16)
        let model = try PerceiverModel.random(config: config, seed: 5)
        let tail = try #require(model.outputTail)
        #expect(tail.replacesHead && tail.savedFLOPsPerRow == 2 * 304 * (304 - 262))
        let ids = IndexTensor(shape: [2, 12], values: (0..<24).map { ($0 * 37) % 262 })
        let inputs = ModelInputs(inputIDs: ids)
        let latents = try model.encode(inputs)
        let context = model.context
        let head = try #require(model.postprocessor as? ProjectionHead)
        let layer = model.decoder.layer
        let (folded, unfolded, a, hidden) = try context.run { () throws(InferenceError) in
            let queries = try model.decoder.queries(for: inputs, side: latents.side, batch: 2, context: context)
            let kv = try layer.project(latents.values, batch: 2, rows: config.numLatents, bias: nil, context: context)
            // Chunks of 5 query rows: one batch element's 12 rows in three calls.
            let folded = try model.decoder.decode(queries, keyValues: kv, chunkRows: 5, head: head, tail: tail,
                                                  context: context)
            let unfolded = try model.decoder.decode(queries, keyValues: kv, chunkRows: 5, head: head, tail: nil,
                                                    context: context)
            let (a, hidden) = try layer.residualAndHidden(queries.values, batch: 2, queryRows: 12, keyValues: kv,
                                                          batchOffset: 0, projectedQueries: queries.projected,
                                                          context: context)
            return (folded, unfolded, a, hidden)
        }
        let (d, h, k) = (304, layer.mlp2.inFeatures, 262)
        let (w2, b2) = (layer.mlp2.weight.values, layer.mlp2.bias!.values)
        let (wt, bt) = (head.head.weight.values, head.head.bias!.values)
        var worst = 0.0
        var hiddenPart = 0.0
        for r in 0..<24 {
            let terms = (0..<d).map { j in
                abs(Double(a[r * d + j])) + abs(Double(b2[j]))
                    + (0..<h).reduce(0.0) { $0 + abs(Double(hidden[r * h + $1]) * Double(w2[j * h + $1])) }
            }
            for o in 0..<k {
                let magnitude = abs(Double(bt[o])) + (0..<d).reduce(0.0) { $0 + abs(Double(wt[o * d + $1])) * terms[$1] }
                let bound = 2 * Double(h + d + 2) * Double(Float.ulpOfOne / 2) * magnitude
                let difference = abs(Double(folded[r * k + o]) - Double(unfolded[r * k + o]))
                #expect(difference <= bound, "row \(r) token \(o): \(difference) > \(bound)")
                worst = max(worst, difference / bound)
                hiddenPart = max(hiddenPart, bound)
            }
        }
        print("decoder tail: at most \(worst) of the bound")
        // Without the hidden part (the head over A alone), the outputs move far beyond the bound.
        let residualOnly = try context.run { () throws(InferenceError) in
            try tail.residualMap(a, rows: 24, context: context)
        }
        #expect(NaiveReference.maxAbsDifference(residualOnly, folded) > 100 * Float(hiddenPart))
    }

    /// A map that widens (8 channels to 12) would cost more folded: there is no tail.
    @Test func aWideningMapDoesNotFold() throws {
        let context = try ComputeContext(threads: 1)
        let source = RandomWeights(seed: 2)
        let layer = try PerceiverLayer(source, "decoder", .init(
            isCross: true, queryDim: 8, keyValueDim: 6, qkChannels: 8, vChannels: 8, heads: 1, wideningFactor: 1,
            useQueryResidual: false))
        let widening = try LinearWeights(source, "head", in: 8, out: 12)
        let narrowing = try LinearWeights(source, "final", in: 8, out: 3)
        #expect(try DecoderTail(layer, into: widening, replacesHead: true, context: context) == nil)
        #expect(try DecoderTail(layer, into: narrowing, replacesHead: false, context: context) != nil)
    }
}
