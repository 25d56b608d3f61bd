import Foundation
import HTTPServer

extension MultipartFuzz {
    /// Writes `parts` out again with `boundary` and parses the result: the same names, file names, types, other
    /// headers and contents. Limits are the target's but for the header bytes, since a disposition written
    /// out with quotes may be longer than the one sent.
    static func checkRoundTrip(_ parts: [MultipartPart], body: Data, boundary: String) {
        let written = serialize(parts, body: body, boundary: boundary)
        var relaxed = Self.limits
        relaxed.maxHeaderBytes = 4096
        let reparsed = parse(written, "multipart/form-data; boundary=\(quoted(boundary))", relaxed)
        guard case .success(let again) = reparsed else {
            return Invariant.require(false, "the parts written out again gave \(reparsed)")
        }
        Invariant.require(again.count == parts.count, "\(parts.count) parts written out, \(again.count) read back")
        for (part, read) in zip(parts, again) {
            Invariant.require(read.name == part.name && read.filename == part.filename
                              && read.contentType == part.contentType,
                              "part \(part) read back as \(read)")
            Invariant.require(otherHeaders(read) == otherHeaders(part), "part '\(part.name)' lost headers")
            Invariant.require(written[read.range] == body[part.range], "part '\(part.name)' read back other content")
        }
    }

    /// `parts` as a client would write them: each opened by `--boundary`, its disposition from its name and file
    /// name, its other header fields as they were, an empty line and its content; then `--boundary--`.
    static func serialize(_ parts: [MultipartPart], body: Data, boundary: String) -> Data {
        var written = Data("--\(boundary)".utf8)
        for part in parts {
            var head = "\r\nContent-Disposition: form-data; name=\(quoted(part.name))"
            if let filename = part.filename { head += "; filename=\(quoted(filename))" }
            head += "\r\n"
            for (name, value) in otherHeaders(part).fields { head += "\(name): \(value)\r\n" }
            written += Data((head + "\r\n").utf8) + body[part.range] + Data("\r\n--\(boundary)".utf8)
        }
        return written + Data("--\r\n".utf8)
    }

    /// `text` as a quoted-string, `"` and `\` escaped with a backslash (RFC 9110 section 5.6.4).
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }

    static func otherHeaders(_ part: MultipartPart) -> HTTPHeaders {
        var headers = part.headers
        headers.remove(name: "Content-Disposition")
        return headers
    }
}
