import Foundation
import Glibc

/// A deliberately dumb HTTP/1.1 client for tests: a blocking TCP socket with a receive timeout, bytes in,
/// parsed responses out. It lets tests send exactly the bytes they mean (pipelined, split, malformed).
public final class RawHTTPClient {
    public let fd: Int32
    private var buffer: [UInt8] = []

    /// A parsed response.
    public struct Response {
        public var status: Int
        public var headers: [(String, String)]
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        /// The body parsed as a JSON object.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to 127.0.0.1:`port`; reads give up after `timeout` seconds.
    public init(port: Int, timeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw ClientError(description: "connect to port \(port) failed: errno \(errno)")
        }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ text: String) throws { try send(Data(text.utf8)) }

    public func send(_ data: Data) throws {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, data.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError(description: "send failed: errno \(errno)") }
            offset += n
        }
    }

    /// Reads more bytes; false at EOF. Throws on timeout.
    @discardableResult
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n > 0 {
            buffer.append(contentsOf: chunk[..<n])
            return true
        }
        if n == 0 { return false }
        if errno == ECONNRESET { return false }
        throw ClientError(description: "receive timed out or failed (errno \(errno)); have \(buffer.count) bytes")
    }

    /// Reads one response (Content-Length framed, or until close). `head`: the request was HEAD (no body).
    public func readResponse(head: Bool = false) throws -> Response {
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = Self.find([13, 10, 13, 10], in: buffer)
            if headerEnd == nil, try !fill() { throw ClientError(description: "connection closed before a response") }
        }
        let end = headerEnd!
        let lines = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ClientError(description: "bad status line: \(lines[0])")
        }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        buffer.removeFirst(end + 4)
        var response = Response(status: status, headers: headers, body: Data())
        if status == 100 || head { return response }
        if let length = response.header("Content-Length").flatMap(Int.init) {
            while buffer.count < length {
                if try !fill() { throw ClientError(description: "closed mid-body") }
            }
            response.body = Data(buffer[..<length])
            buffer.removeFirst(length)
        } else {
            while try fill() {}
            response.body = Data(buffer)
            buffer.removeAll()
        }
        return response
    }

    /// Shuts the sending side (a half-close, `shutdown(SHUT_WR)`): the server reads EOF, this client can still read.
    public func halfClose() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Whether the server has closed the connection (EOF with nothing buffered), waiting up to the timeout.
    public func isClosedByPeer() -> Bool {
        guard buffer.isEmpty else { return false }
        return (try? fill()) == false
    }

    /// Every byte that arrives until the server closes the connection, after what earlier reads left buffered.
    /// - Throws: when no byte and no close comes within the timeout.
    public func readUntilClosed() throws -> Data {
        while try fill() {}
        defer { buffer.removeAll() }
        return Data(buffer)
    }

    /// Sends one request and reads its response.
    public func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data())
        throws -> Response {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        try send(Data(text.utf8) + body)
        return try readResponse(head: method == "HEAD")
    }

    static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for i in 0...(bytes.count - pattern.count) where bytes[i] == pattern[0] {
            if Array(bytes[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }
}
