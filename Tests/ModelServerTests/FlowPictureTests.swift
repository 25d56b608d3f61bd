import Foundation
import ImageCodecs
@testable import ModelServer
@testable import PerceiverEngine
import Testing

/// The flow picture against the one DeepMind's colab draws with OpenCV (tools/fixtures/make_flow_picture_fixture.py:
/// every angle, magnitudes from 0 to past full saturation, random vectors).
@Suite struct FlowPictureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/flow_picture.safetensors").path

    func load() throws -> (flow: [Float], rgb: [Float], height: Int, width: Int) {
        let file = try SafeTensorsFile(path: Self.fixture)
        func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
            let entry = try #require(file.header.entries.first { $0.name == name })
            let bytes = file.bytes(of: entry)
            return (entry.shape, (0..<entry.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) })
        }
        let (shape, flow) = try floats("flow")
        return (flow, try floats("rgb").values, shape[0], shape[1])
    }

    /// Every byte equals the colab's, but where OpenCV's approximate angle (`cartToPolar`, good to about 0.3
    /// degrees) lands on the other side of a 2-degree hue step than the exact one: there the hue is one step
    /// off, which moves a channel by at most 255 / 30 + 1 (a hue step is a thirtieth of a colour sector, and
    /// truncation adds one). Such pixels are rare (29 of the fixture's 3,072): at most 2 % are allowed.
    @Test func matchesTheColabsPicture() throws {
        let (flow, expected, height, width) = try load()
        let actual = FlowPicture.rgb(flow[...], height: height, width: width)
        var offByAStep = 0
        for pixel in 0..<(height * width) {
            let got = (0..<3).map { Int(actual[pixel * 3 + $0]) }
            let want = (0..<3).map { Int(expected[pixel * 3 + $0]) }
            guard got != want else { continue }
            offByAStep += 1
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 255 / 30 + 1 }, "pixel \(pixel): \(got) vs \(want)")
        }
        #expect(offByAStep * 50 <= height * width, "\(offByAStep) of \(height * width) pixels differ")
    }

    /// The colours the docs name: still is white; right blue, down green, left yellow, up pink at full
    /// saturation (24 pixels per frame, 1.2 in the model's units); half saturation lifts the other channels
    /// halfway. The values are OpenCV 5.1's for these vectors in a picture (its vectorised path truncates).
    @Test func directionsHaveTheColabsColours() {
        #expect(FlowPicture.color(dx: 0, dy: 0) == (255, 255, 255))
        #expect(FlowPicture.color(dx: 1.2, dy: 0) == (0, 0, 255))
        #expect(FlowPicture.color(dx: 0, dy: 1.2) == (0, 255, 127))
        #expect(FlowPicture.color(dx: -1.2, dy: 0) == (255, 254, 0))
        #expect(FlowPicture.color(dx: 0, dy: -1.2) == (255, 0, 127))
        #expect(FlowPicture.color(dx: 0.6, dy: 0) == (127, 127, 255))
    }

    /// The PNG decodes to the same pixels.
    @Test func pngHoldsThePicture() throws {
        let (flow, _, height, width) = try load()
        let file = try FlowPicture.png(flow[...], height: height, width: width)
        let image = try DecodedImage(decoding: file, as: .png)
        #expect(image.width == width && image.height == height)
        #expect(image.pixels == FlowPicture.rgb(flow[...], height: height, width: width))
    }
}
