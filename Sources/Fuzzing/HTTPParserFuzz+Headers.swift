import HTTPServer
import ModelServer

extension HTTPParserFuzz {
    /// What the server reads from an accepted head's fields: the body's `Content-Encoding`, the response coding
    /// `Accept-Encoding` picks, the V2 route's `Inference-Header-Content-Length`, the path, query and keep-alive.
    /// None may trap; a coding is only chosen when the value names it.
    static func checkInterpretedFields(_ head: HTTPRequestHead) {
        _ = head.path
        _ = head.query
        _ = head.isKeepAlive
        _ = head.expectsContinue
        if let value = head.headers["Content-Encoding"], let coding = ContentCoding(headerValue: value) {
            Invariant.require(value.lowercased().contains(coding.rawValue),
                              "Content-Encoding \(value.debugDescription) read as \(coding)")
        }
        let accept = head.headers["Accept-Encoding"]
        if Compression.preferredCoding(acceptEncoding: accept) == .gzip {
            let value = accept?.lowercased() ?? ""
            Invariant.require(value.contains("gzip") || value.contains("*"),
                              "Accept-Encoding \(String(describing: accept)) chose gzip")
        }
        // Any value either reads as a number or throws a 400; its range is the V2 target's concern.
        _ = try? V2InferenceRequest.inferenceHeaderLength(head.headers["Inference-Header-Content-Length"])
    }
}
