/// A preprocessor's result: the encoder's input array and its key mask.
struct PreparedInputs: Sendable {
    /// B
    let batch: Int
    /// M, input rows per batch element (the padded length for text).
    let rows: Int
    /// C
    let channels: Int
    /// `(B, M, C)`
    let values: [Float]
    /// `(B, M)`: 0 for kept keys, `-Float.greatestFiniteMagnitude` (torch `finfo.min`) for masked ones;
    /// nil when nothing is masked, as `transformers` adds no bias then (docs/reference/perceiver.md B.6).
    let keyBias: [Float]?
    /// `(B, M)`: the token each row embeds, when every row is a token's embedding plus its position's
    /// (`TextPreprocessor`), -1 for a zero row padding a batch; nil for other inputs. An encoder with
    /// `TabulatedKeyValues` reads its keys and values from tables by these.
    var tokens: [Int]? = nil
}

/// The additive attention bias `transformers` derives from a 0/1 `attention_mask (B, M)`, or nil when
/// every key is kept.
func keyBias(fromMask mask: IndexTensor) -> [Float]? {
    guard mask.values.contains(0) else { return nil }
    return mask.values.map { $0 == 0 ? -Float.greatestFiniteMagnitude : 0 }
}
