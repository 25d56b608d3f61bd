import Foundation
import HTTPTestSupport
import ImageCodecs
@testable import ModelServer
import PerceiverEngine
import Testing

/// Optical flow on frames larger than the model's train_size, over the wire (issue #22): tiled as DeepMind's
/// colab does, the tiles in passes of at most `max_batch_size`, only the tiles chosen pixels need, and clear
/// refusals. Parity of every tiled fixture case over V2 JSON is `InferenceWireTests` (the shared daemon serves
/// `flow_tiles`).
@Suite(.serialized) struct FlowTilesWireTests {
    /// Runs `body` against a daemon serving `flow_tiles` with `maxBatchSize`, then drains it.
    func withDaemon(maxBatchSize: Int, limits: LimitsConfiguration = LimitsConfiguration(), log: CapturedLog? = nil,
                    _ body: (RawHTTPClient) throws -> Void) throws {
        let model = ModelConfiguration(name: "flow_tiles", path: ServerFixtures.root + "/models/flow_tiles",
                                       maxBatchSize: maxBatchSize)
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [model],
                                                limits: limits)
        try TestDaemon.run(configuration, logger: log?.logger()) { daemon in
            try body(try RawHTTPClient(port: daemon.port, timeout: 60))
        }
    }

    func metric(_ client: RawHTTPClient, _ series: String) throws -> Double {
        let text = try client.request("GET", "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.split(separator: " ").last!) } ?? 0
    }

    func frames(_ fixture: FixtureCases.Case) throws -> (shape: [Int], values: [Float]) {
        let input = try #require(fixture.inputs.first { $0.name == "frames" })
        return (input.shape, try #require(input.floats))
    }

    func binary(_ values: [Float]) -> Data {
        var body = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        return body
    }

    func logits(_ response: RawHTTPClient.Response) -> (shape: [Int], data: [Float])? {
        guard let outputs = response.json?["outputs"] as? [[String: Any]], let logits = outputs.first,
              let shape = logits["shape"] as? [Int], let data = logits["data"] as? [NSNumber] else { return nil }
        return (shape, data.map(\.floatValue))
    }

    /// 37 x 50 frames are 15 tiles of 24 x 32; with max_batch_size 2 they run as 8 passes (7 of two tiles, one
    /// of one), 15 rows, one request, and the stitched field matches the colab's tiling around transformers.
    @Test func tilesRunInPassesOfAtMostMaxBatchSize() throws {
        let fixture = try FixtureCases.load("flow_tiled")
        let log = CapturedLog()
        try withDaemon(maxBatchSize: 2, log: log) { client in
            let series = #"{model="flow_tiles"}"#
            let response = try client.request("POST", "/v2/models/flow_tiles/infer", body: FixtureCases.v2JSON(fixture))
            #expect(response.status == 200, "\(response.text.prefix(300))")
            let answer = try #require(logits(response))
            #expect(answer.shape == [1, 37, 50, 2])
            #expect(InferenceWireTests.maxError(answer.data, fixture.logits) <= 1e-4)
            #expect(try metric(client, "perceiverd_inference_executions_total" + series) == 8)
            #expect(try metric(client, "perceiverd_inference_rows_total" + series) == 15)
            #expect(try metric(client, #"perceiverd_inference_requests_total{model="flow_tiles",status="200"}"#) == 1)
        }
        #expect(log.records.contains { $0.metadata["latents"] == "miss" && $0.metadata["model"] == "flow_tiles" })
    }

    /// Chosen pixels run only the tiles that hold them: pixel (0, 0) is in the first tile alone, (2, 14) in the
    /// first tile row's first two (rows start at 0, 4, 8, 12, 13; columns at 0, 12, 18), (18, 20) in all 15.
    @Test func chosenPixelsRunOnlyTheirTiles() throws {
        let fixture = try FixtureCases.load("flow_tiled")
        let (shape, values) = try frames(fixture)
        try withDaemon(maxBatchSize: 8) { client in
            let series = #"{model="flow_tiles"}"#
            for (pixels, tiles) in [([0], 1.0), ([2 * 50 + 14], 2.0), ([18 * 50 + 20], 15.0)] {
                let before = try metric(client, "perceiverd_inference_rows_total" + series)
                let response = try client.request(
                    "POST", "/infer?model=flow_tiles&input=frames&shape=" + shape.map(String.init).joined(separator: ",")
                        + "&output_positions=" + pixels.map(String.init).joined(separator: ","),
                    headers: ["Content-Type": "application/octet-stream"], body: binary(values))
                #expect(response.status == 200, "\(response.text.prefix(300))")
                let answer = try #require(response.json?["logits"] as? [String: Any])
                #expect(answer["shape"] as? [Int] == [1, 1, 2])
                let data = try #require(answer["data"] as? [[[NSNumber]]]).flatMap { $0.flatMap { $0 } }.map(\.floatValue)
                let p = pixels[0]
                #expect(InferenceWireTests.maxError(data, Array(fixture.logits[(p * 2)..<(p * 2 + 2)])) <= 1e-4)
                #expect(try metric(client, "perceiverd_inference_rows_total" + series) - before == tiles)
            }
        }
    }

    /// The same frames a second time skip every tile's encoder: each group's latents are cached under its own
    /// inputs.
    @Test func repeatedFramesHitTheLatentCacheTileByTile() throws {
        let fixture = try FixtureCases.load("flow_tiled")
        let log = CapturedLog()
        try withDaemon(maxBatchSize: 4, log: log) { client in
            for _ in 0..<2 {
                let response = try client.request("POST", "/v2/models/flow_tiles/infer", body: FixtureCases.v2JSON(fixture))
                #expect(response.status == 200)
                #expect(InferenceWireTests.maxError(logits(response)?.data ?? [], fixture.logits) <= 1e-4)
            }
            #expect(try metric(client, #"perceiverd_encoder_passes_saved_total{model="flow_tiles"}"#) == 4)
        }
        let labels = log.records.compactMap { $0.metadata["latents"] }
        #expect(labels == ["miss", "hit"], "\(labels)")
    }

    @Test func whatTiledFramesCannotDoIsRefusedByName() throws {
        let fixture = try FixtureCases.load("flow_tiled")
        let (shape, values) = try frames(fixture)
        let framesJSON = #"{"name":"frames","shape":\#(shape),"datatype":"FP32","data":[\#(values.map { "\($0)" }.joined(separator: ","))]}"#
        try withDaemon(maxBatchSize: 8, limits: .with { $0.maxInputPixels = 37 * 50 }) { client in
            let cases: [(String, Int, String)] = [
                (#"{"inputs":[\#(framesJSON)],"outputs":[{"name":"latents"}]}"#, 400,
                 "output 'latents': 37 x 50 frames are tiled"),
                (#"{"inputs":[\#(framesJSON)],"parameters":{"latents_id":"abc"}}"#, 400,
                 "parameter 'latents_id': 37 x 50 frames are tiled"),
                (#"{"inputs":[\#(framesJSON),{"name":"output_positions","shape":[1,1],"datatype":"INT64","data":[1850]}]}"#,
                 400, "pixel 1850 is outside the 37 x 50 frame"),
                (#"{"inputs":[{"name":"frames","shape":[1,2,3,23,50],"datatype":"FP32","data":[\#(Array(repeating: "0", count: 6 * 23 * 50).joined(separator: ","))]}]}"#,
                 400, "expected (B, 2, 3, H, W) with H >= 24 and W >= 32"),
                (#"{"inputs":[{"name":"frames","shape":[1,2,3,38,50],"datatype":"FP32","data":[\#(Array(repeating: "0", count: 6 * 38 * 50).joined(separator: ","))]}]}"#,
                 413, "38 x 50 pixels per image, more than limits.max_input_pixels (1850)"),
            ]
            for (body, status, message) in cases {
                let response = try client.request("POST", "/v2/models/flow_tiles/infer", body: Data(body.utf8))
                #expect(response.status == status, "\(message): \(response.text.prefix(300))")
                #expect((response.json?["error"] as? String)?.contains(message) == true, "\(response.text.prefix(300))")
            }
            // The daemon still answers.
            #expect(try client.request("POST", "/v2/models/flow_tiles/infer", body: FixtureCases.v2JSON(fixture)).status == 200)
        }
    }

    // MARK: answers other than JSON

    /// The same request as JSON, as a picture (`Accept: image/png`) and as raw float32 (`?format=f32`): the picture
    /// is `FlowPicture` of the JSON field, the raw values are the JSON's, shaped by `Perceiverd-Shape`.
    @Test func pictureAndRawAnswersHoldTheJSONField() throws {
        let fixture = try FixtureCases.load("flow_tiled")
        let (shape, values) = try frames(fixture)
        try withDaemon(maxBatchSize: 8) { client in
            let path = "/infer?model=flow_tiles&input=frames&shape=" + shape.map(String.init).joined(separator: ",")
            let octet = ["Content-Type": "application/octet-stream"]
            let json = try client.request("POST", path, headers: octet, body: binary(values))
            #expect(json.status == 200)
            let field = try #require(json.json?["logits"] as? [String: Any])
            let flat = try #require(field["data"] as? [[[[NSNumber]]]]).flatMap { $0.flatMap { $0.flatMap { $0 } } }
                .map(\.floatValue)
            #expect(flat.count == 37 * 50 * 2)

            let png = try client.request("POST", path, headers: octet.merging(["Accept": "image/png"]) { $1 },
                                         body: binary(values))
            #expect(png.status == 200)
            #expect(png.header("Content-Type") == "image/png")
            let image = try DecodedImage(decoding: png.body, as: .png)
            #expect(image.width == 50 && image.height == 37)
            #expect(image.pixels == FlowPicture.rgb(flat[...], height: 37, width: 50))

            let raw = try client.request("POST", path + "&format=f32", headers: octet, body: binary(values))
            #expect(raw.status == 200)
            #expect(raw.header("Content-Type") == "application/octet-stream")
            #expect(raw.header("Perceiverd-Shape") == "37,50,2")
            let floats = raw.body.withUnsafeBytes { bytes in
                (0..<(bytes.count / 4)).map {
                    Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
            #expect(floats == flat)
            // Chosen pixels come raw too, shaped (K, 2).
            let chosen = try client.request("POST", path + "&output_positions=0,1849&format=f32", headers: octet,
                                            body: binary(values))
            #expect(chosen.status == 200)
            #expect(chosen.header("Perceiverd-Shape") == "2,2")
            #expect(chosen.body.count == 16)
        }
    }

    @Test func answersTheRequestCannotHaveAreRefused() throws {
        let fixture = try FixtureCases.load("flow_tiled")
        let (shape, values) = try frames(fixture)
        let dims = shape.map(String.init).joined(separator: ",")
        try withDaemon(maxBatchSize: 8) { client in
            let octet = ["Content-Type": "application/octet-stream"]
            let cases: [(String, [String: String], Int, String)] = [
                ("&output_positions=3", ["Accept": "image/png"], 400, "a picture needs the whole flow field"),
                ("&format=gif", [:], 400, "'format' must appear once, as json, png or f32"),
                ("", ["Accept": "text/html"], 406, "names nothing /infer writes"),
            ]
            for (query, headers, status, message) in cases {
                let response = try client.request("POST", "/infer?model=flow_tiles&input=frames&shape=\(dims)" + query,
                                                  headers: octet.merging(headers) { $1 }, body: binary(values))
                #expect(response.status == status, "\(message): \(response.text.prefix(200))")
                #expect((response.json?["error"] as? String)?.contains(message) == true, "\(response.text.prefix(200))")
            }
            let two = try client.request("POST", "/infer?model=flow_tiles&input=frames&shape=2,2,3,37,50&format=png",
                                         headers: octet, body: binary(values + values))
            #expect(two.status == 400)
            #expect((two.json?["error"] as? String)?.contains("holds one frame pair's flow; this request has 2") == true)
        }
        // A model that is not optical flow answers JSON only.
        let learned = try TestDaemon.client().request("POST", "/infer", headers: ["Accept": "image/png"],
                                                      body: Data(#"{"model":"learned","inputs":{"pixel_values":[[[[0]]]]}}"#.utf8))
        #expect(learned.status == 406, "\(learned.text.prefix(200))")
        #expect((learned.json?["error"] as? String)?.contains("model 'learned' answers JSON") == true)
    }
}
