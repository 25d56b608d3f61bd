import Foundation
import ImageCodecs
import PerceiverEngine

/// Two image files as an optical-flow frame pair, as DeepMind's optical-flow colab prepares them: decoded to 8-bit
/// RGB, each value `v / 255 * 2 - 1`, stacked as `frames (1, 2, 3, H, W)`.
public enum FlowFrames {
    /// The frames of `first` and `second` (PNG or JPEG, told apart by their first bytes), decoded with at most
    /// `maxPixels` pixels each (refused from the header, before any pixel memory).
    /// - Throws: `RequestError.badImage` naming what did not decode, `.unsupportedMediaType` for another file
    ///   type, `.badTensor` for frames of different sizes.
    public static func tensor(_ first: Data, _ second: Data, maxPixels: Int) throws(RequestError) -> Tensor {
        let one = try decode(first, part: "frame1", maxPixels: maxPixels)
        let two = try decode(second, part: "frame2", maxPixels: maxPixels)
        guard one.width == two.width, one.height == two.height else {
            throw RequestError.badTensor(name: "frames", reason: "frame1 is \(one.width) x \(one.height) and frame2 is "
                                         + "\(two.width) x \(two.height) (width x height): the frames must have one size")
        }
        let plane = one.width * one.height
        var values = [Float](repeating: 0, count: 2 * 3 * plane)
        for (t, image) in [one, two].enumerated() {
            for pixel in 0..<plane {
                for c in 0..<3 {
                    // The colab's `im / 255.0 * 2 - 1`, in double, then float32.
                    values[(t * 3 + c) * plane + pixel] = Float(Double(image.pixels[pixel * 3 + c]) / 255 * 2 - 1)
                }
            }
        }
        return Tensor(shape: [1, 2, 3, one.height, one.width], scalars: values)
    }

    private static func decode(_ data: Data, part: String, maxPixels: Int) throws(RequestError) -> DecodedImage {
        guard let format = ImageFormat(sniffing: data) else {
            throw RequestError.unsupportedMediaType("form part '\(part)' is neither PNG nor JPEG")
        }
        do { return try DecodedImage(decoding: data, as: format, maxPixels: maxPixels) } catch {
            throw RequestError.badImage(error, sniffed: format)
        }
    }
}
