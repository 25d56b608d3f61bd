import Foundation
import HTTPTestSupport
import ModelServer
import Testing

/// Optical flow and multimodal autoencoding over the wire: metadata, `/infer` with JSON and binary bodies,
/// outputs chosen by the client (issue #5). V2 JSON parity for their fixture cases is in `InferenceWireTests`.
@Suite struct DenseOutputWireTests {
    func floats(_ any: Any?) -> [Float] {
        func flatten(_ value: Any?) -> [Float] {
            if let list = value as? [Any] { return list.flatMap(flatten) }
            return (value as? NSNumber).map { [$0.floatValue] } ?? []
        }
        return flatten(any)
    }

    /// The fixture's frames as a raw little-endian float32 body.
    func binaryFrames() throws -> (body: Data, expected: [Float]) {
        let fixture = try FixtureCases.load("flow_frames")
        let frames = try #require(fixture.inputs.first { $0.name == "frames" }?.floats)
        var body = Data()
        for value in frames { withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        return (body, fixture.logits)
    }

    @Test func metadataNamesTheNewInputsAndOutputs() throws {
        let client = try TestDaemon.client()
        let flow = try #require(try client.request("GET", "/v2/models/flow").json)
        #expect((flow["inputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                == ["inputs", "frames", "output_positions", "queries", "latents"])
        #expect((flow["outputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1, 6, 8, 2])
        let multimodal = try #require(try client.request("GET", "/v2/models/multimodal").json)
        #expect((multimodal["inputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                == ["audio", "image", "label", "output_positions_audio", "output_positions_image", "output_positions_label",
                    "latents"])
        #expect((multimodal["outputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                == ["audio", "image", "label", "latents"])
    }

    @Test func binaryFramesGiveTheFlowField() throws {
        let (body, expected) = try binaryFrames()
        let response = try TestDaemon.client().request(
            "POST", "/infer?model=flow&input=frames&shape=2,2,3,6,8",
            headers: ["Content-Type": "application/octet-stream"], body: body)
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let logits = try #require(response.json?["logits"] as? [String: Any])
        #expect(logits["shape"] as? [Int] == [2, 6, 8, 2])
        #expect(InferenceWireTests.maxError(floats(logits["data"]), expected) <= 1e-4)
    }

    @Test func binaryFramesWithChosenPixels() throws {
        let (body, expected) = try binaryFrames()
        let response = try TestDaemon.client().request(
            "POST", "/infer?model=flow&input=frames&shape=2,2,3,6,8&output_positions=47,0,13",
            headers: ["Content-Type": "application/octet-stream"], body: body)
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let logits = try #require(response.json?["logits"] as? [String: Any])
        #expect(logits["shape"] as? [Int] == [2, 3, 2])
        var gathered: [Float] = []
        for b in 0..<2 { for p in [47, 0, 13] { gathered += expected[((b * 48 + p) * 2)..<((b * 48 + p) * 2 + 2)] } }
        #expect(InferenceWireTests.maxError(floats(logits["data"]), gathered) <= 1e-4)
    }

    @Test(arguments: [
        ("shape=2,2,3,6,7", "needs 2016 bytes of float32, the body has 2304"),
        ("shape=2,2,3,6,8,9999999999,9999999999", "needs more float32 values than"),
        ("shape=-1,2", "non-negative dimensions"),
        ("shape=2,2,3,6,8&colour=red", "unknown query parameter 'colour'"),
        ("shape=1,2,27,6,8&x=1", "unknown query parameter 'x'"),
    ])
    func binaryBodiesThatDoNotFitAreRefused(query: String, message: String) throws {
        let (body, _) = try binaryFrames()
        let response = try TestDaemon.client().request(
            "POST", "/infer?model=flow&input=frames&" + query,
            headers: ["Content-Type": "application/octet-stream"], body: body)
        #expect(response.status == 400)
        #expect((response.json?["error"] as? String)?.contains(message) == true, "\(response.text)")
    }

    @Test func framesOfTheWrongSizeAreRefusedByName() throws {
        let body = Data(count: 2 * 3 * 5 * 8 * 4)
        let response = try TestDaemon.client().request(
            "POST", "/infer?model=flow&input=frames&shape=1,2,3,5,8",
            headers: ["Content-Type": "application/octet-stream"], body: body)
        #expect(response.status == 400)
        #expect(response.json?["error"] as? String == "input 'frames' has shape [1, 2, 3, 5, 8], expected (B, 2, 3, H, W) "
                + "with H >= 6 and W >= 8 (the model's train_size; larger frames are tiled)")
    }

    @Test func multimodalOverInferGivesEveryModality() throws {
        let fixture = try FixtureCases.load("multimodal_subsampled")
        func nested(_ name: String) throws -> String {
            let input = try #require(fixture.inputs.first { $0.name == name })
            let values = input.floats.map { $0.map { "\($0)" } } ?? input.integers!.map(String.init)
            // Flat values under their shape: nest from the innermost dimension out.
            var rows = values
            for dim in input.shape.dropFirst().reversed() {
                rows = stride(from: 0, to: rows.count, by: dim).map { "[" + rows[$0..<($0 + dim)].joined(separator: ",") + "]" }
            }
            return "[" + rows.joined(separator: ",") + "]"
        }
        let body = "{\"model\":\"multimodal\",\"inputs\":{" + (try ["image", "audio", "label", "output_positions_image",
                                                                   "output_positions_audio"].map {
            "\"\($0)\":" + (try nested($0))
        }.joined(separator: ",")) + "}}"
        let response = try TestDaemon.client().request("POST", "/infer", body: Data(body.utf8))
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let json = try #require(response.json)
        for (name, expected) in fixture.outputs {
            let output = try #require(json[name] as? [String: Any], "\(name)")
            #expect(output["shape"] as? [Int] == expected.shape, "\(name)")
            #expect(InferenceWireTests.maxError(floats(output["data"]), expected.values) <= 1e-4, "\(name)")
        }
    }

    @Test func v2ReturnsOnlyTheOutputsAskedFor() throws {
        let fixture = try FixtureCases.load("multimodal_subsampled")
        var body = String(decoding: FixtureCases.v2JSON(fixture), as: UTF8.self)
        body.removeLast()
        body += ",\"outputs\":[{\"name\":\"label\"}]}"
        let response = try TestDaemon.client().request("POST", "/v2/models/multimodal/infer", body: Data(body.utf8))
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let outputs = try #require(response.json?["outputs"] as? [[String: Any]])
        #expect(outputs.compactMap { $0["name"] as? String } == ["label"])
        #expect(InferenceWireTests.maxError(floats(outputs[0]["data"]), fixture.outputs["label"]!.values) <= 1e-4)
    }
}
