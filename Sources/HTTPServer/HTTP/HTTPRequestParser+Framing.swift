import Foundation

extension HTTPRequestParser {
    /// How the body of the request in `head` is framed (RFC 9112 section 6.3), as the phase after `.head`.
    /// - Throws: `.badHeader` for Transfer-Encoding in HTTP/1.0, `.conflictingFraming`,
    ///   `.unsupportedTransferEncoding`, `.badContentLength` or `.bodyTooLarge`.
    mutating func bodyPhase() throws(HTTPParseError) -> Phase {
        let codings = head.headers.values(of: "Transfer-Encoding")
        let lengths = head.headers.values(of: "Content-Length")
        body = Data()
        if !codings.isEmpty {
            // RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as having faulty
            // framing, even with a Content-Length; faulty framing is a 400 and a closed connection.
            guard head.version != .http1_0 else {
                throw .badHeader("Transfer-Encoding in an HTTP/1.0 request")
            }
            // RFC 9112 section 6.1 lets a server either ignore Content-Length or reject the request; both
            // together are the classic smuggling vector, so we reject.
            guard lengths.isEmpty else { throw .conflictingFraming }
            try requireChunkedOnly(codings)
            return .chunkSize
        }
        // RFC 9112 section 6.3 rule 7: a request with neither has no body.
        guard !lengths.isEmpty else { return .fixedBody(remaining: 0) }
        let length = try contentLength(lengths)
        // Reserve a little: the declared length is the client's word until the bytes arrive.
        body.reserveCapacity(min(length, Self.retainedCapacity))
        return .fixedBody(remaining: length)
    }

    /// Checks that the Transfer-Encoding field lines, joined as one list (RFC 9110 section 5.3), name exactly
    /// one coding, `chunked`, case-insensitively (RFC 9112 section 7). Empty list elements are skipped
    /// (RFC 9110 section 5.6.1).
    /// - Throws: `.unsupportedTransferEncoding` for any other coding, for `chunked` applied twice
    ///   (RFC 9112 section 7.1 forbids it) and for an empty list.
    func requireChunkedOnly(_ values: [String]) throws(HTTPParseError) {
        let codings = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard codings.count == 1, codings[0].caseInsensitiveEquals("chunked") else {
            throw .unsupportedTransferEncoding(values.joined(separator: ", "))
        }
    }

    /// The body length the Content-Length field lines give (RFC 9112 section 6.2, RFC 9110 section 8.6).
    ///
    /// Every list element of every line must be `1*DIGIT` (no sign, inner space or hex) and all must be the
    /// same number; RFC 9110 section 8.6 allows accepting such repeats, anything else is unrecoverable.
    /// - Throws: `.badContentLength`, or `.bodyTooLarge` for a valid number above `maxBodyBytes` (however
    ///   many digits it has).
    func contentLength(_ values: [String]) throws(HTTPParseError) -> Int {
        var canonical: Substring?
        for value in values {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = element.trimmingSpaces()
                guard !digits.isEmpty, digits.utf8.allSatisfy(HTTPSyntax.isDigit) else {
                    throw .badContentLength("not a decimal number")
                }
                // Compared without leading zeros, so that numbers too long for Int still compare.
                let number = digits.drop { $0 == "0" }
                if let canonical, canonical != number {
                    throw .badContentLength("differing values")
                }
                canonical = number
            }
        }
        let limit = limits.maxBodyBytes
        guard let number = canonical else { throw .badContentLength("empty") }
        if number.isEmpty { return 0 }
        // Eighteen decimal digits always fit in Int; longer numbers are beyond any limit.
        guard number.utf8.count <= 18, let length = Int(number), length <= limit else {
            throw .bodyTooLarge(limit: limit)
        }
        return length
    }
}
