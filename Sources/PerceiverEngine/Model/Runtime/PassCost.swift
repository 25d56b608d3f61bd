/// What one forward pass will hold in memory, estimated from its inputs' shapes before any work starts, so
/// that a server can admit it against a budget (`PerceiverModel.estimatedPassBytes`).
///
/// Shapes: B batch, M input rows of C channels after preprocessing, N latents of D channels, O output queries
/// of E channels. Every term is a buffer the pass allocates at its largest: the inputs themselves, the
/// preprocessor's intermediates and its `(B, M, C)` result, the cross-attention's layer-normed chunk and its
/// keys and values `(B, M, qk + v)` (folded: every row layer-normed, no keys or values), the score buffer
/// (`MultiHeadAttention.scoreBudget`, or at least 128 query rows against every key), the latents' working
/// copies, the decoder's queries `(B, O, E)`, one decoder chunk's working set and the outputs. It is an upper
/// bound in the sense that every buffer counted is alive at once, which the engine never needs; `PassCostTests`
/// checks it against the resident memory a pass really takes.
struct PassCost {
    /// Rows M per batch element after preprocessing, and bytes of preprocessing intermediates (grids, patches,
    /// convolution rows) beyond the `(B, M, C)` result.
    struct Plan {
        var rows: Int
        var scratchBytes: Int
    }

    static let floatBytes = 4

    /// Bytes of the tensors in `inputs` (integers as 8 bytes, floats as 4).
    static func inputBytes(_ inputs: ModelInputs) -> Int {
        inputs.values.values.reduce(0) { total, value in
            switch value {
            case .floats(let tensor): return total + tensor.scalars.count * floatBytes
            case .integers(let tensor): return total + tensor.values.count * 8
            }
        }
    }

    /// The score buffer of one attention of `batch` x `queries` query rows over `keys` key rows with `heads`
    /// heads: all of it when it fits `MultiHeadAttention.scoreBudget`, else a chunk of query rows that does (at
    /// least 128 rows).
    static func scoreBytes(batch: Int, heads: Int, queries: Int, keys: Int) -> Int {
        let whole = batch * heads * queries * keys
        let chunked = max(MultiHeadAttention.defaultScoreBudget, heads * MultiHeadAttention.defaultMinimumChunkRows * keys)
        return min(whole, chunked) * floatBytes
    }
}

extension PerceiverModel {
    /// An upper bound on the bytes a forward pass over `inputs` allocates (activations and preprocessing, not
    /// the weights), from shapes alone; 0 when the inputs are incomplete (the pass refuses them anyway).
    /// A server admits requests against a memory budget with it (`models[].memory_budget_mib`).
    public func estimatedPassBytes(_ inputs: ModelInputs) -> Int {
        let f = PassCost.floatBytes
        let batch = rowCount(of: inputs)
        if let given = inputs["latents"], given.shape.count == 3 {
            // The decoder alone, over latents the request carries (counted among its inputs).
            let rows = preprocessor.rowSource(inputs)
            let m = rows == nil ? (inputs.inputIDs?.shape.last ?? 0) : preparedRowCount
            return PassCost.inputBytes(inputs) + decodeOnlyBytes(inputs, batch: given.shape[0], inputRows: m, rows: rows)
        }
        guard let plan = preprocessor.plan(inputs, batch: batch) else { return PassCost.inputBytes(inputs) }
        let (m, c) = (plan.rows, preprocessor.numChannels)
        let cross = encoder.crossAttention
        var bytes = PassCost.inputBytes(inputs) + plan.scratchBytes + batch * m * c * f
        if let folded = encoder.foldedCrossAttention {
            // Folded cross-attention: every input row layer-normed, the scores, the attended inputs (B, N, C).
            bytes += batch * m * c * f + batch * encoder.numLatents * c * f
            bytes += PassCost.scoreBytes(batch: batch, heads: 1, queries: folded.rows, keys: m)
        } else {
            // Cross-attention: one layer-normed chunk (counted where keys and values are tabulated too, which
            // need none: inputs without token ids would be projected), keys and values of every input row, the
            // scores.
            bytes += min(batch * m, PerceiverLayer.projectionChunkRows) * c * f
            bytes += batch * m * (cross.key.outFeatures + cross.value.outFeatures) * f
            bytes += PassCost.scoreBytes(batch: batch, heads: cross.attention.heads, queries: encoder.numLatents,
                                         keys: m)
        }
        // Latents: a few (B, N, D) copies and the self-attention's hidden layer and scores.
        let (n, d) = (encoder.numLatents, encoder.latentChannels)
        let selfHidden = encoder.selfAttends.first.map { $0.mlp1.outFeatures } ?? d
        bytes += batch * n * (6 * d + selfHidden) * f
        bytes += batch * (encoder.selfAttends.first?.attention.heads ?? 1) * n * n * f
        bytes += decoderBytes(inputs, batch: batch, inputRows: m)
        return bytes
    }

