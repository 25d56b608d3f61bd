import Foundation
import ModelServer
import PerceiverEngine
import Testing

/// The `text` BYTES input of the text models: tokenized as `/infer` does, padded and masked, run as `input_ids`.
@Suite struct TextInputTests {
    static func text(_ strings: V2Tensor.ByteStrings, shape: [Int]? = nil) -> V2Tensor {
        V2Tensor(name: "text", datatype: "BYTES", shape: shape ?? [strings.count], data: .bytes(strings))
    }

    static func ids(_ shape: [Int], _ values: [Int], name: String = "input_ids") -> V2Tensor {
        V2Tensor(name: name, datatype: "INT64", shape: shape, data: .integers(values))
    }

    static func expandError(_ tensors: [V2Tensor], maxLength: Int = 2048, maxRows: Int = .max) -> RequestError? {
        do throws(RequestError) {
            _ = try TextInput.expand(tensors, maxLength: maxLength, maxRows: maxRows)
            return nil
        } catch {
            return error
        }
    }

    @Test func oneStringBecomesItsIdsWithoutAMask() throws {
        // [CLS] a ' ' [MASK] [SEP]: bytes + 6, the special-token string as its id, as ByteTokenizer.encode.
        let expanded = try TextInput.expand([Self.text(["a [MASK]"])], maxLength: 2048)
        #expect(expanded == [Self.ids([1, 5], [4, 103, 38, 3, 5])])
    }

