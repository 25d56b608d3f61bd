/// What turns the decoder's `(B, O, E)` output into the model's output (PERCEIVER.md B.10). It is applied to
/// each decoded chunk of rows, so the decoder's full-width output is never held at once.
enum Postprocessor: Sendable {
    /// A linear map of each row: `PerceiverEmbeddingDecoder` (`h E^T + bias` with E tied to the input
    /// embeddings) -> `(B, O, V)`, and the multimodal modality heads.
    case projection(LinearWeights)
    /// The classification decoder already projected to labels; with its default single query the
    /// query axis is dropped (`[:, 0, :]`) -> `(B, num_labels)`.
    case classification
    /// `PerceiverOpticalFlowDecoder`: `preds / rescale_factor`, reshaped to `(B, H, W, 2)` when every pixel
    /// was decoded.
    case opticalFlow(rescaleFactor: Float, height: Int, width: Int)

    /// Width of a row after this postprocessor, given the decoder's output width.
    func channels(decoded: Int) -> Int {
        if case .projection(let head) = self { return head.outFeatures }
        return decoded
    }

    /// `decoded (count, E)` -> `(count, channels(decoded: E))`.
    func rows(_ decoded: [Float], count: Int, context: ComputeContext) throws(InferenceError) -> [Float] {
        switch self {
        case .projection(let head):
            return try head(decoded, rows: count, context: context)
        case .classification:
            return decoded
        case .opticalFlow(let rescaleFactor, _, _):
            // `preds /= self.rescale_factor`: a division, not a multiplication by 0.01, for the same bits.
            return decoded.map { $0 / rescaleFactor }
        }
    }

    /// The output's shape for `batch` rows of `queries`: `(B, O, C)`, except that a classifier's default single
    /// query drops the query axis and optical flow's default (every pixel) is `(B, H, W, 2)`.
    func shape(batch: Int, queries: PerceiverDecoder.Queries, channels: Int) -> [Int] {
        switch self {
        case .classification where queries.isDefault && queries.count == 1:
            return [batch, channels]
        case .opticalFlow(_, let height, let width) where queries.isDefault:
            return [batch, height, width, channels]
        default:
            return [batch, queries.count, channels]
        }
    }
}
