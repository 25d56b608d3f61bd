import Foundation
import HTTPServer

/// How `/infer` writes an optical-flow answer: JSON (the default), the flow field as a picture (`image/png`), or
/// its raw values (`application/octet-stream`: float32 little-endian, the shape in `Perceiverd-Shape`). Chosen by
/// `?format=json|png|f32`, else by the first media range of `Accept` that names one of them (`*/*`,
/// `application/*` and a missing header are JSON; `image/*` is PNG).
enum TaskAnswerFormat: String, Sendable {
    case json
    case png
    case f32

    /// The media type of answers in this format.
    var mediaType: String {
        switch self {
        case .json: return "application/json"
        case .png: return "image/png"
        case .f32: return "application/octet-stream"
        }
    }

    /// The header that gives a raw answer's shape, e.g. `368,496,2`.
    static let shapeHeader = "Perceiverd-Shape"

    /// - Throws: `RequestError.malformedBody` for an unknown `format`, `.notAcceptable` when `Accept` lists
    ///   nothing `/infer` writes.
    init(query: String?, accept: String?) throws(RequestError) {
        let format = (query ?? "").split(separator: "&").compactMap { pair -> String? in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return parts.count == 2 && parts[0] == "format" ? String(parts[1]) : nil
        }
        if let value = format.first {
            guard format.count == 1, let chosen = TaskAnswerFormat(rawValue: value) else {
                throw RequestError.malformedBody("query parameter 'format' must appear once, as json, png or f32")
            }
            self = chosen
            return
        }
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else {
            self = .json
            return
        }
        for range in accept.split(separator: ",") {
            let type = range.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch type {
            case "application/json", "*/*", "application/*": self = .json
            case "image/png", "image/*": self = .png
            case "application/octet-stream": self = .f32
            default: continue
            }
            return
        }
        throw RequestError.notAcceptable("Accept '\(accept.prefix(200))' names nothing /infer writes: "
                                         + "application/json, image/png or application/octet-stream")
    }
}
