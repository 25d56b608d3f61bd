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

/// Offsets (from `values.startIndex`) of the `k` largest values, largest first; ties go to the lower offset, and
/// NaN ranks below every number, so the order is total.
func topIndices<Values: RandomAccessCollection<Float>>(_ values: Values, k: Int) -> [Int] where Values.Index == Int {
    let base = values.startIndex
    return Array((0..<values.count).sorted { a, b in
        let (x, y) = (values[base + a], values[base + b])
        if x.isNaN || y.isNaN { return y.isNaN && (!x.isNaN || a < b) }
        return x > y || (x == y && a < b)
    }.prefix(k))
}
