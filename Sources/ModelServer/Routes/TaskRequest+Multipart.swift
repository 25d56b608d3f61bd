import Foundation
import HTTPServer

/// `POST /infer` with `multipart/form-data` (`curl -F frame1=@a.png -F frame2=@b.png`): an optical-flow frame
/// pair as two PNG or JPEG files, `?model=NAME[&output_positions=I,...][&format=json|png|f32]`.
extension TaskRequest {
    /// The form's part names.
    static let framePartNames = ["frame1", "frame2"]

    /// - Throws: `RequestError` for a form the multipart parser refuses (its status: 400, 413 past a limit),
    ///   a part other than `frame1` and `frame2`, or either missing.
    init(multipart body: Data, contentType: String, query: String?) throws(RequestError) {
        let parameters = try Self.parameters(query, known: ["model", "output_positions", "format"])
        model = parameters["model"]
        topK = 5
        let form: MultipartFormData
        do { form = try MultipartFormData(body: body, contentType: contentType) } catch {
            switch error.status {
            case 413: throw RequestError.tooLarge("\(error)")
            case 415: throw RequestError.unsupportedMediaType("\(error)")
            default: throw RequestError.malformedBody("\(error)")
            }
        }
        if let unknown = form.parts.first(where: { !Self.framePartNames.contains($0.name) }) {
            throw RequestError.malformedBody("unknown form part '\(unknown.name)' (known: frame1, frame2: the two "
                                             + "frames of an optical-flow pair as PNG or JPEG files)")
        }
        guard let first = form["frame1"], let second = form["frame2"] else {
            let missing = Self.framePartNames.filter { form[$0] == nil }.joined(separator: " and ")
            throw RequestError.malformedBody("the form has no \(missing): send both frames, "
                                             + "-F frame1=@a.png -F frame2=@b.png")
        }
        let positions = try parameters["output_positions"].map { text throws(RequestError) in
            try Self.integers(text, parameter: "output_positions")
        }
        input = .framePair(form.content(of: first), form.content(of: second), outputPositions: positions)
    }
}
