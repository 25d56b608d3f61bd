import Foundation
import PerceiverEngine

// Binary tensor data in requests: the section after the JSON header, and raw binary bodies
// (Triton's binary tensor data extension, docs/reference/serving.md 1.8).

extension V2InferenceRequest {
    /// The inputs with each binary one's bytes taken from `binary`, in input order, and each JSON one's
    /// data decoded from `header`. The declared sizes must add up to exactly the section's length (checked
    /// before anything is decoded); `binary` is nil when the body had no JSON header length, and then no
    /// input may be binary.
    static func attach(_ binary: Foundation.Data?, to inputs: [ParsedInput],
                       header: Foundation.Data) throws(RequestError) -> [V2Tensor] {
        var declared = 0
        for input in inputs {
            guard case .binary(let byteCount) = input.content else { continue }
            // A fixed-size input's size is at most 2^34 (checked against its shape); a BYTES input's is only
            // bounded below, so the sum is checked for overflow.
            let (sum, overflow) = declared.addingReportingOverflow(byteCount)
            guard !overflow else { throw RequestError.malformedBody("binary_data_size values are too large") }
            declared = sum
        }
        guard let binary else {
            if let input = inputs.first(where: { if case .binary = $0.content { true } else { false } }) {
                throw RequestError.badTensor(name: input.name, reason: "binary_data_size given, but the request "
                                             + "has no Inference-Header-Content-Length header")
            }
            return try inputs.map { (input) throws(RequestError) in try tensor(input, bytes: header) }
        }
        guard declared == binary.count else {
            throw RequestError.binaryDataLength(declared: declared, actual: binary.count)
        }
        var offset = binary.startIndex
        var tensors: [V2Tensor] = []
        for input in inputs {
            guard case .binary(let byteCount) = input.content else {
                tensors.append(try tensor(input, bytes: header))
                continue
            }
            tensors.append(try tensor(input, bytes: binary[offset..<(offset + byteCount)]))
            offset += byteCount
        }
        return tensors
    }

    /// The tensor of `input`: its binary data is `bytes`; its JSON data lies in `bytes`, the header.
    private static func tensor(_ input: ParsedInput, bytes: Foundation.Data) throws(RequestError) -> V2Tensor {
        let data: V2Tensor.Data
        switch input.content {
        case .json(let range): data = try jsonData(of: input, at: range, in: bytes)
        case .binary where input.datatype == .bytes:
            // The reader checked the shape's element count: at most 2^31, and a 4-byte length each fits `bytes`.
            let count = input.shape.reduce(1, *)
            data = .bytes(try V2Tensor.ByteStrings(binary: bytes, count: count, name: input.name))
        case .binary: data = try .decoding(bytes, as: input.datatype, name: input.name)
        }
        return V2Tensor(name: input.name, datatype: input.datatype.rawValue, shape: input.shape, data: data)
    }

    /// A raw binary body: the bytes of the first required input in `specs`, batch 1, in its first
    /// datatype, with at most one variable dimension, inferred from the byte count.
    init(rawBinary body: Foundation.Data, specs: [TensorSpec]) throws(RequestError) {
        guard let spec = specs.first(where: { !$0.isOptional }) else {
            throw RequestError.malformedBody("a raw binary body (Inference-Header-Content-Length: 0) needs a model "
                                             + "with a required input")
        }
        guard let typeName = spec.datatypes.first, let datatype = V2Datatype(rawValue: typeName),
              let elementSize = datatype.byteSize else {
            throw RequestError.badTensor(name: spec.name, reason: "cannot be sent as a raw binary body")
        }
        let shape = try Self.rawShape(spec, elementSize: elementSize, byteCount: body.count)
        let tensor = V2Tensor(name: spec.name, datatype: typeName, shape: shape,
                              data: try .decoding(body, as: datatype, name: spec.name))
        self.init(inputs: [tensor], isRawBinary: true)
    }

    /// The shape of a raw binary body of `byteCount` bytes for `spec`: batch 1, and the one variable
    /// dimension left, if any, from the byte count.
    private static func rawShape(_ spec: TensorSpec, elementSize: Int, byteCount: Int) throws(RequestError) -> [Int] {
        var shape = spec.shape
        if shape.first == -1 { shape[0] = 1 }
        let variable = shape.indices.filter { shape[$0] < 0 }
        guard variable.count <= 1 else {
            throw RequestError.badTensor(name: spec.name, reason: "a raw binary body (Inference-Header-Content-Length: "
                + "0) needs a fixed shape, but \(shape) with batch 1 still has \(variable.count) variable dimensions; "
                + "send a JSON header that gives the shape")
        }
        // The fixed dimensions come from the model, and are small.
        let fixedBytes = shape.filter { $0 >= 0 }.reduce(elementSize, *)
        guard let index = variable.first else {
            guard byteCount == fixedBytes else {
                throw RequestError.badTensor(name: spec.name, reason: "a raw binary body for shape \(shape) needs "
                                             + "\(fixedBytes) bytes, the body has \(byteCount)")
            }
            return shape
        }
        guard fixedBytes > 0, byteCount % fixedBytes == 0 else {
            throw RequestError.badTensor(name: spec.name, reason: "a raw binary body of \(byteCount) bytes does not "
                + "fit shape \(shape): it must be a multiple of \(fixedBytes) bytes")
        }
        shape[index] = byteCount / fixedBytes
        guard elementCount(shape) != nil else {
            throw RequestError.badTensor(name: spec.name, reason: "shape \(shape) is too large")
        }
        return shape
    }
}
