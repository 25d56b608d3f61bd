import Foundation
import HTTPTestSupport
import ModelServer
import PerceiverEngine
import Testing

/// BYTES over the wire (issue #21, parts 6 and 7): the `text` input, in JSON and in binary, gives the same logits,
/// bit for bit, as the same ids sent as `input_ids`; the classification extension's strings rank the logits the
/// same request gives without it. A daemon of its own, one request at a time: a request batched with others'
/// padding agrees with itself alone only to rounding (`BatchingWireTests`).
@Suite(.serialized) struct BytesWireTests {
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

extension BytesWireTests {
    static func post(_ json: String, model: String) throws -> RawHTTPClient.Response {
        try client().request("POST", "/v2/models/\(model)/infer", body: Data(json.utf8))
    }

    static let seqclsInputs = #"[{"name":"text","shape":[2],"datatype":"BYTES","data":["first","the second"]}]"#

    @Test func classesRankTheLogitsInJSON() throws {
        let plain = try Self.post(#"{"inputs":\#(Self.seqclsInputs)}"#, model: "seqcls")
        let logits = try #require((plain.json?["outputs"] as? [[String: Any]])?.first?["data"] as? [NSNumber])
            .map(\.floatValue)
        let response = try Self.post(#"{"inputs":\#(Self.seqclsInputs),"#
                                     + #""outputs":[{"name":"logits","parameters":{"classification":2}}]}"#, model: "seqcls")
        #expect(response.status == 200, "\(response.text)")
        let output = try #require((response.json?["outputs"] as? [[String: Any]])?.first)
        #expect(output["datatype"] as? String == "BYTES")
        #expect(output["shape"] as? [Int] == [2, 2])
        let names = ["zero", "one", "two"]
        var expected: [String] = []
        for row in 0..<2 {
            let scores = Array(logits[(row * 3)..<(row * 3 + 3)])
            let order = (0..<3).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            expected += order.prefix(2).map { String(format: "%f", Double(scores[$0])) + ":\($0):\(names[$0])" }
        }
        #expect(output["data"] as? [String] == expected)
    }

    /// The byte tokenizer's token `id` as `/infer`'s fill-mask shows it, worked out here: a special token's text,
    /// a printable ASCII byte as itself, any other byte as `\xNN`.
    static func byteLabel(_ id: Int) -> String {
        if id < 6 { return ["[PAD]", "[BOS]", "[EOS]", "[MASK]", "[CLS]", "[SEP]"][id] }
        return (0x20..<0x7f).contains(id - 6) ? String(UnicodeScalar(UInt8(id - 6))) : String(format: "\\x%02x", id - 6)
    }

    @Test func classesPerPositionInBinary() throws {
        // [CLS] g [MASK] d [SEP]: the top 3 bytes at the mask and at 'g', as length-prefixed strings.
        let inputs = #"[{"name":"text","shape":[1],"datatype":"BYTES","data":["g[MASK]d"]},"#
            + #"{"name":"output_positions","shape":[1,2],"datatype":"INT64","data":[2,1]}]"#
        let plain = try Self.post(#"{"inputs":\#(inputs)}"#, model: "mlm")
        let logits = try #require((plain.json?["outputs"] as? [[String: Any]])?.first?["data"] as? [NSNumber])
            .map(\.floatValue)
        #expect(logits.count == 2 * 262)
        let json = #"{"inputs":\#(inputs),"#
            + #""outputs":[{"name":"logits","parameters":{"classification":3,"binary_data":true}}]}"#
        let response = try Self.post(json, model: "mlm")
        let length = try #require(response.header("Inference-Header-Content-Length").flatMap(Int.init))
        let header = try #require(try JSONSerialization.jsonObject(with: response.body.prefix(length)) as? [String: Any])
        let output = try #require((header["outputs"] as? [[String: Any]])?.first)
        #expect(output["datatype"] as? String == "BYTES" && output["shape"] as? [Int] == [1, 2, 3])
        var strings: [String] = []
        var rest = [UInt8](response.body.dropFirst(length))
        while rest.count >= 4 {
            let count = Int(rest[0]) | Int(rest[1]) << 8 | Int(rest[2]) << 16 | Int(rest[3]) << 24
            guard rest.count >= 4 + count else { break }
            strings.append(String(decoding: rest[4..<(4 + count)], as: UTF8.self))
            rest.removeFirst(4 + count)
        }
        #expect(rest.isEmpty)
        var expected: [String] = []
        for position in 0..<2 {
            let scores = Array(logits[(position * 262)..<((position + 1) * 262)])
            let order = (0..<262).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            expected += order.prefix(3).map { String(format: "%f", Double(scores[$0])) + ":\($0):\(Self.byteLabel($0))" }
        }
        #expect(strings == expected)
    }

    @Test(arguments: [
        (#"{"classification":0}"#, "0"), (#"{"classification":-1}"#, "-1"), (#"{"classification":1.5}"#, "1.5"),
        (#"{"classification":"2"}"#, #""2""#), (#"{"classification":false}"#, "false"),
    ])
    func countsThatAreNotPositiveIntegersAreRefused(parameters: String, shown: String) throws {
        let json = #"{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["a"]}],"#
            + #""outputs":[{"name":"logits","parameters":\#(parameters)}]}"#
        let response = try Self.post(json, model: "mlm")
        #expect(response.status == 400)
        #expect(response.json?["error"] as? String == "output 'logits': parameter 'classification' must be an "
                + "integer of at least 1 (how many classes to return), got \(shown)")
    }

    @Test func aCountBeyondTheClassesReturnsThemAll() throws {
        let response = try Self.post(#"{"inputs":\#(Self.seqclsInputs),"#
                                     + #""outputs":[{"name":"logits","parameters":{"classification":1000}}]}"#,
                                     model: "seqcls")
        #expect(response.status == 200, "\(response.text)")
        let output = try #require((response.json?["outputs"] as? [[String: Any]])?.first)
        #expect(output["shape"] as? [Int] == [2, 3])
        #expect((output["data"] as? [String])?.count == 6)
    }
}
