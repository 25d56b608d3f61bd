/// An optical-flow pair's preprocessed rows (the decoder's queries: one per pixel, 322 wide at the published
/// geometry), rebuilt from the frames (or patches) the request gave rather than held: 4.4 MB of frames
/// instead of a 235 MB array. `rows(at:)` builds only the pixels asked for: their 3 x 3 patches of both
/// frames, `conv_after_patches` over those rows alone, and their rows of the position features.
struct FlowRows: PreparedRows {
    let preprocessor: FlowPreprocessor
    /// `frames (B, 2, 3, H, W)` or, when the request gave patches, `inputs (B, 2, 27, H, W)`.
    let input: Tensor
    let isFrames: Bool

    func all(context: ComputeContext) throws(InferenceError) -> [Float] {
        var inputs = ModelInputs()
        if isFrames { inputs.frames = input } else { inputs.flowPatches = input }
        return try preprocessor(inputs, context: context).values
    }

    func rows(at positions: IndexTensor, context: ComputeContext) throws(InferenceError) -> [Float] {
        let (height, width) = (preprocessor.height, preprocessor.width)
        let plane = height * width
        let k = positions.shape[1]
        var stacked = [Float](repeating: 0, count: positions.values.count * 54)
        input.scalars.withUnsafeBufferPointer { src in
            for (i, pixel) in positions.values.enumerated() {
                let (item, (y, x)) = (i / k, pixel.quotientAndRemainder(dividingBy: width))
                for t in 0..<2 {
                    // Channel t·27 + (kh·3 + kw)·3 + c, as the space-to-depth of the patches lays them out.
                    for patch in 0..<27 {
                        let value: Float
                        if isFrames {
                            let (tap, c) = patch.quotientAndRemainder(dividingBy: 3)
                            let (yy, xx) = (y + tap / 3 - 1, x + tap % 3 - 1)
                            value = yy < 0 || yy >= height || xx < 0 || xx >= width ? 0
                                : src[((item * 2 + t) * 3 + c) * plane + yy * width + xx]
                        } else {
                            value = src[((item * 2 + t) * 27 + patch) * plane + y * width + x]
                        }
                        stacked[i * 54 + t * 27 + patch] = value
                    }
                }
            }
        }
        let features = try preprocessor.convAfterPatches(stacked, rows: positions.values.count, context: context)
        let grid = preprocessor.positionFeatures.features(height: height, width: width)
        let f = preprocessor.positionFeatures.channels
        let c = 64 + f
        var out = uninitializedFloats(positions.values.count * c)
        features.withUnsafeBufferPointer { conv in
            grid.withUnsafeBufferPointer { table in
                out.withUnsafeMutableBufferPointer { dst in
                    for (i, pixel) in positions.values.enumerated() {
                        (dst.baseAddress! + i * c).update(from: conv.baseAddress! + i * 64, count: 64)
                        (dst.baseAddress! + i * c + 64).update(from: table.baseAddress! + pixel * f, count: f)
                    }
                }
            }
        }
        return out
    }

    var byteCount: Int { input.scalars.count * MemoryLayout<Float>.stride }
    func compact() -> any PreparedRows { self }

    /// Chosen pixels: their stacked patches (54 values), convolution features (64) and rows. Every pixel: the
    /// preprocessor's pass (`FlowPreprocessor.plan`) and its `(B, M, C)` result.
    func rebuildBytes(positions: Int?) -> Int {
        let batch = input.shape[0]
        let c = 64 + preprocessor.positionFeatures.channels
        if let positions { return batch * positions * (54 + 64 + c) * PassCost.floatBytes }
        var inputs = ModelInputs()
        if isFrames { inputs.frames = input } else { inputs.flowPatches = input }
        let scratch = preprocessor.plan(inputs, batch: batch)?.scratchBytes ?? 0
        return scratch + batch * preprocessor.height * preprocessor.width * c * PassCost.floatBytes
    }

    func items(_ range: Range<Int>) -> any PreparedRows {
        let size = input.scalars.count / input.shape[0]
        let shape = [range.count] + input.shape.dropFirst()
        return FlowRows(preprocessor: preprocessor, input: Tensor(
            shape: shape, scalars: Array(input.scalars[(range.lowerBound * size)..<(range.upperBound * size)])),
            isFrames: isFrames)
    }
}
