import Foundation
import HTTPTestSupport
import ModelServer
import PerceiverEngine
import Testing

/// The `text` BYTES input over the wire, in JSON and in binary: the same logits, bit for bit, as the same ids
/// sent as `input_ids` (issue #21, part 7). A daemon of its own, one request at a time: a request batched with
/// others' padding agrees with itself alone only to rounding (`BatchingWireTests`).
@Suite(.serialized) struct TextWireTests {
    static let daemon = Result { () throws(TestDaemonError) in
        let models = ["mlm", "seqcls", "learned"].map {
            ModelConfiguration(name: $0, path: ServerFixtures.root + "/models/" + $0)
        }
        return try TestDaemon.start(ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: models))
    }

    static func client() throws -> RawHTTPClient { try RawHTTPClient(port: daemon.get().port) }

    /// The response's one output as binary: its bytes after the JSON header.
    static func binaryOutput(_ response: RawHTTPClient.Response) throws -> Data {
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let length = try #require(response.header("Inference-Header-Content-Length").flatMap(Int.init))
        return response.body.dropFirst(length)
    }

    /// A V2 request for `inputs` (JSON objects) with the logits asked back in binary.
    static func request(_ inputs: [String], extra: Data = Data(), model: String) throws -> RawHTTPClient.Response {
        let header = #"{"inputs":["# + inputs.joined(separator: ",")
            + #"],"outputs":[{"name":"logits","parameters":{"binary_data":true}}]}"#
        let headers = extra.isEmpty ? [:] : ["Inference-Header-Content-Length": "\(header.utf8.count)"]
        return try client().request("POST", "/v2/models/\(model)/infer", headers: headers,
                                               body: Data(header.utf8) + extra)
    }

    /// `strings` tokenized (`ByteTokenizer`, checked by hand in `TextInputTests`) and padded as `input_ids` and,
    /// when padded, `attention_mask` JSON inputs.
    static func idInputs(_ strings: [String]) -> [String] {
        let rows = strings.map { ByteTokenizer().encode($0) }
        let length = rows.map(\.count).max() ?? 0
        let ids = rows.flatMap { $0 + Array(repeating: 0, count: length - $0.count) }
        var inputs = [#"{"name":"input_ids","shape":[\#(rows.count),\#(length)],"datatype":"INT64","data":\#(ids)}"#]
        if rows.contains(where: { $0.count < length }) {
            let mask = rows.flatMap { Array(repeating: 1, count: $0.count) + Array(repeating: 0, count: length - $0.count) }
            inputs.append(#"{"name":"attention_mask","shape":[\#(rows.count),\#(length)],"datatype":"INT64","data":\#(mask)}"#)
        }
        return inputs
    }

    static func jsonString(_ text: String) -> String { JSONText.quoted(text) }

    @Test(arguments: [("mlm", ["plain text"]), ("mlm", ["x", "a cat [MASK]"]), ("seqcls", ["ab", "a b c", "é"])])
    func jsonTextEqualsItsInputIDs(model: String, strings: [String]) throws {
        let text = #"{"name":"text","shape":[\#(strings.count)],"datatype":"BYTES","data":["#
            + strings.map(Self.jsonString).joined(separator: ",") + "]}"
        let byText = try Self.binaryOutput(try Self.request([text], model: model))
        let byIDs = try Self.binaryOutput(try Self.request(Self.idInputs(strings), model: model))
        #expect(!byText.isEmpty && byText == byIDs)
    }

    @Test func binaryTextEqualsItsInputIDs() throws {
        let strings = ["a [MASK] of", "tea"]
        let bytes = LengthPrefixed.bytes(strings)
        let text = #"{"name":"text","shape":[2,1],"datatype":"BYTES","parameters":{"binary_data_size":\#(bytes.count)}}"#
        let byText = try Self.binaryOutput(try Self.request([text], extra: Data(bytes), model: "mlm"))
        let byIDs = try Self.binaryOutput(try Self.request(Self.idInputs(strings), model: "mlm"))
        #expect(!byText.isEmpty && byText == byIDs)
    }

    @Test func outputPositionsIndexTheTokenizedText() throws {
        // [CLS] g [MASK] d [SEP]: position 2 is the mask.
        let text = #"{"name":"text","shape":[1],"datatype":"BYTES","data":["g[MASK]d"]}"#
        let positions = #"{"name":"output_positions","shape":[1,1],"datatype":"INT64","data":[2]}"#
        let ids = #"{"name":"input_ids","shape":[1,5],"datatype":"INT64","data":[4,109,3,106,5]}"#
        let byText = try Self.binaryOutput(try Self.request([text, positions], model: "mlm"))
        #expect(byText.count == 262 * 4)
        #expect(byText == (try Self.binaryOutput(try Self.request([ids, positions], model: "mlm"))))
    }

    @Test(arguments: [
        ("mlm", [#"{"name":"text","shape":[1],"datatype":"BYTES","data":["a"]}"#,
                 #"{"name":"input_ids","shape":[1,2],"datatype":"INT64","data":[4,5]}"#],
         "input 'text': give 'text' or 'input_ids', not both"),
        ("mlm", [#"{"name":"text","shape":[1],"datatype":"BYTES","data":[7]}"#],
         "input 'text': BYTES data must be strings, but element 0 is a number"),
        ("learned", [#"{"name":"text","shape":[1],"datatype":"BYTES","data":["a"]}"#],
         "input 'text': this model takes no such input"),
    ])
    func mistakesAreRefusedByName(model: String, inputs: [String], message: String) throws {
        let response = try Self.request(inputs, model: model)
        #expect(response.status == 400)
        #expect((response.json?["error"] as? String)?.hasPrefix(message) == true, "\(response.text)")
    }

    @Test func textThatIsNotUTF8IsRefused() throws {
        let bytes = LengthPrefixed.bytes([[0x61, 0xFF]])
        let text = #"{"name":"text","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":\#(bytes.count)}}"#
        let response = try Self.request([text], extra: Data(bytes), model: "seqcls")
        #expect(response.status == 400)
        #expect(response.json?["error"] as? String
                == "input 'text': element 0 is not valid UTF-8 (at byte 1); send text as UTF-8")
    }
}
