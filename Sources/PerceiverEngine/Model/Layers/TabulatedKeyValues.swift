/// The encoder cross-attention's keys and values over a text model's inputs, from tables computed at load
/// (issue 23).
///
/// A text input row is `x = E[t] + P[l]`, token t's embedding plus position l's (`TextPreprocessor`). The layer
/// norm subtracts the row's mean, and the mean is linear: `x - mean(x) 1 = Ē[t] + P̄[l]`, each table's rows
/// centered. With `LN2`'s scale g and shift β and `σ = sqrt(var(x) + eps)`, the keys are
///
///     K = LN2(x) Wk^T + bk = (1/σ) ((Ē[t] + P̄[l]) ⊙ g) Wk^T + (β Wk^T + bk)
///       = (1/σ) (TK[t] + PK[l]) + cK,     TK = (Ē ⊙ g) Wk^T  (V, qk),  PK = (P̄ ⊙ g) Wk^T  (P, qk)
///
/// and the values likewise with `Wv`, `bv`. The four tables and the two offsets are computed once at load; a
/// pass takes `σ` from the row itself (`LayerNormKernel.statistics`, the layer norm's own two passes over the
/// row) and adds and scales two table rows per input row: `qk + v` adds and multiplies instead of the layer
/// norm's normalizing pass and `C (qk + v)` multiply-adds. The language perceiver (C = 768, qk + v = 1536) saves 4.8 of its 120 GFLOP at 2048 bytes.
///
/// The rounding is that of a reordered sum: each table entry is a C-term product as the projection's is, the two
/// are added once more and scaled (`TabulatedKeyValuesTests` holds the keys and values to the projected ones
/// within that bound, and the model to `transformers`). A padding row (token -1, a zero row of a batch padded
/// to its longest item) is layer-normed to β, so its keys and values are the offsets themselves.
struct TabulatedKeyValues: Sendable {
    /// C, the width of an input row.
    let channels: Int
    let qk: Int
    let v: Int
    /// `(V, qk)`, `(V, v)`: the centered token embeddings through the layer norm's scale and the projections.
    let tokenKeys: [Float]
    let tokenValues: [Float]
    /// `(P, qk)`, `(P, v)`: the centered position embeddings likewise.
    let positionKeys: [Float]
    let positionValues: [Float]
    /// `β Wk^T + bk (qk)`, `β Wv^T + bv (v)`.
    let keyOffset: [Float]
    let valueOffset: [Float]

    /// Most bytes the tables may take (13.5 MiB for the language perceiver's 262 tokens and 2048 positions): a
    /// larger vocabulary or context keeps the projections.
    static let byteLimit = 64 << 20

    /// Whether tables for `tokens` embeddings and `positions` positions projected to `qk + v` channels fit
    /// `byteLimit`.
    static func fits(tokens: Int, positions: Int, qk: Int, v: Int) -> Bool {
        (tokens + positions) * (qk + v) * MemoryLayout<Float>.size <= byteLimit
    }

    /// Tabulates `layer`'s keys and values over the rows of `text`'s two embedding tables.
    init(_ layer: PerceiverLayer, text: TextPreprocessor, context: ComputeContext) throws(InferenceError) {
        guard let norm = layer.keyValueNorm else { preconditionFailure("tables are of a cross-attention layer") }
        let c = text.numChannels
        precondition(layer.key.inFeatures == c && layer.value.inFeatures == c, "tables: input width mismatch")
        (channels, qk, v) = (c, layer.key.outFeatures, layer.value.outFeatures)
        let tokens = Self.centered(text.embeddings, scale: norm.gamma)
        let positions = Self.centered(text.positions, scale: norm.gamma)
        let (vocabulary, length) = (text.vocabularySize, text.maxLength)
        tokenKeys = try Self.project(tokens, rows: vocabulary, layer.key, context: context)
        tokenValues = try Self.project(tokens, rows: vocabulary, layer.value, context: context)
        positionKeys = try Self.project(positions, rows: length, layer.key, context: context)
        positionValues = try Self.project(positions, rows: length, layer.value, context: context)
        keyOffset = layer.key.applied(toConstant: norm.beta.data)
        valueOffset = layer.value.applied(toConstant: norm.beta.data)
    }

