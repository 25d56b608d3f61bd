import Foundation
import ImageCodecs
import PerceiverEngine

/// An encoded image turned into an image classifier's `pixel_values`: decode, then the model's `ImageProcessor`.
enum ImageInput {
    /// `pixel_values` (1, 3, H, W) for `data` on `model` (served as `name`), refusing an image of more than
    /// `maxPixels` (width x height) from its header. The server calls it on its work pool, whose width bounds how
    /// many images are decoded at once (`limits.work_threads`).
    /// - Throws: `RequestError.badTensor` when the model takes no images, `.badImage` when the bytes do not decode.
    static func inputs(_ data: Data, format: ImageFormat, model: PerceiverModel, name: String,
                       maxPixels: Int = DecodedImage.defaultMaxPixels) throws(RequestError) -> ModelInputs {
        guard let processor = model.imageProcessor else {
            throw RequestError.badTensor(name: "image", reason: "model '\(name)' (\(model.architecture.rawValue)) "
                                         + "does not take images; image classifiers do")
        }
        let image: DecodedImage
        do throws(ImageDecodeError) {
            image = try DecodedImage(decoding: data, as: format, maxPixels: maxPixels)
        } catch {
            throw RequestError.badImage(error, sniffed: ImageFormat(sniffing: data))
        }
        do throws(InferenceError) {
            return ModelInputs(pixelValues: try processor.pixelValues(rgb: image.pixels, width: image.width,
                                                                        height: image.height))
        } catch {
            throw RequestError.inference(error)
        }
    }
}

extension Classification {
    /// Classifies a PNG or JPEG file's bytes (the format from its signature) with an image classifier.
    /// - Throws: `RequestError.badTensor` on "image" when the bytes are neither, else as `/infer` with an image body.
    public init(model: PerceiverModel, name: String, image data: Data, topK: Int) throws(RequestError) {
        guard let format = ImageFormat(sniffing: data) else {
            throw RequestError.badTensor(name: "image", reason: "the file is neither PNG nor JPEG (by its first bytes)")
        }
        let inputs = try ImageInput.inputs(data, format: format, model: model, name: name)
        do {
            self.init(logits: try model.predict(inputs).logits, labels: model.config.labels, topK: topK)
        } catch {
            throw RequestError.inference(error)
        }
    }
}
