import Foundation

/// An HTTP version, `HTTP/1.1` as (1, 1).
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// The request line and header section of a request (RFC 9112 sections 3 and 5).
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token as sent, e.g. `GET` (methods are case-sensitive, RFC 9110 section 9.1).
    public var method: String
    /// The request target as sent, e.g. `/v2/models/mlm?x=1`.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The target's path, without the query, still percent-encoded (`pathSegments()` decodes it). An
    /// absolute-form target (`http://host/path?q`), which a server must accept (RFC 9112 section 3.2.2),
    /// gives its path; one without a path gives `/`.
    public var path: String {
        let origin = originForm
        return origin.firstIndex(of: "?").map { String(origin[..<$0]) } ?? String(origin)
    }

    /// The target's query, without `?`, or nil.
    public var query: String? {
        let origin = originForm
        return origin.firstIndex(of: "?").map { String(origin[origin.index(after: $0)...]) }
    }

    /// The target in origin form (`/path?query`): as sent, or with an absolute form's `scheme://authority`
    /// removed (RFC 9112 section 3.2.2; the authority is not used for routing, Host was checked by the parser).
    var originForm: Substring {
        guard target.first != "/", let separator = target.range(of: "://") else { return target[...] }
        let scheme = target[..<separator.lowerBound]
        guard let first = scheme.first, first.isLetter, scheme.allSatisfy({ $0.isLetter || $0.isNumber
            || $0 == "+" || $0 == "-" || $0 == "." }) else { return target[...] }
        let rest = target[separator.upperBound...]
        guard let start = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        return rest[start] == "?" ? Substring("/" + rest[start...]) : rest[start...]
    }

    /// The path split at `/`, each segment percent-decoded (RFC 3986 section 2.1) after the split, so an
    /// encoded `%2F` stays inside its segment; the leading empty segment is dropped. Nil when a `%` is not
    /// followed by two hex digits or a segment does not decode to UTF-8.
    public func pathSegments() -> [String]? {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = Self.percentDecoded(raw) else { return nil }
            segments.append(decoded)
        }
        return segments
    }

    static func percentDecoded(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(HTTPSyntax.hexValue),
                  let low = iterator.next().flatMap(HTTPSyntax.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Whether the connection stays open after this request: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 section 9.3).
    public var isKeepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        if version == .http1_0 { return headers.containsToken("keep-alive", in: "Connection") }
        return version.major == 1
    }

    /// Why the Host field breaks RFC 9112 section 3.2, or nil: "A server MUST respond with a 400 (Bad Request)
    /// status code to any HTTP/1.1 request message that lacks a Host header field and to any request message
    /// that contains more than one Host header field line or a Host header field with an invalid field value."
    /// A front end that reads the first Host and one that reads the last could otherwise route one request two
    /// ways.
    public var hostProblem: String? {
        let hosts = headers.values(of: "Host")
        if hosts.count > 1 { return "more than one Host header (RFC 9112 section 3.2)" }
        if hosts.isEmpty { return version == .http1_1 ? "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)" : nil }
        return HTTPSyntax.isValidHost(hosts[0]) ? nil : "the Host header is not a valid host[:port] (RFC 9110 section 7.2)"
    }

    /// Whether the client waits for `100 Continue` before sending the body (RFC 9110 section 10.1.1).
    public var expectsContinue: Bool {
        version == .http1_1 && headers["Expect"].map { $0.caseInsensitiveEquals("100-continue") } == true
    }
}

/// A complete request: head and de-framed body (chunked coding removed; content coding still applied).
public struct HTTPRequest: Sendable, Equatable {
    public var head: HTTPRequestHead
    public var body: Data

    public init(head: HTTPRequestHead, body: Data = Data()) {
        self.head = head
        self.body = body
    }

    public var method: String { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
}
