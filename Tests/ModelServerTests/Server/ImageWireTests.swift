import Foundation
import HTTPServer
import HTTPTestSupport
import ModelServer
import Testing

/// `POST /infer` with PNG and JPEG bodies: the labels equal the float32 path fed transformers' pixel_values for the
/// same image (tools/fixtures/make_image_fixtures.py), and broken uploads get a 4xx JSON error while the server
/// keeps serving.
@Suite struct ImageWireTests {
    static let images = ServerFixtures.root + "/images/"

    /// One image fixture case: its file, the processor config it was made with, and its expected pixel_values.
    static func expectedPixelValues(_ image: String, config: String) throws -> (shape: [Int], data: Data) {
        let data = try Data(contentsOf: URL(fileURLWithPath: images + "manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(manifest["cases"] as? [[String: Any]])
        let entry = try #require(cases.first { $0["image"] as? String == image && $0["config"] as? String == config })
        let path = try #require(entry["pixel_values"] as? String)
        let shape = [1, 3, try #require(entry["height"] as? Int), try #require(entry["width"] as? Int)]
        return (shape, try Data(contentsOf: URL(fileURLWithPath: images + path)))
    }

    static func post(_ client: RawHTTPClient, _ query: String, type: String, body: Data) throws -> RawHTTPClient.Response {
        try client.request("POST", "/infer?" + query, headers: ["Content-Type": type], body: body)
    }

    /// Posts `image` and transformers' pixel_values for it to `model`, and expects the same answer.
    static func expectSameLabels(_ client: RawHTTPClient, model: String, image: String, config: String) throws {
        let type = image.hasSuffix(".png") ? "image/png" : "image/jpeg"
        let file = try Data(contentsOf: URL(fileURLWithPath: images + image))
        let viaImage = try post(client, "model=\(model)&top_k=3", type: type, body: file)
        let (shape, values) = try expectedPixelValues(image, config: config)
        let shapeText = shape.map(String.init).joined(separator: ",")
        let viaTensor = try post(client, "model=\(model)&top_k=3&input=pixel_values&shape=\(shapeText)",
                                 type: "application/octet-stream", body: values)
        #expect(viaImage.status == 200, "\(viaImage.text.prefix(300))")
        #expect(viaTensor.status == 200, "\(viaTensor.text.prefix(300))")
        #expect((viaImage.json?["labels"] as? [[Any]])?.first?.count == 3)
        // The answers, less their latents_id: the two paths' pixel values may differ in the last bits (a JPEG
        // decoder's rounding), which keys two cache entries, while the labels and scores agree.
        func answer(_ response: RawHTTPClient.Response) -> String {
            response.text.replacing(/,"latents_id":"[0-9a-f]{32}"/, with: "")
        }
        #expect(answer(viaImage) == answer(viaTensor), "\(image) on \(model)")
        #expect(answer(viaImage) != viaImage.text, "the answer names its latents")
    }

    @Test(arguments: ["rgb_300x200.png", "baseline_300x200.jpg", "rgb_37x23.png"])
    func learnedModelLabelsEqualTheTensorPath(_ image: String) throws {
        try Self.expectSameLabels(TestDaemon.client(), model: "learned", image: image, config: "learned_default")
    }

    /// A daemon of its own: the fourier fixture with a preprocessor_config.json (16x12, mean and std 0.5).
    @Test func fourierModelWithPreprocessorConfigLabelsEqualTheTensorPath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fourier-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent(file).path,
                                                       withDestinationPath: ServerFixtures.root + "/models/fourier/" + file)
        }
        let config = #"{"size":{"height":16,"width":12},"crop_size":{"height":18,"width":18},"#
            + #""image_mean":[0.5,0.5,0.5],"image_std":[0.5,0.5,0.5]}"#
        try Data(config.utf8).write(to: directory.appendingPathComponent("preprocessor_config.json"))
        let daemon = try TestDaemon.start(ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [
            ModelConfiguration(name: "fourier16", path: directory.path),
        ]))
        defer { daemon.stop {} }
        for image in ["rgb_300x200.png", "baseline_300x200.jpg"] {
            try Self.expectSameLabels(RawHTTPClient(port: daemon.port), model: "fourier16", image: image,
                                      config: "fourier16")
        }
    }

    static let png = (try? Data(contentsOf: URL(fileURLWithPath: images + "rgb_37x23.png"))) ?? Data()

    @Test(arguments: [
        ("model=learned", "image/png", "bad/truncated_rgb_300x200.png", 400, "not a valid image/png image"),
        ("model=learned", "image/jpeg", "bad/truncated_baseline_300x200.jpg", 400, "Premature end"),
        ("model=learned", "image/png", "bad/huge_100000x100000.png", 413, "100000x100000"),
        ("model=learned", "image/jpeg", "rgb_37x23.png", 400, "look like image/png"),
        ("model=mlm", "image/png", "rgb_37x23.png", 400, "does not take images"),
        ("model=flow", "image/png", "rgb_37x23.png", 400, "does not take images"),
        ("model=learned", "image/gif", "rgb_37x23.png", 415, "image/png or image/jpeg"),
        ("model=learned", "image/jpeg", "bad/cmyk_8x8.jpg", 415, "JPEG colour space CMYK"),
        ("model=learned&shape=1", "image/png", "rgb_37x23.png", 400, "unknown query parameter 'shape'"),
        ("model=learned", "application/octet-stream", "rgb_37x23.png", 400, "Content-Type: image/png"),
    ])
    func badUploadGetsAJSONErrorAndTheServerKeepsServing(_ query: String, _ type: String, _ file: String,
                                                         _ status: Int, _ message: String) throws {
        let client = try TestDaemon.client()
        let body = try Data(contentsOf: URL(fileURLWithPath: Self.images + file))
        let response = try Self.post(client, query, type: type, body: body)
        #expect(response.status == status, "\(response.text.prefix(300))")
        let error = response.json?["error"] as? String ?? ""
        #expect(error.contains(message), "\(error)")
        let next = try Self.post(client, "model=learned", type: "image/png", body: Self.png)
        #expect(next.status == 200)
    }

    @Test func garbageWithAnImageTypeIs400() throws {
        let response = try Self.post(TestDaemon.client(), "model=learned", type: "image/png",
                                     body: Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        #expect(response.status == 400)
        #expect((response.json?["error"] as? String)?.contains("not a PNG signature") == true)
    }
}
