import Foundation
import HTTPTestSupport
import ImageCodecs
@testable import ModelServer
import PerceiverEngine
import Testing

/// An optical-flow frame pair as two image files in a `multipart/form-data` body, as `curl -F frame1=@a.png -F
/// frame2=@b.png` sends it (issue #22): decoded, normalised as the colab does, and answered as the same frames sent
/// as a tensor would be.
@Suite(.serialized) struct FlowFramesWireTests {
    /// A `width x height` RGB picture of a pattern shifted by `shift` pixels: the second frame of a pair moves.
    static func png(width: Int, height: Int, shift: Int) throws -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 { pixels[(y * width + x) * 3 + c] = UInt8(((x + shift) * 7 + y * 13 + c * 50) % 256) }
            }
        }
        return try PNGEncoder.encode(rgb: pixels, width: width, height: height)
    }

    /// A form as curl writes it: each part's disposition, filename and type, then its bytes.
    static func form(_ parts: [(name: String, bytes: [UInt8])], boundary: String = "------------------------d74496d66958873e")
        -> (body: Data, contentType: String) {
        var body = Data()
        for part in parts {
            body.append(Data(("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\"; "
                              + "filename=\"\(part.name).png\"\r\nContent-Type: image/png\r\n\r\n").utf8))
            body.append(contentsOf: part.bytes)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    func withDaemon(limits: LimitsConfiguration = LimitsConfiguration(), _ body: (RawHTTPClient) throws -> Void) throws {
        let model = ModelConfiguration(name: "flow_tiles", path: ServerFixtures.root + "/models/flow_tiles")
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [model], limits: limits)
        try TestDaemon.run(configuration) { daemon in try body(try RawHTTPClient(port: daemon.port, timeout: 60)) }
    }

    /// The form's answer is the answer to the frames as a tensor, built here from the same pixels: `v / 255 * 2 - 1`.
    @Test func aFormOfTwoPNGsIsTheFramePair() throws {
        let (first, second) = (try Self.png(width: 50, height: 37, shift: 0), try Self.png(width: 50, height: 37, shift: 2))
        var frames: [Float] = []
        for file in [first, second] {
            let image = try DecodedImage(decoding: file, as: .png)
            for c in 0..<3 {
                for pixel in 0..<(50 * 37) { frames.append(Float(Double(image.pixels[pixel * 3 + c]) / 255 * 2 - 1)) }
            }
        }
        let tensor = #"{"inputs":[{"name":"frames","shape":[1,2,3,37,50],"datatype":"FP32","data":[\#(frames.map { "\($0)" }.joined(separator: ","))]},{"name":"output_positions","shape":[1,3],"datatype":"INT64","data":[0,900,1849]}]}"#
        try withDaemon { client in
            let v2 = try client.request("POST", "/v2/models/flow_tiles/infer", body: Data(tensor.utf8))
            #expect(v2.status == 200, "\(v2.text.prefix(300))")
            let expected = try #require((v2.json?["outputs"] as? [[String: Any]])?.first?["data"] as? [NSNumber])
            let (body, type) = Self.form([("frame1", first), ("frame2", second)])
            let answer = try client.request("POST", "/infer?model=flow_tiles&output_positions=0,900,1849",
                                            headers: ["Content-Type": type], body: body)
            #expect(answer.status == 200, "\(answer.text.prefix(300))")
            let logits = try #require(answer.json?["logits"] as? [String: Any])
            #expect(logits["shape"] as? [Int] == [1, 3, 2])
            let data = try #require(logits["data"] as? [[[NSNumber]]]).flatMap { $0.flatMap { $0 } }.map(\.floatValue)
            #expect(data == expected.map(\.floatValue))
            // The same form, answered as a picture.
            let picture = try client.request("POST", "/infer?model=flow_tiles&format=png", headers: ["Content-Type": type],
                                             body: body)
            #expect(picture.status == 200)
            #expect(picture.header("Content-Type") == "image/png")
            #expect(try DecodedImage(decoding: picture.body, as: .png).width == 50)
        }
    }

    @Test func formsThatAreNotAFramePairAreRefusedByName() throws {
        let frame = try Self.png(width: 50, height: 37, shift: 0)
        let small = try Self.png(width: 40, height: 30, shift: 0)
        let tiny = try Self.png(width: 30, height: 20, shift: 0)
        let huge = try Self.png(width: 1100, height: 1000, shift: 0)
        try withDaemon(limits: .with { $0.maxInputPixels = 1_000_000 }) { client in
            let cases: [([(String, [UInt8])], Int, String)] = [
                ([("frame1", frame)], 400, "the form has no frame2"),
                ([("frame1", frame), ("frame2", frame), ("frame3", frame)], 400, "unknown form part 'frame3'"),
                ([("frame1", frame), ("frame2", small)], 400, "frame1 is 50 x 37 and frame2 is 40 x 30"),
                ([("frame1", frame), ("frame2", Array("not an image".utf8))], 415, "form part 'frame2' is neither PNG nor JPEG"),
                ([("frame1", frame), ("frame2", Array(frame.prefix(60)))], 400, "not a valid image/png image"),
                ([("frame1", huge), ("frame2", huge)], 413, "1100"),
                ([("frame1", tiny), ("frame2", tiny)], 400, "with H >= 24 and W >= 32"),
            ]
            for (parts, status, message) in cases {
                let (body, type) = Self.form(parts.map { (name: $0.0, bytes: $0.1) })
                let response = try client.request("POST", "/infer?model=flow_tiles", headers: ["Content-Type": type],
                                                  body: body)
                #expect(response.status == status, "\(message): \(response.text.prefix(300))")
                #expect((response.json?["error"] as? String)?.contains(message) == true, "\(response.text.prefix(300))")
            }
            let broken = try client.request("POST", "/infer?model=flow_tiles",
                                            headers: ["Content-Type": "multipart/form-data; boundary=abc"],
                                            body: Data("--abc\r\nContent-Disposition: form-data; name=\"frame1\"\r\n\r\nx".utf8))
            #expect(broken.status == 400)
            #expect((broken.json?["error"] as? String)?.contains("closing delimiter") == true, "\(broken.text)")
        }
        // A form to a model that is not optical flow.
        let (body, type) = Self.form([("frame1", frame), ("frame2", frame)])
        let learned = try TestDaemon.client().request("POST", "/infer?model=learned", headers: ["Content-Type": type],
                                                      body: body)
        #expect(learned.status == 400)
        #expect((learned.json?["error"] as? String)?.contains("is for optical-flow models") == true, "\(learned.text)")
    }
}
