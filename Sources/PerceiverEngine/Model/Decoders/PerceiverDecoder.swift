/// `PerceiverBasicDecoder`: output queries cross-attend to the latents, then an optional final projection
/// (docs/reference/perceiver.md B.7). The queries are a trainable table (MLM: one row per text position; classifiers: a
/// single row), the preprocessed input itself (optical flow), or generated per modality (multimodal).
///
/// Shapes: B batch, O output queries of E channels, N latents of D channels.
/// Queries are independent rows, so computing any subset gives the matching rows of the full decode
/// (docs/reference/perceiver.md B.13), up to the order of f32 sums (the blocking of a shorter matmul; a single-head
/// attention folded for many rows and not for a few, `FoldedDecoderAttention`): `output_positions` selects rows,
/// `queries` replaces the table, and the decoder works through the queries a chunk at a time, so memory stays
/// bounded whatever O is.
struct PerceiverDecoder: Sendable {
    /// How many queries a request gets when it names none.
    enum DefaultQueries: Sendable {
        /// Rows 0..<L of the table, L being the input's (padded) length: MLM.
        case inputLength
        /// Every row of the table: classifiers (one row).
        case wholeTable
        /// The preprocessed input rows, position features included: optical flow, one query per pixel.
        case preparedInputs
        /// None: the multimodal decoder builds its own queries per modality.
        case generated
    }

    let queryTable: WeightTensor?           // (P, E) output_position_encodings.position_embeddings
    let queryChannels: Int                  // E
    let layer: PerceiverLayer               // decoding_cross_attention
    let finalLayer: LinearWeights?          // final_layer, when final_project
    let defaultQueries: DefaultQueries
    /// `(P, qk)`: every table row's attention query (`PerceiverLayer.projectQueries`), computed once at load by
    /// `projectingTable(context:)`: the table is weights, so a request whose queries are table rows gathers
    /// their projections instead of recomputing the layer norm and query projection. Nil without a table.
    private(set) var projectedTable: [Float]?
    /// Whether a decode may fold a single-head attention into its keys and values (`FoldedDecoderAttention`):
    /// set at load for an f32 model unless `ExecutionOptions.foldsCrossAttention` is off.
    var foldsAttention = false

    var tableRows: Int { queryTable?.shape[0] ?? 0 }
    var outputChannels: Int { finalLayer?.outFeatures ?? queryChannels }

    /// The queries of one request: `(B, O, E)`, held in full, with their projections `(B, O, qk)` when they
    /// are rows of the table.
    struct Queries: QuerySource {
        let values: [Float]
        let count: Int
        let isDefault: Bool
        let channels: Int
        var projected: [Float]? = nil
        var projectedChannels = 0

        func rows(batches: Range<Int>, range: Range<Int>) -> [Float] {
            Self.slice(values, channels: channels, count: count, batches: batches, range: range)
        }

        func projectedRows(batches: Range<Int>, range: Range<Int>) -> [Float]? {
            projected.map { Self.slice($0, channels: projectedChannels, count: count, batches: batches, range: range) }
        }

        var hasProjections: Bool { projected != nil }

        /// Rows `range` of batch elements `batches` of `values (B, count, channels)`.
        private static func slice(_ values: [Float], channels e: Int, count: Int, batches: Range<Int>,
                                  range: Range<Int>) -> [Float] {
            if range == 0..<count {
                return Array(values[(batches.lowerBound * count * e)..<(batches.upperBound * count * e)])
            }
            var out: [Float] = []
            out.reserveCapacity(batches.count * range.count * e)
            for b in batches {
                let start = (b * count + range.lowerBound) * e
                out.append(contentsOf: values[start..<(start + range.count * e)])
            }
            return out
        }
    }

