/// `PerceiverOpticalFlowDecoder`'s output: `preds / rescale_factor`, reshaped to `(B, H, W, 2)` when every pixel
/// was decoded.
struct FlowHead: Postprocessor {
    let rescaleFactor: Float
    let height: Int
    let width: Int

    func rows(_ decoded: [Float], count: Int, context: ComputeContext) throws(InferenceError) -> [Float] {
        // `preds /= self.rescale_factor`: a division, not a multiplication by 0.01, for the same bits.
        decoded.map { $0 / rescaleFactor }
    }

    func shape(batch: Int, queries: PerceiverDecoder.Queries, channels: Int) -> [Int] {
        queries.isDefault ? [batch, height, width, channels] : [batch, queries.count, channels]
    }

    func metadataShape(decoded: Int) -> [Int] { [-1, height, width, decoded] }
}
