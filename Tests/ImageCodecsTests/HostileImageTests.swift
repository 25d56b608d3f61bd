import Foundation
import ImageCodecs
import Testing

/// Broken and oversized images fail with an error, never a crash or a huge allocation.
@Suite struct HostileImageTests {
    @Test func pngHeaderClaimingTenGigapixelsIsRefusedBeforeAllocating() {
        #expect(throws: ImageDecodeError.tooLarge(width: 100_000, height: 100_000,
                                                  maxPixels: DecodedImage.defaultMaxPixels)) {
            try DecodedImage(decoding: ImageFixtures.data("bad/huge_100000x100000.png"), as: .png)
        }
    }

    /// 67,108,864 x 1 is within the pixel cap but would take gigabytes in row buffers and resampling weights.
    @Test(arguments: [(DecodedImage.maxSide + 1, 1), (1, DecodedImage.maxSide + 1), (1 << 26, 1)])
    func pngWithASideOverTheLimitIsRefusedBeforeAllocating(width: Int, height: Int) {
        #expect(throws: ImageDecodeError.tooLarge(width: width, height: height,
                                                  maxPixels: DecodedImage.defaultMaxPixels)) {
            try DecodedImage(decoding: Self.pngHeader(width: width, height: height), as: .png)
        }
    }

    /// A PNG signature, an IHDR chunk (8-bit RGB) declaring `width` x `height` and an empty IDAT chunk: enough
    /// for libpng to read the header, with no pixel data.
    static func pngHeader(width: Int, height: Int) -> Data {
        func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in typed {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return bigEndian(body.count) + typed + bigEndian(Int(crc ^ 0xFFFF_FFFF))
        }
        return Data([137, 80, 78, 71, 13, 10, 26, 10] + chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0])
                    + chunk("IDAT", []))
    }

    @Test func jpegOverThePixelLimitIsRefused() {
        #expect(throws: ImageDecodeError.tooLarge(width: 300, height: 200, maxPixels: 1000)) {
            try DecodedImage(decoding: ImageFixtures.data("baseline_300x200.jpg"), as: .jpeg, maxPixels: 1000)
        }
    }

    @Test func cmykJPEGIsUnsupported() {
        #expect(throws: ImageDecodeError.unsupported(
            format: .jpeg, reason: "JPEG colour space CMYK is not decoded (only greyscale, YCbCr and RGB)")) {
            try DecodedImage(decoding: ImageFixtures.data("bad/cmyk_8x8.jpg"), as: .jpeg)
        }
    }

    @Test(arguments: [("bad/truncated_rgb_300x200.png", ImageFormat.png),
                      ("bad/truncated_baseline_300x200.jpg", .jpeg)])
    func truncatedFileIsCorrupt(_ path: String, _ format: ImageFormat) {
        #expect(Self.isCorrupt { try DecodedImage(decoding: ImageFixtures.data(path), as: format) })
    }

    /// Every 7th prefix of a small PNG and JPEG that cuts into the pixel data, and garbage after a valid signature.
    /// (A PNG without its 12-byte IEND chunk, or a JPEG without its EOI marker, still decodes: the pixels are whole.)
    @Test(arguments: [("rgb_37x23.png", ImageFormat.png), ("progressive_37x23.jpg", .jpeg)])
    func everyPrefixFailsCleanly(_ path: String, _ format: ImageFormat) {
        let data = ImageFixtures.data(path)
        for length in stride(from: 0, to: data.count - 12, by: 7) {
            #expect(Self.isCorrupt { try DecodedImage(decoding: data.prefix(length), as: format) }, "\(length) bytes")
        }
        var garbage = Data(data.prefix(format == .png ? 8 : 3))
        garbage.append(contentsOf: (0..<500).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) })
        #expect(Self.isCorrupt { try DecodedImage(decoding: garbage, as: format) })
        #expect(Self.isCorrupt { try DecodedImage(decoding: Data(), as: format) })
    }

    static func isCorrupt(_ decode: () throws -> DecodedImage) -> Bool {
        do {
            _ = try decode()
            return false
        } catch {
            if case .corrupt(_, let reason) = error as? ImageDecodeError { return !reason.isEmpty }
            return false
        }
    }
}