    /// Builds the `(B, O, E)` queries of `batch` items from `queries`, `output_positions` or the default, with
    /// what `side` holds of the input (its length, or its rows when the queries are the input).
    func queries(for inputs: ModelInputs, side: InputSide, batch: Int,
                 context: ComputeContext) throws(InferenceError) -> Queries {
        if let custom = inputs.queries {
            guard inputs.outputPositions == nil else {
                throw InferenceError.badValue(tensor: "queries", reason: "give either queries or output_positions, not both")
            }
            guard custom.shape.count == 3, custom.shape[0] == batch, custom.shape[1] >= 1,
                  custom.shape[2] == queryChannels else {
                throw InferenceError.badShape(tensor: "queries", expected: "(\(batch), O, \(queryChannels))",
                                              actual: custom.shape)
            }
            return Queries(values: custom.scalars, count: custom.shape[1], isDefault: false, channels: queryChannels)
        }
        let selectable = defaultQueries == .preparedInputs ? side.rowCount : tableRows
        if let positions = inputs.outputPositions {
            guard positions.shape.count == 2, positions.shape[0] == batch, positions.shape[1] >= 1 else {
                throw InferenceError.badShape(tensor: "output_positions", expected: "(\(batch), K)",
                                              actual: positions.shape)
            }
            if let bad = positions.values.first(where: { $0 < 0 || $0 >= selectable }) {
                throw InferenceError.badValue(tensor: "output_positions",
                                              reason: "position \(bad) is outside 0..<\(selectable)")
            }
            if defaultQueries == .preparedInputs {
                return Queries(values: try inputRows(side).rows(at: positions, context: context),
                               count: positions.shape[1], isDefault: false, channels: queryChannels)
            }
            return tableQueries(positions.values, count: positions.shape[1], isDefault: false)
        }
        switch defaultQueries {
        case .preparedInputs:
            return Queries(values: try inputRows(side).all(context: context), count: side.rowCount, isDefault: true,
                           channels: queryChannels)
        case .inputLength, .wholeTable, .generated:
            if defaultQueries == .inputLength && side.rowCount == 0 {
                throw InferenceError.missingInput("output_positions or queries (latents alone do not say how long "
                                                  + "the input was)")
            }
            let rows = defaultQueries == .inputLength ? Array(0..<side.rowCount) : Array(0..<tableRows)
            return tableQueries(repeated(rows, times: batch), count: rows.count, isDefault: true)
        }
    }

    /// Queries that are the table's rows `indices` (`(B * O)` of them), with their projections when computed.
    private func tableQueries(_ indices: [Int], count: Int, isDefault: Bool) -> Queries {
        var queries = Queries(values: gather(indices, from: queryTable.map { ($0.data, queryChannels) }),
                              count: count, isDefault: isDefault, channels: queryChannels)
        if let projectedTable {
            let qk = layer.attention.qkChannels
            queries.projected = projectedTable.withUnsafeBufferPointer { gather(indices, from: ($0.baseAddress!, qk)) }
            queries.projectedChannels = qk
        }
        return queries
    }

    /// The input rows the queries are made of; an error naming what to send when the request has none.
    private func inputRows(_ side: InputSide) throws(InferenceError) -> any PreparedRows {
        guard let rows = side.rows else {
            throw InferenceError.missingInput("frames (the decoder builds its queries from them), or queries")
        }
        return rows
    }

