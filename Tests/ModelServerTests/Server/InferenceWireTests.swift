import Foundation
import HTTPServer
import HTTPTestSupport
import ModelServer
import Testing

/// V2 inference through the wire returns the golden `transformers` logits.
@Suite struct InferenceWireTests {
    static func maxError(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    static func logits(fromJSON body: Data) throws -> (shape: [Int], values: [Float]) {
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let output = try #require((json["outputs"] as? [[String: Any]])?.first)
        let values = try #require(output["data"] as? [NSNumber]).map(\.floatValue)
        return (output["shape"] as? [Int] ?? [], values)
    }

    @Test(arguments: FixtureCases.servedNames)
    func jsonInferenceMatchesTheFixture(name: String) throws {
        let fixture = try FixtureCases.load(name)
        let response = try TestDaemon.client().request("POST", "/v2/models/\(fixture.model)/infer",
                                                       body: FixtureCases.v2JSON(fixture, id: name))
        #expect(response.status == 200, "\(response.text.prefix(300))")
        #expect(response.json?["id"] as? String == name)
        let outputs = try #require(response.json?["outputs"] as? [[String: Any]])
        #expect(Set(outputs.compactMap { $0["name"] as? String }) == Set(fixture.outputs.keys))
        for output in outputs {
            let name = try #require(output["name"] as? String)
            let expected = try #require(fixture.outputs[name])
            #expect(output["shape"] as? [Int] == expected.shape, "\(name)")
            let values = try #require(output["data"] as? [NSNumber]).map(\.floatValue)
            #expect(Self.maxError(values, expected.values) <= 1e-4, "\(name)")
        }
    }

    @Test func binaryTensorsBothWaysMatchTheFixture() throws {
        let fixture = try FixtureCases.load("mlm_single")
        let ids = try #require(fixture.inputs.first { $0.name == "input_ids" })
        var raw = Data()
        for value in ids.integers ?? [] { withUnsafeBytes(of: Int64(value).littleEndian) { raw.append(contentsOf: $0) } }
        let header = #"{"inputs":[{"name":"input_ids","shape":\#(ids.shape),"datatype":"INT64","parameters":"#
            + #"{"binary_data_size":\#(raw.count)}}],"outputs":[{"name":"logits","parameters":{"binary_data":true}}]}"#
        let response = try TestDaemon.client().request(
            "POST", "/v2/models/mlm/infer", headers: ["Inference-Header-Content-Length": "\(header.utf8.count)"],
            body: Data(header.utf8) + raw)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/octet-stream")
        let jsonLength = try #require(response.header("Inference-Header-Content-Length").flatMap(Int.init))
        let binary = response.body.dropFirst(jsonLength)
        let values = stride(from: 0, to: binary.count, by: 4).map { offset in
            binary.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Float.self) }
        }
        #expect(Self.maxError(values, fixture.logits) <= 1e-4)
    }

    @Test func gzipBothWaysMatchesTheFixture() throws {
        let fixture = try FixtureCases.load("mlm_single")
        let body = try Compression.gzip(FixtureCases.v2JSON(fixture))
        let response = try TestDaemon.client().request(
            "POST", "/v2/models/mlm/infer", headers: ["Content-Encoding": "gzip", "Accept-Encoding": "gzip"], body: body)
        #expect(response.status == 200)
        #expect(response.header("Content-Encoding") == "gzip")
        let inflated = try Compression.decode(response.body, coding: .gzip, limit: 1 << 26)
        #expect(Self.maxError(try Self.logits(fromJSON: inflated).values, fixture.logits) <= 1e-4)
    }

    @Test func taskEndpointFillsMasks() throws {
        let response = try TestDaemon.client().request("POST", "/infer", body: Data(
            #"{"model":"mlm","text":"a cat [MASK][MASK] mat","top_k":3}"#.utf8))
        #expect(response.status == 200)
        let json = try #require(response.json)
        #expect(json["model"] as? String == "mlm")
        #expect((json["text"] as? String)?.hasPrefix("a cat ") == true)
        let masks = try #require(json["masks"] as? [[String: Any]])
        #expect(masks.count == 2)
        #expect((masks[0]["candidates"] as? [[String: Any]])?.count == 3)
    }

    @Test func taskEndpointClassifiesTextAndImages() throws {
        let client = try TestDaemon.client()
        let text = try client.request("POST", "/infer", body: Data(#"{"model":"seqcls","text":"hello","top_k":2}"#.utf8))
        #expect(text.status == 200)
        #expect((text.json?["labels"] as? [[String: Any]])?.count == 2)
        let row = "[" + Array(repeating: "0.5", count: 16).joined(separator: ",") + "]"
        let channel = "[" + Array(repeating: row, count: 16).joined(separator: ",") + "]"
        let image = "[[" + Array(repeating: channel, count: 3).joined(separator: ",") + "]]"
        let pixels = try client.request("POST", "/infer", body: Data(
            "{\"model\":\"conv\",\"inputs\":{\"pixel_values\":\(image)},\"top_k\":1}".utf8))
        #expect(pixels.status == 200, "\(pixels.text)")
        #expect(((pixels.json?["labels"] as? [[Any]])?.first)?.count == 1)
    }

    @Test func taskEndpointNeedsAModelNameWhenSeveralAreServed() throws {
        let response = try TestDaemon.client().request("POST", "/infer", body: Data(#"{"text":"a [MASK]"}"#.utf8))
        #expect(response.status == 400)
        #expect((response.json?["error"] as? String)?.contains("mlm") == true)
    }
}
