import Foundation
import ModelServer
import PerceiverEngine
import Testing

/// V2 JSON bodies are read strictly, and checked against the model's specs before any data is decoded.
@Suite struct V2StrictJSONTests {
    /// Specs like a text model's and a flow model's (frames of 6 x 8).
    static let specs = textSpecs + [
        TensorSpec(name: "frames", datatypes: ["FP32"], shape: [-1, 2, 3, 6, 8], isOptional: true),
    ]

    static func error(_ json: String, specs: [TensorSpec] = specs) -> RequestError? {
        do throws(RequestError) {
            _ = try V2InferenceRequest(body: Data(json.utf8), inferenceHeaderLength: nil, specs: specs)
            return nil
        } catch {
            return error
        }
    }

    static func input(_ name: String = "input_ids", shape: String = "[1,2]", datatype: String = "INT64",
                      data: String) -> String {
        #"{"name":"\#(name)","shape":\#(shape),"datatype":"\#(datatype)","data":\#(data)}"#
    }

    @Test(arguments: [
        (input(data: "[4,true]"), "input 'input_ids': values must be numbers, but element 1 is a boolean"),
        (input(data: "[4,null]"), "input 'input_ids': values must be numbers, but element 1 is null"),
        (input(shape: "[true,2]", data: "[4,5]"), "input 'input_ids': shape must hold non-negative integers"),
        (input(shape: "[1,2.0]", data: "[4,5]"), "input 'input_ids': shape must hold non-negative integers"),
        (input(data: "[4,5.0]"), "input 'input_ids': INT64 data must be integers, got 5.0"),
        (input(data: "[4,1e1]"), "input 'input_ids': INT64 data must be integers, got 1e1"),
        (input(data: "[4,9223372036854775808]"),
         "input 'input_ids': element 1 is 9223372036854775808, beyond the 64-bit integer range"),
        (input("frames", shape: "[1,2,3,6,8]", datatype: "FP32", data: "[-1e39" + String(repeating: ",0", count: 287) + "]"),
         "input 'frames': element 0 is -Inf in FP32 (-1e39 is beyond the FP32 range, ±3.4028235e+38); inputs must be "
            + "finite numbers"),
    ])
    func booleansNullAndInexactNumbersAreRefused(input: String, message: String) {
        let error = Self.error(#"{"inputs":["# + input + "]}")
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }

    @Test func boolTensorsTakeTrueAndFalse() throws {
        let request = try V2InferenceRequest(json: Data(#"{"inputs":[{"name":"m","shape":[3],"datatype":"BOOL","data":[true,false,1]}]}"#.utf8))
        #expect(request.inputs[0].data == .integers([1, 0, 1]))
    }

    @Test(arguments: [
        (#"{"inputs":[{"name":"input_ids","shape":[1,1],"datatype":"INT64","data":[4]}],"inputs":[]}"#,
         "duplicate key 'inputs' in the top-level object; give each key once"),
        (#"{"inputs":[{"name":"input_ids","name":"x","shape":[1],"datatype":"INT64","data":[4]}]}"#,
         "duplicate key 'name' in inputs[0]; give each key once"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,1],"datatype":"INT64","data":[4]}],"parameters":{"timeout":1,"timeout":2}}"#,
         "duplicate key 'timeout' in parameters; give each key once"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,1],"datatype":"INT64","data":[4],"data":[5]}]}"#,
         "duplicate key 'data' in inputs[0]; give each key once"),
    ])
    func duplicateKeysAreRefusedByName(json: String, message: String) {
        #expect(Self.error(json)?.description == "malformed request body: " + message)
    }

    @Test func emptyOutputsAreRefusedWithTheFix() {
        let json = #"{"inputs":["# + Self.input(shape: "[1,1]", data: "[4]") + #"],"outputs":[]}"#
        #expect(Self.error(json)?.description
                == "malformed request body: 'outputs' is empty; leave 'outputs' out to get every output")
    }

    @Test func unknownFieldsAndParametersAreStillTolerated() throws {
        let json = #"{"model_name":"m","x":{"y":[1,{"z":null}]},"inputs":["# + Self.input(shape: "[1,1]", data: "[4]")
            + #"],"parameters":{"tag":"a","n":3,"r":1.5e3,"b":true,"list":[1],"none":null}}"#
        let request = try V2InferenceRequest(body: Data(json.utf8), inferenceHeaderLength: nil, specs: Self.specs)
        #expect(request.parameters == ["tag": .string("a"), "n": .int(3), "r": .double(1500), "b": .bool(true)])
    }

    // Each of these bodies has data that could not be decoded (a boolean, a fraction for an integer input,
    // a number beyond FP32): the error being the earlier check's shows that data was never decoded.
    @Test(arguments: [
        (input("pixels", data: "[4,true]"),
         "input 'pixels': this model takes no such input (inputs: input_ids, attention_mask, frames)"),
        (input(datatype: "FP32", data: "[4,true]"), "input 'input_ids': datatype FP32, expected INT64 or INT32"),
        (input(shape: "[2]", data: "[4,true]"),
         "input 'input_ids': shape [2] does not fit the model's [-1, -1] (-1: any size)"),
        (input("frames", shape: "[1,2,3,5,8]", datatype: "FP32", data: "[1e39]"),
         "input 'frames': shape [1, 2, 3, 5, 8] does not fit the model's [-1, 2, 3, 6, 8] (-1: any size)"),
        (input(shape: "[1,3]", data: "[4,0.5]"), "input 'input_ids': shape [1, 3] needs 3 values, data has 2"),
        (input(data: "[4,true]") + "," + input("pixels", data: "[1,2]"),
         "input 'pixels': this model takes no such input (inputs: input_ids, attention_mask, frames)"),
        (input(data: "[4,true]") + "," + input(data: "[1,2]"), "input 'input_ids': given more than once"),
    ])
    func namesDatatypesAndShapesAreCheckedBeforeAnyDataIsDecoded(inputs: String, message: String) {
        let error = Self.error(#"{"inputs":["# + inputs + "]}")
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }

    @Test func withoutSpecsTheModelChecksComeLater() throws {
        // `init(json:)` knows no model: names and datatypes are left to `ModelInputs(v2:specs:)`.
        let request = try V2InferenceRequest(json: Data((#"{"inputs":["# + Self.input("pixels", data: "[1,2]") + "]}").utf8))
        #expect(request.inputs[0].name == "pixels")
    }

    @Test func aHugeBodyWithTheWrongShapeIsRefusedWithoutDecoding() throws {
        // 2 Mi numbers (4 MiB) declared as a shape that does not fit the model: refused after one validating
        // pass, with nothing decoded (the last number is beyond FP32, which decoding would refuse instead).
        let body = #"{"inputs":[{"name":"frames","datatype":"FP32","shape":[1,2,3,6,9],"data":["#
            + String(repeating: "1,", count: 2 << 20) + "1e39]}]}"
        let start = Date()
        let error = Self.error(body)
        #expect(error?.description == "input 'frames': shape [1, 2, 3, 6, 9] does not fit the model's [-1, 2, 3, 6, 8] "
                + "(-1: any size)")
        // Generous for a debug build on a loaded machine; the old path took seconds per million numbers.
        #expect(Date().timeIntervalSince(start) < 10)
    }
}
