/// `PerceiverForMaskedLM` (docs/reference/perceiver.md A.1): bytes in, a distribution over the 262 byte tokens per
/// position out.
///
/// Checkpoint: the text preprocessor (`TextPreprocessor.Names`), the encoder (`PerceiverEncoder.Names`), the
/// decoder below, and the output head tied to the input embeddings plus `embedding_decoder.bias`.
enum MaskedLMFamily: Family {
    static let className = "PerceiverForMaskedLM"
    static let task = ModelTask.fillMask

    /// The decoder's and the head's tensor names.
    enum Names {
        static let queryTable = "perceiver.decoder.output_position_encodings.position_embeddings"
        static let decoderAttention = "perceiver.decoder.decoding_cross_attention"
        static let outputBias = "embedding_decoder.bias"
    }

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        let text = try TextPreprocessor(weights, config: config)
        let bias = try weights.tensor(Names.outputBias, shape: [config.vocabSize])
        // One query per position; qk 8 * 32 and 8 heads are hard-coded in transformers; no query residual, no
        // final projection: the tied head projects to the vocabulary.
        let decoder = PerceiverDecoder(
            queryTable: try weights.tensor(Names.queryTable, shape: [config.maxPositionEmbeddings, config.dModel]),
            queryChannels: config.dModel,
            layer: try PerceiverLayer(weights, Names.decoderAttention, .init(
                isCross: true, queryDim: config.dModel, keyValueDim: config.dLatents, qkChannels: 8 * 32,
                vChannels: config.dModel, heads: 8, wideningFactor: 1, useQueryResidual: false)),
            finalLayer: nil, defaultQueries: .inputLength)
        let head = try LinearWeights(weight: text.embeddings, bias: bias, packer: weights.packer)
        return FamilyParts(preprocessor: text, decoder: decoder, postprocessor: ProjectionHead(head: head))
    }

    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        TextPreprocessor.sampleInputs(config: config)
    }
}
