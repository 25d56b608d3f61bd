import Foundation
import ModelServer
import Testing

/// BYTES elements written by hand: each a 4-byte little-endian length, then its bytes
/// (docs/reference/serving.md 1.8, `tritonclient.utils.serialize_byte_tensor`).
enum LengthPrefixed {
    static func bytes(_ elements: [[UInt8]]) -> [UInt8] {
        elements.flatMap { LittleEndian.bytes([UInt32($0.count)]) + $0 }
    }

    static func bytes(_ strings: [String]) -> [UInt8] { bytes(strings.map { Array($0.utf8) }) }
}

/// BYTES tensors in the V2 codec: JSON strings and length-prefixed binary, in requests and responses.
@Suite struct V2BytesTests {
    static func header(shape: [Int], size: Int, name: String = "x") -> String {
        #"{"inputs":[{"name":""# + name + #"","shape":"# + "\(shape)"
            + #","datatype":"BYTES","parameters":{"binary_data_size":"# + "\(size)}}]}"
    }

    static func parse(_ json: String, _ binary: [UInt8]) throws(RequestError) -> V2InferenceRequest {
        let (body, length) = LittleEndian.body(json, binary)
        return try V2InferenceRequest(body: body, inferenceHeaderLength: length, specs: [])
    }

    static func error(_ json: String, _ binary: [UInt8]? = nil) -> RequestError? {
        do throws(RequestError) {
            if let binary {
                _ = try parse(json, binary)
            } else {
                _ = try V2InferenceRequest(json: Data(json.utf8))
            }
            return nil
        } catch {
            return error
        }
    }

    // MARK: Requests

    @Test func theSpecExampleBytesDecode() throws {
        // docs/reference/serving.md 1.8: serialize_byte_tensor([b"ab", b"cde"]) is 02000000 6162 03000000 636465.
        let bytes: [UInt8] = [2, 0, 0, 0, 0x61, 0x62, 3, 0, 0, 0, 0x63, 0x64, 0x65]
        #expect(LengthPrefixed.bytes(["ab", "cde"]) == bytes)
        let request = try Self.parse(Self.header(shape: [2], size: bytes.count), bytes)
        #expect(request.inputs == [V2Tensor(name: "x", datatype: "BYTES", shape: [2], data: .bytes(["ab", "cde"]))])
        #expect([UInt8](request.inputs[0].littleEndianBytes()) == bytes)
    }

    @Test func binaryElementsMayBeEmptyOrAnyBytes() throws {
        let elements: [[UInt8]] = [[], [0xFF, 0x00, 0xFE], [], Array("é[MASK]".utf8)]
        let bytes = LengthPrefixed.bytes(elements)
        let request = try Self.parse(Self.header(shape: [2, 2], size: bytes.count), bytes)
        #expect(request.inputs[0].data == .bytes(V2Tensor.ByteStrings(elements)))
        #expect(request.inputs[0].data.count == 4)
        #expect([UInt8](request.inputs[0].littleEndianBytes()) == bytes)
    }

