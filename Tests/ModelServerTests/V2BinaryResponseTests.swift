import Foundation
import Testing
import ModelServer
import PerceiverEngine

@Suite struct V2BinaryResponseTests {
    /// docs/reference/serving.md 1.9: model "mymodel" version "1", id "42", output0 FP32 [2,4] = 0, 2, ..., 14.
    static func example(binary: Bool) -> V2InferenceResponse {
        let output = V2Tensor(name: "output0", datatype: "FP32", shape: [2, 4],
                              data: .floats((0..<8).map { Float(2 * $0) }))
        return V2InferenceResponse(modelName: "mymodel", modelVersion: "1", id: "42", outputs: [output],
                                   binaryOutputs: binary ? ["output0"] : [])
    }

    @Test func binaryResponseFramingMatchesTheSpecExample() {
        let (body, headerLength) = Self.example(binary: true).encoded()
        let json = #"{"model_name":"mymodel","model_version":"1","id":"42","outputs":[{"name":"output0","#
            + #""datatype":"FP32","shape":[2,4],"parameters":{"binary_data_size":32}}]}"#
        let floats: [UInt32] = [0, 0x4000_0000, 0x4080_0000, 0x40C0_0000, 0x4100_0000, 0x4120_0000, 0x4140_0000,
                                0x4160_0000]
        #expect(headerLength == 154)
        #expect(body.count == 186)
        #expect(body == Data(json.utf8) + Data(LittleEndian.bytes(floats)))
    }

    @Test func jsonResponseIsUnchangedWhenNothingIsBinary() {
        let response = Self.example(binary: false)
        let (body, headerLength) = response.encoded()
        let json = #"{"model_name":"mymodel","model_version":"1","id":"42","outputs":[{"name":"output0","#
            + #""datatype":"FP32","shape":[2,4],"data":[0.0,2.0,4.0,6.0,8.0,10.0,12.0,14.0]}]}"#
        #expect(headerLength == nil)
        #expect(body == response.jsonData())
        #expect(String(decoding: body, as: UTF8.self) == json)
        #expect(body.count == 161)
        // jsonData() writes every output as data, binary or not.
        #expect(Self.example(binary: true).jsonData() == body)
    }

    @Test func binaryOutputsFollowTheJSONInOutputOrder() {
        let a = V2Tensor(name: "a", datatype: "INT64", shape: [1], data: .integers([-2]))
        let b = V2Tensor(name: "b", datatype: "BOOL", shape: [2], data: .integers([1, 0]))
        let c = V2Tensor(name: "c", datatype: "FP16", shape: [1], data: .floats([1]))
        let response = V2InferenceResponse(modelName: "m", modelVersion: nil, id: nil, outputs: [a, b, c],
                                           binaryOutputs: ["a", "c"])
        let (body, headerLength) = response.encoded()
        let json = #"{"model_name":"m","outputs":[{"name":"a","datatype":"INT64","shape":[1],"#
            + #""parameters":{"binary_data_size":8}},{"name":"b","datatype":"BOOL","shape":[2],"data":[true,false]},"#
            + #"{"name":"c","datatype":"FP16","shape":[1],"parameters":{"binary_data_size":2}}]}"#
        #expect(headerLength == json.utf8.count)
        #expect(body == Data(json.utf8) + Data(LittleEndian.bytes([Int64(-2)]) + LittleEndian.bytes([UInt16(0x3C00)])))
    }

    @Test func bfloat16EncodingRoundsToNearestEven() {
        let values: [Float] = [1, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), -2.5]
        let tensor = V2Tensor(name: "x", datatype: "BF16", shape: [4], data: .floats(values))
        #expect([UInt8](tensor.littleEndianBytes()) == LittleEndian.bytes([UInt16(0x3F80), 0x3F80, 0x3F82, 0xC020]))
    }
}

@Suite struct V2OutputSelectionTests {
    static let outputs = [
        V2Tensor(name: "logits", datatype: "FP32", shape: [1], data: .floats([1])),
        V2Tensor(name: "probs", datatype: "FP32", shape: [1], data: .floats([0.5])),
    ]

    static func response(_ json: String) throws -> V2InferenceResponse {
        let request = try V2InferenceRequest(json: Data(json.utf8))
        return try V2Inference.response(to: request, outputs: outputs, modelName: "m", modelVersion: "1")
    }

    static let input = #""inputs":[{"name":"input_ids","shape":[1],"datatype":"INT64","data":[1]}]"#

