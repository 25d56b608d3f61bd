import Foundation
import Glibc

/// Turns a handler's response into the bytes of an HTTP/1.1 response (RFC 9112 section 4 and 6).
struct ResponseSerializer {
    var serverName: String
    var compressionMinimumBytes: Int

    /// How the response is framed for the request it answers.
    struct Framing {
        /// HEAD: headers as for GET, no body (RFC 9110 section 9.3.2).
        var isHead: Bool
        /// Whether the connection stays open after this response.
        var keepAlive: Bool
        /// The request's `Accept-Encoding`.
        var acceptEncoding: String?
        var requestID: String

        /// An answer on a socket that closes after it, to no request the server parsed (a fresh request id).
        static var closing: Framing {
            Framing(isHead: false, keepAlive: false, acceptEncoding: nil, requestID: Connection.requestID(nil))
        }
    }

    /// The response bytes, and the size of the body as sent (for the log).
    func serialize(_ response: HTTPResponse, framing: Framing) -> (bytes: Data, bodyBytes: Int) {
        var headers = response.headers
        var body = response.body
        if shouldCompress(response, framing: framing), let compressed = try? Compression.gzip(body),
           compressed.count < body.count {
            body = compressed
            headers.replaceOrAdd(name: "Content-Encoding", value: "gzip")
        }
        if isCompressible(response) { headers.replaceOrAdd(name: "Vary", value: "Accept-Encoding") }
        headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        headers.replaceOrAdd(name: "Connection", value: framing.keepAlive ? "keep-alive" : "close")
        headers.replaceOrAdd(name: "X-Request-ID", value: framing.requestID)
        headers.replaceOrAdd(name: "Server", value: serverName)
        headers.replaceOrAdd(name: "Date", value: Self.httpDate())
        var head = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Data(head.utf8)
        if !framing.isHead { bytes.append(body) }
        return (bytes, framing.isHead ? 0 : body.count)
    }

    /// The interim `100 Continue` (RFC 9110 section 15.2.1).
    static let continueBytes = Data("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private func isCompressible(_ response: HTTPResponse) -> Bool {
        response.headers["Content-Encoding"] == nil && response.body.count >= compressionMinimumBytes
    }

    private func shouldCompress(_ response: HTTPResponse, framing: Framing) -> Bool {
        isCompressible(response) && Compression.preferredCoding(acceptEncoding: framing.acceptEncoding) == .gzip
    }

    /// Now as an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 section 5.6.7).
    static func httpDate(_ time: time_t = time(nil)) -> String {
        var now = time
        var parts = tm()
        gmtime_r(&now, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
