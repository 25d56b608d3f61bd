import PerceiverEngine

/// `text` as byte-tokenizer ids with `[CLS] ... [SEP]`, refused when longer than `model` takes.
/// - Throws: `RequestError.badTensor` naming `text`.
func encodeText(_ text: String, for model: PerceiverModel) throws(RequestError) -> [Int] {
    let ids = ByteTokenizer().encode(text)
    guard ids.count <= model.config.maxPositionEmbeddings else {
        throw RequestError.badTensor(name: "text", reason: "encodes to \(ids.count) tokens; the model takes at most "
                                     + "\(model.config.maxPositionEmbeddings)")
    }
    return ids
}
