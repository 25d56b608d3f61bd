import Foundation
import HTTPServer
import PerceiverEngine

/// `/infer`'s optical-flow answers other than JSON (`TaskAnswerFormat`): the flow field as a picture, or its raw
/// float32 values.
extension Router {
    /// Refuses, before the request is read further, a picture or raw answer from a model that is not optical
    /// flow (406).
    static func checkFlowModel(_ format: TaskAnswerFormat, on served: ServedModel) throws(RequestError) {
        guard format != .json, served.model.architecture.rawValue != "PerceiverForOpticalFlow" else { return }
        throw RequestError.notAcceptable("model '\(served.name)' answers JSON; \(format.mediaType) answers are for "
                                         + "optical-flow models")
    }

    /// Refuses, before anything runs, a picture or raw answer the request's inputs cannot have: more than one
    /// frame pair, or chosen pixels for a picture (400).
    static func checkFlowAnswer(_ format: TaskAnswerFormat, inputs: ModelInputs) throws(RequestError) {
        guard format != .json else { return }
        let batch = (inputs.frames ?? inputs.flowPatches)?.shape.first ?? 1
        guard batch == 1 else {
            throw RequestError.badTensor(name: inputs.frames != nil ? "frames" : "inputs", reason: "an "
                                         + "\(format.mediaType) answer holds one frame pair's flow; this request has "
                                         + "\(batch) (ask for JSON)")
        }
        if format == .png, inputs.outputPositions != nil {
            throw RequestError.badTensor(name: "output_positions", reason: "a picture needs the whole flow field; "
                                         + "leave out output_positions, or ask for JSON or f32")
        }
    }

    /// The answer for one frame pair's `logits`, `(1, H, W, 2)` or `(1, K, 2)`: its PNG picture
    /// (`FlowPicture`), or its values as float32 little-endian without the batch dimension, the shape in
    /// `Perceiverd-Shape` (`H,W,2` or `K,2`).
    static func flowAnswer(_ logits: Tensor, format: TaskAnswerFormat) throws(RequestError) -> HTTPResponse {
        let shape = Array(logits.shape.dropFirst())
        if format == .png {
            guard shape.count == 3 else {
                throw RequestError.badTensor(name: "output_positions", reason: "a picture needs the whole flow field")
            }
            let file: [UInt8]
            do { file = try FlowPicture.png(logits.scalars[...], height: shape[0], width: shape[1]) } catch {
                // libpng refuses only sizes it cannot write or a failed allocation: the server's failure (500).
                throw RequestError.inference(.backend(operation: "png_image_write_to_memory (\(error.message))",
                                                      status: -1))
            }
            return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "image/png")]), body: Data(file))
        }
        var body = Data(capacity: logits.scalars.count * 4)
        for value in logits.scalars {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) }
        }
        return HTTPResponse(status: 200, headers: HTTPHeaders([
            ("Content-Type", "application/octet-stream"),
            (TaskAnswerFormat.shapeHeader, shape.map(String.init).joined(separator: ",")),
        ]), body: body)
    }
}
