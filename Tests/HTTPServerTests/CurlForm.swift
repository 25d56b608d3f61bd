import Foundation
import Support

/// Builds `multipart/form-data` bodies byte for byte as `curl -F` writes them (curl 7.88): a boundary of 24
/// dashes and 16 hex digits, each part opened by `--boundary` CRLF, `Content-Disposition: form-data;
/// name="..."[; filename="..."]`, `Content-Type` for files, an empty line, the content, and the body closed by
/// CRLF `--boundary--` CRLF.
struct CurlForm {
    var boundary: String
    private(set) var bytes: [UInt8] = []

    /// A form with a boundary drawn from `seed`, as curl draws its own at random.
    init(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        boundary = String(repeating: "-", count: 24) + String(format: "%016llx", generator.next())
    }

    init(boundary: String) {
        self.boundary = boundary
    }

    /// The request's Content-Type.
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// `-F name=@file`, with `;type=` as curl guesses it from the extension.
    mutating func file(_ name: String, filename: String, type: String = "image/png", _ content: [UInt8]) {
        append(["Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"",
                "Content-Type: \(type)"], content)
    }

    /// `-F name=value`.
    mutating func field(_ name: String, _ value: String) {
        append(["Content-Disposition: form-data; name=\"\(name)\""], Array(value.utf8))
    }

    /// The whole body, close delimiter included.
    var body: Data {
        Data(bytes + Array("\r\n--\(boundary)--\r\n".utf8))
    }

    private mutating func append(_ headers: [String], _ content: [UInt8]) {
        let opening = bytes.isEmpty ? "--\(boundary)\r\n" : "\r\n--\(boundary)\r\n"
        bytes += Array((opening + headers.map { $0 + "\r\n" }.joined() + "\r\n").utf8)
        bytes += content
    }
}
