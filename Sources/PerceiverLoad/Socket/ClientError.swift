import Glibc

/// Why one request failed without an HTTP status: a failed system call or a response that could not be read.
/// The load generator counts these as socket errors, reconnects and carries on.
enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: which call and `errno`.
    case system(operation: String, errno: Int32)
    /// The name in `--url` did not resolve (`getaddrinfo`'s status).
    case resolve(host: String, status: Int32)
    /// `recv` or `send` waited longer than `--timeout`.
    case timedOut(operation: String)
    /// The server closed the connection before the response was complete.
    case closedEarly
    /// The status line is not `HTTP/1.x NNN reason`.
    case badStatusLine
    /// A header line has no colon, or Content-Length is not a number.
    case badHeader
    /// The response head is longer than the read buffer.
    case headTooLarge(limit: Int)
    /// A chunk-size line of a chunked body is not hexadecimal (RFC 9112 section 7.1).
    case badChunk

    /// A `.system` or `.timedOut` error from the current `errno`.
    static func fromErrno(_ operation: String) -> ClientError {
        let code = Glibc.errno
        if code == EAGAIN || code == EWOULDBLOCK { return .timedOut(operation: operation) }
        return .system(operation: operation, errno: code)
    }

    var description: String {
        switch self {
        case let .system(operation, errno): "\(operation): \(String(cString: strerror(errno)))"
        case let .resolve(host, status): "resolve \(host): \(String(cString: gai_strerror(status)))"
        case let .timedOut(operation): "\(operation): timed out"
        case .closedEarly: "connection closed before the response was complete"
        case .badStatusLine: "malformed status line"
        case .badHeader: "malformed response header"
        case let .headTooLarge(limit): "response head larger than \(limit) bytes"
        case .badChunk: "malformed chunk size"
        }
    }
}
