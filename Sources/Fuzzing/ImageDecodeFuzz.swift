import Foundation
import ImageCodecs

/// The `imageDecode` target: the input as a PNG and as a JPEG upload, decoded with a 1 Mi-pixel cap so that large
/// declared sizes reach the refusal path. libpng and libjpeg run in C with setjmp error handling; this checks that
/// every outcome is a typed error or a whole image.
///
/// Invariants: success has width x height x 3 bytes and at most the cap in pixels; a failure is `corrupt`,
/// `unsupported` or `tooLarge` (never out of memory at this cap), and `tooLarge` names a size over the cap; decoding
/// is deterministic; a cap one pixel below a decoded image's size refuses it as `tooLarge` with that size.
enum ImageDecodeFuzz {
    static let maxPixels = 1 << 20

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        check(data, as: .png)
        check(data, as: .jpeg)
    }

    static func decode(_ data: Data, _ format: ImageFormat, maxPixels: Int) -> Result<DecodedImage, ImageDecodeError> {
        Result { () throws(ImageDecodeError) in try DecodedImage(decoding: data, as: format, maxPixels: maxPixels) }
    }

    static func check(_ data: Data, as format: ImageFormat) {
        let outcome = decode(data, format, maxPixels: maxPixels)
        Invariant.require(decode(data, format, maxPixels: maxPixels) == outcome, "\(format): not deterministic")
        switch outcome {
        case .success(let image):
            let pixels = image.width * image.height
            Invariant.require(image.pixels.count == pixels * 3, "\(format): \(image.pixels.count) bytes for "
                              + "\(image.width)x\(image.height)")
            Invariant.require(pixels <= maxPixels && pixels > 0, "\(format): \(image.width)x\(image.height) decoded")
            let below = decode(data, format, maxPixels: pixels - 1)
            Invariant.require(below == .failure(.tooLarge(width: image.width, height: image.height,
                                                          maxPixels: pixels - 1)),
                              "\(format): cap \(pixels - 1) for \(image.width)x\(image.height) gave \(below)")
        case .failure(.tooLarge(let width, let height, let cap)):
            Invariant.require(cap == maxPixels && width * height > cap, "\(format): tooLarge \(width)x\(height)")
        case .failure(.corrupt(let reported, let reason)), .failure(.unsupported(let reported, let reason)):
            Invariant.require(reported == format && !reason.isEmpty, "\(format): failure without a reason")
        case .failure(.outOfMemory):
            Invariant.require(false, "\(format): out of memory under a \(maxPixels)-pixel cap")
        }
    }
}
