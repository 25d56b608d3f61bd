/// Scaled dot-product attention over H heads, with the head split read in place through strides.
///
/// Shapes: B batch, H heads, Nq query rows, Nk key rows; `qk = H * dqk`, `v = H * dv`.
/// Mirrors `PerceiverSelfAttention.forward` from `transformers` (docs/reference/perceiver.md B.2):
/// `softmax(Q K^T / sqrt(dqk) + mask) V`, heads concatenated head-major.
///
/// The `(B, H, Nq, Nk)` score matrix is what grows with the input: 2048 latents against the 182,528 pixels of
/// one optical-flow frame pair take 1.5 GB. When the scores would exceed `scoreBudget` floats, each batch
/// element's query rows are processed in chunks that fit, reusing one score buffer; rows are independent,
/// so the result is the same.
struct MultiHeadAttention: Sendable {
    let heads: Int
    let qkChannels: Int
    let vChannels: Int
    /// Most score floats held at once: 24 MiB by default, below glibc's largest dynamic mmap threshold
    /// (32 MiB), so the buffer is reused from the heap instead of being mapped and faulted in afresh each
    /// call even without `HeapPolicy`; tests lower it to force chunking.
    var scoreBudget = Self.defaultScoreBudget
    /// Fewest query rows per chunk, whatever the budget: each chunk re-reads every key and value, so against
    /// the 182,528 keys of an optical-flow input a chunk takes at least 128 rows (93 MiB of scores).
    var minimumChunkRows = Self.defaultMinimumChunkRows

    /// What multiplies `Q K^T` before the softmax: `1/sqrt(dqk)` unless set (a folded attention carries the
    /// scale in its queries and sets 1).
    var scoreScale: Float?

    static let defaultScoreBudget = 6 << 20
    static let defaultMinimumChunkRows = 128

    var qkHeadDim: Int { qkChannels / heads }
    var vHeadDim: Int { vChannels / heads }

    /// Whether values are multiplied from a head-major copy `(B, H, Nk, dv)` (`arrangeValues`) rather than read
    /// in place: when a row of values is a multiple of 4 KiB, every row of one head's slice falls in the same
    /// cache sets, and oneDNN's `gemm:jit` ran the `P V` product (8 heads, 512 x 512 x 128, v = 1024 floats) at
    /// 56 GFLOP/s in place against 76 from the copy (AVX2 EPYC, 2 threads); at the language perceiver's
    /// v = 1280 (5 KiB rows) it ran at 77 in place, where the copy would only cost (issue 23).
    var valuesHeadMajor: Bool { heads > 1 && (vChannels * MemoryLayout<Float>.size) % 4096 == 0 }

