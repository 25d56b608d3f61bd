/// float32 → bfloat16 conversion, rounding to nearest even as PyTorch's `.to(torch.bfloat16)` and oneDNN do.
///
/// bf16 keeps float32's sign and 8-bit exponent and the top 7 mantissa bits, so a value is its float's upper
/// 16 bits after rounding the lower 16. NaN stays NaN (quieted), infinities stay infinite; finite values
/// above bf16's largest round to infinity, as in PyTorch.
enum BFloat16 {
    /// One value (the reference the vector path is tested against).
    @inline(__always)
    static func from(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The float32 value of a bf16.
    @inline(__always)
    static func float(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Converts `count` floats: `from` written branch-free, so the compiler vectorizes the loop.
    static func convert(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count {
            let bits = src[i].bitPattern
            let rounded = (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16
            let quietNaN = (bits >> 16) | 0x0040
            dst[i] = UInt16(truncatingIfNeeded: bits & 0x7fff_ffff > 0x7f80_0000 ? quietNaN : rounded)
        }
    }

    /// A new bf16 array of `values`.
    static func array(_ values: UnsafeBufferPointer<Float>) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            if let base = values.baseAddress { convert(base, to: buffer.baseAddress!, count: values.count) }
            initialized = values.count
        }
    }
}
