import Foundation
import Testing

/// One hostile request of the catalog: the exact bytes sent on a fresh connection, and what must come back.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: Data
    /// The status of the one response.
    var status: Int
    /// A fragment of the JSON `error` message (the answer must name what was wrong).
    var error: String
    /// Whether the server closes the connection after answering (framing errors), or keeps it (a refused
    /// request on intact framing: the next request on the same connection is served).
    var closes: Bool

    var testDescription: String { name }

    static let host = "Host: localhost\r\n"

    /// `text` as bytes, with no added framing.
    static func raw(_ name: String, _ text: String, _ status: Int, _ error: String, closes: Bool = true) -> HostileCase {
        HostileCase(name: name, bytes: Data(text.utf8), status: status, error: error, closes: closes)
    }

    /// A well-framed POST of `body` with extra header lines.
    static func post(_ name: String, _ path: String, headers: [String] = [], body: Data, _ status: Int,
                     _ error: String, closes: Bool = false) -> HostileCase {
        let head = "POST \(path) HTTP/1.1\r\n" + host + headers.map { $0 + "\r\n" }.joined()
            + "Content-Length: \(body.count)\r\n\r\n"
        return HostileCase(name: name, bytes: Data(head.utf8) + body, status: status, error: error, closes: closes)
    }

    /// A well-framed V2 JSON inference request for `model`, refused with 400.
    static func v2(_ name: String, model: String = "seqcls", _ json: String, _ error: String) -> HostileCase {
        post(name, "/v2/models/\(model)/infer", body: Data(json.utf8), 400, error)
    }

    /// A V2 request with the binary tensor extension (`json` header, then `binary`), refused with 400.
    static func v2Binary(_ name: String, model: String = "learned", json: String, binary: Data,
                         headerLength: String? = nil, _ error: String) -> HostileCase {
        post(name, "/v2/models/\(model)/infer",
             headers: ["Inference-Header-Content-Length: \(headerLength ?? String(json.utf8.count))"],
             body: Data(json.utf8) + binary, 400, error)
    }
}

extension Data {
    /// Little-endian float32 bytes.
    static func float32(_ values: [Float]) -> Data {
        var data = Data()
        for value in values { Swift.withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }
}
