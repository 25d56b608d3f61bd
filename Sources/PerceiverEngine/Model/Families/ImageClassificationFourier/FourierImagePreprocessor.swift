/// `PerceiverImagePreprocessor(prep_type="pixels", fourier {concat_pos, max_resolution (224, 224),
/// num_bands 64})`: raw pixels plus Fourier features of their positions (docs/reference/perceiver.md A.4). Any H x W.
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