    /// Decodes `queries` against the latents' projected keys and values, a chunk of at most `chunkRows`
    /// query rows at a time (whole batch elements together when they fit), each chunk through the final
    /// layer and then `head`, or through `tail` (made for this decoder and `head`: `DecoderTail.of`), which
    /// folds the layer's last product into the final layer or the head. With `foldsAttention`, a single-head
    /// attention is folded into the keys and values where that is cheaper for these queries
    /// (`FoldedDecoderAttention`). Returns `(B, O, head channels)`.
    func decode(_ queries: some QuerySource, keyValues kv: KeyValues, chunkRows: Int, head: some Postprocessor,
                tail: DecoderTail? = nil, context: ComputeContext) throws(InferenceError) -> [Float] {
        let (batch, count) = (kv.batch, queries.count)
        let channels = head.channels(decoded: outputChannels)
        let chunks = Self.chunks(batch: batch, count: count, chunkRows: chunkRows)
        var out = chunks.count == 1 ? [] : uninitializedFloats(batch * count * channels)
        let fold = foldsAttention
            ? try FoldedDecoderAttention(layer, keyValues: kv, rows: batch * count, projected: queries.hasProjections,
                                         context: context) : nil
        if let fold { context.countFolded(fold.savedFLOPs) }
        for (batches, range) in chunks {
            let rows = batches.count * range.count
            let x = queries.rows(batches: batches, range: range)
            var (a, hidden): ([Float], [Float])
            if let fold {
                (a, hidden) = try fold.residualAndHidden(layer, x, batch: batches.count, queryRows: range.count,
                                                         batchOffset: batches.lowerBound, context: context)
            } else {
                (a, hidden) = try layer.residualAndHidden(
                    x, batch: batches.count, queryRows: range.count, keyValues: kv, batchOffset: batches.lowerBound,
                    projectedQueries: queries.projectedRows(batches: batches, range: range), context: context)
            }
            let mapped: [Float]
            if let tail {
                let y = try tail(residual: a, hidden: hidden, rows: rows, context: context)
                mapped = tail.replacesHead ? y : try head.rows(y, count: rows, context: context)
            } else {
                try layer.mlp2.accumulate(hidden, rows: rows, into: &a, context: context)
                if let finalLayer { a = try finalLayer(a, rows: rows, context: context) }
                mapped = try head.rows(a, count: rows, context: context)
            }
            // One chunk is the whole output, already in place.
            if chunks.count == 1 { return mapped }
            out.withUnsafeMutableBufferPointer { dst in
                mapped.withUnsafeBufferPointer { src in
                    for (i, b) in batches.enumerated() {
                        (dst.baseAddress! + (b * count + range.lowerBound) * channels)
                            .update(from: src.baseAddress! + i * range.count * channels, count: range.count * channels)
                    }
                }
            }
        }
        return out
    }

    /// The calls that cover `batch` x `count` query rows with at most `chunkRows` rows each: all at once when
    /// they fit, else groups of whole batch elements, else slices of one element's rows.
    static func chunks(batch: Int, count: Int, chunkRows: Int) -> [(batches: Range<Int>, rows: Range<Int>)] {
        guard batch > 0, count > 0 else { return [] }
        let limit = max(1, chunkRows)
        if count <= limit {
            let group = max(1, limit / count)
            return stride(from: 0, to: batch, by: group).map { ($0..<min(batch, $0 + group), 0..<count) }
        }
        return (0..<batch).flatMap { b in
            stride(from: 0, to: count, by: limit).map { (b..<(b + 1), $0..<min(count, $0 + limit)) }
        }
    }

    /// Rows `indices` of a `(P, width)` table, concatenated; empty without a table.
    private func gather(_ indices: [Int], from table: (rows: UnsafePointer<Float>, width: Int)?) -> [Float] {
        guard let (base, e) = table else { return [] }
        var out = uninitializedFloats(indices.count * e)
        out.withUnsafeMutableBufferPointer { dst in
            for (i, row) in indices.enumerated() {
                (dst.baseAddress! + i * e).update(from: base + row * e, count: e)
            }
        }
        return out
    }

    /// This decoder with `projectedTable` computed on `context` (held by the caller); itself without a table.
    func projectingTable(context: ComputeContext) throws(InferenceError) -> PerceiverDecoder {
        guard let queryTable else { return self }
        var copy = self
        copy.projectedTable = try layer.projectQueries(queryTable.values, rows: tableRows, context: context)
        return copy
    }

}

/// Where a decoder's query rows come from: held in full, or generated a chunk at a time.
protocol QuerySource {
    /// O, queries per batch element.
    var count: Int { get }
    /// Rows `range` of batch elements `batches`: `(batches.count, range.count, E)`.
    func rows(batches: Range<Int>, range: Range<Int>) -> [Float]
    /// The same rows' attention queries `(batches.count, range.count, qk)` when computed before, else nil.
    func projectedRows(batches: Range<Int>, range: Range<Int>) -> [Float]?
    /// Whether `projectedRows` answers.
    var hasProjections: Bool { get }
}

extension QuerySource {
    func projectedRows(batches: Range<Int>, range: Range<Int>) -> [Float]? { nil }
    var hasProjections: Bool { false }
}
