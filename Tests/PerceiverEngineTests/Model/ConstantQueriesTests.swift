import Testing
@testable import PerceiverEngine

/// The query side that is weights (the latents; the masked-LM decoder's position table; a classifier's single
/// query) is layer-normed and projected once at load, not in every pass (issue 23).
@Suite struct ConstantQueriesTests {
    /// A pass runs one layer norm per self-attention layer's queries and one per MLP, plus each
    /// cross-attention's key/value norm: the two query norms of the cross-attentions are gone (they ran at
    /// load). Queries a request sends itself (`mlm_queries`, `seqcls_queries`) are not the table's, so theirs
    /// runs: one more.
    @Test(arguments: [("mlm_single", 0), ("mlm_positions", 0), ("seqcls_batch", 0), ("learned_batch", 0),
                      ("mlm_queries", 1), ("seqcls_queries", 1)])
    func aPassNormalizesNoConstantQueries(caseName: String, requestQueryNorms: Int) throws {
        let fixture = try Fixtures.load(caseName)
        // Its own copy: the profile counts every pass on the model's context, and other suites share the cached one.
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory(fixture.model))
        let (_, profile) = try model.profiled { try model.predict(fixture.inputs) }
        let selfAttentions = model.config.numSelfAttendsPerBlock * model.config.numBlocks
        let norms = profile.rows.values.filter { $0.kind == "layer_norm" }.reduce(0) { $0 + $1.calls }
        // Per self-attention layer: its query norm and its MLP norm. Encoder cross-attention: the inputs' norm
        // (in a text model, whose keys and values are tabulated, the rows' statistics are taken in the
        // `tabulated_kv` kernel instead) and the MLP norm. Decoder: the latents' norm and the MLP norm.
        let text = fixture.model == "mlm" || fixture.model == "seqcls"
        #expect(model.encoder.tabulatesKeyValues == text)
        let tabulated = profile.rows.values.filter { $0.kind == "tabulated_kv" }.reduce(0) { $0 + $1.calls }
        #expect(tabulated == (text ? 1 : 0))
        #expect(norms == 2 * selfAttentions + (text ? 1 : 2) + 2 + requestQueryNorms)
    }

    /// The projections made at load are the ones a pass would compute: the encoder's and decoder's stored
    /// queries equal `projectQueries` run now on the same rows, exactly (same arithmetic, same shapes).
    @Test func theStoredProjectionsAreTheLayersOwn() throws {
        let model = try Fixtures.model("mlm")
        let encoder = model.encoder, decoder = model.decoder
        let (latents, table) = try model.context.run { () throws(InferenceError) in
            (try encoder.crossAttention.projectQueries(encoder.latents.values, rows: encoder.numLatents,
                                                       context: model.context),
             try decoder.layer.projectQueries(decoder.queryTable!.values, rows: decoder.tableRows,
                                              context: model.context))
        }
        #expect(encoder.projectedLatents == latents)
        #expect(decoder.projectedTable == table)
    }
}
