/// `PerceiverForOpticalFlow` (docs/reference/perceiver.md A.6): a pair of `train_size` frames in, a flow vector per
/// pixel out; the decoder's queries are the preprocessed pixels themselves, so any subset of pixels can be decoded.
///
/// Checkpoint: `conv_after_patches` below, the encoder (`PerceiverEncoder.Names`) and the decoder below. Its
/// Fourier position encodings are computed, not stored.
enum OpticalFlowFamily: Family {
    static let className = "PerceiverForOpticalFlow"
    static let task = ModelTask.dense

    /// Its own tensor names (the decoder is `PerceiverOpticalFlowDecoder`'s inner `PerceiverBasicDecoder`).
    enum Names {
        static let convAfterPatches = "perceiver.input_preprocessor.conv_after_patches"
        static let decoderAttention = "perceiver.decoder.decoder.decoding_cross_attention"
        static let finalLayer = "perceiver.decoder.decoder.final_layer"
    }

    /// `preds / rescale_factor` in `PerceiverOpticalFlowDecoder`.
    static let rescaleFactor: Float = 100

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        let flow = try FlowPreprocessor(weights, config: config)
        let e = flow.numChannels
        // One head, qk = v = d_latents, no query residual, final_layer to 2 channels.
        let decoder = PerceiverDecoder(
            queryTable: nil, queryChannels: e,
            layer: try PerceiverLayer(weights, Names.decoderAttention, .init(
                isCross: true, queryDim: e, keyValueDim: config.dLatents, qkChannels: nil,
                vChannels: nil, heads: 1, wideningFactor: 1, useQueryResidual: false)),
            finalLayer: try LinearWeights(weights, Names.finalLayer, in: e, out: 2),
            defaultQueries: .preparedInputs)
        return FamilyParts(preprocessor: flow, decoder: decoder,
                           postprocessor: FlowHead(rescaleFactor: rescaleFactor, height: flow.height, width: flow.width))
    }

    /// A full `train_size` frame pair (its only input size), decoding one pixel.
    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        var inputs = ModelInputs()
        let shape = [1, 2, 3] + config.trainSize
        inputs.frames = Tensor(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
        inputs.outputPositions = IndexTensor(shape: [1, 1], values: [0])
        return inputs
    }

    static func summary(config: PerceiverConfig) -> [String] {
        ["frames:       \(config.trainSize.map(String.init).joined(separator: " x ")) (train_size): logits are 2 flow "
            + "channels per pixel"]
    }
}
