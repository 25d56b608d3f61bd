/// `PerceiverImagePreprocessor(prep_type="conv1x1", out_channels=256, trainable positions projected to 256,
/// concat)`: the Learned classifier's input (docs/reference/perceiver.md A.3). Input must be image_size x
/// image_size, or any H x W with `interpolate_pos_encoding` (`ModelInputs.interpolatePositionEncoding`, or
/// `alwaysInterpolates` for every request).
struct LearnedImagePreprocessor: InputPreprocessor {
    let conv: LinearWeights            // convnet_1x1 (256, 3, 1, 1) applied per pixel
    let projectedPositions: [Float]    // (P, 256): positions_projection(position_embeddings), input-independent
    let imageSize: Int
    /// Whether every request interpolates (the server's `models[].interpolate_pos_encoding`): the input
    /// spec is then any H x W.
    var alwaysInterpolates = false
    /// The projected table interpolated to each H x W asked for, bounded like the Fourier grids (a 384 x 384
    /// table is 151 MB).
    let interpolated = BoundedTableCache(capacity: 8, maxBytes: 256 << 20)

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
    var inputSpecs: [TensorSpec] { imageSpecs(size: alwaysInterpolates ? nil : imageSize) }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        var (height, width) = (imageSize, imageSize)
        if interpolates(inputs) {
            guard let s = inputs.pixelValues?.shape, s.count == 4 else { return nil }
            (height, width) = (s[2], s[3])
        }
        let rows = height * width
        // The NHWC copy and the 1x1 convolution's features, and an interpolated position table (cached after
        // the first request of a size).
        let table = (height, width) == (imageSize, imageSize) ? 0 : rows * 256
        return PassCost.Plan(rows: rows, scratchBytes: (batch * rows * (3 + 256) + table) * PassCost.floatBytes)
    }

    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        let pixels = try pixelValues(inputs, size: interpolates(inputs) ? nil : imageSize)
        let (b, h, w) = (pixels.shape[0], pixels.shape[2], pixels.shape[3])
        let nhwc = ImageOps.nchwToNHWC(pixels.scalars, batch: b, channels: 3, height: h, width: w)
        let features = try conv(nhwc, rows: b * h * w, context: context)
        let table = positions(height: h, width: w)
        let values = table.withUnsafeBufferPointer {
            concatenateChannels(features, batch: b, rows: h * w, xChannels: 256, table: $0.baseAddress!,
                                tableChannels: 256)
        }
        return PreparedInputs(batch: b, rows: h * w, channels: 512, values: values, keyBias: nil)
    }

    private func interpolates(_ inputs: ModelInputs) -> Bool {
        alwaysInterpolates || inputs.interpolatePositionEncoding
    }

    /// `(H * W, 256)` projected positions: the table itself at image_size², else the table interpolated
    /// (`interpolate_pos_encoding`). `transformers` interpolates the table and then projects it; both are
    /// linear and the bicubic weights sum to 1, so interpolating the projected table is the same map, which
    /// keeps only one table in memory (the difference is f32 rounding, within the parity tolerance).
    func positions(height: Int, width: Int) -> [Float] {
        if height == imageSize, width == imageSize { return projectedPositions }
        return interpolated.table([height, width]) {
            ImageOps.bicubicResize(projectedPositions, height: imageSize, width: imageSize, channels: 256,
                                   toHeight: height, toWidth: width)
        }
    }
}
