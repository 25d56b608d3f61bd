import Foundation

/// A response a handler gives back. The connection adds `Content-Length`, `Connection`, `Date`, `Server`
/// and, when the client accepts it and the body is worth it, gzip `Content-Encoding`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
    /// Extra fields for this request's log line (`model` -> `mlm`), never sent to the client.
    public var logMetadata: [String: String]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data(),
                logMetadata: [String: String] = [:]) {
        self.status = status
        self.headers = headers
        self.body = body
        self.logMetadata = logMetadata
    }

    /// A response with a JSON body.
    public static func json(_ status: Int, _ body: Data, logMetadata: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body,
                     logMetadata: logMetadata)
    }

    /// `{"error": message}` with `status`, the form every non-2xx response takes.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, Data(("{\"error\":" + jsonQuoted(message) + "}").utf8))
    }
}

/// `value` as a JSON string literal (RFC 8259 section 7).
public func jsonQuoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Standard reason phrases (RFC 9110 section 15).
public func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 100: return "Continue"
    case 200: return "OK"
    case 204: return "No Content"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 408: return "Request Timeout"
    case 411: return "Length Required"
    case 413: return "Content Too Large"
    case 414: return "URI Too Long"
    case 415: return "Unsupported Media Type"
    case 417: return "Expectation Failed"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 503: return "Service Unavailable"
    case 504: return "Gateway Timeout"
    case 505: return "HTTP Version Not Supported"
    default: return "Status \(status)"
    }
}
