extension PerceiverModel {
    /// Small valid inputs of batch 1, all zeros, that run every kernel of this model once: what a server
    /// passes through each instance at startup so oneDNN's kernels are JIT-compiled before the first client.
    /// Optical flow takes a full train_size frame pair (its only input size) but decodes one pixel.
    public var sampleInputs: ModelInputs {
        func zeros(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
        }
        var inputs = ModelInputs()
        switch architecture {
        case .maskedLM, .sequenceClassification:
            let length = min(16, config.maxPositionEmbeddings)
            inputs.inputIDs = IndexTensor(shape: [1, length], values: [Int](repeating: 0, count: length))
        case .imageClassificationLearned, .imageClassificationFourier, .imageClassificationConvProcessing:
            let spec = inputSpecs.first { $0.name == "pixel_values" }
            inputs.pixelValues = zeros((spec?.shape ?? [-1, 3, -1, -1]).enumerated().map { index, dim in
                dim >= 0 ? dim : (index == 0 ? 1 : config.imageSize)
            })
        case .opticalFlow:
            inputs.frames = zeros([1, 2, 3] + config.trainSize)
            inputs.outputPositions = IndexTensor(shape: [1, 1], values: [0])
        case .multimodalAutoencoding:
            let s = MultimodalPreprocessor.spatialDownsample
            inputs.image = zeros([1, 2, 3, s, s])
            inputs.audio = zeros([1, config.samplesPerPatch, 1])
            for modality in Modality.allCases {
                inputs.modalityPositions[modality] = IndexTensor(shape: [1, 1], values: [0])
            }
        }
        return inputs
    }
}
