/// The `transformers` model classes this engine implements, named as in `config.json` `architectures[0]`.
public enum Architecture: String, Sendable, CaseIterable {
    case maskedLM = "PerceiverForMaskedLM"
    case sequenceClassification = "PerceiverForSequenceClassification"
    case imageClassificationLearned = "PerceiverForImageClassificationLearned"
    case imageClassificationFourier = "PerceiverForImageClassificationFourier"
    case imageClassificationConvProcessing = "PerceiverForImageClassificationConvProcessing"
    case opticalFlow = "PerceiverForOpticalFlow"
    case multimodalAutoencoding = "PerceiverForMultimodalAutoencoding"

    /// Whether the model reads text (`input_ids`).
    public var isText: Bool { self == .maskedLM || self == .sequenceClassification }

    /// Whether the model's output is one row of class scores per item.
    public var isClassifier: Bool {
        switch self {
        case .sequenceClassification, .imageClassificationLearned, .imageClassificationFourier,
             .imageClassificationConvProcessing:
            return true
        case .maskedLM, .opticalFlow, .multimodalAutoencoding:
            return false
        }
    }
}
