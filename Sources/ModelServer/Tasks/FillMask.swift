import Foundation
import PerceiverEngine

/// Fill-mask with a byte-level masked language model: encode text with `[MASK]`s, decode only the masked
/// positions (through `output_positions`), and report the filled text and top-k bytes per position.
public struct FillMask: Sendable {
    /// One candidate for a masked position.
    public struct Candidate: Sendable, Equatable {
        public var tokenID: Int
        /// The byte as text (`"a"`), or `"\xNN"` for a byte that is not printable ASCII on its own.
        public var token: String
        public var score: Float
    }

    /// The result for one masked position.
    public struct Prediction: Sendable, Equatable {
        /// Index into the encoded sequence (with `[CLS]` at 0).
        public var position: Int
        public var candidates: [Candidate]
    }

    public var filledText: String
    public var predictions: [Prediction]

    /// The request half of a fill-mask: the encoded text, its masked positions, and the inputs that decode
    /// only those positions.
    public struct Query: Sendable {
        public var ids: [Int]
        public var masked: [Int]
        public var inputs: ModelInputs {
            ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids),
                        outputPositions: IndexTensor(shape: [1, masked.count], values: masked))
        }

        /// Encodes `text` for `model` (a `PerceiverForMaskedLM`).
        /// - Throws: `RequestError` when the text has no `[MASK]` or is too long for the model.
        public init(model: PerceiverModel, text: String) throws(RequestError) {
            let ids = try encodeText(text, for: model)
            self.ids = ids
            masked = ids.indices.filter { ids[$0] == ByteTokenizer.maskID }
            guard !masked.isEmpty else { throw RequestError.badTensor(name: "text", reason: "contains no [MASK]") }
        }
    }

    /// Runs `model` (a `PerceiverForMaskedLM`) on `text`.
    /// - Throws: `RequestError` when the text has no `[MASK]` or is too long for the model.
    public init(model: PerceiverModel, text: String, topK: Int) throws(RequestError) {
        let query = try Query(model: model, text: text)
        do {
            self.init(query: query, logits: try model.predict(query.inputs).logits, topK: topK)
        } catch {
            throw RequestError.inference(error)
        }
    }

    /// The answer to `query` from its `logits (1, masks, V)`.
    public init(query: Query, logits: Tensor, topK: Int) {
        let tokenizer = ByteTokenizer()
        let vocabulary = logits.shape[2]
        predictions = query.masked.enumerated().map { (row, position) in
            let scores = softmax(logits.scalars[(row * vocabulary)..<((row + 1) * vocabulary)])
            let top = topIndices(scores, k: max(1, min(topK, vocabulary)))
            return Prediction(position: position, candidates: top.map {
                Candidate(tokenID: $0, token: Self.display($0, tokenizer), score: scores[$0])
            })
        }
        var ids = query.ids
        for prediction in predictions { ids[prediction.position] = prediction.candidates[0].tokenID }
        filledText = tokenizer.decode(ids, skipSpecialTokens: true)
    }

    static func display(_ id: Int, _ tokenizer: ByteTokenizer) -> String {
        let byte = id - 6
        if (0x20..<0x7f).contains(byte) { return String(UnicodeScalar(UInt8(byte))) }
        if byte >= 0 && byte < 256 { return String(format: "\\x%02x", byte) }
        return tokenizer.decode([id])
    }
}

/// Softmax of one row, in Double for the sum.
func softmax(_ row: ArraySlice<Float>) -> [Float] {
    let m = row.max() ?? 0
    let e = row.map { Foundation.exp(Double($0 - m)) }
    let total = e.reduce(0, +)
    return e.map { Float($0 / total) }
}

/// Indices of the `k` largest values, largest first (ties: lower index first).
func topIndices(_ values: [Float], k: Int) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
}
