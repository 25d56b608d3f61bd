import Foundation
import ImageCodecs

/// `POST /infer` with an encoded image body: `Content-Type: image/png` or `image/jpeg`, `?model=NAME[&top_k=K]`.
extension TaskRequest {
    /// What a `Content-Type` value asks of `/infer`: an image format, or nil for the JSON and float32 bodies.
    /// - Throws: `RequestError.unsupportedMediaType` for any other `image/...` type (415).
    static func imageFormat(contentType: String?) throws(RequestError) -> ImageFormat? {
        guard let contentType else { return nil }
        if let format = ImageFormat(contentType: contentType) { return format }
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if type.lowercased().hasPrefix("image/") { throw RequestError.unsupportedMediaType(type) }
        return nil
    }

    /// The body is the encoded image, decoded later against the model's processor.
    /// - Throws: `RequestError.malformedBody` naming the query parameter at fault.
    init(image body: Data, format: ImageFormat, query: String?) throws(RequestError) {
        let parameters = try Self.parameters(query, known: ["model", "top_k", "format"])
        model = parameters["model"]
        topK = try Self.topK(parameters)
        input = .image(format, body)
    }
}
