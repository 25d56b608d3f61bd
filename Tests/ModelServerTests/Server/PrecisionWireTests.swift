import Foundation
import HTTPTestSupport
import ModelServer
import Testing

/// A model configured with `"precision": "bf16"` serves bf16 answers next to the same checkpoint in f32.
@Suite struct PrecisionWireTests {
    @Test func bf16ModelAnswersCloseToF32AndItsTopOneAgrees() throws {
        let path = ServerFixtures.root + "/models/mlm"
        let daemon = TestDaemon.start(ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [
            ModelConfiguration(name: "mlm", path: path),
            ModelConfiguration(name: "mlm-bf16", path: path, precision: "bf16"),
        ]))
        defer { daemon.stop {} }
        let client = try RawHTTPClient(port: daemon.port)
        let fixture = try FixtureCases.load("mlm_padded_batch")
        var logits: [String: [Float]] = [:]
        for model in ["mlm", "mlm-bf16"] {
            let response = try client.request("POST", "/v2/models/\(model)/infer", body: FixtureCases.v2JSON(fixture))
            #expect(response.status == 200, "\(response.text.prefix(300))")
            let (shape, values) = try InferenceWireTests.logits(fromJSON: response.body)
            #expect(shape == fixture.logitsShape)
            logits[model] = values
        }
        let (f32, bf16) = (try #require(logits["mlm"]), try #require(logits["mlm-bf16"]))
        #expect(InferenceWireTests.maxError(f32, fixture.logits) <= 1e-4)
        // bf16 really ran (f32 parity is 1e-6), and stays within its rounding of the f32 answer.
        let error = InferenceWireTests.maxError(bf16, fixture.logits)
        #expect(error > 1e-3 && error < 0.25, "bf16 max abs error \(error)")
        let width = fixture.logitsShape.last!
        let rows = f32.count / width
        let agree = (0..<rows).filter { row in
            let a = f32[(row * width)..<((row + 1) * width)], b = bf16[(row * width)..<((row + 1) * width)]
            return a.indices.max { a[$0] < a[$1] } == b.indices.max { b[$0] < b[$1] }
        }.count
        #expect(Double(agree) >= 0.95 * Double(rows), "top-1 agreement \(agree)/\(rows)")
    }
}
