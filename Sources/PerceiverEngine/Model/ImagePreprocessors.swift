/// `pixel_values (B, 3, H, W)`, validated: the input every image preprocessor reads.
private func pixelValues(_ inputs: ModelInputs, size: Int? = nil) throws(InferenceError) -> Tensor {
    try inputs.requireOnly(["pixel_values", "output_positions", "queries"])
    guard let pixels = inputs.pixelValues else { throw InferenceError.missingInput("pixel_values") }
    let s = pixels.shape
    let expected = size.map { "(B, 3, \($0), \($0))" } ?? "(B, 3, H, W)"
    guard s.count == 4, s[0] >= 1, s[1] == 3, s[2] >= 1, s[3] >= 1 else {
        throw InferenceError.badShape(tensor: "pixel_values", expected: expected, actual: s)
    }
    if let size, s[2] != size || s[3] != size {
        throw InferenceError.badShape(tensor: "pixel_values", expected: expected, actual: s)
    }
    return pixels
}

private func imageSpecs(size: Int?) -> [TensorSpec] {
    [TensorSpec(name: "pixel_values", datatypes: ["FP32"], shape: [-1, 3, size ?? -1, size ?? -1], isOptional: false)]
}

/// Concatenates per-item features `(B, P, Cx)` with a shared table `(P, Cp)` along channels:
/// `torch.cat([x, pos], dim=-1)` in `_build_network_inputs` ("concat" mode).
func concatenateChannels(_ x: [Float], batch: Int, rows: Int, xChannels: Int, table: UnsafePointer<Float>,
                         tableChannels: Int) -> [Float] {
    let c = xChannels + tableChannels
    var out = uninitializedFloats(batch * rows * c)
    out.withUnsafeMutableBufferPointer { dst in
        x.withUnsafeBufferPointer { src in
            for b in 0..<batch {
                for p in 0..<rows {
                    let row = dst.baseAddress! + (b * rows + p) * c
                    row.update(from: src.baseAddress! + (b * rows + p) * xChannels, count: xChannels)
                    (row + xChannels).update(from: table + p * tableChannels, count: tableChannels)
                }
            }
        }
    }
    return out
}

/// `PerceiverImagePreprocessor(prep_type="conv1x1", out_channels=256, trainable positions projected to 256,
/// concat)`: the Learned classifier's input (PERCEIVER.md A.3). Input must be image_size x image_size.
struct LearnedImagePreprocessor: InputPreprocessor {
    let conv: LinearWeights            // convnet_1x1 (256, 3, 1, 1) applied per pixel
    let projectedPositions: [Float]    // (P, 256): positions_projection(position_embeddings), input-independent
    let imageSize: Int

    init(_ source: WeightSource, config: PerceiverConfig, context: ComputeContext) throws(ModelLoadError) {
        let p = "perceiver.input_preprocessor"
        imageSize = config.imageSize
        let pixels = imageSize * imageSize
        conv = try LinearWeights(weight: source.tensor(p + ".convnet_1x1.weight", shape: [256, 3, 1, 1]),
                             bias: try source.tensor(p + ".convnet_1x1.bias", shape: [256]))
        let table = try source.tensor(p + ".position_embeddings.position_embeddings", shape: [pixels, 256])
        // Applied once, here at load, to a constant table: f32 whatever the model's precision.
        let projection = try LinearWeights(source, p + ".positions_projection", in: 256, out: 256, pack: false)
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

/// `PerceiverImagePreprocessor(prep_type="pixels", fourier {concat_pos, max_resolution (224, 224),
/// num_bands 64})`: raw pixels plus Fourier features of their positions (PERCEIVER.md A.4). Any H x W.
struct FourierImagePreprocessor: InputPreprocessor {
    let positionFeatures = FourierGridCache(maxResolution: [224, 224], numBands: 64)

    var numChannels: Int { 3 + positionFeatures.channels }
    var inputSpecs: [TensorSpec] { imageSpecs(size: nil) }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        guard let s = inputs.pixelValues?.shape, s.count == 4 else { return nil }
        let rows = s[2] * s[3]
        // The NHWC copy and the grid's position features (cached after the first request of a size).
        return PassCost.Plan(rows: rows, scratchBytes: (batch * rows * 3 + rows * positionFeatures.channels)
                                * PassCost.floatBytes)
    }

    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        let pixels = try pixelValues(inputs)
        let (b, h, w) = (pixels.shape[0], pixels.shape[2], pixels.shape[3])
        let nhwc = ImageOps.nchwToNHWC(pixels.scalars, batch: b, channels: 3, height: h, width: w)
        let positions = positionFeatures.features(height: h, width: w)
        let values = positions.withUnsafeBufferPointer {
            concatenateChannels(nhwc, batch: b, rows: h * w, xChannels: 3, table: $0.baseAddress!,
                                tableChannels: positionFeatures.channels)
        }
        return PreparedInputs(batch: b, rows: h * w, channels: numChannels, values: values, keyBias: nil)
    }
}

/// `PerceiverImagePreprocessor(prep_type="conv")`: `Conv2DDownsample` (7x7 stride-2 conv with HF's
/// symmetric (3,3) padding, BatchNorm, ReLU, 3x3 stride-2 max-pool without padding) plus Fourier features
/// over the pooled grid with max_resolution (56, 56) (PERCEIVER.md A.5, B.9.2, B.9.4).
struct ConvImagePreprocessor: InputPreprocessor {
    let conv: LinearWeights          // convnet.conv (64, 3, 7, 7), no bias, applied to im2col rows
    let bnWeight: [Float]            // convnet.batchnorm (64) each
    let bnBias: [Float]
    let bnMean: [Float]
    let bnVariance: [Float]
    let positionFeatures = FourierGridCache(maxResolution: [56, 56], numBands: 64)

    init(_ source: WeightSource) throws(ModelLoadError) {
        let p = "perceiver.input_preprocessor.convnet"
        conv = try LinearWeights(weight: source.tensor(p + ".conv.weight", shape: [64, 3, 7, 7]), bias: nil)
        bnWeight = try source.tensor(p + ".batchnorm.weight", shape: [64]).values
        bnBias = try source.tensor(p + ".batchnorm.bias", shape: [64]).values
        bnMean = try source.tensor(p + ".batchnorm.running_mean", shape: [64], isBuffer: true).values
        bnVariance = try source.tensor(p + ".batchnorm.running_var", shape: [64], isBuffer: true).values
        source.ignore(p + ".batchnorm.num_batches_tracked")
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
