/// `PerceiverForMultimodalAutoencoding` (docs/reference/perceiver.md A.7): video, audio and a label in; any of their
/// output points, per modality, out.
///
/// Checkpoint: the preprocessor's and decoder's per-modality padding and mask vectors, the label query, the
/// shared decoder and the per-modality heads below, and the encoder (`PerceiverEncoder.Names`).
enum MultimodalAutoencodingFamily: Family {
    static let className = "PerceiverForMultimodalAutoencoding"
    static let task = ModelTask.dense

    /// Its own tensor names.
    enum Names {
        static func inputPadding(_ modality: Modality) -> String { "perceiver.input_preprocessor.padding." + modality.rawValue }
        static func inputMask(_ modality: Modality) -> String { "perceiver.input_preprocessor.mask." + modality.rawValue }
        static let labelQuery = "perceiver.decoder.modalities.label.decoder.output_position_encodings.position_embeddings"
        static func queryPadding(_ modality: Modality) -> String { "perceiver.decoder.padding." + modality.rawValue }
        static func head(_ modality: Modality) -> String {
            "perceiver.output_postprocessor.modalities.\(modality.rawValue).classifier"
        }
        static let decoderAttention = "perceiver.decoder.decoder.decoding_cross_attention"
        static let finalLayer = "perceiver.decoder.decoder.final_layer"
    }

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        FamilyParts(preprocessor: try MultimodalPreprocessor(weights, config: config), decoder: nil,
                    postprocessor: ClassificationHead(), multimodal: try MultimodalDecoder(weights, config: config))
    }

    /// Two small frames, one audio patch, one output point per modality.
    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        let s = MultimodalPreprocessor.spatialDownsample
        var inputs = ModelInputs()
        inputs.image = Tensor(shape: [1, 2, 3, s, s], scalars: [Float](repeating: 0, count: 2 * 3 * s * s))
        inputs.audio = Tensor(shape: [1, config.samplesPerPatch, 1],
                              scalars: [Float](repeating: 0, count: config.samplesPerPatch))
        for modality in Modality.allCases {
            inputs.modalityPositions[modality] = IndexTensor(shape: [1, 1], values: [0])
        }
        return inputs
    }

    static func summary(config: PerceiverConfig) -> [String] {
        ["video:        \(config.numFrames) frames, image_size \(config.imageSize), output "
            + config.outputShape.dropFirst().map(String.init).joined(separator: " x "),
         "audio:        \(config.numFrames * config.audioSamplesPerFrame) samples, \(config.samplesPerPatch) per patch"]
    }
}
