import Foundation
import PerceiverEngine

/// Triton's classification extension (docs/reference/serving.md 1.11): an output requested with
/// `"parameters": {"classification": K}` comes back as a BYTES tensor of the top K `"value:index:label"` strings
/// (`"value:index"` where the class has no label) of each row, highest value first, instead of its values.
///
/// As Triton: the value is the output's own value (a logit, not a softmax), written as C's `%f` (Triton's
/// `std::to_string`), so `3.3` is `3.300000`; K beyond the class count returns every class (Triton takes
/// `min(K, classes)`, and so does the shape). Unlike Triton, which flattens everything after the batch dimension
/// into one row, the classes are the last dimension and every other dimension is kept: a classifier's (B, C)
/// becomes (B, K) as in Triton, a masked LM's (B, O, 262) becomes (B, O, K), one ranking per position. Ties go to
/// the lower index and NaN ranks last (Triton's `std::sort` leaves both unspecified).
public enum V2Classification {
    /// How an output's classes are named.
    public enum Labels: Sendable, Equatable {
        /// No labels: `"value:index"`.
        case none
        /// Class `i` is `names[i]` (`id2label`); an index beyond them has no label.
        case names([String])
        /// Class `i` is byte-tokenizer id `i`, shown as `/infer`'s fill-mask shows it (`FillMask.display`): a
        /// printable ASCII byte as itself (`"a"`, `":"`), any other byte as `"\xNN"`, a special token as its text
        /// (`"[MASK]"`).
        case byteTokens

        /// The label of class `index`, if any.
        func label(_ index: Int) -> String? {
            switch self {
            case .none: return nil
            case .names(let names): return index < names.count ? names[index] : nil
            case .byteTokens: return FillMask.display(index, ByteTokenizer())
            }
        }
    }

    /// The labels of `model`'s outputs by name: a classifier's `logits` are its `id2label`, a masked LM's are byte
    /// tokens; other outputs (optical flow, multimodal, `latents`) have none.
    public static func labels(of model: PerceiverModel) -> [String: Labels] {
        switch model.architecture.task {
        case .textClassification, .imageClassification: return ["logits": .names(model.config.labels)]
        case .fillMask: return ["logits": .byteTokens]
        case .dense: return [:]
        }
    }

    /// Checks that every output `request` asks to classify is an FP32 one among `specs` (a model's outputs and
    /// `latents`), before anything is computed.
    /// - Throws: `RequestError.badOutput` naming the output.
    public static func check(_ request: V2InferenceRequest, specs: [TensorSpec]) throws(RequestError) {
        for output in request.outputs ?? [] where output.classification != nil {
            guard let spec = specs.first(where: { $0.name == output.name }),
                  spec.datatypes.first != V2Datatype.fp32.rawValue else { continue }
            throw RequestError.badOutput(name: output.name, reason: "classification needs an FP32 output, this one "
                                         + "is \(spec.datatypes.first ?? "untyped")")
        }
    }

    /// `tensor` (FP32, classes last) as its top `min(count, classes)` classes per row: BYTES, shape `tensor.shape`
    /// with the last dimension `min(count, classes)`.
    /// - Throws: `RequestError.badOutput` when `count` is below 1, or the tensor is not FP32 or has no dimension.
    public static func classify(_ tensor: V2Tensor, count: Int, labels: Labels) throws(RequestError) -> V2Tensor {
        guard count >= 1 else {
            throw RequestError.badOutput(name: tensor.name, reason: "parameter 'classification' must be an integer "
                                         + "of at least 1 (how many classes to return), got \(count)")
        }
        guard case .floats(let values) = tensor.data, let classes = tensor.shape.last else {
            throw RequestError.badOutput(name: tensor.name, reason: "classification needs an FP32 output of at least "
                                         + "one dimension, this one is \(tensor.datatype) \(tensor.shape)")
        }
        let kept = min(count, classes)
        let rows = classes == 0 ? 0 : values.count / classes
        var strings = V2Tensor.ByteStrings()
        strings.reserveCapacity(elements: rows * kept, bytes: rows * kept * 16)
        for row in 0..<rows {
            let scores = values[(row * classes)..<((row + 1) * classes)]
            for index in topIndices(scores, k: kept) {
                var text = decimal(scores[scores.startIndex + index]) + ":" + String(index)
                if let label = labels.label(index) { text += ":" + label }
                strings.append(text.utf8)
            }
        }
        return V2Tensor(name: tensor.name, datatype: V2Datatype.bytes.rawValue, shape: tensor.shape.dropLast() + [kept],
                        data: .bytes(strings))
    }

    /// `value` as C's `%f` writes a double: six decimals, `nan` and `inf` as such. Triton writes the value with
    /// `std::to_string`, which is defined as that format.
    static func decimal(_ value: Float) -> String {
        // The longest, -FLT_MAX, is 47 characters.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let length = withVaList([Double(value)]) { vsnprintf(buffer.baseAddress, 64, "%f", $0) }
            let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(max(0, min(length, 63))))
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
