/// The parts of an `http://host[:port][/path]` URL the client needs (RFC 9110 section 4.2.1).
/// `host` may be a bracketed IPv6 literal (`http://[::1]:8000/`); the query stays part of `path`.
struct TargetURL: Equatable, Sendable {
    /// The name or address, without brackets.
    var host: String
    var port: Int
    /// The request target: absolute path plus query, `/` when the URL has none.
    var path: String

    /// Parses `text`.
    /// - Throws: `TargetURLError` when it is not a plain http URL with a host and a valid port.
    init(_ text: String) throws(TargetURLError) {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("http://") else {
            throw lowered.hasPrefix("https://") ? .httpsNotSupported : .notHTTP
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let target = rest.dropFirst(authority.count)
        path = target.isEmpty ? "/" : (target.hasPrefix("?") ? "/" + target : String(target))
        guard !authority.contains("@") else { throw .userInfo }
        let (hostPart, portPart) = try Self.split(authority)
        guard !hostPart.isEmpty else { throw .noHost }
        host = String(hostPart)
        port = 80
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number) else { throw .badPort(String(portPart)) }
            port = number
        }
    }

    /// `host[:port]` or `[v6]:port` into host (without brackets) and the port text, if any.
    private static func split(_ authority: Substring) throws(TargetURLError) -> (Substring, Substring?) {
        guard authority.hasPrefix("[") else {
            guard let colon = authority.lastIndex(of: ":") else { return (authority, nil) }
            return (authority[..<colon], authority[authority.index(after: colon)...])
        }
        guard let close = authority.firstIndex(of: "]") else { throw .unclosedBracket }
        let host = authority[authority.index(after: authority.startIndex)..<close]
        let after = authority[authority.index(after: close)...]
        if after.isEmpty { return (host, nil) }
        guard after.hasPrefix(":") else { throw .unclosedBracket }
        return (host, after.dropFirst())
    }

    /// The `Host` header value (RFC 9110 section 7.2): brackets back around IPv6, port when not 80.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }
}

/// Why `--url` was rejected.
enum TargetURLError: Error, Equatable, CustomStringConvertible {
    case notHTTP
    case httpsNotSupported
    case userInfo
    case unclosedBracket
    case noHost
    case badPort(String)

    var description: String {
        switch self {
        case .notHTTP: "--url must start with http://"
        case .httpsNotSupported: "--url: https is not supported (plain http only)"
        case .userInfo: "--url: user information (user@host) is not supported"
        case .unclosedBracket: "--url: an IPv6 host must be written [address] or [address]:port"
        case .noHost: "--url has no host"
        case let .badPort(text): "--url: port '\(text)' is not a number from 1 to 65535"
        }
    }
}
