/// `PerceiverMultimodalPreprocessor` of `PerceiverForMultimodalAutoencoding`
/// (docs/reference/perceiver.md A.7, B.9.5-7).
///
/// Each modality becomes rows of its own width, padded to a common width with a trainable per-modality
/// vector, then concatenated in sorted modality order:
/// - audio `(B, S, 1)` -> `(B, S/spp, spp)` patches + Fourier features of the patch index (192 bands,
///   max_resolution num_frames·audio_samples_per_frame);
/// - image `(B, T, 3, H, W)` -> space-to-depth by 4 `(B, T, H/4, W/4, 48)` + Fourier features of the
///   (T, H/4, W/4) grid (32 bands, max_resolution (num_frames, image_size, image_size));
/// - label: one row, which `mask_probs={"label": 1.0}` replaces by the learned mask token even in eval, so
///   the label input never reaches the model (image and audio have probability 0: unchanged).
struct MultimodalPreprocessor: InputPreprocessor {
    static let spatialDownsample = 4
    static let minPaddingSize = 4

    let samplesPerPatch: Int
    let numLabels: Int
    let audioFeatures: FourierGridCache
    let imageFeatures: FourierGridCache
    let padding: [Modality: WeightTensor]    // (1, common - C_modality) input_preprocessor.padding.*
    let mask: [Modality: WeightTensor]       // (1, common) input_preprocessor.mask.*; only label's is used
    let numChannels: Int                     // common width: max(C_modality) + 4

    init(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) {
        samplesPerPatch = config.samplesPerPatch
        numLabels = config.numLabels
        // Clients choose the clip length and frame size, so keep few grids: a 64 MB body of video can make a
        // grid of 270 MB.
        audioFeatures = FourierGridCache(maxResolution: [config.numFrames * config.audioSamplesPerFrame], numBands: 192,
                                         capacity: 2)
        imageFeatures = FourierGridCache(maxResolution: [config.numFrames, config.imageSize, config.imageSize],
                                         numBands: 32, capacity: 2)
        let s = Self.spatialDownsample
        let widths: [Modality: Int] = [.audio: samplesPerPatch + audioFeatures.channels,
                                       .image: 3 * s * s + imageFeatures.channels, .label: numLabels]
        numChannels = widths.values.max()! + Self.minPaddingSize
        var padding: [Modality: WeightTensor] = [:]
        var mask: [Modality: WeightTensor] = [:]
        for modality in Modality.allCases {
            padding[modality] = try source.tensor(MultimodalAutoencodingFamily.Names.inputPadding(modality),
                                                  shape: [1, numChannels - widths[modality]!])
            mask[modality] = try source.tensor(MultimodalAutoencodingFamily.Names.inputMask(modality),
                                               shape: [1, numChannels])
        }
        self.padding = padding
        self.mask = mask
    }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        guard let a = inputs.audio?.shape, a.count == 3, let v = inputs.image?.shape, v.count == 5 else { return nil }
        let s = Self.spatialDownsample
        let audioRows = a[1] / max(1, samplesPerPatch)
        let imageRows = v[1] * (v[3] / s) * (v[4] / s)
        // The space-to-depth patches (the image's size again) and both grids' position features.
        let scratch = batch * v.dropFirst().reduce(1, *) + imageRows * imageFeatures.channels
            + audioRows * audioFeatures.channels
        return PassCost.Plan(rows: audioRows + imageRows + 1, scratchBytes: scratch * PassCost.floatBytes)
    }

    var inputSpecs: [TensorSpec] {
        [TensorSpec(name: "audio", datatypes: ["FP32"], shape: [-1, -1, 1], isOptional: false),
         TensorSpec(name: "image", datatypes: ["FP32"], shape: [-1, -1, 3, -1, -1], isOptional: false),
         TensorSpec(name: "label", datatypes: ["FP32"], shape: [-1, numLabels], isOptional: true)]
    }

    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        try inputs.requireOnly(Set(["audio", "image", "label"] + Modality.allCases.map(\.positionsName)))
        guard let audio = inputs.audio else { throw InferenceError.missingInput("audio") }
        guard let image = inputs.image else { throw InferenceError.missingInput("image") }
        let (a, v) = (audio.shape, image.shape)
        let spp = samplesPerPatch
        guard a.count == 3, a[0] >= 1, a[1] >= spp, a[1] % spp == 0, a[2] == 1 else {
            throw InferenceError.badShape(tensor: "audio", expected: "(B, S, 1) with S a positive multiple of \(spp)",
                                          actual: a)
        }
        let s = Self.spatialDownsample
        guard v.count == 5, v[0] == a[0], v[1] >= 2, v[2] == 3, v[3] >= s, v[3] % s == 0, v[4] >= s, v[4] % s == 0 else {
            throw InferenceError.badShape(
                tensor: "image", expected: "(\(a[0]), T, 3, H, W) with T >= 2 and H, W positive multiples of \(s)",
                actual: v)
        }
        if let label = inputs.label, label.shape != [a[0], numLabels] {
            throw InferenceError.badShape(tensor: "label", expected: "(\(a[0]), \(numLabels))", actual: label.shape)
        }
        let batch = a[0]
        let audioRows = a[1] / spp
        let grid = [v[1], v[3] / s, v[4] / s]
        let imageRows = grid.reduce(1, *)
        let rows = audioRows + imageRows + 1
        let c = numChannels
        var values = uninitializedFloats(batch * rows * c)
        let patches = ImageOps.spaceToDepth(image.scalars, batch: batch, time: v[1], channels: 3, height: v[3],
                                            width: v[4], temporalBlockSize: 1, spatialBlockSize: s)
        let audioPositions = audioFeatures.features(indexDims: [audioRows])
        let imagePositions = imageFeatures.features(indexDims: grid)
        values.withUnsafeMutableBufferPointer { out in
            for b in 0..<batch {
                let base = out.baseAddress! + b * rows * c
                // Sorted modality order: audio, image, label.
                fill(base, rows: audioRows, width: c, parts: [
                    (audio.scalars, b * audioRows * spp, spp), (audioPositions, 0, audioFeatures.channels)],
                     padding: padding[.audio]!)
                fill(base + audioRows * c, rows: imageRows, width: c, parts: [
                    (patches, b * imageRows * 3 * s * s, 3 * s * s), (imagePositions, 0, imageFeatures.channels)],
                     padding: padding[.image]!)
                // (1 - m)·row + m·mask with m = 1: the mask token.
                (base + (audioRows + imageRows) * c).update(from: mask[.label]!.data, count: c)
            }
        }
        return PreparedInputs(batch: batch, rows: rows, channels: c, values: values, keyBias: nil)
    }

    /// Writes `rows` rows of `[part 0 | part 1 | ... | padding]`; part i contributes `width` floats per row
    /// starting at `offset` of its array.
    private func fill(_ base: UnsafeMutablePointer<Float>, rows: Int, width: Int,
                      parts: [(values: [Float], offset: Int, width: Int)], padding: WeightTensor) {
        for r in 0..<rows {
            var row = base + r * width
            for part in parts {
                part.values.withUnsafeBufferPointer {
                    row.update(from: $0.baseAddress! + part.offset + r * part.width, count: part.width)
                }
                row += part.width
            }
            row.update(from: padding.data, count: padding.count)
        }
    }
}
