/// Scaled dot-product attention over H heads, with the head split read in place through strides.
///
/// Shapes: B batch, H heads, Nq query rows, Nk key rows; `qk = H * dqk`, `v = H * dv`.
/// Mirrors `PerceiverSelfAttention.forward` from `transformers` (PERCEIVER.md B.2):
/// `softmax(Q K^T / sqrt(dqk) + mask) V`, heads concatenated head-major.
struct MultiHeadAttention: Sendable {
    let heads: Int
    let qkChannels: Int
    let vChannels: Int

    var qkHeadDim: Int { qkChannels / heads }
    var vHeadDim: Int { vChannels / heads }

    /// - Parameters:
    ///   - q: `(B, Nq, qk)` projected queries.
    ///   - k: `(B, Nk, qk)` projected keys.
    ///   - v: `(B, Nk, v)` projected values.
    ///   - keyBias: `(B, Nk)` additive bias on the scores (`finfo.min` on masked keys), or nil.
    /// - Returns: `(B, Nq, v)`.
    func callAsFunction(q: [Float], k: [Float], v: [Float], batch: Int, queryRows: Int, keyRows: Int,
                        keyBias: [Float]?, context: ComputeContext) throws(InferenceError) -> [Float] {
        let (h, nq, nk, dqk, dv) = (heads, queryRows, keyRows, qkHeadDim, vHeadDim)
        // (B, H, Nq, Nk)
        var scores = uninitializedFloats(batch * h * nq * nk)
        let scoreSpec = MatMulSpec(
            src: TensorLayout(dims: [batch, h, nq, dqk], strides: [nq * qkChannels, dqk, qkChannels, 1]),
            weights: TensorLayout(dims: [batch, h, dqk, nk], strides: [nk * qkChannels, dqk, 1, qkChannels]),
            dst: TensorLayout([batch, h, nq, nk]),
            hasBias: false, scale: Float(1 / Double(dqk).squareRoot()), epilogue: .none)
        try k.withUnsafeBufferPointer { (keys) throws(InferenceError) in
            try context.matmul(scoreSpec, src: q, weights: keys.baseAddress!, bias: nil, dst: &scores)
        }
        if let keyBias { addKeyBias(keyBias, to: &scores, batch: batch, rowsPerBatch: h * nq, keyRows: nk) }
        try scores.withUnsafeMutableBufferPointer { (buffer) throws(InferenceError) in
            try context.softmax(rows: batch * h * nq, columns: nk, data: buffer.baseAddress!)
        }
        // (B, H, Nq, dv) written straight into (B, Nq, H * dv).
        var output = uninitializedFloats(batch * nq * vChannels)
        let valueSpec = MatMulSpec(
            src: TensorLayout([batch, h, nq, nk]),
            weights: TensorLayout(dims: [batch, h, nk, dv], strides: [nk * vChannels, dv, vChannels, 1]),
            dst: TensorLayout(dims: [batch, h, nq, dv], strides: [nq * vChannels, dv, vChannels, 1]),
            hasBias: false, scale: 1, epilogue: .none)
        try v.withUnsafeBufferPointer { (values) throws(InferenceError) in
            try context.matmul(valueSpec, src: scores, weights: values.baseAddress!, bias: nil, dst: &output)
        }
        return output
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
