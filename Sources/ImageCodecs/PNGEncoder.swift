import CPNG

/// 8-bit RGB pixels written as a PNG file, through libpng's simplified write API (`png_image_write_to_memory`,
/// libpng 1.6.29 and later), which reports failures in its `png_image` rather than by `longjmp`.
public enum PNGEncoder {
    /// What libpng said when it could not write the image.
    public struct EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { "could not write the PNG: \(message)" }
    }

    /// The PNG file of `pixels`: `height` rows of `width` RGB triples, top row first.
    /// - Throws: `EncodeError` when libpng refuses (a size it cannot write, or no memory).
    public static func encode(rgb pixels: [UInt8], width: Int, height: Int) throws(EncodeError) -> [UInt8] {
        guard width > 0, height > 0, width <= Int(Int32.max) / 3, height <= Int(UInt32.max),
              pixels.count == width * height * 3 else {
            throw EncodeError(message: "\(pixels.count) bytes for \(width) x \(height) RGB pixels")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        let stride = Int32(width * 3)
        var size = 0
        // First call: the size an encoding needs at most.
        let sized = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard sized != 0, size > 0 else { throw EncodeError(message: message(of: &image)) }
        var file = [UInt8](repeating: 0, count: size)
        let written = file.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard written != 0 else { throw EncodeError(message: message(of: &image)) }
        png_image_free(&image)
        return Array(file.prefix(size))
    }

    private static func message(of image: inout png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        png_image_free(&image)
        return text.isEmpty ? "libpng gave no reason" : text
    }
}