    @Test func jsonStringsDecodeFlatOrNested() throws {
        let request = try V2InferenceRequest(json: Data(#"""
            {"inputs":[{"name":"a","shape":[2],"datatype":"BYTES","data":["a [MASK]","\u00e9\ud83d\ude00\n"]},
            {"name":"b","shape":[2,1],"datatype":"BYTES","data":[["x"],[""]]}]}
            """#.utf8))
        #expect(request.inputs.map(\.data) == [.bytes(["a [MASK]", "é😀\n"]), .bytes(["x", ""])])
    }

    @Test(arguments: [
        (#"["a",1]"#, "input 'x': BYTES data must be strings, but element 1 is a number"),
        (#"[["a"],[null]]"#, "input 'x': BYTES data must be strings, but element 1 is null"),
        (#"[true,"b"]"#, "input 'x': BYTES data must be strings, but element 0 is a boolean"),
        (#"["a",{"b":1}]"#, "input 'x': BYTES data must be strings, but element 1 is an object"),
        (#"["a"]"#, "input 'x': shape [2] needs 2 values, data has 1"),
        (#"["a","b","c"]"#, "input 'x': shape [2] needs 2 values, data has 3"),
    ])
    func jsonElementsMustBeStringsAndFillTheShape(data: String, message: String) {
        let error = Self.error(#"{"inputs":[{"name":"x","shape":[2],"datatype":"BYTES","data":"# + data + "}]}")
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }

    @Test func invalidUTF8InJSONIsRefusedAsMalformed() {
        // A JSON body is UTF-8 (RFC 8259 section 8.1); a lone surrogate escape is no text either.
        let raw = Data(#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":[""#.utf8) + Data([0xFF])
            + Data(#""]}]}"#.utf8)
        do throws(RequestError) {
            _ = try V2InferenceRequest(json: raw)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.description.hasPrefix("malformed request body: not valid JSON: invalid UTF-8"))
            #expect(error.status == 400)
        }
        let surrogate = Self.error(#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["\ud800"]}]}"#)
        #expect(surrogate?.description.contains("surrogate") == true)
    }

    @Test(arguments: [
        // A length prefix cut off after two bytes.
        ([2], LengthPrefixed.bytes(["ab"]) + [1, 0],
         "input 'x': element 1 of 2: its 4-byte length is cut off, 2 bytes are left of binary_data_size 8"),
        // A length beyond the bytes left, the largest a prefix can say.
        ([1], LittleEndian.bytes([UInt32.max]) + [0x61],
         "input 'x': element 0 of 1 declares 4294967295 bytes, but 1 are left of binary_data_size 5"),
        ([2], LengthPrefixed.bytes(["ab"]) + LittleEndian.bytes([UInt32(4)]) + [0x63],
         "input 'x': element 1 of 2 declares 4 bytes, but 1 are left of binary_data_size 11"),
        // More elements than the shape holds.
        ([1], LengthPrefixed.bytes(["ab", "c"]),
         "input 'x': the 1 elements end after 6 bytes, but binary_data_size is 11 (5 bytes left over)"),
        ([0], LengthPrefixed.bytes([""]),
         "input 'x': the 0 elements end after 0 bytes, but binary_data_size is 4 (4 bytes left over)"),
    ] as [([Int], [UInt8], String)])
    func malformedLengthsAndCountsAreRefused(shape: [Int], bytes: [UInt8], message: String) {
        let error = Self.error(Self.header(shape: shape, size: bytes.count), bytes)
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }

    @Test func fewerBytesThanTheLengthPrefixesIsRefusedFromTheHeader() {
        // Three elements need at least 12 bytes of lengths: refused before the binary section is looked at.
        let error = Self.error(Self.header(shape: [3], size: 8), LengthPrefixed.bytes(["", ""]))
        #expect(error?.description == "input 'x': binary_data_size is 8 bytes, but shape [3] of BYTES needs at least "
                + "12 (a 4-byte length per element)")
    }

    @Test func hugeDeclaredCountsAreRefusedBeforeAllocating() {
        // 2^31 elements would need 8 GiB of lengths: the header alone refuses a smaller size.
        let small = Self.error(Self.header(shape: [1 << 31], size: 16), LengthPrefixed.bytes(["", "", "", ""]))
        #expect(small?.description == "input 'x': binary_data_size is 16 bytes, but shape [2147483648] of BYTES "
                + "needs at least 8589934592 (a 4-byte length per element)")
        // A size that covers the count is refused against the bytes that follow, before anything is decoded.
        let claimed = Self.error(Self.header(shape: [1 << 31], size: 1 << 33), [0, 0, 0, 0])
        #expect(claimed == .binaryDataLength(declared: 1 << 33, actual: 4))
        let tooLarge = Self.error(Self.header(shape: [1 << 31, 2], size: 1 << 35), [])
        #expect(tooLarge == .badTensor(name: "x", reason: "shape [2147483648, 2] is too large"))
        let json = Self.error(#"{"inputs":[{"name":"x","shape":[1000000000],"datatype":"BYTES","data":["a"]}]}"#)
        #expect(json?.description == "input 'x': shape [1000000000] needs 1000000000 values, data has 1")
    }

    @Test func aSizeThatDoesNotAddUpIsRefused() {
        let bytes = LengthPrefixed.bytes(["ab"])
        #expect(Self.error(Self.header(shape: [1], size: 6), bytes + [0]) == .binaryDataLength(declared: 6, actual: 7))
    }

    @Test func bytesMixWithOtherBinaryInputsInOrder() throws {
        let strings = LengthPrefixed.bytes(["hi", ""])
        let json = #"{"inputs":[{"name":"a","shape":[1],"datatype":"INT32","parameters":{"binary_data_size":4}},"#
            + #"{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":\#(strings.count)}},"#
            + #"{"name":"c","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#
        let request = try Self.parse(json, LittleEndian.bytes([Int32(7)]) + strings
                                     + LittleEndian.bytes([UInt32(0x4000_0000)]))
        #expect(request.inputs.map(\.data) == [.integers([7]), .bytes(["hi", ""]), .floats([2])])
    }

    @Test func aBytesInputTheModelDoesNotTakeIsRefusedByDatatype() {
        do throws(RequestError) {
            _ = try V2InferenceRequest(body: Data(#"{"inputs":[{"name":"input_ids","shape":[1],"datatype":"BYTES","data":["a"]}]}"#.utf8),
                                       inferenceHeaderLength: nil, specs: textSpecs)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "input 'input_ids': datatype BYTES, expected INT64 or INT32")
        }
    }

    // MARK: Responses

    static let classes = V2Tensor(name: "logits", datatype: "BYTES", shape: [1, 2],
                                  data: .bytes(["3.300000:1:one", "2.400000:3:\"q\\"]))

    @Test func bytesOutputsAreJSONStrings() {
        let response = V2InferenceResponse(modelName: "m", modelVersion: "1", id: nil, outputs: [Self.classes])
        #expect(String(decoding: response.jsonData(), as: UTF8.self) == #"{"model_name":"m","model_version":"1","#
                + #""outputs":[{"name":"logits","datatype":"BYTES","shape":[1,2],"#
                + #""data":["3.300000:1:one","2.400000:3:\"q\\"]}]}"#)
    }

    @Test func bytesOutputsInBinaryAreLengthPrefixed() {
        let response = V2InferenceResponse(modelName: "m", modelVersion: nil, id: nil, outputs: [Self.classes],
                                           binaryOutputs: ["logits"])
        let (body, headerLength) = response.encoded()
        let strings = LengthPrefixed.bytes(["3.300000:1:one", "2.400000:3:\"q\\"])
        let json = #"{"model_name":"m","outputs":[{"name":"logits","datatype":"BYTES","shape":[1,2],"#
            + #""parameters":{"binary_data_size":\#(strings.count)}}]}"#
        #expect(headerLength == json.utf8.count)
        #expect(body == Data(json.utf8) + Data(strings))
    }

    @Test func bytesThatAreNotUTF8AreReplacedInJSONAndKeptInBinary() {
        let tensor = V2Tensor(name: "s", datatype: "BYTES", shape: [1], data: .bytes(V2Tensor.ByteStrings([[0x61, 0xFF]])))
        let response = V2InferenceResponse(modelName: "m", modelVersion: nil, id: nil, outputs: [tensor])
        #expect(String(decoding: response.jsonData(), as: UTF8.self).contains(#""data":["a\#u{FFFD}"]"#))
        #expect([UInt8](tensor.littleEndianBytes()) == [2, 0, 0, 0, 0x61, 0xFF])
    }
}
