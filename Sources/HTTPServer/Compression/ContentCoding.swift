/// A content coding this server can decode (RFC 9110 section 8.4.1).
public enum ContentCoding: String, Sendable {
    /// No transformation.
    case identity
    /// RFC 1952 gzip; `x-gzip` is read as the same coding (RFC 9110 section 8.4.1.3).
    case gzip
    /// HTTP's "deflate": a zlib stream (RFC 1950); raw deflate (RFC 1951) is accepted as well when decoding.
    case deflate

    /// Parses a `Content-Encoding` header value: case-insensitive, surrounding OWS and empty list elements
    /// ignored. Nil for an unknown coding, an empty value, or stacked codings such as `gzip, gzip` (one coding
    /// is supported); the caller answers 415 Unsupported Media Type.
    public init?(headerValue: String) {
        let codings = headerValue.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard codings.count == 1, let coding = codings.first else { return nil }
        if coding.caseInsensitiveEquals("identity") {
            self = .identity
        } else if coding.caseInsensitiveEquals("gzip") || coding.caseInsensitiveEquals("x-gzip") {
            self = .gzip
        } else if coding.caseInsensitiveEquals("deflate") {
            self = .deflate
        } else {
            return nil
        }
    }
}
