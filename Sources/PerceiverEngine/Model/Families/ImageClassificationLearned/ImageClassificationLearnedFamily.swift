/// `PerceiverForImageClassificationLearned` (docs/reference/perceiver.md A.3): `image_size`² pixels through a 1x1
/// convolution with learned positions, one row of label scores per image.
///
/// Checkpoint: `LearnedImagePreprocessor.Names`, the encoder (`PerceiverEncoder.Names`) and the classification
/// decoder (`PerceiverDecoder.ClassificationNames`).
enum ImageClassificationLearnedFamily: Family {
    static let className = "PerceiverForImageClassificationLearned"
    static let task = ModelTask.imageClassification

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        FamilyParts(preprocessor: try LearnedImagePreprocessor(weights, config: config, context: context),
                    decoder: try .classification(weights, config: config), postprocessor: ClassificationHead())
    }

    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        imageSampleInputs(config: config, specs: specs)
    }

    /// Its position embeddings are `image_size`² rows: images must be that size.
    static func imageSide(config: PerceiverConfig) -> ImageSide? { .fixed(config.imageSize) }
}
