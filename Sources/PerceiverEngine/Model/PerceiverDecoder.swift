/// `PerceiverBasicDecoder` with trainable output queries: a table of query rows (MLM: one per text
/// position; classifiers: a single row) cross-attends to the latents (PERCEIVER.md B.7).
///
/// Shapes: B batch, O output queries of E channels, N latents of D channels.
/// Queries are independent rows, so computing any subset gives exactly the matching rows of the full
/// decode (PERCEIVER.md B.13): `output_positions` selects rows, `queries` replaces the table.
struct PerceiverDecoder: Sendable {
    /// How many queries a request gets when it names none.
    enum DefaultQueries: Sendable {
        /// Rows 0..<L of the table, L being the input's (padded) length: MLM.
        case inputLength
        /// Every row of the table: classifiers (one row).
        case wholeTable
    }

    let queryTable: WeightTensor            // (P, E) output_position_encodings.position_embeddings
    let layer: PerceiverLayer               // decoding_cross_attention
    let finalLayer: LinearWeights?          // final_layer, when final_project
    let defaultQueries: DefaultQueries

    var queryChannels: Int { queryTable.shape[1] }
    var tableRows: Int { queryTable.shape[0] }
    var outputChannels: Int { finalLayer?.outFeatures ?? queryChannels }

    /// The queries of one request: `(B, O, E)`.
    struct Queries {
        let values: [Float]
        let count: Int
        let isDefault: Bool
    }

    /// Builds the `(B, O, E)` queries from `queries`, `output_positions` or the default.
    func queries(for inputs: ModelInputs, prepared: PreparedInputs) throws(InferenceError) -> Queries {
        let batch = prepared.batch
        if let custom = inputs.queries {
            guard inputs.outputPositions == nil else {
                throw InferenceError.badValue(tensor: "queries", reason: "give either queries or output_positions, not both")
            }
            guard custom.shape.count == 3, custom.shape[0] == batch, custom.shape[1] >= 1,
                  custom.shape[2] == queryChannels else {
                throw InferenceError.badShape(tensor: "queries", expected: "(\(batch), O, \(queryChannels))",
                                              actual: custom.shape)
            }
            return Queries(values: custom.scalars, count: custom.shape[1], isDefault: false)
        }
        if let positions = inputs.outputPositions {
            guard positions.shape.count == 2, positions.shape[0] == batch, positions.shape[1] >= 1 else {
                throw InferenceError.badShape(tensor: "output_positions", expected: "(\(batch), K)",
                                              actual: positions.shape)
            }
            if let bad = positions.values.first(where: { $0 < 0 || $0 >= tableRows }) {
                throw InferenceError.badValue(tensor: "output_positions",
                                              reason: "position \(bad) is outside 0..<\(tableRows)")
            }
            return Queries(values: gather(positions.values), count: positions.shape[1], isDefault: false)
        }
        let rows = defaultQueries == .inputLength ? Array(0..<prepared.rows) : Array(0..<tableRows)
        let perItem = gather(rows)
        var values = [Float]()
        values.reserveCapacity(batch * perItem.count)
        for _ in 0..<batch { values.append(contentsOf: perItem) }
        return Queries(values: values, count: rows.count, isDefault: true)
    }

    /// Decodes `queries (B, O, E)` against `z (B, N, D)` into `(B, O, outputChannels)`.
    func callAsFunction(_ queries: Queries, latents z: [Float], batch: Int, latentRows: Int,
                        context: ComputeContext) throws(InferenceError) -> [Float] {
        let decoded = try layer(queries.values, batch: batch, queryRows: queries.count, keyValues: z,
                                keyRows: latentRows, keyBias: nil, context: context)
        guard let finalLayer else { return decoded }
        return try finalLayer(decoded, rows: batch * queries.count, context: context)
    }

    /// Rows `indices` of the query table, concatenated.
    private func gather(_ indices: [Int]) -> [Float] {
        let e = queryChannels
        var out = uninitializedFloats(indices.count * e)
        out.withUnsafeMutableBufferPointer { dst in
            for (i, row) in indices.enumerated() {
                (dst.baseAddress! + i * e).update(from: queryTable.data + row * e, count: e)
            }
        }
        return out
    }
}

extension PerceiverDecoder {
    /// `PerceiverForMaskedLM`'s decoder: one query per position, qk 8*32 and 8 heads hard-coded, no query
    /// residual, no final projection (PERCEIVER.md A.1).
    static func maskedLanguageModel(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) -> Self {
        let prefix = "perceiver.decoder"
        return PerceiverDecoder(
            queryTable: try source.tensor(prefix + ".output_position_encodings.position_embeddings",
                                          shape: [config.maxPositionEmbeddings, config.dModel]),
            layer: try PerceiverLayer(source, prefix + ".decoding_cross_attention", .init(
                isCross: true, queryDim: config.dModel, keyValueDim: config.dLatents, qkChannels: 8 * 32,
                vChannels: config.dModel, heads: 8, wideningFactor: 1, useQueryResidual: false)),
            finalLayer: nil, defaultQueries: .inputLength)
    }

    /// `PerceiverClassificationDecoder`: one trainable query of width d_latents, one head, query residual,
    /// then `final_layer` to num_labels (PERCEIVER.md A.2).
    static func classification(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) -> Self {
        let prefix = "perceiver.decoder.decoder"
        return PerceiverDecoder(
            queryTable: try source.tensor(prefix + ".output_position_encodings.position_embeddings",
                                          shape: [1, config.dLatents]),
            layer: try PerceiverLayer(source, prefix + ".decoding_cross_attention", .init(
                isCross: true, queryDim: config.dLatents, keyValueDim: config.dLatents, qkChannels: nil,
                vChannels: nil, heads: 1, wideningFactor: 1, useQueryResidual: true)),
            finalLayer: try LinearWeights(source, prefix + ".final_layer", in: config.dLatents, out: config.numLabels),
            defaultQueries: .wholeTable)
    }
}
