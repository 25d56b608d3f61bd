import Foundation
import Testing
@testable import PerceiverEngine

/// The image pipeline against PerceiverImageProcessorPil on PIL's decoded pixels
/// (tools/fixtures/make_image_fixtures.py).
@Suite struct ImageProcessorParityTests {
    @Test(arguments: ImageFixtures.cases)
    func resizedPixelsEqualPillows(_ c: ImageFixtures.Case) throws {
        let processor = try ImageFixtures.processor(c.configName)
        let (rgb, width, height) = ImageFixtures.decoded(c.image)
        let (pixels, w, h) = try processor.resized(rgb: rgb, width: width, height: height)
        #expect(w == c.width && h == c.height)
        let expected = ImageFixtures.bytes(c.resized)
        let maxDiff = zip(pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(pixels.count == expected.count)
        #expect(maxDiff == 0, "max |Swift - Pillow| = \(maxDiff)")
    }

    @Test(arguments: ImageFixtures.cases)
    func pixelValuesMatchTransformers(_ c: ImageFixtures.Case) throws {
        let processor = try ImageFixtures.processor(c.configName)
        #expect(processor.values.flatMap { $0 } == ImageFixtures.floats(c.values))
        guard let path = c.pixelValues else { return }
        let (rgb, width, height) = ImageFixtures.decoded(c.image)
        let tensor = try processor.pixelValues(rgb: rgb, width: width, height: height)
        #expect(tensor.shape == [1, 3, c.height, c.width])
        let expected = ImageFixtures.floats(path)
        let maxDiff = zip(tensor.scalars, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(tensor.scalars.count == expected.count)
        // Bit-exact, not merely within 1e-6: the same float64 rescale, float32 cast and float32 normalize as numpy.
        #expect(maxDiff == 0, "max |Swift - transformers| = \(maxDiff)")
    }

    @Test func tinyImageIsRefusedNotCrashed() throws {
        let processor = ImageProcessor(config: ImageProcessorConfig())
        #expect(throws: InferenceError.self) { try processor.pixelValues(rgb: [1, 2, 3], width: 1, height: 1) }
    }
}
