/// `PerceiverImagePreprocessor(prep_type="patches", temporal_downsample=2, conv_after_patching=True)` with
/// Fourier features over the pixel grid (64 bands, max_resolution train_size, concat): the optical-flow
/// model's input (docs/reference/perceiver.md A.6, B.9.2-3).
///
/// `inputs (B, 2, 27, H, W)` (or `frames (B, 2, 3, H, W)`, patched here) -> space-to-depth over the two frames
/// `(B, H, W, 54)` -> `conv_after_patches` Linear(54 -> 64) -> concat the `(H·W, 258)` position features
/// -> `(B, H·W, 322)`. H x W must be `train_size`, since `transformers` reshapes the flow to it.
struct FlowPreprocessor: InputPreprocessor {
    let convAfterPatches: LinearWeights        // (64, 54)
    let height: Int
    let width: Int
    let positionFeatures: FourierGridCache

    init(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) {
        guard config.trainSize.count == 2 else {
            throw ModelLoadError.invalidConfig(key: "train_size", reason: "expected [height, width]")
        }
        (height, width) = (config.trainSize[0], config.trainSize[1])
        convAfterPatches = try LinearWeights(source, OpticalFlowFamily.Names.convAfterPatches, in: 54, out: 64)
        positionFeatures = FourierGridCache(maxResolution: config.trainSize, numBands: 64)
    }

    var numChannels: Int { 64 + positionFeatures.channels }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        let pixels = height * width
        // Patches built from frames, their space-to-depth stack (54 values a pixel), the convolution's 64
        // features, and the grid's position features.
        let patches = inputs.frames != nil ? batch * 2 * 27 * pixels : 0
        let scratch = patches + batch * pixels * (54 + 64) + pixels * positionFeatures.channels
        return PassCost.Plan(rows: pixels, scratchBytes: scratch * PassCost.floatBytes)
    }

    var inputSpecs: [TensorSpec] {
        [TensorSpec(name: "inputs", datatypes: ["FP32"], shape: [-1, 2, 27, height, width], isOptional: true),
         // Any size from train_size up: larger frames are tiled (`FlowTiling`) before they reach this.
         TensorSpec(name: "frames", datatypes: ["FP32"], shape: [-1, 2, 3, -1, -1], isOptional: true)]
    }

    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        try inputs.requireOnly(["inputs", "frames", "output_positions", "queries"])
        let patches = try patchTensor(inputs)
        let b = patches.shape[0]
        let pixels = height * width
        // (B, 2, 27, H, W) -> (B, 1, H, W, 2·27): channel t·27 + k, then the squeezed time axis.
        let stacked = ImageOps.spaceToDepth(patches.scalars, batch: b, time: 2, channels: 27, height: height,
                                            width: width, temporalBlockSize: 2, spatialBlockSize: 1)
        let features = try convAfterPatches(stacked, rows: b * pixels, context: context)
        let positions = positionFeatures.features(height: height, width: width)
        let values = positions.withUnsafeBufferPointer {
            concatenateChannels(features, batch: b, rows: pixels, xChannels: 64, table: $0.baseAddress!,
                                tableChannels: positionFeatures.channels)
        }
        return PreparedInputs(batch: b, rows: pixels, channels: numChannels, values: values, keyBias: nil)
    }

    func rowSource(_ inputs: ModelInputs) -> (any PreparedRows)? {
        if let frames = inputs.frames { return FlowRows(preprocessor: self, input: frames, isFrames: true) }
        if let patches = inputs.flowPatches { return FlowRows(preprocessor: self, input: patches, isFrames: false) }
        return nil
    }

    /// `inputs`, or the patches of `frames`, checked against `(B, 2, C, train_size)`.
    private func patchTensor(_ inputs: ModelInputs) throws(InferenceError) -> Tensor {
        switch (inputs.flowPatches, inputs.frames) {
        case (let patches?, nil):
            try check(patches, name: "inputs", channels: 27)
            return patches
        case (nil, let frames?):
            try check(frames, name: "frames", channels: 3)
            let patches = ImageOps.flowPatches(frames.scalars, batch: frames.shape[0], frames: 2, channels: 3,
                                               height: height, width: width)
            return Tensor(shape: [frames.shape[0], 2, 27, height, width], scalars: patches)
        case (nil, nil):
            throw InferenceError.missingInput("inputs (or frames)")
        case (.some, .some):
            throw InferenceError.badValue(tensor: "frames", reason: "give either inputs (patches) or frames, not both")
        }
    }

    private func check(_ tensor: Tensor, name: String, channels: Int) throws(InferenceError) {
        let expected = [tensor.shape.first ?? -1, 2, channels, height, width]
        guard tensor.shape.count == 5, tensor.shape[0] >= 1, tensor.shape == expected else {
            throw InferenceError.badShape(tensor: name, expected: "(B, 2, \(channels), \(height), \(width))",
                                          actual: tensor.shape)
        }
    }
}
