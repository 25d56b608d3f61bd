/// The one request every client sends, serialized once: `POST` with the body file and Content-Length, or `GET`
/// without a body. User headers follow the generated ones; a user `Host` or `Content-Type` replaces the default.
struct RequestTemplate: Sendable {
    /// The request head and body, ready to write.
    let bytes: [UInt8]

    init(url: TargetURL, body: [UInt8]?, headers: [HeaderField]) {
        let names = Set(headers.map { $0.name.lowercased() })
        var head = "\(body == nil ? "GET" : "POST") \(url.path) HTTP/1.1\r\n"
        if !names.contains("host") { head += "Host: \(url.hostHeader)\r\n" }
        if let body {
            if !names.contains("content-type") { head += "Content-Type: application/json\r\n" }
            head += "Content-Length: \(body.count)\r\n"
        }
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        head += "\r\n"
        bytes = Array(head.utf8) + (body ?? [])
    }
}

/// One `--header 'Name: value'`.
struct HeaderField: Equatable, Sendable {
    var name: String
    var value: String

    /// Parses `Name: value` (RFC 9110 section 5: the name is a token; surrounding spaces of the value dropped).
    /// - Throws: `HeaderFieldError` for a missing colon, a bad name, or a framing header the tool writes itself.
    init(parsing text: String) throws(HeaderFieldError) {
        guard let colon = text.firstIndex(of: ":") else { throw .noColon(text) }
        name = String(text[..<colon])
        value = String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
        while value.last == " " || value.last == "\t" { value.removeLast() }
        let symbols = Set("!#$%&'*+-.^_`|~")
        let isTokenCharacter = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || symbols.contains(c)) }
        guard !name.isEmpty, name.allSatisfy(isTokenCharacter) else { throw .badName(name) }
        guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw .badValue(name) }
        let lowered = name.lowercased()
        guard lowered != "content-length", lowered != "transfer-encoding" else { throw .framing(name) }
    }
}

/// Why a `--header` was rejected.
enum HeaderFieldError: Error, Equatable, CustomStringConvertible {
    case noColon(String)
    case badName(String)
    case badValue(String)
    /// Content-Length and Transfer-Encoding: the body file decides the framing.
    case framing(String)

    var description: String {
        switch self {
        case let .noColon(text): "--header '\(text)' must be 'Name: value'"
        case let .badName(name): "--header name '\(name)' is not an HTTP token"
        case let .badValue(name): "--header '\(name)' value contains a line break"
        case let .framing(name): "--header \(name) is set from --body and cannot be given"
        }
    }
}
