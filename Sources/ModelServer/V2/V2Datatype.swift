/// A KServe V2 tensor datatype (docs/reference/serving.md 1.6) with its binary element size (1.8).
public enum V2Datatype: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", bf16 = "BF16", fp32 = "FP32", fp64 = "FP64"
    case bytes = "BYTES"

    /// Bytes per element in binary form; nil for BYTES, whose elements are length-prefixed.
    public var byteSize: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .uint16, .int16, .fp16, .bf16: return 2
        case .uint32, .int32, .fp32: return 4
        case .uint64, .int64, .fp64: return 8
        case .bytes: return nil
        }
    }

    /// Whether elements decode to `V2Tensor.Data.integers` (BOOL as 0 or 1) rather than `.floats`.
    public var isInteger: Bool {
        switch self {
        case .bool, .uint8, .uint16, .uint32, .uint64, .int8, .int16, .int32, .int64: return true
        case .fp16, .bf16, .fp32, .fp64, .bytes: return false
        }
    }

    /// Whether JSON `data` can carry it: FP16 and BF16 have no JSON form (docs/reference/serving.md 1.5); BYTES
    /// elements are JSON strings.
    var hasJSONForm: Bool { self != .fp16 && self != .bf16 }

    /// The fewest bytes one element takes in binary: its size, or for BYTES its 4-byte length prefix.
    var minimumByteSize: Int { byteSize ?? 4 }
}
