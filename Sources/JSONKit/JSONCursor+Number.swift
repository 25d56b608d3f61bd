// Numbers and the literal names (RFC 8259 sections 3 and 6):
//   number = [ "-" ] ( "0" / digit1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT ]

/// A number as scanned: where its text is, and its value as a decimal significand and exponent, so that
/// typed reads convert it without building a string.
struct NumberLiteral {
    /// The literal's bytes in the input.
    var range: Range<Int>
    var isNegative: Bool
    /// The first 19 significant digits as an integer (19 digits always fit in 64 bits).
    var significand: UInt64
    /// The value is `significand` x 10^`exponent`, exactly unless `isTruncated`.
    var exponent: Int
    /// Written without a fraction or an exponent.
    var isInteger: Bool
    /// Nonzero digits beyond the 19th were dropped: the value lies strictly between `significand` and
    /// `significand + 1` times 10^`exponent`.
    var isTruncated: Bool

    /// The exact value as an `Int64`, when the literal is an integer in range.
    var int64: Int64? {
        // More than 19 digits show as a positive exponent: at least 10^19, beyond Int64.
        guard isInteger, exponent == 0 else { return nil }
        if isNegative {
            return significand <= 1 << 63 ? Int64(truncatingIfNeeded: 0 &- significand) : nil
        }
        return significand <= UInt64(Int64.max) ? Int64(significand) : nil
    }

