import Foundation
import Testing
import ModelServer
import PerceiverEngine

/// Little-endian bytes written by hand, independent of the code under test.
enum LittleEndian {
    static func bytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in
            (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
    }

    /// A request body of `json` followed by `binary`, and its Inference-Header-Content-Length.
    static func body(_ json: String, _ binary: [UInt8]) -> (body: Data, headerLength: Int) {
        (Data(json.utf8) + Data(binary), json.utf8.count)
    }
}

/// Input specs like a text model's, for raw binary bodies parsed without a model.
let textSpecs = [
    TensorSpec(name: "input_ids", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: false),
    TensorSpec(name: "attention_mask", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true),
]

@Suite struct V2BinaryRequestTests {
    // Requests with a JSON header name their inputs freely here: no model's specs check them.
    static func parse(_ json: String, _ binary: [UInt8], specs: [TensorSpec] = []) throws -> V2InferenceRequest {
        let (body, length) = LittleEndian.body(json, binary)
        return try V2InferenceRequest(body: body, inferenceHeaderLength: length, specs: specs)
    }

    static func error(_ json: String, _ binary: [UInt8], headerLength: Int? = nil) -> RequestError? {
        let (body, length) = LittleEndian.body(json, binary)
        do throws(RequestError) {
            _ = try V2InferenceRequest(body: body, inferenceHeaderLength: headerLength ?? length, specs: [])
            return nil
        } catch {
            return error
        }
    }

    static func header(_ datatype: String, shape: [Int], size: Int) -> String {
        #"{"inputs":[{"name":"x","shape":"# + "\(shape)" + #","datatype":""# + datatype
            + #"","parameters":{"binary_data_size":"# + "\(size)}}]}"
    }

    @Test(arguments: [
        ("BOOL", [1, 0, 1], V2Tensor.Data.integers([1, 0, 1])),
        ("INT8", LittleEndian.bytes([Int8.min, 5]), .integers([-128, 5])),
        ("UINT8", [255, 0], .integers([255, 0])),
        ("INT16", LittleEndian.bytes([Int16(-2), 300]), .integers([-2, 300])),
        ("UINT16", LittleEndian.bytes([UInt16.max, 1]), .integers([65535, 1])),
        ("INT32", LittleEndian.bytes([Int32(-1), 1 << 30]), .integers([-1, 1 << 30])),
        ("UINT32", LittleEndian.bytes([UInt32.max, 7]), .integers([4_294_967_295, 7])),
        ("INT64", LittleEndian.bytes([Int64(-5), Int64.max]), .integers([-5, Int.max])),
        ("UINT64", LittleEndian.bytes([UInt64(Int.max), 3]), .integers([Int.max, 3])),
        ("FP16", LittleEndian.bytes([UInt16(0x3C00), 0xC000]), .floats([1, -2])),
        ("BF16", LittleEndian.bytes([UInt16(0x3F80), 0xC020]), .floats([1, -2.5])),
        ("FP32", LittleEndian.bytes([UInt32(0x3FC0_0000), 0xBF80_0000]), .floats([1.5, -1])),
        ("FP64", LittleEndian.bytes([UInt64(0x3FD0_0000_0000_0000), 0xC000_0000_0000_0000]), .floats([0.25, -2])),
    ] as [(String, [UInt8], V2Tensor.Data)])
    func binaryDataRoundTripsForEachDatatype(datatype: String, bytes: [UInt8], expected: V2Tensor.Data) throws {
        let elements = datatype == "BOOL" ? 3 : 2
        let request = try Self.parse(Self.header(datatype, shape: [1, elements], size: bytes.count), bytes)
        #expect(request.inputs[0] == V2Tensor(name: "x", datatype: datatype, shape: [1, elements], data: expected))
        #expect([UInt8](request.inputs[0].littleEndianBytes()) == bytes)
    }

    @Test func nonzeroBoolBytesAreTrue() throws {
        let request = try Self.parse(Self.header("BOOL", shape: [2], size: 2), [0, 7])
        #expect(request.inputs[0].data == .integers([0, 1]))
    }

    @Test func uint64BeyondIntMaxIsRefused() {
        let bytes = LittleEndian.bytes([UInt64.max])
        let error = Self.error(Self.header("UINT64", shape: [1], size: 8), bytes)
        #expect(error == .badTensor(name: "x", reason: "UINT64 value is larger than 9223372036854775807"))
        #expect(error?.status == 400)
    }

    @Test(arguments: [-1, 10_000])
    func headerLengthOutOfRangeIsRefused(length: Int) {
        let json = Self.header("INT64", shape: [1], size: 8)
        let error = Self.error(json, LittleEndian.bytes([Int64(4)]), headerLength: length)
        #expect(error == .inferenceHeaderOutOfRange(length: length, bodyLength: json.utf8.count + 8))
        #expect(error?.description.hasPrefix("inference header size should be in range") == true)
        #expect(error?.status == 400)
    }

