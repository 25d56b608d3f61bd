/// `PerceiverForSequenceClassification` (docs/reference/perceiver.md A.2): bytes in, one row of label scores per item
/// out.
///
/// Checkpoint: the text preprocessor (`TextPreprocessor.Names`), the encoder (`PerceiverEncoder.Names`) and the
/// classification decoder (`PerceiverDecoder.ClassificationNames`).
enum SequenceClassificationFamily: Family {
    static let className = "PerceiverForSequenceClassification"
    static let task = ModelTask.textClassification

    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts {
        FamilyParts(preprocessor: try TextPreprocessor(weights, config: config),
                    decoder: try .classification(weights, config: config), postprocessor: ClassificationHead())
    }

    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs {
        TextPreprocessor.sampleInputs(config: config)
    }
}
