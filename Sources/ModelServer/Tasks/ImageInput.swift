import Foundation
import ImageCodecs
import PerceiverEngine

/// An encoded image turned into an image classifier's `pixel_values`: decode, then the model's `ImageProcessor`.
enum ImageInput {
    /// Decoded pixels (width x height) an upload may declare: `DecodedImage.defaultMaxPixels`, 8192 x 8192.
    static let maxPixels = DecodedImage.defaultMaxPixels

    /// `pixel_values` (1, 3, H, W) for `data` on `served`'s model.
    /// - Throws: `RequestError.badTensor` when the model takes no images, `.badImage` when the bytes do not decode.
    static func inputs(_ data: Data, format: ImageFormat, served: ServedModel) throws(RequestError) -> ModelInputs {
        guard let processor = served.model.imageProcessor else {
            throw RequestError.badTensor(name: "image", reason: "model '\(served.name)' "
                                         + "(\(served.model.architecture.rawValue)) does not take images; "
                                         + "image classifiers do")
        }
        let image: DecodedImage
        do {
            image = try DecodedImage(decoding: data, as: format, maxPixels: maxPixels)
        } catch {
            throw RequestError.badImage(error, sniffed: ImageFormat(sniffing: data))
        }
        do {
            return ModelInputs(pixelValues: try processor.pixelValues(rgb: image.pixels, width: image.width,
                                                                        height: image.height))
        } catch {
            throw RequestError.inference(error)
        }
    }
}
