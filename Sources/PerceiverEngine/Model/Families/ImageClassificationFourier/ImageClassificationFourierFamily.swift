/// `PerceiverForImageClassificationFourier` (docs/reference/perceiver.md A.4): raw pixels of any size with Fourier
/// position features, one row of label scores per image.
///
/// Checkpoint: no preprocessor weights; the encoder (`PerceiverEncoder.Names`) and the classification decoder
/// (`PerceiverDecoder.ClassificationNames`).
enum ImageClassificationFourierFamily: Family {
    static let className = "PerceiverForImageClassificationFourier"
    static let task = ModelTask.imageClassification

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        FamilyParts(preprocessor: FourierImagePreprocessor(), decoder: try .classification(weights, config: config),
                    postprocessor: ClassificationHead())
    }

    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        imageSampleInputs(config: config, specs: specs)
    }

    static func imageSide(config: PerceiverConfig) -> ImageSide? { .any }
}
