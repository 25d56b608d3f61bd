import PerceiverEngine

/// The `text` input the server adds to the text models (masked LM and sequence classification), so that a V2
/// client can send strings, as Triton users do: a BYTES tensor of UTF-8 strings, shape (B) or (B, 1). Each
/// string is tokenized as `/infer` tokenizes its `text` (the byte tokenizer with `[CLS] ... [SEP]`, special-token
/// strings such as `[MASK]` as their ids, the same length limit and error), the rows are padded with `[PAD]` to
/// the longest, and the batch runs as `input_ids` (B, L) with an `attention_mask` (B, L) when any row is padded.
/// Output positions then index the tokenized sequence, `[CLS]` at 0.
public enum TextInput {
    /// The input's name.
    public static let name = "text"

    /// As model metadata shows it: optional, BYTES, one string per batch item.
    public static let spec = TensorSpec(name: name, datatypes: [V2Datatype.bytes.rawValue], shape: [-1],
                                        isOptional: true)

    /// The V2 inputs of `model`: its own (`inputSpecs`), then `text` for a text model.
    public static func specs(of model: PerceiverModel) -> [TensorSpec] {
        model.architecture.isText ? model.inputSpecs + [spec] : model.inputSpecs
    }

    /// `tensors` with a `text` tensor replaced by `input_ids` and, when rows are padded, `attention_mask` (INT64,
    /// (B, L)); without one, `tensors` as they are. The string count is checked against `maxRows` (the model's
    /// `max_batch_size`) before anything is tokenized, and each string's tokens against `maxLength` (the model's
    /// `max_position_embeddings`), so the padded ids hold at most `maxRows` x `maxLength` values.
    /// - Throws: `RequestError.badTensor` naming `text` beside `input_ids` or `attention_mask`, no strings, a
    ///   string that is not UTF-8 or is too long; `.batchTooLarge` for more strings than `maxRows`.
    public static func expand(_ tensors: [V2Tensor], maxLength: Int,
                              maxRows: Int = .max) throws(RequestError) -> [V2Tensor] {
        guard let index = tensors.firstIndex(where: { $0.name == name }) else { return tensors }
        if tensors.contains(where: { $0.name == "input_ids" }) {
            throw RequestError.badTensor(name: name, reason: "give 'text' or 'input_ids', not both")
        }
        if tensors.contains(where: { $0.name == "attention_mask" }) {
            throw RequestError.badTensor(name: "attention_mask", reason: "'text' makes its own attention_mask; give "
                                         + "attention_mask only with input_ids")
        }
        guard case .bytes(let strings) = tensors[index].data else {
            throw RequestError.badTensor(name: name, reason: "datatype \(tensors[index].datatype), expected BYTES")
        }
        guard !strings.isEmpty else { throw RequestError.badTensor(name: name, reason: "holds no strings") }
        guard strings.count <= maxRows else { throw RequestError.batchTooLarge(rows: strings.count, limit: maxRows) }
        var rows: [[Int]] = []
        rows.reserveCapacity(strings.count)
        for (element, bytes) in strings.enumerated() {
            rows.append(try encodeText(try text(bytes, element: element), maxLength: maxLength, element: element))
        }
        var expanded = tensors
        expanded.replaceSubrange(index...index, with: padded(rows))
        return expanded
    }

    /// `bytes` as a string.
    /// - Throws: `RequestError.badTensor` naming the element and the offset of its first byte that is not UTF-8.
    private static func text(_ bytes: ArraySlice<UInt8>, element: Int) throws(RequestError) -> String {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error:
                throw RequestError.badTensor(name: name, reason: "element \(element) is not valid UTF-8 (at byte "
                                             + "\(offset)); send text as UTF-8")
            }
        }
    }

    /// Rows of ids as `input_ids` (B, L), padded with `[PAD]` to the longest, and when any row is shorter an
    /// `attention_mask` (B, L): 1 on tokens, 0 on padding (`transformers`' `padding=True`, on the right).
    private static func padded(_ rows: [[Int]]) -> [V2Tensor] {
        let length = rows.map(\.count).max() ?? 0
        var ids: [Int] = []
        var mask: [Int] = []
        ids.reserveCapacity(rows.count * length)
        mask.reserveCapacity(rows.count * length)
        for row in rows {
            let padding = length - row.count
            ids += row
            ids += repeatElement(ByteTokenizer.padID, count: padding)
            mask += repeatElement(1, count: row.count)
            mask += repeatElement(0, count: padding)
        }
        let shape = [rows.count, length]
        let inputIDs = V2Tensor(name: "input_ids", datatype: V2Datatype.int64.rawValue, shape: shape,
                                data: .integers(ids))
        // Without padding there is no mask, as `/infer` sends none: the same request as input_ids alone.
        guard rows.contains(where: { $0.count < length }) else { return [inputIDs] }
        return [inputIDs, V2Tensor(name: "attention_mask", datatype: V2Datatype.int64.rawValue, shape: shape,
                                   data: .integers(mask))]
    }
}
