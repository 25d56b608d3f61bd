// Decimal to float32, correctly rounded (round to nearest, ties to even): the result equals
// `Float(String)` of the literal. Three steps, fastest first:
//
// 1. Clinger's fast path (W. D. Clinger, "How to Read Floating Point Numbers Accurately", PLDI 1990): a
//    significand of at most 2^53 and |exponent| <= 22 are both exact doubles, so one multiplication or
//    division gives d = the double nearest to the value.
// 2. Otherwise a double-double product significand x 10^e (`PowersOfTen`) with an error below 2^-100 of the
//    value: d is the double nearest to the value, or its neighbour when the value is within 2^-100 of the
//    midpoint between two doubles.
// 3. Rounding d to float is the correct rounding of the value unless a float rounding boundary (the
//    midpoint between two adjacent floats, a double) lies within a few double ulps of d: a boundary
//    strictly between the value and d would be a double nearer to the value than d. Then, and for float
//    subnormals, `Float(String)` of the literal decides (glibc's strtof, correctly rounded).

extension NumberLiteral {
    /// The value rounded to the nearest float; ±infinity when it rounds beyond `Float.greatestFiniteMagnitude`.
    func float(in bytes: UnsafeRawBufferPointer) -> Float {
        if significand == 0 { return isNegative ? -0.0 : 0.0 }
        // significand >= 1: 10^39 and beyond overflow; below 10^19 x 10^-66 = 10^-47 everything rounds to 0
        // (the smallest subnormal is 1.4e-45, the midpoint below it 7.0e-46).
        if exponent > PowersOfTen.highest { return isNegative ? -.infinity : .infinity }
        if exponent < PowersOfTen.lowest { return isNegative ? -0.0 : 0.0 }
        var magnitude = Self.nearFloat(significand, exponent)
        // Dropped digits: the value lies between significand and significand + 1 (times 10^exponent);
        // when both round alike, so does the value.
        if isTruncated, magnitude != nil, magnitude != Self.nearFloat(significand + 1, exponent) {
            magnitude = nil
        }
        guard let magnitude else { return exactFloat(in: bytes) }
        return isNegative ? -magnitude : magnitude
    }

    /// `significand` x 10^`exponent` rounded to float (exponent within the table), or nil when steps 1
    /// and 2 cannot decide.
    @inline(__always)
    static func nearFloat(_ significand: UInt64, _ exponent: Int) -> Float? {
        let nearest: Double
        let (hi, lo) = PowersOfTen.pairs[exponent - PowersOfTen.lowest]
        if significand <= 1 << 53, exponent >= -22, exponent <= 22 {
            // 10^exponent is exact for 0...22; for -22...-1 divide by the exact 10^-exponent.
            let value = Double(significand)
            nearest = exponent >= 0 ? value * hi : value / PowersOfTen.pairs[-exponent - PowersOfTen.lowest].hi
        } else {
            // significand = high + low exactly (|low| <= 2^10); high x hi = product + error exactly (FMA).
            let high = Double(significand)
            let low = Double(Int64(bitPattern: significand &- UInt64(high)))
            let product = high * hi
            let error = (-product).addingProduct(high, hi)
            nearest = product + (error + (high * lo + low * hi))
        }
        guard nearest >= Double(Float.leastNormalMagnitude) else { return nil }
        // A float rounding boundary of a normal float has bit 28 set and bits 0-27 clear in the double's
        // significand field; refuse to decide within 4 double ulps of one.
        let boundaryDistance = (nearest.bitPattern & 0x1FFF_FFFF) &- (0x1000_0000 - 4)
        guard boundaryDistance > 8 else { return nil }
        return Float(nearest)
    }

    /// The standard library's correctly rounded conversion of the literal's text.
    private func exactFloat(in bytes: UnsafeRawBufferPointer) -> Float {
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        // The JSON number grammar is a subset of what Float(String) accepts, so nil cannot happen.
        return Float(text) ?? .nan
    }
}
