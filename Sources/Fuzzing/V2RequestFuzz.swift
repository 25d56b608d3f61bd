import Foundation
import ModelServer
import PerceiverEngine

/// The `v2Request` target: `V2InferenceRequest(body:inferenceHeaderLength:specs:)`, then the router's next
/// steps (`V2Inference.checkOutputs`, `TextInput.expand` with a text model's limits, `ModelInputs(v2:specs:)`)
/// and an echo of the inputs as a response.
///
/// Input layout, so that the fuzzer reaches every framing: byte 0 picks the framing (bits 0-1: 0 all JSON,
/// 1 raw binary, 2 and 3 a JSON header of the length in bytes 1-2, UInt16 little-endian, then binary data) and
/// the model's input specs (bits 2-3, `V2RequestFuzz.specSets`); the body starts at byte 3.
///
/// Invariants: errors are 400s; every tensor has a known datatype, data of its kind (integers, floats or
/// byte strings) and exactly as many elements as its shape's product; a raw binary body is one tensor
/// whose bytes are the body; the inputs re-encoded as binary (the response encoder) decode to the same
/// tensors; a response echoing them is valid JSON carrying the same id, names and shapes; FP32 inputs classified
/// as the outputs ask give `min(K, classes)` strings a row.
enum V2RequestFuzz {
    /// Where the body starts in an input.
    static let bodyOffset = 3
    /// A text model's `max_position_embeddings` and `max_batch_size` for `TextInput.expand`: small, so that the
    /// fuzzer reaches both refusals.
    static let textMaxLength = 64, textMaxRows = 16

    /// The request an input describes.
    struct Input {
        var headerLength: Int?
        var specs: [TensorSpec]
        var body: Data
    }

    static func input(_ bytes: UnsafeRawBufferPointer) -> Input {
        let selector = bytes.first ?? 0
        let length = bytes.count >= bodyOffset ? Int(bytes[1]) | Int(bytes[2]) << 8 : 0
        let headerLength: Int?
        switch selector & 3 {
        case 0: headerLength = nil
        case 1: headerLength = 0
        default: headerLength = length
        }
        let body = Data(UnsafeRawBufferPointer(rebasing: bytes[min(bodyOffset, bytes.count)...]))
        return Input(headerLength: headerLength, specs: specSets[Int(selector >> 2) & 3], body: body)
    }

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let input = input(bytes)
        let request: V2InferenceRequest
        do {
            request = try V2InferenceRequest(body: input.body, inferenceHeaderLength: input.headerLength,
                                             specs: input.specs)
        } catch {
            return Invariant.require(error.status == 400, "decoding failed with \(error.status): \(error)")
        }
        checkTensors(request)
        if input.headerLength == 0 { checkRawBinary(request, input) }
        checkBinaryRoundTrip(request, specs: input.specs)
        checkResponseEcho(request)
        checkClassification(request)
        do {
            try V2Inference.checkOutputs(request, available: ["logits"])
            let tensors = try TextInput.expand(request.inputs, maxLength: textMaxLength, maxRows: textMaxRows)
            _ = try ModelInputs(v2: tensors, specs: input.specs.filter { $0.name != TextInput.name })
        } catch {
            Invariant.require(error.status == 400, "checking the inputs failed with \(error.status): \(error)")
        }
    }

    /// Every tensor: a known datatype, data of its kind, as many elements as the shape says.
    static func checkTensors(_ request: V2InferenceRequest) {
        Invariant.require(!request.inputs.isEmpty, "a request without inputs")
        for tensor in request.inputs {
            guard let datatype = V2Datatype(rawValue: tensor.datatype) else {
                return Invariant.require(false, "'\(tensor.name)' has datatype \(tensor.datatype)")
            }
            let kind: V2Datatype? = switch tensor.data {
            case .integers: datatype.isInteger ? datatype : nil
            case .floats: datatype.isInteger || datatype == .bytes ? nil : datatype
            case .bytes: datatype == .bytes ? datatype : nil
            }
            Invariant.require(kind != nil, "'\(tensor.name)' \(datatype) holds \(tensor.data)")
            Invariant.require(tensor.shape.allSatisfy { $0 >= 0 }, "'\(tensor.name)' has shape \(tensor.shape)")
            let count = elementCount(tensor.shape)
            Invariant.require(count == tensor.data.count,
                              "'\(tensor.name)' has shape \(tensor.shape) but \(tensor.data.count) elements")
        }
    }

    /// A raw binary body is the first required input, in its first datatype, and its bytes are the body.
    static func checkRawBinary(_ request: V2InferenceRequest, _ input: Input) {
        Invariant.require(request.isRawBinary && request.inputs.count == 1, "a raw binary body gave \(request.inputs)")
        guard let tensor = request.inputs.first, let spec = input.specs.first(where: { !$0.isOptional }) else {
            return Invariant.require(false, "a raw binary body decoded without a required input")
        }
        Invariant.require(tensor.name == spec.name && tensor.datatype == spec.datatypes.first,
                          "a raw binary body became \(tensor.name) \(tensor.datatype), spec \(spec)")
        Invariant.require(sameValues(tensor.littleEndianBytes(), input.body, datatype: tensor.datatype),
                          "a raw binary body re-encodes to other bytes: \(tensor)")
    }

    /// The product of `shape`, or nil when it overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }
}
