import Foundation
import ModelServer
import PerceiverEngine

extension V2RequestFuzz {
    /// The inputs written as a JSON header with `binary_data_size` and their `littleEndianBytes()` (what the
    /// response encoder sends) decode to the same tensors. Skipped when a value does not fit its datatype
    /// (JSON integers are not range-checked, so re-encoding them truncates).
    static func checkBinaryRoundTrip(_ request: V2InferenceRequest, specs: [TensorSpec]) {
        guard request.inputs.allSatisfy(isRepresentable) else { return }
        var header = #"{"inputs":["#
        var binary = Data()
        for (index, tensor) in request.inputs.enumerated() {
            let bytes = tensor.littleEndianBytes()
            header += (index > 0 ? "," : "") + #"{"name":"# + JSONText.quoted(tensor.name)
                + #","datatype":"# + JSONText.quoted(tensor.datatype)
                + #","shape":["# + tensor.shape.map(String.init).joined(separator: ",")
                + #"],"parameters":{"binary_data_size":"# + "\(bytes.count)}}"
            binary.append(bytes)
        }
        header += "]}"
        let body = Data(header.utf8) + binary
        do {
            let again = try V2InferenceRequest(body: body, inferenceHeaderLength: header.utf8.count, specs: specs)
            Invariant.require(again.inputs.count == request.inputs.count, "binary re-encoding changed the input count")
            for (decoded, original) in zip(again.inputs, request.inputs) {
                Invariant.require(decoded.name == original.name && decoded.datatype == original.datatype
                                  && decoded.shape == original.shape && sameData(decoded.data, original.data),
                                  "binary re-encoding of \(original) decoded as \(decoded)")
            }
        } catch {
            Invariant.require(false, "binary re-encoding of \(request.inputs) failed: \(error)")
        }
    }

    /// Whether every value of `tensor` fits its datatype, so that its binary form keeps it.
    static func isRepresentable(_ tensor: V2Tensor) -> Bool {
        guard case .integers(let values) = tensor.data else { return true }
        let range: ClosedRange<Int>
        switch V2Datatype(rawValue: tensor.datatype) {
        case .bool: range = 0...1
        case .uint8: range = 0...Int(UInt8.max)
        case .int8: range = Int(Int8.min)...Int(Int8.max)
        case .uint16: range = 0...Int(UInt16.max)
        case .int16: range = Int(Int16.min)...Int(Int16.max)
        case .uint32: range = 0...Int(UInt32.max)
        case .int32: range = Int(Int32.min)...Int(Int32.max)
        case .uint64: range = 0...Int.max
        default: range = Int.min...Int.max
        }
        return values.allSatisfy(range.contains)
    }

    /// Equal data, floats compared by bit pattern with every NaN equal to every other.
    static func sameData(_ a: V2Tensor.Data, _ b: V2Tensor.Data) -> Bool {
        switch (a, b) {
        case (.integers(let x), .integers(let y)): return x == y
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.floats(let x), .floats(let y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        default: return false
        }
    }

    /// Equal little-endian bytes of `datatype`; float elements that are both NaN count as equal.
    static func sameValues(_ a: Data, _ b: Data, datatype: String) -> Bool {
        guard a.count == b.count else { return false }
        if a == b { return true }
        guard let type = V2Datatype(rawValue: datatype), !type.isInteger, let size = type.byteSize else { return false }
        let x = Array(a), y = Array(b)
        return stride(from: 0, to: x.count, by: size).allSatisfy { start in
            let range = start..<(start + size)
            return x[range] == y[range] || (isNaN(x[range], type) && isNaN(y[range], type))
        }
    }

    /// Whether the little-endian `bytes` of one `type` element are a NaN.
    static func isNaN(_ bytes: ArraySlice<UInt8>, _ type: V2Datatype) -> Bool {
        let bits = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        switch type {
        case .fp16: return Float16(bitPattern: UInt16(truncatingIfNeeded: bits)).isNaN
        case .bf16: return Float(bitPattern: UInt32(truncatingIfNeeded: bits) << 16).isNaN
        case .fp32: return Float(bitPattern: UInt32(truncatingIfNeeded: bits)).isNaN
        case .fp64: return Double(bitPattern: bits).isNaN
        default: return false
        }
    }
}
