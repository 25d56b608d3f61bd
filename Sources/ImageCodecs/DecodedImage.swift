import Foundation
import CImageCodecs

/// An image as 8-bit RGB, row-major and interleaved: `pixels[(y * width + x) * 3 + c]`, shape (height, width, 3),
/// what `numpy.asarray(PIL.Image.open(f).convert("RGB"))` holds.
public struct DecodedImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// height * width * 3 bytes, R G B per pixel.
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGB pixels must be width * height * 3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Default bound on declared width x height: 8192 x 8192, a 192 MiB RGB buffer.
    public static let defaultMaxPixels = 8192 * 8192

    /// The longest side decoded, whatever the pixel count (IMAGE_CODECS_MAX_SIDE).
    public static let maxSide = Int(IMAGE_CODECS_MAX_SIDE)

    /// Decodes `data` as `format`.
    ///
    /// PNG: palette, greyscale and bit depths below 8 expanded, 16-bit samples cut to their high byte, alpha dropped
    /// (PIL's `convert("RGB")` does not blend onto a background either). JPEG: greyscale, YCbCr or RGB through
    /// libjpeg-turbo's default islow IDCT and fancy upsampling, PIL's settings.
    /// - Throws: `ImageDecodeError`; `.tooLarge` is decided from the header before any pixel memory is taken.
    public init(decoding data: some ContiguousBytes, as format: ImageFormat,
                maxPixels: Int = DecodedImage.defaultMaxPixels) throws(ImageDecodeError) {
        var result = image_codecs_result()
        let isEmpty = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return true }
            switch format {
            case .png: image_codecs_decode_png(base, bytes.count, UInt64(max(0, maxPixels)), &result)
            case .jpeg: image_codecs_decode_jpeg(base, bytes.count, UInt64(max(0, maxPixels)), &result)
            }
            return false
        }
        guard !isEmpty else { throw .corrupt(format: format, reason: "the body is empty") }
        let message = withUnsafeBytes(of: result.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch result.status {
        case IMAGE_CODECS_OK:
            guard let pointer = result.pixels else { throw .outOfMemory }
            defer { image_codecs_free(pointer) }
            let (w, h) = (Int(result.width), Int(result.height))
            self.init(width: w, height: h, pixels: Array(UnsafeBufferPointer(start: pointer, count: w * h * 3)))
        case IMAGE_CODECS_TOO_LARGE:
            throw .tooLarge(width: Int(result.width), height: Int(result.height), maxPixels: maxPixels)
        case IMAGE_CODECS_UNSUPPORTED: throw .unsupported(format: format, reason: message)
        case IMAGE_CODECS_NO_MEMORY: throw .outOfMemory
        default: throw .corrupt(format: format, reason: message)
        }
    }
}
