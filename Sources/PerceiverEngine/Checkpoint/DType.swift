/// An element type a safetensors header can name in a tensor's `"dtype"` field.
///
/// Raw values are the exact strings the safetensors format uses. Any other string in a header
/// (for example `"F8_E4M3"`) is rejected with ``ModelLoadError/unsupportedDType(tensor:dtype:)``.
public enum DType: String, Sendable, CaseIterable {
    /// IEEE 754 binary64.
    case f64 = "F64"
    /// IEEE 754 binary32.
    case f32 = "F32"
    /// IEEE 754 binary16.
    case f16 = "F16"
    /// bfloat16: the upper 16 bits of a binary32.
    case bf16 = "BF16"
    /// Signed 64-bit integer.
    case i64 = "I64"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Boolean stored as one byte per element.
    case bool = "BOOL"

    /// Bytes per element as stored in the file (safetensors stores elements packed, no padding).
    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Whether the dtype is a floating-point format (including F64).
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: return true
        case .i64, .i32, .i16, .i8, .u8, .bool: return false
        }
    }

    /// Whether ``Checkpoint/floatTensor(_:)`` can read this dtype as weights: F32 (in place or
    /// copied), F16 and BF16 (converted). F64 is deliberately excluded: narrowing it would
    /// silently lose precision, and no checkpoint we serve stores weights that way.
    public var isLoadableAsFloat32: Bool {
        switch self {
        case .f32, .f16, .bf16: return true
        case .f64, .i64, .i32, .i16, .i8, .u8, .bool: return false
        }
    }
}
