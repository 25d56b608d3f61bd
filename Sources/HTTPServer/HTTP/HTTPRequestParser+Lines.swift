extension HTTPRequestParser {
    /// The content (CRLF excluded) of the next line in the buffer, consuming the line, or nil while its LF has
    /// not arrived. The returned range is valid until the buffer is next compacted.
    ///
    /// A line's length is its bytes before the LF, less a CR just before the LF. A non-empty line longer than
    /// `maxLength` throws `tooLong`, and does so as soon as enough bytes are buffered to know it, without
    /// waiting for the LF. The length of a partial line never exceeds the length of the line it becomes, so
    /// the outcome does not depend on how the bytes were split into appends.
    /// - Throws: `tooLong`, or `bareLF` for a line ending in LF without CR.
    mutating func nextLine(maxLength: Int, tooLong: HTTPParseError,
                           bareLF: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        let end = buffer.count
        guard let lf = buffer[scanIndex..<end].firstIndex(of: HTTPSyntax.lf) else {
            scanIndex = end
            let endsInCR = end > readIndex && buffer[end - 1] == HTTPSyntax.cr
            let length = end - readIndex - (endsInCR ? 1 : 0)
            if length > 0 && length > maxLength { throw tooLong }
            return nil
        }
        let endsInCR = lf > readIndex && buffer[lf - 1] == HTTPSyntax.cr
        let contentEnd = endsInCR ? lf - 1 : lf
        let length = contentEnd - readIndex
        if length > 0 && length > maxLength { throw tooLong }
        // RFC 9112 section 2.2 lets a recipient accept a bare LF as a line end; we refuse it (and a bare CR,
        // which the callers find inside the line), because parsers that disagree on line ends can be made to
        // disagree on where a request ends.
        guard endsInCR else { throw bareLF }
        let line = readIndex..<contentEnd
        readIndex = lf + 1
        scanIndex = readIndex
        return line
    }

    /// The next field line of the header or trailer section (empty: the section's end), or nil while it has
    /// not arrived, counting it against `maxHeaderBytes` and `maxHeaderCount`.
    /// - Throws: `.headersTooLarge` beyond either limit (as soon as the buffered bytes exceed it),
    ///   `.badHeader` for a bare LF.
    mutating func nextFieldLine() throws(HTTPParseError) -> Range<Int>? {
        let limit = limits.maxHeaderBytes
        // Each field line costs its bytes and its CRLF; the empty line ending the section is not counted.
        guard let line = try nextLine(maxLength: limit - sectionBytes - 2, tooLong: .headersTooLarge(limit: limit),
                                      bareLF: .badHeader("line ends in LF without CR")) else { return nil }
        guard !line.isEmpty else { return line }
        sectionBytes += line.count + 2
        sectionFields += 1
        guard sectionFields <= limits.maxHeaderCount else {
            throw .headersTooLarge(limit: limits.maxHeaderCount)
        }
        return line
    }

    /// Parses the field line at `line` as `name ":" OWS value OWS` (RFC 9112 section 5).
    /// - Throws: `.badHeader` for obs-fold, a missing colon, a name that is not a token, whitespace before the
    ///   colon, or a control byte in the value.
    func parseFieldLine(_ line: Range<Int>) throws(HTTPParseError) -> (name: String, value: String) {
        let bytes = buffer[line]
        // RFC 9112 section 5.2: a server may reject obs-fold with 400 instead of unfolding it. We do: folded
        // lines are obsolete, and unfolding is where parsers diverge. This also refuses whitespace before the
        // first field line (RFC 9112 section 2.2).
        guard let first = bytes.first, !HTTPSyntax.isWhitespace(first) else {
            throw .badHeader("line starts with whitespace (obs-fold)")
        }
        guard let colon = bytes.firstIndex(of: HTTPSyntax.colon) else { throw .badHeader("no colon") }
        let name = bytes[..<colon]
        guard let last = name.last else { throw .badHeader("empty field name") }
        // RFC 9112 section 5.1: whitespace between the name and the colon MUST be rejected with 400.
        guard !HTTPSyntax.isWhitespace(last) else { throw .badHeader("whitespace before the colon") }
        guard name.allSatisfy(HTTPSyntax.isTokenByte) else { throw .badHeader("field name is not a token") }
        let value = HTTPSyntax.trimmingWhitespace(bytes[(colon + 1)...])
        try validateFieldValue(value)
        // Values are decoded as UTF-8, invalid sequences replaced by U+FFFD: obs-text (RFC 9110 section 5.5)
        // is accepted, and clients that send non-ASCII mostly send UTF-8.
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// Checks that `value` is field-vchar and SP/HTAB only (RFC 9110 section 5.5): no NUL, CR, LF, DEL or
    /// other control byte, all of which RFC 9110 section 5.5 lets a recipient reject.
    func validateFieldValue(_ value: ArraySlice<UInt8>) throws(HTTPParseError) {
        for byte in value {
            switch byte {
            case HTTPSyntax.htab, 0x20...0x7E, 0x80...0xFF: continue
            case 0x00: throw .badHeader("NUL in a field value")
            case HTTPSyntax.cr: throw .badHeader("CR without LF in a field value")
            default: throw .badHeader("control byte in a field value")
            }
        }
    }
}