    @Test func withoutAnOutputsListAllOutputsFollowBinaryDataOutput() throws {
        let json = try Self.response("{" + Self.input + "}")
        #expect(json.outputs.map(\.name) == ["logits", "probs"])
        #expect(json.binaryOutputs.isEmpty)
        let binary = try Self.response("{" + Self.input + #","parameters":{"binary_data_output":true}}"#)
        #expect(binary.binaryOutputs == ["logits", "probs"])
    }

    @Test func theOutputsListChoosesAndOrdersAndOverridesTheDefault() throws {
        let response = try Self.response("{" + Self.input + #","parameters":{"binary_data_output":true},"#
            + #""outputs":[{"name":"probs","parameters":{"binary_data":false}},{"name":"logits"}]}"#)
        #expect(response.outputs.map(\.name) == ["probs", "logits"])
        #expect(response.binaryOutputs == ["logits"])
    }

    @Test func anUnknownOutputIsRefused() {
        #expect(throws: RequestError.unknownOutput(name: "x", available: ["logits", "probs"])) {
            try Self.response("{" + Self.input + #","outputs":[{"name":"x"}]}"#)
        }
    }

    @Test func requestParametersAreKept() throws {
        let json = "{" + Self.input + #","parameters":{"priority":1,"timeout":1000,"binary_data_output":false,"#
            + #""tag":"a","ratio":1.5,"nested":{"x":1}},"model_name":"m"}"#
        let request = try V2InferenceRequest(json: Data(json.utf8))
        #expect(request.priority == 1)
        #expect(request.timeout == 1000)
        #expect(!request.binaryDataOutput)
        #expect(request.parameters == ["priority": .int(1), "timeout": .int(1000), "binary_data_output": .bool(false),
                                       "tag": .string("a"), "ratio": .double(1.5)])
    }

    @Test(arguments: [
        (#","parameters":{"binary_data_output":1}"#,
         "malformed request body: parameter 'binary_data_output' must be a boolean"),
        (#","parameters":{"timeout":-1}"#,
         "malformed request body: parameter 'timeout' must be an integer from 0 to 1099511627776"),
        (#","parameters":{"timeout":100000000000000000}"#,
         "malformed request body: parameter 'timeout' must be an integer from 0 to 1099511627776"),
        (#","parameters":{"priority":"high"}"#,
         "malformed request body: parameter 'priority' must be an integer from 0 to 1099511627776"),
        (#","parameters":[1]"#, "malformed request body: 'parameters' must be an object"),
        (#","outputs":[{"name":"logits","parameters":{"binary_data":"yes"}}]"#,
         "malformed request body: outputs[0].parameters.binary_data must be a boolean"),
        (#","outputs":[{"name":"logits"},{"name":"logits"}]"#,
         "malformed request body: output 'logits' is requested more than once"),
    ])
    func badParametersAreRefused(fields: String, message: String) {
        do throws(RequestError) {
            _ = try V2InferenceRequest(json: Data(("{" + Self.input + fields + "}").utf8))
            Issue.record("accepted: \(fields)")
        } catch {
            #expect(error.description == message)
        }
    }
}

@Suite struct V2BinaryInferenceTests {
    static let ids: [Int64] = [4, 103, 3, 5, 9, 11]

    static func floats(_ bytes: Data) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { offset in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.startIndex + offset + $1]) << (8 * $1) })
        }
    }

    @Test func binaryRequestGivesTheSameLogitsAsJSON() throws {
        let model = try ServerFixtures.model("mlm")
        let json = try ServerFixtures.request(#"{"inputs":[{"name":"input_ids","shape":[1,6],"datatype":"INT64","#
            + #""data":[4,103,3,5,9,11]}]}"#)
        let expected = try V2Inference.run(json, model: model, modelName: "mlm")
        guard case .floats(let logits) = expected.outputs[0].data else { Issue.record("logits are not floats"); return }

        let header = #"{"inputs":[{"name":"input_ids","shape":[1,6],"datatype":"INT64","#
            + #""parameters":{"binary_data_size":48}}],"outputs":[{"name":"logits","parameters":{"binary_data":true}}]}"#
        let (body, length) = LittleEndian.body(header, LittleEndian.bytes(Self.ids))
        let request = try V2InferenceRequest(body: body, inferenceHeaderLength: length, specs: model.inputSpecs)
        let (responseBody, headerLength) = try V2Inference.run(request, model: model, modelName: "mlm").encoded()
        let split = try #require(headerLength)
        let responseJSON = try JSONSerialization.jsonObject(with: responseBody.prefix(split)) as? [String: Any]
        let output = try #require((responseJSON?["outputs"] as? [[String: Any]])?.first)
        #expect(output["shape"] as? [Int] == [1, 6, 262])
        #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == logits.count * 4)
        #expect(output["data"] == nil)
        #expect(Self.floats(responseBody.dropFirst(split)) == logits)
    }

    @Test func rawBinaryRequestGivesTheSameLogits() throws {
        let model = try ServerFixtures.model("mlm")
        let json = try ServerFixtures.request(#"{"inputs":[{"name":"input_ids","shape":[1,6],"datatype":"INT64","#
            + #""data":[4,103,3,5,9,11]}]}"#)
        let expected = try V2Inference.run(json, model: model, modelName: "mlm")
        let raw = try V2InferenceRequest(body: Data(LittleEndian.bytes(Self.ids)), inferenceHeaderLength: 0,
                                         specs: model.inputSpecs)
        let (body, headerLength) = try V2Inference.run(raw, model: model, modelName: "mlm").encoded()
        let split = try #require(headerLength)
        #expect(Self.floats(body.dropFirst(split)) == Self.floats(expected.outputs[0].littleEndianBytes()))
    }
}