    /// `(rows, C)` with each row less its mean (`LayerNormKernel.statistics`), times `scale` per channel.
    private static func centered(_ table: WeightTensor, scale: WeightTensor) -> [Float] {
        let (rows, c) = (table.shape[0], table.shape[1])
        var out = uninitializedFloats(rows * c)
        for r in 0..<rows {
            let row = table.data + r * c
            let mean = LayerNormKernel.statistics(row, channels: c).mean
            for j in 0..<c { out[r * c + j] = (row[j] - mean) * scale.data[j] }
        }
        return out
    }

    /// `x (rows, C) W^T`, without the bias.
    private static func project(_ x: [Float], rows: Int, _ layer: LinearWeights,
                                context: ComputeContext) throws(InferenceError) -> [Float] {
        let spec = MatMulSpec.linear(rows: rows, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures,
                                     hasBias: false)
        var y = uninitializedFloats(rows * layer.outFeatures)
        try context.matmul(spec, src: x, weights: layer.weight.data, bias: nil, dst: &y)
        return y
    }

    /// The keys `(B, M, qk)` and values `(B, M, v)` of the inputs `x (B, M, C)` made of `tokens (B, M)` (-1: a
    /// zero padding row), as `attention` multiplies them (f32), with their key bias: what `layer.project`
    /// returns for `x`.
    func keyValues(tokens: [Int], inputs x: [Float], batch: Int, rows m: Int, bias: [Float]?,
                   attention: MultiHeadAttention, context: ComputeContext) throws(InferenceError) -> KeyValues {
        let total = batch * m
        precondition(tokens.count == total && x.count == total * channels, "tables: shape mismatch")
        var k = uninitializedFloats(total * qk)
        var vs = uninitializedFloats(total * v)
        try context.kernel(kind: "tabulated_kv", shape: "\(total)x\(channels)->\(qk)+\(v)") {
            x.withUnsafeBufferPointer { x in
                k.withUnsafeMutableBufferPointer { k in
                    vs.withUnsafeMutableBufferPointer { vs in
                        for r in 0..<total {
                            let (token, position) = (tokens[r], r % m)
                            let inverse = token < 0 ? 0 : LayerNormKernel.statistics(x.baseAddress! + r * channels,
                                                                                      channels: channels).inverse
                            Self.combine(tokenKeys, token, positionKeys, position, keyOffset, inverse: inverse,
                                         width: qk, into: k.baseAddress! + r * qk)
                            Self.combine(tokenValues, token, positionValues, position, valueOffset,
                                         inverse: inverse, width: v, into: vs.baseAddress! + r * v)
                        }
                    }
                }
            }
        }
        context.countFolded(2 * total * channels * (qk + v))
        return attention.keyValues(k: k, v: vs, batch: batch, rows: m, bias: bias, precision: .f32)
    }

    /// `out = inverse (tokens[token] + positions[position]) + offset`, one row of `width`; the offset alone for a
    /// padding row (token -1, inverse 0).
    private static func combine(_ tokens: [Float], _ token: Int, _ positions: [Float], _ position: Int,
                                _ offset: [Float], inverse: Float, width: Int, into out: UnsafeMutablePointer<Float>) {
        guard token >= 0 else {
            offset.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: width) }
            return
        }
        tokens.withUnsafeBufferPointer { t in
            positions.withUnsafeBufferPointer { p in
                offset.withUnsafeBufferPointer { o in
                    let (t, p, o) = (t.baseAddress! + token * width, p.baseAddress! + position * width, o.baseAddress!)
                    let vectors = width / 16
                    let (rt, rp, ro, ry) = (UnsafeRawPointer(t), UnsafeRawPointer(p), UnsafeRawPointer(o),
                                            UnsafeMutableRawPointer(out))
                    for i in 0..<vectors {
                        let at = i * 64
                        let sum = rt.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self)
                            + rp.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self)
                        ry.storeBytes(of: sum * inverse + ro.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self),
                                      toByteOffset: at, as: SIMD16<Float>.self)
                    }
                    for j in (vectors * 16)..<width { out[j] = (t[j] + p[j]) * inverse + o[j] }
                }
            }
        }
    }
}
