/// What turns the decoder's `(B, O, E)` output into the model's output (docs/reference/perceiver.md B.10). It is
/// applied to each decoded chunk of rows, so the decoder's full-width output is never held at once. A family brings its
/// own when none of these fits.
protocol Postprocessor: Sendable {
    /// Width of a row after this postprocessor, given the decoder's output width.
    func channels(decoded: Int) -> Int
    /// `decoded (count, E)` -> `(count, channels(decoded: E))`.
    func rows(_ decoded: [Float], count: Int, context: ComputeContext) throws(InferenceError) -> [Float]
    /// The output's shape for `batch` rows of `queries`; `(B, O, C)` unless a default query set has a shape
    /// of its own.
    func shape(batch: Int, queries: PerceiverDecoder.Queries, channels: Int) -> [Int]
    /// The output's shape in model metadata, -1 where variable, for a decoder of `decoded` output channels.
    func metadataShape(decoded: Int) -> [Int]
}

extension Postprocessor {
    func channels(decoded: Int) -> Int { decoded }
    func rows(_ decoded: [Float], count: Int, context: ComputeContext) throws(InferenceError) -> [Float] { decoded }
    func shape(batch: Int, queries: PerceiverDecoder.Queries, channels: Int) -> [Int] {
        [batch, queries.count, channels]
    }
}

/// A linear map of each row: `PerceiverEmbeddingDecoder` (`h E^T + bias` with E tied to the input embeddings)
/// -> `(B, O, V)`, and the multimodal modality heads.
struct ProjectionHead: Postprocessor {
    let head: LinearWeights

    func channels(decoded: Int) -> Int { head.outFeatures }

    func rows(_ decoded: [Float], count: Int, context: ComputeContext) throws(InferenceError) -> [Float] {
        try head(decoded, rows: count, context: context)
    }

    func metadataShape(decoded: Int) -> [Int] { [-1, -1, head.outFeatures] }
}

/// The classification decoder already projected to labels; with its default single query the query axis is
/// dropped (`[:, 0, :]`) -> `(B, num_labels)`.
struct ClassificationHead: Postprocessor {
    func shape(batch: Int, queries: PerceiverDecoder.Queries, channels: Int) -> [Int] {
        queries.isDefault && queries.count == 1 ? [batch, channels] : [batch, queries.count, channels]
    }

    func metadataShape(decoded: Int) -> [Int] { [-1, decoded] }
}
