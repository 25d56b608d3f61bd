import PerceiverEngine

/// Top labels of a classifier's `logits (B, num_labels)`, with softmax scores and names from `id2label`.
public struct Classification: Sendable, Equatable {
    public struct Label: Sendable, Equatable {
        public var id: Int
        public var label: String
        public var score: Float
    }

    /// Per batch item, the top labels, best first.
    public var items: [[Label]]

    /// Ranks `logits (B, num_labels)` of `model`.
    public init(logits: Tensor, labels: [String], topK: Int) {
        let (batch, count) = (logits.shape[0], logits.shape[logits.shape.count - 1])
        items = (0..<batch).map { b in
            let scores = softmax(logits.scalars[(b * count)..<((b + 1) * count)])
            return topIndices(scores, k: max(1, min(topK, count))).map {
                Label(id: $0, label: $0 < labels.count ? labels[$0] : "LABEL_\($0)", score: scores[$0])
            }
        }
    }

    /// Classifies `text` with a text classifier.
    public init(model: PerceiverModel, text: String, topK: Int) throws(RequestError) {
        let inputs = try Self.inputs(model: model, text: text)
        do {
            let logits = try model.predict(inputs).logits
            self.init(logits: logits, labels: model.config.labels, topK: topK)
        } catch {
            throw RequestError.inference(error)
        }
    }

    /// The inputs that classify `text` with a text classifier.
    /// - Throws: `RequestError.badTensor` when the text is too long for the model.
    public static func inputs(model: PerceiverModel, text: String) throws(RequestError) -> ModelInputs {
        let ids = try encodeText(text, for: model)
        return ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids))
    }
}
