/// `pixel_values (B, 3, H, W)`, validated: the input every image preprocessor reads.
func pixelValues(_ inputs: ModelInputs, size: Int? = nil) throws(InferenceError) -> Tensor {
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

func imageSpecs(size: Int?) -> [TensorSpec] {
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


/// Warm-up inputs of an image classifier: one zero image of its fixed size, or of `image_size` when any size goes.
func imageSampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
    let shape = (specs.first { $0.name == "pixel_values" }?.shape ?? [-1, 3, -1, -1]).enumerated().map { index, dim in
        dim >= 0 ? dim : (index == 0 ? 1 : config.imageSize)
    }
    return ModelInputs(pixelValues: Tensor(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *))))
}
