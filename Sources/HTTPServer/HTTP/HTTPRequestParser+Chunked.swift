extension HTTPRequestParser {
    /// Longest chunk-size line (size and extensions, CRLF excluded). Extensions are ignored, so a long line is
    /// only a way to make the server buffer bytes.
    static let maxChunkSizeLineBytes = 4096
    /// Most hex digits in a chunk size: 16 digits are 64 bits.
    static let maxChunkSizeDigits = 16

    /// Parses a chunk-size line (RFC 9112 section 7.1) and moves on to its data, or to the trailer section
    /// after the last chunk.
    mutating func readChunkSize() throws(HTTPParseError) -> Progress {
        let limit = Self.maxChunkSizeLineBytes
        guard let line = try nextLine(maxLength: limit,
                                      tooLong: .badChunk("chunk-size line longer than \(limit) bytes"),
                                      bareLF: .badChunk("line ends in LF without CR")) else {
            return .needsMoreBytes
        }
        let size = try parseChunkSizeLine(line)
        // The accumulated body is checked before the chunk's data arrives, so it is never buffered.
        guard size <= UInt64(clamping: limits.maxBodyBytes - body.count) else {
            throw .bodyTooLarge(limit: limits.maxBodyBytes)
        }
        if size == 0 {
            sectionBytes = 0
            sectionFields = 0
            phase = .trailerFields
        } else {
            phase = .chunkData(remaining: Int(size))
        }
        return .advanced
    }

    /// Moves what has arrived of a chunk's data into `body`.
    mutating func readChunkData(remaining: Int) -> Progress {
        let left = remaining - moveToBody(upTo: remaining)
        phase = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
        return left == 0 ? .advanced : .needsMoreBytes
    }

    /// Consumes the CRLF after a chunk's data (RFC 9112 section 7.1: `chunk-data CRLF`).
    mutating func readChunkDataEnd() throws(HTTPParseError) -> Progress {
        guard buffer.count - readIndex >= 2 else { return .needsMoreBytes }
        guard buffer[readIndex] == HTTPSyntax.cr, buffer[readIndex + 1] == HTTPSyntax.lf else {
            throw .badChunk("chunk data not followed by CRLF")
        }
        readIndex += 2
        scanIndex = readIndex
        phase = .chunkSize
        return .advanced
    }

    /// Checks and discards a trailer field (RFC 9112 section 7.1.2: a recipient may discard trailers); the
    /// empty line ending the section completes the request.
    mutating func readTrailerField() throws(HTTPParseError) -> Progress {
        guard let line = try nextFieldLine() else { return .needsMoreBytes }
        guard !line.isEmpty else { return .event(.request(finishRequest())) }
        _ = try parseFieldLine(line)
        return .advanced
    }

    /// The size of `chunk-size [ chunk-ext ]`: 1 to 16 hex digits, then only well-formed extensions, which are
    /// ignored (RFC 9112 section 7.1.1).
    /// - Throws: `.badChunk` for an empty, non-hex or over-long size or a malformed extension.
    func parseChunkSizeLine(_ line: Range<Int>) throws(HTTPParseError) -> UInt64 {
        var index = line.lowerBound
        var size: UInt64 = 0
        while index < line.upperBound, let digit = HTTPSyntax.hexValue(buffer[index]) {
            guard index - line.lowerBound < Self.maxChunkSizeDigits else {
                throw .badChunk("chunk size longer than \(Self.maxChunkSizeDigits) hex digits")
            }
            size = size << 4 | UInt64(digit)
            index += 1
        }
        guard index > line.lowerBound else { throw .badChunk("chunk size is not hexadecimal") }
        try validateChunkExtensions(index..<line.upperBound)
        return size
    }

    /// Checks `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )` (RFC 9112 section 7.1.1), with
    /// names tokens and values tokens or quoted strings. Extensions are ignored, but checked strictly: a
    /// lenient scan of quoted strings is how parsers have been made to disagree on where a chunk ends.
    func validateChunkExtensions(_ range: Range<Int>) throws(HTTPParseError) {
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            index = skippingWhitespace(from: index, to: end)
            guard index < end, buffer[index] == HTTPSyntax.semicolon else {
                throw .badChunk("chunk size followed by something other than an extension")
            }
            index = try skippingToken(from: skippingWhitespace(from: index + 1, to: end), to: end)
            let afterName = skippingWhitespace(from: index, to: end)
            guard afterName < end, buffer[afterName] == HTTPSyntax.equals else { continue }
            index = skippingWhitespace(from: afterName + 1, to: end)
            if index < end && buffer[index] == HTTPSyntax.quote {
                index = try skippingQuotedString(from: index, to: end)
            } else {
                index = try skippingToken(from: index, to: end)
            }
        }
    }

    /// The index after the SP and HTAB bytes from `start`.
    func skippingWhitespace(from start: Int, to end: Int) -> Int {
        var index = start
        while index < end && HTTPSyntax.isWhitespace(buffer[index]) { index += 1 }
        return index
    }

    /// The index after the token (at least one tchar) at `start`.
    /// - Throws: `.badChunk` when no token starts there.
    func skippingToken(from start: Int, to end: Int) throws(HTTPParseError) -> Int {
        var index = start
        while index < end && HTTPSyntax.isTokenByte(buffer[index]) { index += 1 }
        guard index > start else { throw .badChunk("chunk extension without a name or value") }
        return index
    }

    /// The index after the quoted-string at `start` (RFC 9110 section 5.6.4), which holds a DQUOTE.
    /// - Throws: `.badChunk` for a control byte inside or a missing closing DQUOTE.
    func skippingQuotedString(from start: Int, to end: Int) throws(HTTPParseError) -> Int {
        var index = start + 1
        var isEscaped = false
        while index < end {
            let byte = buffer[index]
            // qdtext and the byte after a backslash are HTAB, SP, visible ASCII or obs-text; never a control.
            guard byte == HTTPSyntax.htab || (byte >= 0x20 && byte != 0x7F) else {
                throw .badChunk("control byte in a chunk extension")
            }
            if isEscaped {
                isEscaped = false
            } else if byte == HTTPSyntax.quote {
                return index + 1
            } else if byte == HTTPSyntax.backslash {
                isEscaped = true
            }
            index += 1
        }
        throw .badChunk("unterminated quoted string in a chunk extension")
    }
}
