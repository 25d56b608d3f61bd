import PerceiverEngine

/// `text` as byte-tokenizer ids with `[CLS] ... [SEP]`, refused when longer than `model` takes.
/// - Throws: `RequestError.badTensor` naming `text`.
func encodeText(_ text: String, for model: PerceiverModel) throws(RequestError) -> [Int] {
    try encodeText(text, maxLength: model.config.maxPositionEmbeddings)
}

/// `text` as byte-tokenizer ids with `[CLS] ... [SEP]`, refused when longer than `maxLength` tokens (a text
/// model's `max_position_embeddings`); `element`, when given, is its index in a batch of texts, for the message.
/// - Throws: `RequestError.badTensor` naming `text`.
func encodeText(_ text: String, maxLength: Int, element: Int? = nil) throws(RequestError) -> [Int] {
    let ids = ByteTokenizer().encode(text)
    guard ids.count <= maxLength else {
        throw RequestError.badTensor(name: "text", reason: (element.map { "element \($0) " } ?? "")
                                     + "encodes to \(ids.count) tokens; the model takes at most \(maxLength)")
    }
    return ids
}
