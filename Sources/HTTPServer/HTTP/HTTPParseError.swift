/// Why bytes on a connection are not an acceptable HTTP/1.1 request. After answering one of these the
/// connection closes (the framing can no longer be trusted).
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The request line is not `method SP target SP HTTP-version CRLF`.
    case badRequestLine(String)
    /// The request line is longer than the limit.
    case requestLineTooLong(limit: Int)
    /// A header line is malformed (no colon, space before the colon, obs-fold, bare CR/LF, bad bytes).
    case badHeader(String)
    /// The header section (or trailer section) exceeds its byte or field-count limit.
    case headersTooLarge(limit: Int)
    /// `Content-Length` is not a single non-negative decimal number, or several values disagree.
    case badContentLength(String)
    /// The body (declared or, for chunked, accumulated) exceeds the limit.
    case bodyTooLarge(limit: Int)
    /// Both `Content-Length` and `Transfer-Encoding`: refused as a smuggling vector (RFC 9112 section 6.1).
    case conflictingFraming
    /// A transfer coding other than `chunked` alone.
    case unsupportedTransferEncoding(String)
    /// Malformed chunked framing: size line, extension or missing CRLF.
    case badChunk(String)
    /// Not HTTP/1.0 or HTTP/1.1.
    case unsupportedVersion(String)

    /// The status the connection answers with before closing.
    public var status: Int {
        switch self {
        case .requestLineTooLong: return 414
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .unsupportedTransferEncoding: return 501
        case .unsupportedVersion: return 505
        case .badRequestLine, .badHeader, .badContentLength, .conflictingFraming, .badChunk: return 400
        }
    }
}

extension HTTPParseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .badRequestLine(let why): return "malformed request line: \(why)"
        case .requestLineTooLong(let limit): return "request line longer than \(limit) bytes"
        case .badHeader(let why): return "malformed header: \(why)"
        case .headersTooLarge(let limit): return "header section over its limit (\(limit))"
        case .badContentLength(let why): return "invalid Content-Length: \(why)"
        case .bodyTooLarge(let limit): return "request body larger than the limit of \(limit) bytes"
        case .conflictingFraming: return "both Content-Length and Transfer-Encoding given"
        case .unsupportedTransferEncoding(let coding): return "unsupported Transfer-Encoding '\(coding)'"
        case .badChunk(let why): return "malformed chunked body: \(why)"
        case .unsupportedVersion(let version): return "unsupported HTTP version '\(version)'"
        }
    }
}

/// Size limits the parser enforces while bytes arrive, before buffering more than allowed.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line, CRLF excluded (414 beyond).
    public var maxRequestLineBytes: Int
    /// Largest header section (all field lines), and separately the trailer section (431 beyond).
    public var maxHeaderBytes: Int
    /// Most header fields (431 beyond).
    public var maxHeaderCount: Int
    /// Largest de-framed body (413 beyond), checked against Content-Length before the body arrives.
    public var maxBodyBytes: Int

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 32 * 1024, maxHeaderCount: Int = 100,
                maxBodyBytes: Int = 64 * 1024 * 1024) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
