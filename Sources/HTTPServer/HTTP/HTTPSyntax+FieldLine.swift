extension HTTPSyntax {
    /// Splits a field line (CRLF excluded) into its name and its value without surrounding whitespace:
    /// `name ":" OWS value OWS` (RFC 9112 section 5). Shared by request headers, trailers and the header sections
    /// of multipart bodies.
    /// - Throws: `.badHeader` for obs-fold, a missing colon, a name that is not a token, whitespace before the
    ///   colon, or a control byte in the value.
    static func parseFieldLine(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError)
        -> (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        // RFC 9112 section 5.2: a server may reject obs-fold with 400 instead of unfolding it. We do: folded
        // lines are obsolete, and unfolding is where parsers diverge. This also refuses whitespace before the
        // first field line (RFC 9112 section 2.2).
        guard let first = bytes.first, !isWhitespace(first) else {
            throw .badHeader("line starts with whitespace (obs-fold)")
        }
        guard let separator = bytes.firstIndex(of: colon) else { throw .badHeader("no colon") }
        let name = bytes[..<separator]
        guard let last = name.last else { throw .badHeader("empty field name") }
        // RFC 9112 section 5.1: whitespace between the name and the colon MUST be rejected with 400.
        guard !isWhitespace(last) else { throw .badHeader("whitespace before the colon") }
        guard name.allSatisfy(isTokenByte) else { throw .badHeader("field name is not a token") }
        let value = trimmingWhitespace(bytes[(separator + 1)...])
        try validateFieldValue(value)
        return (name, value)
    }

    /// Checks that `value` is field-vchar and SP/HTAB only (RFC 9110 section 5.5): no NUL, CR, LF, DEL or
    /// other control byte, all of which RFC 9110 section 5.5 lets a recipient reject.
    static func validateFieldValue(_ value: ArraySlice<UInt8>) throws(HTTPParseError) {
        for byte in value {
            switch byte {
            case htab, 0x20...0x7E, 0x80...0xFF: continue
            case 0x00: throw .badHeader("NUL in a field value")
            case cr: throw .badHeader("CR without LF in a field value")
            default: throw .badHeader("control byte in a field value")
            }
        }
    }
}
