import Foundation
import ImageCodecs
import Testing

/// Decoded pixels against PIL's `numpy.asarray(Image.open(f).convert("RGB"))` (Pillow 13.0.0, which bundles
/// libjpeg-turbo 3.2.0; this build links Debian's libjpeg-turbo 2.1.5).
@Suite struct DecodeParityTests {
    static let pngs = ImageFixtures.images.filter { $0.file.hasSuffix(".png") }
    static let jpegs = ImageFixtures.images.filter { $0.file.hasSuffix(".jpg") }

    @Test func fixturesArePresent() {
        #expect(Self.pngs.count == 8 && Self.jpegs.count == 3)
    }

    @Test(arguments: pngs)
    func pngEqualsPIL(_ image: ImageFixtures.Image) throws {
        let decoded = try DecodedImage(decoding: ImageFixtures.data(image.file), as: .png)
        #expect(decoded.width == image.width && decoded.height == image.height)
        #expect(decoded.pixels == [UInt8](ImageFixtures.data(image.decoded)))
    }

    /// Both libjpeg-turbo versions run the same islow IDCT and fancy upsampling: the pixels agree exactly.
    @Test(arguments: jpegs)
    func jpegEqualsPIL(_ image: ImageFixtures.Image) throws {
        let decoded = try DecodedImage(decoding: ImageFixtures.data(image.file), as: .jpeg)
        #expect(decoded.width == image.width && decoded.height == image.height)
        let expected = [UInt8](ImageFixtures.data(image.decoded))
        let maxDiff = zip(decoded.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(decoded.pixels.count == expected.count)
        #expect(maxDiff == 0, "max |libjpeg-turbo 2.1.5 - PIL| = \(maxDiff)")
    }

    @Test func sniffsSignatures() throws {
        #expect(ImageFormat(sniffing: ImageFixtures.data("rgb_37x23.png")) == .png)
        #expect(ImageFormat(sniffing: ImageFixtures.data("grey_37x23.jpg")) == .jpeg)
        #expect(ImageFormat(sniffing: Data("GIF89a".utf8)) == nil)
        #expect(ImageFormat(contentType: "image/JPEG; q=1") == .jpeg)
        #expect(ImageFormat(contentType: "image/gif") == nil)
    }
}
