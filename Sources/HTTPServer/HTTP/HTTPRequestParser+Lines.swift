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

    /// Parses the field line at `line` as `name ":" OWS value OWS` (RFC 9112 section 5), the value decoded as
    /// UTF-8 with invalid sequences replaced by U+FFFD: obs-text (RFC 9110 section 5.5) is accepted, and clients
    /// that send non-ASCII mostly send UTF-8.
    /// - Throws: `.badHeader` as `HTTPSyntax.parseFieldLine` says.
    func parseFieldLine(_ line: Range<Int>) throws(HTTPParseError) -> (name: String, value: String) {
        let field = try HTTPSyntax.parseFieldLine(buffer[line])
        return (String(decoding: field.name, as: UTF8.self), String(decoding: field.value, as: UTF8.self))
    }
}
