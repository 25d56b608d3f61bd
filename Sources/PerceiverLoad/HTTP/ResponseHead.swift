/// A parsed status line and the headers that decide framing and persistence (RFC 9112 sections 4, 6.3, 9.3).
struct ResponseHead: Equatable, Sendable {
    /// How the body ends (RFC 9112 section 6.3).
    enum Framing: Equatable, Sendable {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    var status: Int
    var framing: Framing
    var keepsAlive: Bool

    /// Parses `text`: the head without its final blank line, lines separated by CRLF.
    /// - Throws: `ClientError.badStatusLine` or `.badHeader`.
    init(_ text: String) throws(ClientError) {
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let statusLine = lines.popFirst() else { throw .badStatusLine }
        let (minor, status) = try Self.parseStatusLine(statusLine)
        var length: Int?
        var transferCodings: [Substring] = []
        var connection: [Substring] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { throw .badHeader }
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch line[..<colon].lowercased() {
            case "content-length":
                guard let number = Int(value), number >= 0, length == nil || length == number else { throw .badHeader }
                length = number
            case "transfer-encoding": transferCodings += Self.tokens(value)
            case "connection": connection += Self.tokens(value)
            default: break
            }
        }
        self.status = status
        // Persistence, RFC 9112 section 9.3: 1.1 unless `close`; 1.0 only with `keep-alive`.
        keepsAlive = minor >= 1 ? !connection.contains("close") : connection.contains("keep-alive")
        if (100..<200).contains(status) || status == 204 || status == 304 {
            framing = .none
        } else if let last = transferCodings.last {
            framing = last == "chunked" ? .chunked : .untilClose
        } else if let length {
            framing = .length(length)
        } else {
            framing = .untilClose
        }
    }

    /// `HTTP/1.x NNN reason` into the minor version and the status code.
    private static func parseStatusLine(_ line: Substring) throws(ClientError) -> (Int, Int) {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let minor = Int(parts[0].dropFirst(7)),
              parts[1].count == 3, let status = Int(parts[1]), status >= 100 else { throw .badStatusLine }
        return (minor, status)
    }

    /// A comma-separated list of tokens, lowercased (RFC 9110 section 5.6.1).
    private static func tokens(_ value: Substring) -> [Substring] {
        value.split(separator: ",").map { Substring($0.trimmingSpaces.lowercased()) }.filter { !$0.isEmpty }
    }
}
