/// `PerceiverImagePreprocessor(prep_type="conv1x1", out_channels=256, trainable positions projected to 256,
/// concat)`: the Learned classifier's input (docs/reference/perceiver.md A.3). Input must be image_size x image_size.
struct LearnedImagePreprocessor: InputPreprocessor {
    let conv: LinearWeights            // convnet_1x1 (256, 3, 1, 1) applied per pixel
    let projectedPositions: [Float]    // (P, 256): positions_projection(position_embeddings), input-independent
    let imageSize: Int

    /// Its tensor names in the checkpoint.
    enum Names {
        static let convWeight = "perceiver.input_preprocessor.convnet_1x1.weight"
        static let convBias = "perceiver.input_preprocessor.convnet_1x1.bias"
        static let positions = "perceiver.input_preprocessor.position_embeddings.position_embeddings"
        static let positionsProjection = "perceiver.input_preprocessor.positions_projection"
    }

    init(_ source: WeightSource, config: PerceiverConfig, context: ComputeContext) throws(ModelLoadError) {
        imageSize = config.imageSize
        let pixels = imageSize * imageSize
        conv = try LinearWeights(weight: source.tensor(Names.convWeight, shape: [256, 3, 1, 1]),
                                 bias: try source.tensor(Names.convBias, shape: [256]))
        let table = try source.tensor(Names.positions, shape: [pixels, 256])
        // Applied once, here at load, to a constant table: f32 whatever the model's precision.
        let projection = try LinearWeights(source, Names.positionsProjection, in: 256, out: 256, pack: false)
        let tableValues = table.values
        do {
            projectedPositions = try context.run { () throws(InferenceError) -> [Float] in
                try projection(tableValues, rows: pixels, context: context)
            }
        } catch {
            throw ModelLoadError.invalidConfig(key: "image_size", reason: "projecting the position table failed: \(error)")
        }
    }

    var numChannels: Int { 512 }
    var inputSpecs: [TensorSpec] { imageSpecs(size: imageSize) }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        let rows = imageSize * imageSize
        // The NHWC copy and the 1x1 convolution's features.
        return PassCost.Plan(rows: rows, scratchBytes: batch * rows * (3 + 256) * PassCost.floatBytes)
    }

    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        let pixels = try pixelValues(inputs, size: imageSize)
        let (b, h, w) = (pixels.shape[0], pixels.shape[2], pixels.shape[3])
        let nhwc = ImageOps.nchwToNHWC(pixels.scalars, batch: b, channels: 3, height: h, width: w)
        let features = try conv(nhwc, rows: b * h * w, context: context)
        let values = projectedPositions.withUnsafeBufferPointer {
            concatenateChannels(features, batch: b, rows: h * w, xChannels: 256, table: $0.baseAddress!,
                                tableChannels: 256)
        }
        return PreparedInputs(batch: b, rows: h * w, channels: 512, values: values, keyBias: nil)
    }
}

