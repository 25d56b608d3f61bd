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
            while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                if digits < 19 {
                    significand = significand &* 10 &+ UInt64(digit)
                    digits += 1
                } else {
                    exponent += 1
                    if digit != 0 { isTruncated = true }
                }
                index += 1
            }
        } else {
            throw JSONError(offset: index, reason: .unexpectedByte(first, expected: .digit))
        }
        var isInteger = true
        if index < end, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fractionStart = index
            while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                if digits == 0 && digit == 0 {
                    exponent -= 1  // a leading zero of 0.000123
                } else if digits < 19 {
                    significand = significand &* 10 &+ UInt64(digit)
                    digits += 1
                    exponent -= 1
                } else if digit != 0 {
                    isTruncated = true
                }
                index += 1
            }
            guard index > fractionStart else { throw digitExpected(at: index) }
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
        var index = position
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end else { throw JSONError(offset: index, reason: .unexpectedEnd(expected: .digit)) }
        let first = bytes[index]
        index += 1
        if first == UInt8(ascii: "0") {
            if index < end, Self.isDigit(bytes[index]) { throw JSONError(offset: position, reason: .leadingZero) }
        } else if first &- UInt8(ascii: "1") < 9 {
            while index < end, Self.isDigit(bytes[index]) { index += 1 }
        } else {
            throw JSONError(offset: index - 1, reason: .unexpectedByte(first, expected: .digit))
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < end, Self.isDigit(bytes[index]) { index += 1 }
            guard index > fractionStart else { throw digitExpected(at: index) }
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            _ = try scanExponent(at: &index)
        }
        position = index
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
