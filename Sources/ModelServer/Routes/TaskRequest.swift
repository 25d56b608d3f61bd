import Foundation
import ImageCodecs

/// The body of `POST /infer`: what to run, read from JSON (`TaskRequest+JSON.swift`), a binary tensor or an
/// image.
struct TaskRequest: Sendable {
    enum Input: Sendable {
        case text(String)
        /// Tensors as nested JSON arrays: each input's name and the byte range of its value in `body`,
        /// validated but decoded only once the model's spec gives its datatype.
        case tensors(body: Data, [(name: String, range: Range<Int>)])
        /// A binary body and the integer tensors of the query string.
        case binary([V2Tensor])
        /// An encoded image.
        case image(ImageFormat, Data)
        /// An optical-flow frame pair as two encoded images (a multipart form), and the pixels to answer for.
        case framePair(Data, Data, outputPositions: [Int]?)
    }

    var model: String?
    var input: Input
    var topK: Int
    /// `latents_id`: decode latents an earlier response named instead of encoding `input` (which then holds
    /// only output selections such as `output_positions`).
    var latentsID: String?
}
