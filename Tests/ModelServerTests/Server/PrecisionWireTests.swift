import Foundation
import HTTPTestSupport
import ModelServer
import PerceiverEngine
import Testing

/// One checkpoint served as `f32`, `bf16` and `auto`: each runs the precision this CPU allows, says so in its
/// metadata, its metrics and its `model loaded` line, and an explicit bf16 that cannot run natively serves
/// f32 after one warning instead of stopping the daemon. Runs on every CPU; what it expects depends on
/// `BF16Support.current` (CI runs it once more with `ONEDNN_MAX_CPU_ISA=AVX2`).
@Suite struct PrecisionWireTests {
    static let native = BF16Support.current.isNative

    @Test func eachSettingServesThePrecisionThisCPUAllows() throws {
        let path = ServerFixtures.root + "/models/mlm"
        let log = CapturedLog()
        let daemon = try TestDaemon.start(ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [
            ModelConfiguration(name: "mlm", path: path),
            ModelConfiguration(name: "mlm-bf16", path: path, precision: "bf16"),
            ModelConfiguration(name: "mlm-auto", path: path, precision: "auto"),
        ]), logger: log.logger())
        defer { daemon.stop {} }
        let client = try RawHTTPClient(port: daemon.port)
        let expected = ["mlm": ("f32", "f32"), "mlm-bf16": (Self.native ? "bf16" : "f32", "bf16"),
                        "mlm-auto": (Self.native ? "bf16" : "f32", "auto")]
        let metrics = try client.request("GET", "/metrics").text
        for (model, (effective, requested)) in expected {
            let metadata = try #require(try client.request("GET", "/v2/models/\(model)").json)
            let parameters = metadata["parameters"] as? [String: String]
            #expect(parameters == ["precision": effective, "requested_precision": requested], "\(model)")
            #expect(metrics.contains(#"perceiverd_model_info{model="\#(model)",version="1","#
                                     + #"architecture="PerceiverForMaskedLM",precision="\#(effective)","#
                                     + #"requested_precision="\#(requested)"} 1"#), "\(model)")
            let loaded = log.records.first { $0.message == "model loaded" && $0.metadata["model"] == model }
            #expect(loaded?.metadata["model.precision"] == effective, "\(model)")
            #expect(loaded?.metadata["model.precision.requested"] == requested, "\(model)")
        }
        let warnings = log.records.filter { $0.level == .warning && $0.message.contains("bf16 requested") }
        #expect(warnings.map { $0.metadata["model"] } == (Self.native ? [] : ["mlm-bf16"]),
                "one warning for the explicit bf16 model where bf16 is not native, none for auto")
        if !Self.native {
            #expect(warnings.first?.metadata["reason"]?.contains("bf16") == true)
        }
        try expectAnswers(client)
    }

    /// The f32 model matches transformers; a bf16 model differs within bf16 rounding where bf16 runs, and is
    /// the f32 model bit for bit where it fell back.
    func expectAnswers(_ client: RawHTTPClient) throws {
        let fixture = try FixtureCases.load("mlm_padded_batch")
        var logits: [String: [Float]] = [:]
        for model in ["mlm", "mlm-bf16", "mlm-auto"] {
            let response = try client.request("POST", "/v2/models/\(model)/infer", body: FixtureCases.v2JSON(fixture))
            #expect(response.status == 200, "\(response.text.prefix(300))")
            let (shape, values) = try InferenceWireTests.logits(fromJSON: response.body)
            #expect(shape == fixture.logitsShape)
            logits[model] = values
        }
        let (f32, bf16) = (try #require(logits["mlm"]), try #require(logits["mlm-bf16"]))
        #expect(InferenceWireTests.maxError(f32, fixture.logits) <= 1e-4)
        #expect(logits["mlm-auto"] == bf16, "auto and bf16 resolve alike here")
        guard Self.native else {
            #expect(bf16 == f32, "the fallback runs the f32 engine")
            return
        }
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
