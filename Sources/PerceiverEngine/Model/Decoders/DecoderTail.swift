/// The decoder layer's last product folded into the linear map after it, at load (issue 23).
///
/// The decoder's cross-attention layer ends `Y = A + H W2^T + b2`, with `A` its residual and `H` its MLP's GELU
/// output `(rows, h)`. When `Y` then goes through a linear map only, `T(Y) = Y Wt^T + bt` (the final layer of a
/// classifier or of optical flow; the masked LM's embedding decoder, `h E^T + bias`), then
///
///     T(Y) = A Wt^T + H (Wt W2)^T + (b2 Wt^T + bt)
///
/// and `Wt W2 (K, h)` and the bias are computed once. Per query row that is `(D + h) K` multiply-adds instead of
/// `(h + K) D`: fewer wherever the map narrows (`K < D`). The language perceiver's 2,048 positions
/// (D = h = 768, K = 262) save 1.6 of its 120 GFLOP; optical flow (D = h = 322, K = 2) saves almost all of the
/// second MLP product over its 182,528 pixels, 37.6 of about 1,800 GFLOP. The rounding is that of a reordered sum
/// (`DecoderTailTests` holds both orders to `transformers`).
struct DecoderTail: Sendable {
    /// `Wt (K, D)` with the bias `b2 Wt^T + bt`: applied to `A`.
    let residualMap: LinearWeights
    /// `Wt W2 (K, h)`, no bias: accumulated from `H`.
    let hiddenMap: LinearWeights
    /// Whether `Wt` is the postprocessor's projection (the decode then skips the postprocessor), not the
    /// decoder's final layer.
    let replacesHead: Bool
    /// Matmul FLOPs per query row the fold removes: `2 h (D - K)`.
    let savedFLOPsPerRow: Int

    /// The layers a fold reads after the model is built (this one at load, `FoldedDecoderAttention` the query
    /// projection in every folded decode): their loaded pages stay resident after packing
    /// (`WeightSource.retainedLayers`).
    static let readLayers = ["decoding_cross_attention.mlp.dense2", "final_layer",
                             "decoding_cross_attention.attention.self.query"]

    /// The fold for `decoder` followed by `head`: into its final layer where it has one, else into a projection
    /// head; nil where neither narrows (or there is neither).
    static func of(_ decoder: PerceiverDecoder, head: any Postprocessor,
                   context: ComputeContext) throws(ModelLoadError) -> DecoderTail? {
        if let finalLayer = decoder.finalLayer {
            return try DecoderTail(decoder.layer, into: finalLayer, replacesHead: false, context: context)
        }
        guard let projection = head as? ProjectionHead else { return nil }
        return try DecoderTail(decoder.layer, into: projection.head, replacesHead: true, context: context)
    }

    /// The fold of `layer`'s second MLP product into `map` (`replacesHead`: the postprocessor's projection), or
    /// nil where `map` does not narrow. Packed as the other layers are where `context` packs weights. Takes
    /// `context` itself: the caller must not hold it.
    init?(_ layer: PerceiverLayer, into map: LinearWeights, replacesHead: Bool,
          context: ComputeContext) throws(ModelLoadError) {
        let (k, d, h) = (map.outFeatures, map.inFeatures, layer.mlp2.inFeatures)
        guard k < d, layer.mlp2.outFeatures == d else { return nil }
        // Wt W2: (K, D) x (D, h), both read as stored; b2 Wt^T + bt.
        let folded: [Float]
        do {
            folded = try context.run { () throws(InferenceError) in
                try layer.mlp2.leftMultiplying(map.weight.values, rows: k, context: context)
            }
        } catch {
            throw ModelLoadError.invalidConfig(key: "architectures", reason: "folding the decoder's last product: \(error)")
        }
        let b2 = layer.mlp2.bias?.values ?? [Float](repeating: 0, count: d)
        let bias = b2.withUnsafeBufferPointer { map.applied(toConstant: $0.baseAddress!) }
        let packer = context.packsWeights ? context : nil
        residualMap = try LinearWeights(weight: map.weight, bias: WeightTensor(shape: [k], values: bias),
                                        packer: packer)
        hiddenMap = try LinearWeights(weight: WeightTensor(shape: [k, h], values: folded), bias: nil, packer: packer)
        self.replacesHead = replacesHead
        savedFLOPsPerRow = 2 * h * (d - k)
    }

    /// `T(A + H W2^T + b2)` for `rows` rows of the residual `A (rows, D)` and hidden `H (rows, h)`.
    func callAsFunction(residual a: [Float], hidden: [Float], rows: Int,
                        context: ComputeContext) throws(InferenceError) -> [Float] {
        var y = try residualMap(a, rows: rows, context: context)
        try hiddenMap.accumulate(hidden, rows: rows, into: &y, context: context)
        context.countFolded(rows * savedFLOPsPerRow)
        return y
    }
}