    /// An upper bound on the bytes a decode of `latents` for the outputs `selection` asks for allocates (the
    /// latents themselves included, since a batch copies them): what a request whose latents are cached or
    /// given costs against the memory budget instead of `estimatedPassBytes`.
    public func estimatedDecodeBytes(_ latents: Latents, selecting selection: ModelInputs) -> Int {
        PassCost.inputBytes(selection) + latents.values.count * PassCost.floatBytes
            + decodeOnlyBytes(selection, batch: latents.batch, inputRows: latents.side.rowCount, rows: latents.side.rows)
    }

    /// A decode's queries rebuilt from the input side (optical flow's pixels), and the decoder's share.
    private func decodeOnlyBytes(_ selection: ModelInputs, batch: Int, inputRows m: Int,
                                 rows: (any PreparedRows)?) -> Int {
        let positions = selection.outputPositions.flatMap { $0.shape.count == 2 ? $0.shape[1] : nil }
        let rebuilt = selection.queries == nil ? (rows?.rebuildBytes(positions: positions) ?? 0) : 0
        return rebuilt + decoderBytes(selection, batch: batch, inputRows: m)
    }

    /// The decoder's share: its queries `(B, O, E)` (unless they are the preprocessed input itself), one chunk's
    /// working set against the N latents, and the outputs.
    private func decoderBytes(_ inputs: ModelInputs, batch: Int, inputRows m: Int) -> Int {
        let f = PassCost.floatBytes
        let n = encoder.numLatents
        let layer = decoder.layer
        let e = decoder.queryChannels
        let rows = outputRows(inputs, inputRows: m)
        let chunk = min(batch * rows, options.decoderChunkRows)
        let work = e * 4 + layer.query.outFeatures + layer.value.outFeatures + layer.mlp1.outFeatures
        let outputs = max(decoder.outputChannels, postprocessor.channels(decoded: decoder.outputChannels))
        var bytes = chunk * work * f
            + PassCost.scoreBytes(batch: batch, heads: layer.attention.heads, queries: rows, keys: n)
        bytes += batch * n * (layer.key.outFeatures + layer.value.outFeatures) * f
        // A single-head attention folded into its keys and values (`FoldedDecoderAttention`) holds them once more,
        // as `(B, N, E)` and `(B, N, Dout)`, with a bias per key.
        if decoder.foldsAttention && layer.attention.heads == 1 {
            bytes += batch * n * (e + layer.output.outFeatures + 1) * f
        }
        bytes += 2 * batch * rows * outputs * f
        if inputs.queries != nil || inputs.outputPositions != nil || decoder.defaultQueries != .preparedInputs {
            bytes += batch * rows * e * f
        }
        return bytes
    }

    /// O: the output queries per batch element a request asks for.
    func outputRows(_ inputs: ModelInputs, inputRows m: Int) -> Int {
        if let multimodal {
            return Modality.allCases.map { inputs.modalityPositions[$0]?.shape.last ?? multimodal.pointCount($0) }
                .reduce(0, +)
        }
        if let queries = inputs.queries, queries.shape.count == 3 { return queries.shape[1] }
        if let positions = inputs.outputPositions, positions.shape.count == 2 { return positions.shape[1] }
        switch decoder.defaultQueries {
        case .inputLength, .preparedInputs: return m
        case .wholeTable, .generated: return decoder.tableRows
        }
    }
}
