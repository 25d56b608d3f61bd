/// `PerceiverImagePreprocessor(prep_type="conv")`: `Conv2DDownsample` (7x7 stride-2 conv with HF's
/// symmetric (3,3) padding, BatchNorm, ReLU, 3x3 stride-2 max-pool without padding) plus Fourier features
/// over the pooled grid with max_resolution (56, 56) (docs/reference/perceiver.md A.5, B.9.2, B.9.4).
struct ConvImagePreprocessor: InputPreprocessor {
    let conv: LinearWeights          // convnet.conv (64, 3, 7, 7), no bias, applied to im2col rows
    let bnWeight: [Float]            // convnet.batchnorm (64) each
    let bnBias: [Float]
    let bnMean: [Float]
    let bnVariance: [Float]
    let positionFeatures = FourierGridCache(maxResolution: [56, 56], numBands: 64)

    /// Its tensor names in the checkpoint (`Conv2DDownsample`'s conv and batch norm).
    enum Names {
        static let conv = "perceiver.input_preprocessor.convnet.conv.weight"
        static let batchNormWeight = "perceiver.input_preprocessor.convnet.batchnorm.weight"
        static let batchNormBias = "perceiver.input_preprocessor.convnet.batchnorm.bias"
        static let runningMean = "perceiver.input_preprocessor.convnet.batchnorm.running_mean"
        static let runningVariance = "perceiver.input_preprocessor.convnet.batchnorm.running_var"
        /// A counter of training steps, unused by inference.
        static let batchesTracked = "perceiver.input_preprocessor.convnet.batchnorm.num_batches_tracked"
    }

    init(_ source: WeightSource) throws(ModelLoadError) {
        conv = try LinearWeights(weight: source.tensor(Names.conv, shape: [64, 3, 7, 7]), bias: nil)
        bnWeight = try source.tensor(Names.batchNormWeight, shape: [64]).values
        bnBias = try source.tensor(Names.batchNormBias, shape: [64]).values
        bnMean = try source.tensor(Names.runningMean, shape: [64], isBuffer: true).values
        bnVariance = try source.tensor(Names.runningVariance, shape: [64], isBuffer: true).values
        source.ignore(Names.batchesTracked)
    }

    var numChannels: Int { 64 + positionFeatures.channels }
    var inputSpecs: [TensorSpec] { imageSpecs(size: nil) }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        guard let s = inputs.pixelValues?.shape, s.count == 4 else { return nil }
        // The 7x7 stride-2 convolution's rows (im2col, 3 x 49 values each) and its 64 features, then the
        // stride-2 pool's grid with its position features.
        let convolved = ((s[2] + 1) / 2) * ((s[3] + 1) / 2)
        let rows = ((s[2] + 3) / 4) * ((s[3] + 3) / 4)
        let scratch = batch * convolved * (147 + 64) + rows * positionFeatures.channels
        return PassCost.Plan(rows: rows, scratchBytes: scratch * PassCost.floatBytes)
    }

    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        let pixels = try pixelValues(inputs)
        let (b, h, w) = (pixels.shape[0], pixels.shape[2], pixels.shape[3])
        let patches = ImageOps.im2col(pixels.scalars, batch: b, channels: 3, height: h, width: w, kernel: 7,
                                      stride: 2, padding: (top: 3, left: 3, bottom: 3, right: 3))
        guard patches.outHeight >= 3, patches.outWidth >= 3 else {
            throw InferenceError.badShape(tensor: "pixel_values", expected: "(B, 3, H, W) with H, W >= 5",
                                          actual: pixels.shape)
        }
        var features = try conv(patches.rows, rows: b * patches.outHeight * patches.outWidth, context: context)
        ImageOps.batchNormReLUInPlace(&features, channels: 64, mean: bnMean, variance: bnVariance,
                                      weight: bnWeight, bias: bnBias)
        let pooled = ImageOps.maxPool2d(features, batch: b, height: patches.outHeight, width: patches.outWidth,
                                        channels: 64, kernel: 3, stride: 2)
        let rows = pooled.outHeight * pooled.outWidth
        let positions = positionFeatures.features(height: pooled.outHeight, width: pooled.outWidth)
        let values = positions.withUnsafeBufferPointer {
            concatenateChannels(pooled.values, batch: b, rows: rows, xChannels: 64, table: $0.baseAddress!,
                                tableChannels: positionFeatures.channels)
        }
        return PreparedInputs(batch: b, rows: rows, channels: numChannels, values: values, keyBias: nil)
    }
}
