/// `PerceiverForImageClassificationConvProcessing` (docs/reference/perceiver.md A.5): images of any size through a
/// strided convolution and pool, with Fourier position features, one row of label scores per image.
///
/// Checkpoint: `ConvImagePreprocessor.Names`, the encoder (`PerceiverEncoder.Names`) and the classification
/// decoder (`PerceiverDecoder.ClassificationNames`).
enum ImageClassificationConvProcessingFamily: Family {
    static let className = "PerceiverForImageClassificationConvProcessing"
    static let task = ModelTask.imageClassification

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        FamilyParts(preprocessor: try ConvImagePreprocessor(weights),
                    decoder: try .classification(weights, config: config), postprocessor: ClassificationHead())
    }

    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        imageSampleInputs(config: config, specs: specs)
    }

    static func imageSide(config: PerceiverConfig) -> ImageSide? { .any }
}
