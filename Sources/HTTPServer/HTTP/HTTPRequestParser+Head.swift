extension HTTPRequestParser {
    /// Skips an empty line or parses the request line, moving on to the header section.
    mutating func readRequestLine() throws(HTTPParseError) -> Progress {
        let limit = limits.maxRequestLineBytes
        guard let line = try nextLine(maxLength: limit, tooLong: .requestLineTooLong(limit: limit),
                                      bareLF: .badRequestLine("line ends in LF without CR")) else {
            return .needsMoreBytes
        }
        // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line (CRLF) before the request line.
        // We ignore any number; they are consumed as they arrive, so they never accumulate in the buffer.
        guard !line.isEmpty else { return .advanced }
        head = try parseRequestLine(line)
        sectionBytes = 0
        sectionFields = 0
        phase = .headerFields
        return .advanced
    }

    /// Adds the next field line to the head; at the end of the section decides the framing and returns `.head`.
    mutating func readHeaderField() throws(HTTPParseError) -> Progress {
        guard let line = try nextFieldLine() else { return .needsMoreBytes }
        guard !line.isEmpty else {
            // The Host rules (RFC 9112 section 3.2) are not framing: the connection checks them on `.head`
            // (`HTTPRequestHead.hostProblem`), so this parser stays a framing parser.
            phase = try bodyPhase()
            return .event(.head(head))
        }
        let field = try parseFieldLine(line)
        head.headers.add(name: field.name, value: field.value)
        return .advanced
    }

    /// Parses `method SP request-target SP HTTP-version` (RFC 9112 section 3).
    /// - Throws: `.badRequestLine`, or `.unsupportedVersion` for a well-formed version other than 1.0 and 1.1.
    func parseRequestLine(_ line: Range<Int>) throws(HTTPParseError) -> HTTPRequestHead {
        let bytes = buffer[line]
        guard !bytes.contains(HTTPSyntax.cr) else { throw .badRequestLine("CR without LF") }
        // RFC 9112 section 3 allows parsing on whitespace generally; we accept exactly one SP between the
        // three parts, as the grammar says, so that no two parsers can split the line differently.
        guard let firstSpace = bytes.firstIndex(of: HTTPSyntax.space) else {
            throw .badRequestLine("no request target")
        }
        let afterMethod = bytes[(firstSpace + 1)...]
        guard let secondSpace = afterMethod.firstIndex(of: HTTPSyntax.space) else {
            throw .badRequestLine("no HTTP version")
        }
        let method = bytes[..<firstSpace]
        let target = bytes[(firstSpace + 1)..<secondSpace]
        guard !method.isEmpty, method.allSatisfy(HTTPSyntax.isTokenByte) else {
            throw .badRequestLine("method is not a token")
        }
        // Origin-, absolute-, authority- and asterisk-form (RFC 9112 section 3.2) are all accepted as bytes;
        // routing decides what it serves.
        guard !target.isEmpty, target.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw .badRequestLine("request target is empty or has a byte outside visible ASCII")
        }
        let version = try parseVersion(bytes[(secondSpace + 1)...])
        return HTTPRequestHead(method: String(decoding: method, as: UTF8.self),
                               target: String(decoding: target, as: UTF8.self),
                               version: version, headers: HTTPHeaders())
    }

    /// `HTTP/1.0` or `HTTP/1.1`, exactly (RFC 9112 section 2.3: the version is case-sensitive).
    /// - Throws: `.unsupportedVersion` for another `HTTP/d.d` (505, RFC 9110 section 15.6.6), else
    ///   `.badRequestLine`.
    func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        if bytes.elementsEqual("HTTP/1.1".utf8) { return .http1_1 }
        if bytes.elementsEqual("HTTP/1.0".utf8) { return .http1_0 }
        let start = bytes.startIndex
        if bytes.count == 8, bytes.starts(with: "HTTP/".utf8), HTTPSyntax.isDigit(bytes[start + 5]),
           bytes[start + 6] == UInt8(ascii: "."), HTTPSyntax.isDigit(bytes[start + 7]) {
            throw .unsupportedVersion(String(decoding: bytes, as: UTF8.self))
        }
        throw .badRequestLine("HTTP version is not HTTP/1.0 or HTTP/1.1")
    }
}
