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
            if queries.isDefault && queries.count == 1 {
                return Tensor(shape: [batch, channels], scalars: decoded)
            }
            return Tensor(shape: [batch, queries.count, channels], scalars: decoded)
        }
    }
}
