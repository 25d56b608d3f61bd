// Conversion of 16-bit float formats to Float.
//
// Safetensors stores elements little-endian and packed right after a header of arbitrary
// length, so a tensor's bytes may start at any address: every load is `loadUnaligned` plus
// an explicit little-endian conversion.

/// Exact value of the IEEE 754 binary16 bit pattern `bits` as a Float.
///
/// Every binary16 value is exactly representable in binary32, so this never rounds. NaN
/// payloads (including the quiet bit) are carried over unchanged.
@inline(__always)
func floatFromF16Bits(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x03FF)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa x 2^-24. The product of a small integer and a power of
        // two is exact; applying the sign by bit keeps negative zero.
        let magnitude = Float(mantissa) * 0x1p-24
        return Float(bitPattern: magnitude.bitPattern | sign)
    case 0x1F:
        // Infinity (mantissa 0) or NaN: all-ones binary32 exponent, mantissa left-aligned.
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        // Normal: rebias the exponent from 15 to 127 and left-align the 10-bit mantissa.
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}

/// Exact value of the bfloat16 bit pattern `bits` as a Float: bfloat16 is by definition the
/// upper half of a binary32.
@inline(__always)
func floatFromBF16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// Converts `count` little-endian binary16 values from `src` (any alignment) into `dst`.
///
/// - Precondition: `src` holds at least `2 * count` bytes and `dst` has room for `count`.
func convertF16ToF32(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
    convert16(src, into: dst, count: count, floatFromF16Bits)
}

/// Converts `count` little-endian bfloat16 values from `src` (any alignment) into `dst`.
///
/// - Precondition: `src` holds at least `2 * count` bytes and `dst` has room for `count`.
func convertBF16ToF32(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
    convert16(src, into: dst, count: count, floatFromBF16Bits)
}

/// Converts `count` little-endian 16-bit elements with `element`.
@inline(__always)
private func convert16(
    _ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>, count: Int,
    _ element: (UInt16) -> Float
) {
    // Callers size both buffers from a validated header; a mismatch is a programming error.
    precondition(count >= 0 && src.count / 2 >= count, "source too short for \(count) elements")
    guard let base = src.baseAddress else {
        return  // count is 0 here: an empty source cannot satisfy the precondition otherwise.
    }
    for index in 0..<count {
        let raw = base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)
        dst[index] = element(UInt16(littleEndian: raw))
    }
}

/// Copies `count` little-endian binary32 values from `src` (any alignment) into `dst`.
///
/// - Precondition: `src` holds at least `4 * count` bytes and `dst` has room for `count`.
func copyF32(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count >= 0 && src.count / 4 >= count, "source too short for \(count) elements")
    guard let base = src.baseAddress else {
        return
    }
    for index in 0..<count {
        let raw = base.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)
        dst[index] = Float(bitPattern: UInt32(littleEndian: raw))
    }
}
