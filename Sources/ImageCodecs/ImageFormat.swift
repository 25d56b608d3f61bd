import Foundation

/// The encoded image formats `/infer` accepts.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png
    case jpeg

    /// The format a `Content-Type` value names (`image/png`, `image/jpeg`, `image/jpg`; parameters ignored), or nil.
    public init?(contentType: String) {
        let type = contentType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        switch type {
        case "image/png": self = .png
        case "image/jpeg", "image/jpg", "image/pjpeg": self = .jpeg
        default: return nil
        }
    }

    /// The format whose signature `bytes` start with (PNG: 89 50 4E 47 0D 0A 1A 0A; JPEG: FF D8 FF), or nil.
    public init?(sniffing bytes: some Collection<UInt8>) {
        let head = Array(bytes.prefix(8))
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = .png
        } else if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }

    /// The MIME type, as it appears in messages.
    public var mimeType: String { self == .png ? "image/png" : "image/jpeg" }
}
