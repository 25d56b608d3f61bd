import Foundation
import HTTPTestSupport
import ModelServer
import Testing

/// `POST /infer` JSON bodies are read strictly: unknown fields, booleans, ragged rows and repeated keys are
/// 400s naming what is wrong; nested arrays still decode in the input's datatype.
@Suite struct TaskJSONWireTests {
    static func post(_ body: String) throws -> (status: Int, error: String?, json: [String: Any]?) {
        let response = try TestDaemon.client().request("POST", "/infer", body: Data(body.utf8))
        return (response.status, response.json?["error"] as? String, response.json)
    }

    static let pixels = "[[[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]], [[0.9, 1.0], [1.1, 1.2]]]]"

    @Test(arguments: [
        (#"{"model": "seqcls", "text": "hello", "topk": 3}"#,
         "malformed request body: unknown field 'topk' (fields: model, text, inputs, top_k, latents_id)"),
        (#"{"model": "seqcls", "text": "hello", "top_k": true}"#,
         "malformed request body: 'top_k' must be an integer from 1 to 1000"),
        (#"{"model": "seqcls", "text": "hello", "top_k": 2.0}"#,
         "malformed request body: 'top_k' must be an integer from 1 to 1000"),
        (#"{"model": "seqcls", "text": "a", "text": "b"}"#,
         "malformed request body: duplicate key 'text' in the top-level object; give each key once"),
        (#"{"model": "fourier", "inputs": {"pixel_values": [[[[0.1, true]]]]}}"#,
         "input 'pixel_values': values must be numbers, but element 1 is a boolean"),
        (#"{"model": "fourier", "inputs": {"pixel_values": [[[[0.1, 0.2], [0.3]]]]}}"#,
         "input 'pixel_values': ragged nesting: every row at depth 3 must have 2 entries"),
        (#"{"model": "fourier", "inputs": {"pixels": [1], "pixel_values": [1, true]}}"#,
         "input 'pixels': this model takes no such input (inputs: pixel_values, output_positions, queries, latents)"),
        (#"{"model": "mlm", "inputs": {"input_ids": [[4, 5.5]]}}"#, "input 'input_ids': INT64 data must be integers, got 5.5"),
        ("[1, 2]", #"malformed request body: expected a JSON object like {"model":"NAME","text":"..."}"#),
    ])
    func badBodiesAreRefusedByName(body: String, message: String) throws {
        let (status, error, _) = try Self.post(body)
        #expect(status == 400)
        #expect(error == message)
    }

    @Test func invalidJSONSaysWhereAndWhatABodyLooksLike() throws {
        let (status, error, _) = try Self.post(#"{"model": "seqcls", "text": "a",}"#)
        #expect(status == 400)
        #expect(error == #"malformed request body: expected a JSON object like {"model":"NAME","text":"..."} "#
                + #"(not valid JSON: unexpected '}', expected a member name at byte 32)"#)
    }

    @Test func nestedArraysDecodeInTheInputsDatatype() throws {
        let (status, error, json) = try Self.post(#"{"model": "fourier", "top_k": 2, "inputs": {"pixel_values": "#
                                                  + Self.pixels + "}}")
        #expect(status == 200, "\(error ?? "")")
        let labels = try #require(json?["labels"] as? [[[String: Any]]])
        #expect(labels.first?.count == 2)
    }
}