    @Test func headerLengthValuesParse() throws {
        #expect(try V2InferenceRequest.inferenceHeaderLength(nil) == nil)
        #expect(try V2InferenceRequest.inferenceHeaderLength("174") == 174)
        #expect(try V2InferenceRequest.inferenceHeaderLength("-3") == -3)
        #expect(throws: RequestError.badInferenceHeaderLength("12a")) {
            try V2InferenceRequest.inferenceHeaderLength("12a")
        }
    }

    @Test func sizeThatDoesNotMatchTheShapeNamesBoth() {
        let error = Self.error(Self.header("INT64", shape: [1, 2], size: 12), Array(repeating: 0, count: 12))
        #expect(error?.description == "input 'x': binary_data_size is 12 bytes, but shape [1, 2] of INT64 needs 16")
    }

    @Test func extraAndMissingBytesAreCounted() {
        let json = Self.header("INT32", shape: [2], size: 8)
        let extra = Self.error(json, Array(repeating: 0, count: 11))
        #expect(extra == .binaryDataLength(declared: 8, actual: 11))
        #expect(extra?.description == "the inputs' binary_data_size values add up to 8 bytes, but 11 bytes follow "
                + "the JSON header (3 extra bytes)")
        let missing = Self.error(json, Array(repeating: 0, count: 5))
        #expect(missing?.description.hasSuffix("(3 bytes missing)") == true)
        let stray = Self.error(#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1]}]}"#, [0])
        #expect(stray == .binaryDataLength(declared: 0, actual: 1))
    }

    @Test func binaryInputsAreTakenInInputOrder() throws {
        let json = #"{"inputs":[{"name":"a","shape":[2],"datatype":"INT32","parameters":{"binary_data_size":8}},"#
            + #"{"name":"b","shape":[1],"datatype":"INT64","data":[9]},"#
            + #"{"name":"c","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#
        let request = try Self.parse(json, LittleEndian.bytes([Int32(1), 2]) + LittleEndian.bytes([UInt32(0x4000_0000)]))
        #expect(request.inputs.map(\.data) == [.integers([1, 2]), .integers([9]), .floats([2])])
    }

    @Test(arguments: [
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1],"parameters":{"binary_data_size":8}}]}"#,
         "input 'x': has both 'data' and binary_data_size; give one"),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","parameters":{"binary_data_size":-8}}]}"#,
         "input 'x': binary_data_size must be a non-negative integer"),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","parameters":{"binary_data_size":7.5}}]}"#,
         "input 'x': binary_data_size must be a non-negative integer"),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","parameters":{"binary_data_size":true}}]}"#,
         "input 'x': binary_data_size must be a non-negative integer"),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","parameters":{"binary_data_size":"8"}}]}"#,
         "input 'x': binary_data_size must be a non-negative integer"),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","parameters":{"binary_data_size":1e30}}]}"#,
         "input 'x': binary_data_size must be a non-negative integer"),
    ])
    func badBinaryDataSizesAreRefused(json: String, message: String) {
        let error = Self.error(json, Array(repeating: 0, count: 8))
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }

    @Test func hugeSizesAreRefusedBeforeAllocating() {
        // Would be 16 GiB if taken at its word; the section length check refuses it first.
        let matching = Self.error(Self.header("INT64", shape: [1 << 31], size: 1 << 34), [1, 2, 3])
        #expect(matching == .binaryDataLength(declared: 1 << 34, actual: 3))
        let unmatched = Self.error(Self.header("INT64", shape: [1], size: Int.max), [1, 2, 3])
        #expect(unmatched?.description == "input 'x': binary_data_size is \(Int.max) bytes, but shape [1] of INT64 needs 8")
        let claimed = Self.error(#"{"inputs":[{"name":"x","shape":[2147483648],"datatype":"INT64","data":[1]}]}"#, [])
        #expect(claimed?.description == "input 'x': shape [2147483648] needs 2147483648 values, data has 1")
        let tooLarge = Self.error(Self.header("INT64", shape: [1 << 31, 2], size: 1 << 35), [])
        #expect(tooLarge == .badTensor(name: "x", reason: "shape [2147483648, 2] is too large"))
    }

    @Test func binaryDataSizeWithoutHeaderLengthIsRefused() {
        let json = Self.header("INT64", shape: [1], size: 8)
        #expect(throws: RequestError.badTensor(name: "x", reason: "binary_data_size given, but the request has no "
                                               + "Inference-Header-Content-Length header")) {
            try V2InferenceRequest(json: Data(json.utf8))
        }
    }

    @Test(arguments: ["FP16", "BF16"])
    func halfPrecisionIsRefusedInJSON(datatype: String) {
        let json = #"{"inputs":[{"name":"x","shape":[1],"datatype":""# + datatype + #"","data":[1.5]}]}"#
        #expect(throws: RequestError.badTensor(name: "x", reason: "\(datatype) data is not supported in JSON; "
                                               + "send it as binary")) {
            try V2InferenceRequest(json: Data(json.utf8))
        }
    }

    @Test func jsonBoolAndLargeIntegersDecodeExactly() throws {
        let request = try V2InferenceRequest(json: Data(#"""
            {"inputs":[{"name":"b","shape":[2],"datatype":"BOOL","data":[true,false]},
            {"name":"i","shape":[1],"datatype":"INT64","data":[9007199254740993]}]}
            """#.utf8))
        #expect(request.inputs.map(\.data) == [.integers([1, 0]), .integers([9_007_199_254_740_993])])
    }

    @Test func theSpecExampleRequestParses() throws {
        // docs/reference/serving.md 1.9(b), as tritonclient sends it: IHCL 174, Content-Length 206.
        let json = #"{"id":"42","inputs":[{"name":"input0","shape":[2,4],"datatype":"FP32","parameters":"#
            + #"{"binary_data_size":32}}],"outputs":[{"name":"output0","parameters":{"binary_data":true}}]}"#
        let values: [UInt32] = [0, 0x3F80_0000, 0x4000_0000, 0x4040_0000, 0x4080_0000, 0x40A0_0000, 0x40C0_0000,
                                0x40E0_0000]
        let (body, length) = LittleEndian.body(json, LittleEndian.bytes(values))
        #expect(length == 174 && body.count == 206)
        let request = try V2InferenceRequest(body: body, inferenceHeaderLength: length, specs: [])
        #expect(request.id == "42")
        #expect(request.inputs == [V2Tensor(name: "input0", datatype: "FP32", shape: [2, 4],
                                            data: .floats([0, 1, 2, 3, 4, 5, 6, 7]))])
        #expect(request.returnsBinary(output: "output0"))
    }
}

@Suite struct V2RawBodyTests {
    @Test func rawBodyIsTheFirstRequiredInputWithBatchOne() throws {
        let bytes = LittleEndian.bytes([Int64(4), 103, 3, 5, 6])
        let request = try V2InferenceRequest(body: Data(bytes), inferenceHeaderLength: 0, specs: textSpecs)
        #expect(request.inputs == [V2Tensor(name: "input_ids", datatype: "INT64", shape: [1, 5],
                                            data: .integers([4, 103, 3, 5, 6]))])
        #expect(request.isRawBinary)
        #expect(request.returnsBinary(output: "logits"))
    }

    @Test func rawBodyFillsAFixedShape() throws {
        let specs = [TensorSpec(name: "pixel_values", datatypes: ["FP32"], shape: [-1, 3, 2, 2], isOptional: false)]
        let bytes = LittleEndian.bytes((0..<12).map { Float($0).bitPattern })
        let request = try V2InferenceRequest(body: Data(bytes), inferenceHeaderLength: 0, specs: specs)
        #expect(request.inputs[0].shape == [1, 3, 2, 2])
        #expect(request.inputs[0].data == V2Tensor.Data.floats((0..<12).map { Float($0) }))
        #expect(throws: RequestError.badTensor(name: "pixel_values", reason: "a raw binary body for shape "
                                               + "[1, 3, 2, 2] needs 48 bytes, the body has 52")) {
            try V2InferenceRequest(body: Data(bytes + [0, 0, 0, 0]), inferenceHeaderLength: 0, specs: specs)
        }
    }

    @Test func rawBodyIsRefusedForTwoVariableDimensions() {
        let specs = [TensorSpec(name: "pixel_values", datatypes: ["FP32"], shape: [-1, 3, -1, -1], isOptional: false)]
        #expect(throws: RequestError.badTensor(name: "pixel_values", reason: "a raw binary body "
            + "(Inference-Header-Content-Length: 0) needs a fixed shape, but [1, 3, -1, -1] with batch 1 still has 2 "
            + "variable dimensions; send a JSON header that gives the shape")) {
            try V2InferenceRequest(body: Data(count: 48), inferenceHeaderLength: 0, specs: specs)
        }
    }

    @Test func rawBodyMustBeWholeElements() {
        #expect(throws: RequestError.badTensor(name: "input_ids", reason: "a raw binary body of 13 bytes does not "
                                               + "fit shape [1, -1]: it must be a multiple of 8 bytes")) {
            try V2InferenceRequest(body: Data(count: 13), inferenceHeaderLength: 0, specs: textSpecs)
        }
    }
}