    /// `v (B, Nk, H * dv)` as the attention multiplies it: head-major `(B, H, Nk, dv)` when `valuesHeadMajor`,
    /// else itself.
    func arrangeValues(_ v: [Float], batch: Int, rows: Int) -> [Float] {
        guard valuesHeadMajor else { return v }
        let dv = vHeadDim
        var out = uninitializedFloats(v.count)
        v.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let block = b * rows * vChannels
                    for r in 0..<rows {
                        for h in 0..<heads {
                            (dst.baseAddress! + block + (h * rows + r) * dv)
                                .update(from: src.baseAddress! + block + r * vChannels + h * dv, count: dv)
                        }
                    }
                }
            }
        }
        return out
    }

    /// f32 keys `(B, Nk, qk)` and values `(B, Nk, v)` as this attention multiplies them: in the context's
    /// precision, the values head-major where `valuesHeadMajor`.
    func keyValues(k: [Float], v: [Float], batch: Int, rows: Int, bias: [Float]?,
                   precision: Precision) -> KeyValues {
        KeyValues(k: Activations(k, precision: precision),
                  v: Activations(arrangeValues(v, batch: batch, rows: rows), precision: precision),
                  batch: batch, rows: rows, bias: bias, valuesHeadMajor: valuesHeadMajor)
    }

    /// - Parameters:
    ///   - q: `(B, Nq, qk)` projected queries.
    ///   - keyValues: `(B', Nk, qk)` keys and `(B', Nk, v)` values with their `(B', Nk)` bias; batch element b
    ///     of the queries uses element `batchOffset + b` of these.
    /// - Returns: `(B, Nq, v)`.
    func callAsFunction(q: [Float], keyValues kv: KeyValues, batchOffset: Int, batch: Int, queryRows nq: Int,
                        context: ComputeContext) throws(InferenceError) -> [Float] {
        var output = uninitializedFloats(batch * nq * vChannels)
        let nk = kv.rows
        let chunk = batch * heads * nq * nk <= scoreBudget ? nil : max(minimumChunkRows, scoreBudget / (heads * nk))
        try q.withUnsafeBufferPointer { (q) throws(InferenceError) in
            try kv.k.withUnsafeRawPointer { (k) throws(InferenceError) in
                try kv.v.withUnsafeRawPointer { (v) throws(InferenceError) in
                    try output.withUnsafeMutableBufferPointer { (out) throws(InferenceError) in
                        let pointers = Pointers(q: q.baseAddress!,
                                                k: k + batchOffset * nk * qkChannels * kv.k.type.byteCount,
                                                v: v + batchOffset * nk * vChannels * kv.v.type.byteCount,
                                                type: kv.k.type, valuesHeadMajor: kv.valuesHeadMajor,
                                                out: out.baseAddress!)
                        let bias = kv.bias.map { Array($0[(batchOffset * nk)..<((batchOffset + batch) * nk)]) }
                        guard let chunk else {
                            var scores = uninitializedFloats(batch * heads * nq * nk)
                            return try attend(pointers, batch: batch, queryRows: nq, keyRows: nk, rowStride: nq,
                                              keyBias: bias, scores: &scores, context: context)
                        }
                        var scores = uninitializedFloats(heads * min(chunk, nq) * nk)
                        for b in 0..<batch {
                            let rowBias = bias.map { Array($0[(b * nk)..<((b + 1) * nk)]) }
                            for start in stride(from: 0, to: nq, by: chunk) {
                                let rows = min(chunk, nq - start)
                                try attend(pointers.advanced(batch: b, row: start, queryRows: nq, keyRows: nk,
                                                             qk: qkChannels, v: vChannels),
                                           batch: 1, queryRows: rows, keyRows: nk, rowStride: nq, keyBias: rowBias,
                                           scores: &scores, context: context)
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// `callAsFunction(q:keyValues:...)` over separate keys and values of the same batch.
    func callAsFunction(q: [Float], k: [Float], v: [Float], batch: Int, queryRows: Int, keyRows: Int,
                        keyBias: [Float]?, context: ComputeContext) throws(InferenceError) -> [Float] {
        let kv = keyValues(k: k, v: v, batch: batch, rows: keyRows, bias: keyBias, precision: context.precision)
        return try self(q: q, keyValues: kv, batchOffset: 0, batch: batch, queryRows: queryRows, context: context)
    }

    /// Where one attention call reads and writes. Keys and values are f32 or (in a bf16 model) bf16.
    private struct Pointers {
        let q: UnsafePointer<Float>
        let k: UnsafeRawPointer
        let v: UnsafeRawPointer
        let type: ElementType
        /// The values are `(B, H, Nk, dv)` (`arrangeValues`), not `(B, Nk, H * dv)`.
        let valuesHeadMajor: Bool
        let out: UnsafeMutablePointer<Float>

        func advanced(batch b: Int, row: Int, queryRows: Int, keyRows: Int, qk: Int, v vc: Int) -> Pointers {
            Pointers(q: q + (b * queryRows + row) * qk, k: k + b * keyRows * qk * type.byteCount,
                     v: v + b * keyRows * vc * type.byteCount, type: type, valuesHeadMajor: valuesHeadMajor,
                     out: out + (b * queryRows + row) * vc)
        }
    }

    /// Attention for `batch` elements of `queryRows` rows each; consecutive batch elements are `rowStride`
    /// query rows apart. `scores` holds at least `(B, H, Nq, Nk)`. With bf16 keys and values, the queries and
    /// the probabilities are converted to bf16 for the two products; scores, softmax and output stay f32.
    private func attend(_ p: Pointers, batch: Int, queryRows nq: Int, keyRows nk: Int, rowStride: Int,
                        keyBias: [Float]?, scores: inout [Float], context: ComputeContext) throws(InferenceError) {
        let (h, dqk, dv) = (heads, qkHeadDim, vHeadDim)
        let bf16 = p.type == .bf16
        // A bf16 copy of the queries is compact: batch elements nq rows apart (there is one when chunked).
        let queryStride = bf16 ? nq : rowStride
        let scoreSpec = MatMulSpec(
            src: TensorLayout(dims: [batch, h, nq, dqk], strides: [queryStride * qkChannels, dqk, qkChannels, 1]),
            weights: TensorLayout(dims: [batch, h, dqk, nk], strides: [nk * qkChannels, dqk, 1, qkChannels]),
            dst: TensorLayout([batch, h, nq, nk]), srcType: p.type, weightsType: p.type,
            hasBias: false, scale: scoreScale ?? Float(1 / Double(dqk).squareRoot()), epilogue: .none)
        let q = bf16 ? UnsafeRawPointer(try context.bf16(p.q, count: batch * nq * qkChannels)) : UnsafeRawPointer(p.q)
        try scores.withUnsafeMutableBufferPointer { (s) throws(InferenceError) in
            try context.matmul(scoreSpec, src: q, weights: p.k, packed: nil, bias: nil, dst: s.baseAddress!)
        }
        if let keyBias { addKeyBias(keyBias, to: &scores, batch: batch, rowsPerBatch: h * nq, keyRows: nk) }
        try scores.withUnsafeMutableBufferPointer { (buffer) throws(InferenceError) in
            try context.softmax(rows: batch * h * nq, columns: nk, data: buffer.baseAddress!)
            // (B, H, Nq, dv) written straight into (B, Nq, H * dv).
            let valueSpec = MatMulSpec(
                src: TensorLayout([batch, h, nq, nk]),
                weights: TensorLayout(dims: [batch, h, nk, dv], strides: p.valuesHeadMajor
                                      ? [nk * vChannels, nk * dv, dv, 1] : [nk * vChannels, dv, vChannels, 1]),
                dst: TensorLayout(dims: [batch, h, nq, dv], strides: [rowStride * vChannels, dv, vChannels, 1]),
                srcType: p.type, weightsType: p.type, hasBias: false, scale: 1, epilogue: .none)
            let probabilities = bf16 ? UnsafeRawPointer(try context.bf16(buffer.baseAddress!, count: batch * h * nq * nk))
                : UnsafeRawPointer(buffer.baseAddress!)
            try context.matmul(valueSpec, src: probabilities, weights: p.v, packed: nil, bias: nil, dst: p.out)
        }
    }

    /// `scores[b, r, :] += keyBias[b, :]` for every row r of batch element b.
    private func addKeyBias(_ keyBias: [Float], to scores: inout [Float], batch: Int, rowsPerBatch: Int,
                            keyRows: Int) {
        scores.withUnsafeMutableBufferPointer { s in
            keyBias.withUnsafeBufferPointer { bias in
                for b in 0..<batch {
                    let biasRow = bias.baseAddress! + b * keyRows
                    for r in 0..<rowsPerBatch {
                        let row = s.baseAddress! + (b * rowsPerBatch + r) * keyRows
                        for j in 0..<keyRows { row[j] += biasRow[j] }
                    }
                }
            }
        }
    }
}

/// The projected keys and values of an attention's key/value input, with its key bias: computed once and
/// reused by every chunk of queries (the decoder's latents, docs/reference/perceiver.md B.13).
struct KeyValues {
    /// `(B, Nk, qk)`
    let k: Activations
    /// `(B, Nk, v)`, or `(B, H, Nk, dv)` when `valuesHeadMajor`
    let v: Activations
    /// B
    let batch: Int
    /// Nk
    let rows: Int
    /// `(B, Nk)` additive bias, or nil.
    let bias: [Float]?
    /// `v` is `(B, H, Nk, dv)` (`MultiHeadAttention.arrangeValues`).
    var valuesHeadMajor = false
}

/// An activation kept as a matmul operand: f32, or converted once to bf16 in a bf16 model.
enum Activations {
    case f32([Float])
    case bf16([UInt16])

    /// `values` in the element type `precision` multiplies with.
    init(_ values: [Float], precision: Precision) {
        switch precision {
        case .f32: self = .f32(values)
        case .bf16: self = .bf16(values.withUnsafeBufferPointer { BFloat16.array($0) })
        }
    }

    var type: ElementType {
        switch self {
        case .f32: .f32
        case .bf16: .bf16
        }
    }

    /// The first element's address, valid during `body`.
    func withUnsafeRawPointer<R, E: Error>(_ body: (UnsafeRawPointer) throws(E) -> R) throws(E) -> R {
        switch self {
        case .f32(let values): try values.withUnsafeBufferPointer { (b) throws(E) in try body(b.baseAddress!) }
        case .bf16(let values): try values.withUnsafeBufferPointer { (b) throws(E) in try body(b.baseAddress!) }
        }
    }
}
