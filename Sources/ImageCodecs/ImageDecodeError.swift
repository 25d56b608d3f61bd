/// Why an encoded image cannot be decoded. One error type for the ImageCodecs module.
public enum ImageDecodeError: Error, Equatable, Sendable {
    /// The bytes are not a valid or complete image of `format`; `reason` is the library's own words.
    case corrupt(format: ImageFormat, reason: String)
    /// The header declares `width` x `height`, more than `maxPixels` or a side over `DecodedImage.maxSide`;
    /// refused before the pixels are allocated.
    case tooLarge(width: Int, height: Int, maxPixels: Int)
    /// A valid image in a form that is not decoded here (a CMYK JPEG, say).
    case unsupported(format: ImageFormat, reason: String)
    /// The pixel buffer could not be allocated.
    case outOfMemory
}

extension ImageDecodeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .corrupt(let format, let reason): return "not a valid \(format.mimeType) image: \(reason)"
        case .tooLarge(let width, let height, let maxPixels):
            return "image is \(width)x\(height) pixels, more than the limit of \(maxPixels)"
                + " pixels or \(DecodedImage.maxSide) a side"
        case .unsupported(let format, let reason): return "unsupported \(format.mimeType) image: \(reason)"
        case .outOfMemory: return "out of memory decoding the image"
        }
    }
}