    /// The exact value as an `Int64` when it is a whole number within the 64-bit range, however it is
    /// written (`8080`, `8080.0`, `4e0`, `1.5e1`): decided on the decimal digits, never through a double.
    var integral: Int64? {
        // Dropped nonzero digits: a whole number with more than 19 significant digits is at least 10^19.
        guard !isTruncated else { return nil }
        var magnitude = significand
        var exponent = self.exponent
        while exponent < 0, magnitude != 0 {
            guard magnitude % 10 == 0 else { return nil }
            magnitude /= 10
            exponent += 1
        }
        while exponent > 0, magnitude != 0 {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            magnitude = product
            exponent -= 1
        }
        if isNegative {
            return magnitude <= 1 << 63 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The literal's text, shortened for messages.
    func excerpt(in bytes: UnsafeRawBufferPointer) -> String {
        JSONError.excerpt(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
    }
}

extension JSONCursor {
    /// Scans the number at `position` (its first byte is `-` or a digit) and moves past it.
    mutating func scanNumber() throws(JSONError) -> NumberLiteral {
        let start = position
        var index = position
        let isNegative = bytes[index] == UInt8(ascii: "-")
        if isNegative { index += 1 }
        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        var isTruncated = false
        guard index < end else { throw JSONError(offset: index, reason: .unexpectedEnd(expected: .digit)) }
        let first = bytes[index]
        if first == UInt8(ascii: "0") {
            index += 1
            if index < end, Self.isDigit(bytes[index]) { throw JSONError(offset: start, reason: .leadingZero) }
        } else if first &- UInt8(ascii: "1") < 9 {
            exponent += scanDigits(&index, &significand, &digits, &isTruncated).dropped
        } else {
            throw JSONError(offset: index, reason: .unexpectedByte(first, expected: .digit))
        }
        var isInteger = true
        if index < end, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let run = scanDigits(&index, &significand, &digits, &isTruncated)
            guard run.skipped + run.accumulated + run.dropped > 0 else { throw digitExpected(at: index) }
            exponent -= run.skipped + run.accumulated
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            exponent += try scanExponent(at: &index)
        }
        position = index
        return NumberLiteral(range: start..<index, isNegative: isNegative, significand: significand,
                             exponent: exponent, isInteger: isInteger, isTruncated: isTruncated)
    }

    /// Reads the run of digits at `index` into `significand`: zeros before the first significant digit
    /// (`digits` still 0) are skipped, the first 19 significant digits accumulated, later ones dropped
    /// (`isTruncated` when one is nonzero). Eight digits at a time where they fit.
    @inline(__always)
    private func scanDigits(_ index: inout Int, _ significand: inout UInt64, _ digits: inout Int,
                            _ isTruncated: inout Bool) -> (skipped: Int, accumulated: Int, dropped: Int) {
        var skipped = 0
        if digits == 0 {
            while index < end, bytes[index] == UInt8(ascii: "0") {
                index += 1
                skipped += 1
            }
        }
        var accumulated = 0
        while digits <= 11, index + 8 <= end {
            let chunk = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            guard Self.isEightDigits(chunk) else { break }
            significand = significand &* 100_000_000 &+ Self.eightDigitsValue(chunk)
            digits += 8
            accumulated += 8
            index += 8
        }
        var dropped = 0
        while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
            if digits < 19 {
                significand = significand &* 10 &+ UInt64(digit)
                digits += 1
                accumulated += 1
            } else {
                dropped += 1
                if digit != 0 { isTruncated = true }
            }
            index += 1
        }
        return (skipped, accumulated, dropped)
    }

    /// Whether the eight bytes of `chunk` (first byte lowest) are all ASCII digits (SWAR, as in Lemire's
    /// fast_float `is_made_of_eight_digits_fast`): a byte outside '0'...'9' sets its high bit in one of the
    /// two sums.
    @inline(__always)
    static func isEightDigits(_ chunk: UInt64) -> Bool {
        ((chunk &+ 0x4646_4646_4646_4646) | (chunk &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0
    }

    /// The value of eight ASCII digits (first byte lowest, most significant), in three multiplications
    /// (fast_float `parse_eight_digits_unrolled`).
    @inline(__always)
    static func eightDigitsValue(_ chunk: UInt64) -> UInt64 {
        var value = chunk &- 0x3030_3030_3030_3030
        value = value &* 10 &+ value >> 8  // pairs: 10a + b in every other byte
        let hundreds = (value & 0x0000_00FF_0000_00FF) &* (100 + (1_000_000 << 32))
        let ones = ((value >> 16) & 0x0000_00FF_0000_00FF) &* (1 + (10_000 << 32))
        return (hundreds &+ ones) >> 32
    }

    /// The exponent after `e`: sign and digits, saturating at 10^9 (beyond any float's range).
    private func scanExponent(at index: inout Int) throws(JSONError) -> Int {
        var isNegative = false
        if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            isNegative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let digitsStart = index
        var value = 0
        while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
            if value < 1_000_000_000 { value = value * 10 + Int(digit) }
            index += 1
        }
        guard index > digitsStart else { throw digitExpected(at: index) }
        return isNegative ? -value : value
    }

    /// Validates the number at `position` without computing its value, and moves past it: `skipValue()`'s
    /// path, which sees every number of a body whose shape may still be refused.
    mutating func skipNumber() throws(JSONError) {
        try skipNumber(at: &position)
    }

    /// Validates the number starting at `index` and moves `index` past it (see `skipNumber()`).
    @inline(__always)
    func skipNumber(at index: inout Int) throws(JSONError) {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end else { throw JSONError(offset: index, reason: .unexpectedEnd(expected: .digit)) }
        let first = bytes[index]
        index += 1
        if first == UInt8(ascii: "0") {
            if index < end, Self.isDigit(bytes[index]) { throw JSONError(offset: start, reason: .leadingZero) }
        } else if first &- UInt8(ascii: "1") < 9 {
            skipDigits(&index)
        } else {
            throw JSONError(offset: index - 1, reason: .unexpectedByte(first, expected: .digit))
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            skipDigits(&index)
            guard index > fractionStart else { throw digitExpected(at: index) }
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            _ = try scanExponent(at: &index)
        }
    }

    /// Moves `index` past the digits there, eight at a time where it can.
    @inline(__always)
    private func skipDigits(_ index: inout Int) {
        while index + 8 <= end,
              Self.isEightDigits(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))) {
            index += 8
        }
        while index < end, Self.isDigit(bytes[index]) { index += 1 }
    }

    private func digitExpected(at index: Int) -> JSONError {
        guard index < end else { return JSONError(offset: index, reason: .unexpectedEnd(expected: .digit)) }
        return JSONError(offset: index, reason: .unexpectedByte(bytes[index], expected: .digit))
    }

    /// Reads `true` or `false` at `position` (its first byte is `t` or `f`).
    mutating func scanBool() throws(JSONError) -> Bool {
        let isTrue = bytes[position] == UInt8(ascii: "t")
        try expectLiteral(isTrue ? "true" : "false")
        return isTrue
    }

    /// Consumes `literal` (`true`, `false` or `null`) at `position`.
    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let text = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for (offset, expected) in text.enumerated() {
            guard position + offset < end, bytes[position + offset] == expected else {
                position += offset
                throw unexpected(.value)
            }
        }
        position += text.count
    }
}
