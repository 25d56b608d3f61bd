import PerceiverEngine

extension Router {
    /// Refuses, before anything is computed, inputs of a variable-size model that are larger than the limits
    /// (`limits.max_input_pixels` per image, video frame or optical-flow frame, `limits.max_audio_samples`) and more output rows
    /// than `limits.max_output_rows` per batch element (413, naming the input and the limit). The memory a
    /// pass may take is bounded separately, by the model's memory budget.
    func checkSizes(_ inputs: ModelInputs, of model: PerceiverModel) throws(RequestError) {
        // A Learned classifier with interpolate_pos_encoding takes any size too.
        let variable = inputs.interpolatePositionEncoding
            || model.inputSpecs.contains { $0.name == "pixel_values" && $0.shape.contains(-1) }
        if variable, let shape = inputs.pixelValues?.shape, shape.count == 4 {
            try checkPixels("pixel_values", height: shape[2], width: shape[3])
        }
        if let shape = inputs.frames?.shape, shape.count == 5 {
            try checkPixels("frames", height: shape[3], width: shape[4])
        }
        if let shape = inputs.image?.shape, shape.count == 5 {
            try checkPixels("image", height: shape[3], width: shape[4])
        }
        if let shape = inputs.audio?.shape, shape.count == 3, shape[1] > limits.maxAudioSamples {
            throw RequestError.tooLarge("input 'audio': \(shape[1]) samples, more than limits.max_audio_samples "
                                        + "(\(limits.maxAudioSamples))")
        }
        var outputs: [(String, Int)] = []
        if let shape = inputs.outputPositions?.shape, shape.count == 2 { outputs.append(("output_positions", shape[1])) }
        if let shape = inputs.queries?.shape, shape.count == 3 { outputs.append(("queries", shape[1])) }
        for (modality, positions) in inputs.modalityPositions where positions.shape.count == 2 {
            outputs.append((modality.positionsName, positions.shape[1]))
        }
        if let (name, rows) = outputs.first(where: { $0.1 > limits.maxOutputRows }) {
            throw RequestError.tooLarge("input '\(name)': \(rows) output rows per item, more than "
                                        + "limits.max_output_rows (\(limits.maxOutputRows))")
        }
    }

    private func checkPixels(_ name: String, height: Int, width: Int) throws(RequestError) {
        let (pixels, overflow) = height.multipliedReportingOverflow(by: width)
        guard overflow || pixels > limits.maxInputPixels else { return }
        throw RequestError.tooLarge("input '\(name)': \(height) x \(width) pixels per image, more than "
                                    + "limits.max_input_pixels (\(limits.maxInputPixels))")
    }
}
