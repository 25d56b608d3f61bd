extension PerceiverDecoder {
    /// The tensor names of `PerceiverClassificationDecoder` in every classifier checkpoint (text and image):
    /// its query table, its cross-attention layer (`PerceiverLayer.Names` below it) and `final_layer`.
    enum ClassificationNames {
        static let queryTable = "perceiver.decoder.decoder.output_position_encodings.position_embeddings"
        static let attention = "perceiver.decoder.decoder.decoding_cross_attention"
        static let finalLayer = "perceiver.decoder.decoder.final_layer"
    }

    /// `PerceiverClassificationDecoder`: one trainable query of width d_latents, one head, query residual,
    /// then `final_layer` to num_labels (docs/reference/perceiver.md A.2).
    static func classification(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) -> Self {
        PerceiverDecoder(
            queryTable: try source.tensor(ClassificationNames.queryTable, shape: [1, config.dLatents]),
            queryChannels: config.dLatents,
            layer: try PerceiverLayer(source, ClassificationNames.attention, .init(
                isCross: true, queryDim: config.dLatents, keyValueDim: config.dLatents, qkChannels: nil,
                vChannels: nil, heads: 1, wideningFactor: 1, useQueryResidual: true)),
            finalLayer: try LinearWeights(source, ClassificationNames.finalLayer, in: config.dLatents,
                                          out: config.numLabels),
            defaultQueries: .wholeTable)
    }
}
