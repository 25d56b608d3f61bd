import Foundation
import HTTPTestSupport
import PerceiverEngine
import Testing

/// The repository's `config.json` and the models it ships (`models/digits`, `models/words`), served by the real
/// `perceiverd serve`: every answer their training reports (`models/<name>/metrics.json`) and README.md "Ask it"
/// states must come back over HTTP.
@Suite(.serialized) struct ShippedModelsTests {
    static let root = LifecycleTests.root
    /// Runs `body` against `perceiverd serve --config config.json` on a free port, stopped afterwards.
    static func withDaemon(_ body: (() throws -> RawHTTPClient) throws -> Void) throws {
        let daemon = try DaemonProcess(["--config", root + "/config.json", "--port", "0"], environment: [:])
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        try body { try RawHTTPClient(port: port, timeout: 30) }
    }

    /// `models/<name>/metrics.json`.
    static func report(_ model: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/models/\(model)/metrics.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func configServesBothShippedModels() throws { try Self.withDaemon { client in
        let models = try client().request("GET", "/v2/models").json?["models"] as? [String]
        #expect(models == ["digits", "words"])
        let digits = try #require(try client().request("GET", "/v2/models/digits").json)
        #expect(digits["architecture"] as? String == "PerceiverForImageClassificationLearned")
        let words = try #require(try client().request("GET", "/v2/models/words").json)
        #expect(words["architecture"] as? String == "PerceiverForMaskedLM")
    } }

    /// Each sample image the report lists (PNG and JPEG, 8x8 and 64x64) uploaded to `/infer`: the report's
    /// label, which is the true digit, with the report's score.
    @Test func digitSamplesGetTheirDigit() throws { try Self.withDaemon { client in
        let samples = try #require(try Self.report("digits")["samples"] as? [[String: Any]])
        #expect(samples.count >= 3)
        for sample in samples {
            let file = try #require(sample["file"] as? String)
            let body = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/models/digits/" + file))
            let type = file.hasSuffix(".png") ? "image/png" : "image/jpeg"
            let answer = try client().request("POST", "/infer?model=digits&top_k=1",
                                                   headers: ["Content-Type": type], body: body)
            #expect(answer.status == 200, "\(file): \(answer.text)")
            let labels = (answer.json?["labels"] as? [[[String: Any]]])?.first
            let best = try #require(labels?.first, "\(file): \(answer.text)")
            #expect(best["label"] as? String == sample["true"] as? String, "\(file)")
            #expect(best["label"] as? String == sample["predicted"] as? String, "\(file)")
            let score = try #require(best["score"] as? Double)
            #expect(abs(score - (sample["score"] as? Double ?? -1)) < 1e-3, "\(file): \(score)")
        }
    } }

    /// README.md "Ask it"'s image call (with top_k 2): sample 3.png is a 3.
    @Test func readmeQuickStartDigit() throws { try Self.withDaemon { client in
        let body = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/models/digits/samples/3.png"))
        let answer = try client().request("POST", "/infer?model=digits&top_k=2",
                                               headers: ["Content-Type": "image/png"], body: body)
        let labels = (answer.json?["labels"] as? [[[String: Any]]])?.first
        #expect(labels?.first?["label"] as? String == "3", "\(answer.text)")
        #expect(labels?.count == 2)
    } }

    /// Every word example of the words report through `/infer`: the reported filled text, and per mask the
    /// reported top 3 candidates in order with their scores.
    @Test func wordExamplesGetTheirReportedFills() throws { try Self.withDaemon { client in
        let examples = try #require(try Self.report("words")["examples"] as? [[String: Any]])
        #expect(examples.count >= 3)
        for example in examples {
            let text = try #require(example["text"] as? String)
            let expected = try #require(example["candidates"] as? [[[Any]]])
            let body = try JSONSerialization.data(withJSONObject: ["model": "words", "text": text, "top_k": 3])
            let answer = try client().request("POST", "/infer", body: body)
            #expect(answer.status == 200, "\(text): \(answer.text)")
            #expect(answer.json?["text"] as? String == example["filled"] as? String, "\(text): \(answer.text)")
            let masks = try #require(answer.json?["masks"] as? [[String: Any]])
            #expect(masks.count == expected.count)
            for (mask, reported) in zip(masks, expected) {
                let candidates = try #require(mask["candidates"] as? [[String: Any]])
                #expect(candidates.map { $0["token"] as? String } == reported.map { $0[0] as? String }, "\(text)")
                for (candidate, row) in zip(candidates, reported) {
                    let score = try #require(candidate["score"] as? Double)
                    #expect(abs(score - (row[1] as? Double ?? -1)) < 1e-3, "\(text): \(score)")
                }
            }
        }
    } }

    /// README.md "Ask it"'s fill, word for word.
    @Test func readmeQuickStartWord() throws { try Self.withDaemon { client in
        let answer = try client().request("POST", "/infer",
                                          body: Data(#"{"model": "words", "text": "umb[MASK]ella", "top_k": 3}"#.utf8))
        #expect(answer.json?["text"] as? String == "umbrella", "\(answer.text)")
    } }

    /// The whole held-out split of the training script (Tests/ModelServerTests/Fixtures/digits-heldout.json,
    /// written by tools/fixtures/export_digits_heldout.py) through the daemon's own preprocessing and V2 in batches of
    /// 8: exactly as many right as the report's `held_out_correct`.
    @Test func heldOutAccuracyMatchesTheReport() throws { try Self.withDaemon { client in
        let report = try Self.report("digits")
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.root
            + "/Tests/ModelServerTests/Fixtures/digits-heldout.json"))
        let heldOut = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let images = try #require(heldOut["images"] as? [[Int]])
        let labels = try #require(heldOut["labels"] as? [Int])
        #expect(images.count == report["held_out_size"] as? Int)
        let config = try ImageProcessorConfig(json: Data(contentsOf: URL(fileURLWithPath: Self.root
            + "/models/digits/preprocessor_config.json")))
        let processor = ImageProcessor(config: config)
        var correct = 0
        let connection = try client()
        for start in stride(from: 0, to: images.count, by: 8) {
            let rows = Array(start..<min(start + 8, images.count))
            var values: [Float] = []
            for row in rows {
                let grey = images[row].map { UInt8($0) }
                let rgb = grey.flatMap { [$0, $0, $0] }
                values += try processor.pixelValues(rgb: rgb, width: 8, height: 8).scalars
            }
            let body = #"{"inputs":[{"name":"pixel_values","datatype":"FP32","shape":[\#(rows.count),3,8,8],"data":["#
                + values.map { "\($0)" }.joined(separator: ",") + "]}]}"
            let answer = try connection.request("POST", "/v2/models/digits/infer", body: Data(body.utf8))
            let output = try #require((answer.json?["outputs"] as? [[String: Any]])?.first, "\(answer.text)")
            let logits = try #require(output["data"] as? [Double])
            for (i, row) in rows.enumerated() {
                let scores = logits[(i * 10)..<((i + 1) * 10)]
                if scores.firstIndex(of: scores.max()!)! - i * 10 == labels[row] { correct += 1 }
            }
        }
        #expect(correct == report["held_out_correct"] as? Int)
        #expect(Double(correct) / Double(images.count) >= 0.95)
    } }
}
