// Strings (RFC 8259 section 7): UTF-8 checked as RFC 3629 section 4 defines it (no overlong forms, no
// surrogates, nothing above U+10FFFF), no raw control characters, escapes with surrogate pairs joined.

extension JSONCursor {
    /// Reads the string whose opening quote is at `position`, and moves past its closing quote.
    mutating func readStringLiteral() throws(JSONError) -> String {
        let start = position + 1
        let (contentEnd, hasEscapes) = try scanString()
        guard hasEscapes else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<contentEnd]), as: UTF8.self)
        }
        return try unescape(start..<contentEnd)
    }

    /// Validates the string whose opening quote is at `position` and moves past its closing quote; returns
    /// where its content ends (the closing quote) and whether it holds escapes.
    mutating func scanString() throws(JSONError) -> (contentEnd: Int, hasEscapes: Bool) {
        var index = position + 1
        var hasEscapes = false
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                position = index + 1
                return (index, hasEscapes)
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index = try scanEscape(at: index)
            } else if byte < 0x20 {
                throw JSONError(offset: index, reason: .controlCharacter(byte))
            } else if byte < 0x80 {
                index += 1
            } else {
                index = try scanMultiByte(at: index)
            }
        }
        throw JSONError(offset: end, reason: .unexpectedEnd(expected: .closingQuote))
    }

    /// Validates the escape whose backslash is at `index`; returns the index after it. A `\u` escape of a
    /// high surrogate must be followed by one of a low surrogate (RFC 8259 section 7).
    private func scanEscape(at index: Int) throws(JSONError) -> Int {
        guard index + 1 < end else { throw JSONError(offset: end, reason: .unexpectedEnd(expected: .closingQuote)) }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return index + 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: index + 2)
            switch unit {
            case 0xD800...0xDBFF:
                guard index + 7 < end, bytes[index + 6] == UInt8(ascii: "\\"), bytes[index + 7] == UInt8(ascii: "u"),
                      (0xDC00...0xDFFF).contains(try hex4(at: index + 8)) else {
                    throw JSONError(offset: index, reason: .loneSurrogate(unit))
                }
                return index + 12
            case 0xDC00...0xDFFF:
                throw JSONError(offset: index, reason: .loneSurrogate(unit))
            default:
                return index + 6
            }
        case let other:
            throw JSONError(offset: index, reason: .invalidEscape(other))
        }
    }

    /// The four hex digits at `index` as a UTF-16 code unit.
    private func hex4(at index: Int) throws(JSONError) -> UInt16 {
        var unit: UInt16 = 0
        for offset in index..<(index + 4) {
            guard offset < end else { throw JSONError(offset: end, reason: .unexpectedEnd(expected: .hexDigit)) }
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError(offset: offset, reason: .unexpectedByte(byte, expected: .hexDigit))
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// Validates the UTF-8 sequence whose lead byte (0x80 or above) is at `index`; returns the index after it.
    /// The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code points above
    /// U+10FFFF (F4), as the table in RFC 3629 section 4.
    private func scanMultiByte(at index: Int) throws(JSONError) -> Int {
        let continuation: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch bytes[index] {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED: continuation = 2; second = 0x80...0x9F
        case 0xF0: continuation = 3; second = 0x90...0xBF
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; second = 0x80...0x8F
        default: throw JSONError(offset: index, reason: .invalidUTF8)
        }
        guard index + continuation < end, second.contains(bytes[index + 1]) else {
            throw JSONError(offset: index, reason: .invalidUTF8)
        }
        var next = index + 2
        while next <= index + continuation {
            guard bytes[next] & 0xC0 == 0x80 else { throw JSONError(offset: index, reason: .invalidUTF8) }
            next += 1
        }
        return next
    }

    /// The content in `range` (validated by `scanString()`) with its escapes decoded.
    private func unescape(_ range: Range<Int>) throws(JSONError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            switch bytes[index + 1] {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(try hex4(at: index + 2))
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = UInt32(try hex4(at: index + 8))
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                Self.appendUTF8(scalar, to: &out)
                index += 6
                continue
            case let other: out.append(other)  // \" \\ \/
            }
            index += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the UTF-8 form of the code point `scalar` (not a surrogate, at most U+10FFFF).
    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
