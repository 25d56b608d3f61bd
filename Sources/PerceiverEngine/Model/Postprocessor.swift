/// What turns the decoder's `(B, O, E)` output into `logits` (PERCEIVER.md B.10).
enum Postprocessor: Sendable {
    /// `PerceiverEmbeddingDecoder`: `h E^T + bias` with E tied to the input embeddings -> `(B, O, V)`.
    case embeddingDecoder(LinearWeights)
    /// The classification decoder already projected to labels; with its default single query the
    /// query axis is dropped (`[:, 0, :]`) -> `(B, num_labels)`.
    case classification

    func callAsFunction(_ decoded: [Float], batch: Int, queries: PerceiverDecoder.Queries, channels: Int,
                        context: ComputeContext) throws(InferenceError) -> Tensor {
        switch self {
        case .embeddingDecoder(let head):
            let logits = try head(decoded, rows: batch * queries.count, context: context)
            return Tensor(shape: [batch, queries.count, head.outFeatures], scalars: logits)
        case .classification:
            return Tensor(shape: shape(batch: batch, queries: queries, channels: channels), scalars: decoded)
        }
    }

    /// The logits' shape for `batch` rows of `queries`: `(B, O, C)`, except that a classifier's default single
    /// query drops the query axis.
    func shape(batch: Int, queries: PerceiverDecoder.Queries, channels: Int) -> [Int] {
        if case .classification = self, queries.isDefault, queries.count == 1 { return [batch, channels] }
        return [batch, queries.count, channels]
    }
}
