/// Byte classes of the HTTP grammar (RFC 9110 section 5.6, RFC 9112 section 2), as the parser needs them.
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    /// tchar (RFC 9110 section 5.6.2): the bytes of methods, field names and chunk-extension names.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// SP or HTAB, the bytes of OWS and BWS (RFC 9110 section 5.6.3).
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == htab
    }

    /// A byte allowed in a request target: visible ASCII (RFC 3986 section 2 has every other byte
    /// percent-encoded, and RFC 9112 section 3.2 puts no whitespace inside the target).
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The value of a HEXDIG (either case), or nil.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// A Host field value: `uri-host [ ":" port ]` (RFC 9110 section 7.2, RFC 3986 section 3.2.2): an IP literal
    /// in brackets, or a reg-name of unreserved, sub-delim and percent-encoded bytes (empty allowed), then an
    /// optional port of digits.
    static func isValidHost(_ value: String) -> Bool {
        var bytes = Substring(value).utf8[...]
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = bytes[bytes.index(after: bytes.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ hexValue($0) != nil || $0 == colon || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "v") || $0 == UInt8(ascii: "V") }) else { return false }
            bytes = bytes[bytes.index(after: close)...]
        } else {
            let end = bytes.firstIndex(of: colon) ?? bytes.endIndex
            var index = bytes.startIndex
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: "%") {
                    let first = bytes.index(after: index)
                    guard first < end, bytes.index(after: first) < end, hexValue(bytes[first]) != nil,
                          hexValue(bytes[bytes.index(after: first)]) != nil else { return false }
                    index = bytes.index(index, offsetBy: 3)
                    continue
                }
                guard isHostByte(byte) else { return false }
                index = bytes.index(after: index)
            }
            bytes = bytes[end...]
        }
        guard let first = bytes.first else { return true }
        return first == colon && bytes.dropFirst().allSatisfy(isDigit)
    }

    /// unreserved / sub-delims (RFC 3986 section 2): the bytes of a reg-name besides percent-encodings.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "~"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","),
             UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    /// `bytes` without leading and trailing SP and HTAB (OWS, RFC 9110 section 5.6.3).
    static func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isWhitespace($0) }),
              let last = bytes.lastIndex(where: { !isWhitespace($0) }) else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }
}