    @Test func stringsArePaddedToTheLongestWithAMask() throws {
        let positions = Self.ids([2, 1], [1, 1], name: "output_positions")
        let expanded = try TextInput.expand([positions, Self.text(["héllo", "", "ab"], shape: [3, 1])], maxLength: 2048)
        let hello = [4] + "héllo".utf8.map { Int($0) + 6 } + [5]
        #expect(expanded[0] == positions)
        #expect(expanded[1] == Self.ids([3, 8], hello + [4, 5, 0, 0, 0, 0, 0, 0] + [4, 103, 104, 5, 0, 0, 0, 0]))
        #expect(expanded[2] == Self.ids([3, 8], Array(repeating: 1, count: 8) + [1, 1, 0, 0, 0, 0, 0, 0]
                                        + [1, 1, 1, 1, 0, 0, 0, 0], name: "attention_mask"))
    }

    @Test func withoutTextTheTensorsAreUnchanged() throws {
        let tensors = [Self.ids([1, 2], [4, 5])]
        #expect(try TextInput.expand(tensors, maxLength: 1) == tensors)
    }

    @Test(arguments: [
        ([text(["a"]), ids([1, 2], [4, 5])], "input 'text': give 'text' or 'input_ids', not both"),
        ([ids([1, 2], [4, 5]), text(["a"])], "input 'text': give 'text' or 'input_ids', not both"),
        ([text(["a"]), ids([1, 3], [1, 1, 1], name: "attention_mask")],
         "input 'attention_mask': 'text' makes its own attention_mask; give attention_mask only with input_ids"),
        ([text([], shape: [0])], "input 'text': holds no strings"),
        ([text(V2Tensor.ByteStrings([Array("ok".utf8), [0x61, 0x62, 0xC3, 0x28]]))],
         "input 'text': element 1 is not valid UTF-8 (at byte 2); send text as UTF-8"),
        ([text(V2Tensor.ByteStrings([[0xED, 0xA0, 0x80]]))],
         "input 'text': element 0 is not valid UTF-8 (at byte 0); send text as UTF-8"),
    ] as [([V2Tensor], String)])
    func conflictsAndBadStringsAreRefusedByName(tensors: [V2Tensor], message: String) {
        let error = Self.expandError(tensors)
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }

    @Test func tooLongAStringIsRefusedAsInfer() {
        // /infer's words for one text, with the element named.
        #expect(Self.expandError([Self.text(["ab", "abcd"])], maxLength: 5)?.description
                == "input 'text': element 1 encodes to 6 tokens; the model takes at most 5")
    }

    @Test func moreStringsThanTheBatchLimitAreRefusedBeforeTokenizing() {
        let many = V2Tensor.ByteStrings(Array(repeating: Array("x".utf8), count: 9))
        #expect(Self.expandError([Self.text(many)], maxRows: 8) == .batchTooLarge(rows: 9, limit: 8))
    }

    @Test func aBatchOfOneColumnIsTakenAndOtherShapesAreNot() throws {
        let specs = textSpecs + [TextInput.spec]
        let column = #"{"inputs":[{"name":"text","shape":[2,1],"datatype":"BYTES","data":[["a"],["b"]]}]}"#
        let request = try V2InferenceRequest(body: Data(column.utf8), inferenceHeaderLength: nil, specs: specs)
        #expect(request.inputs == [Self.text(["a", "b"], shape: [2, 1])])
        let wide = #"{"inputs":[{"name":"text","shape":[1,2],"datatype":"BYTES","data":[["a","b"]]}]}"#
        #expect(throws: RequestError.badTensor(name: "text", reason: "shape [1, 2] does not fit the model's [-1] "
                                               + "(-1: any size)")) {
            try V2InferenceRequest(body: Data(wide.utf8), inferenceHeaderLength: nil, specs: specs)
        }
        let ints = #"{"inputs":[{"name":"text","shape":[1],"datatype":"INT64","data":[1]}]}"#
        #expect(throws: RequestError.badTensor(name: "text", reason: "datatype INT64, expected BYTES")) {
            try V2InferenceRequest(body: Data(ints.utf8), inferenceHeaderLength: nil, specs: specs)
        }
    }

    @Test func onlyTextModelsTakeText() throws {
        #expect(TextInput.specs(of: try ServerFixtures.model("mlm")).last == TextInput.spec)
        #expect(TextInput.specs(of: try ServerFixtures.model("seqcls")).last == TextInput.spec)
        let image = try ServerFixtures.model("learned")
        #expect(TextInput.specs(of: image) == image.inputSpecs)
    }

    @Test func theTokensAreThoseOfTheTaskEndpoint() throws {
        let model = try ServerFixtures.model("mlm")
        let text = "a cat [MASK] on the mat"
        let expanded = try TextInput.expand([Self.text([text])], maxLength: model.config.maxPositionEmbeddings)
        let ids = try FillMask.Query(model: model, text: text).ids
        #expect(expanded == [Self.ids([1, ids.count], ids)])
    }

    /// The logits of `strings` as `text` equal those of the same ids as `input_ids` (with the same mask), bit for
    /// bit: the text is nothing but another way to write the ids.
    @Test(arguments: [("mlm", ["a [MASK] c"]), ("mlm", ["hello [MASK]", "x"]), ("seqcls", ["one"]),
                      ("seqcls", ["a longer text", "ab", ""])])
    func textRunsExactlyAsItsInputIDs(model name: String, strings: [String]) throws {
        let model = try ServerFixtures.model(name)
        let rows = strings.map { ByteTokenizer().encode($0) }
        let length = rows.map(\.count).max() ?? 0
        var tensors = [Self.ids([rows.count, length], rows.flatMap { $0 + Array(repeating: 0, count: length - $0.count) })]
        if rows.contains(where: { $0.count < length }) {
            tensors.append(Self.ids([rows.count, length], rows.flatMap {
                Array(repeating: 1, count: $0.count) + Array(repeating: 0, count: length - $0.count)
            }, name: "attention_mask"))
        }
        let byIDs = try V2Inference.run(V2InferenceRequest(inputs: tensors), model: model, modelName: name)
        let byText = try V2Inference.run(V2InferenceRequest(inputs: [Self.text(V2Tensor.ByteStrings(strings.map(\.utf8)))]),
                                         model: model, modelName: name)
        #expect(byText.outputs == byIDs.outputs)
        guard case .floats(let values) = byText.outputs[0].data else { return #expect(Bool(false)) }
        guard case .floats(let expected) = byIDs.outputs[0].data else { return #expect(Bool(false)) }
        #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}
