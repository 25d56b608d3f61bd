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

    /// The target's path, without the query.
    public var path: String {
        target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
    }

    /// The target's query, without `?`, or nil.
    public var query: String? {
        target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) }
    }

    /// Whether the connection stays open after this request: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 section 9.3).
    public var isKeepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        if version == .http1_0 { return headers.containsToken("keep-alive", in: "Connection") }
        return version.major == 1
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
