import Foundation
import ModelServer
import PerceiverEngine
import Testing

/// Triton's classification extension: top-K `"value:index[:label]"` strings per row (docs/reference/serving.md
/// 1.11), checked against rankings worked out here independently of the code under test.
@Suite struct V2ClassificationTests {
    static func logits(_ shape: [Int], _ values: [Float]) -> V2Tensor {
        V2Tensor(name: "logits", datatype: "FP32", shape: shape, data: .floats(values))
    }

    static func strings(_ tensor: V2Tensor) -> [String] {
        guard case .bytes(let elements) = tensor.data else { return [] }
        return elements.strings
    }

    /// `%f` as Foundation's formatter writes it: the reference for the daemon's own `vsnprintf`.
    static func percentF(_ value: Float) -> String { String(format: "%f", Double(value)) }

    @Test func theTritonDocExample() throws {
        // extension_classification.md: output [1.1, 3.3, 0.5, 2.4] with classification 2 is ["3.3:1", "2.4:3"],
        // written by Triton's std::to_string as six decimals.
        let output = Self.logits([1, 4], [1.1, 3.3, 0.5, 2.4])
        let plain = try V2Classification.classify(output, count: 2, labels: .none)
        #expect(plain.datatype == "BYTES" && plain.shape == [1, 2])
        #expect(Self.strings(plain) == ["3.300000:1", "2.400000:3"])
        let labelled = try V2Classification.classify(output, count: 2, labels: .names(["a", "index_1_label", "c",
                                                                                      "index_3_label"]))
        #expect(Self.strings(labelled) == ["3.300000:1:index_1_label", "2.400000:3:index_3_label"])
    }

    @Test(arguments: [1, 2, 3])
    func fixtureLogitsRankAsByHand(count: Int) throws {
        // seqcls_batch: transformers' logits (B, 3) for labels zero, one, two.
        let fixture = try FixtureCases.load("seqcls_batch")
        let (shape, values) = (fixture.logitsShape, fixture.logits)
        let names = ["zero", "one", "two"]
        let classified = try V2Classification.classify(Self.logits(shape, values), count: count, labels: .names(names))
        #expect(classified.shape == [shape[0], count])
        var expected: [String] = []
        for row in 0..<shape[0] {
            let scores = Array(values[(row * 3)..<(row * 3 + 3)])
            // By hand: pick the largest remaining score K times.
            var left = Array(0..<3)
            for _ in 0..<count {
                let best = left.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
                left.removeAll { $0 == best }
                expected.append("\(Self.percentF(scores[best])):\(best):\(names[best])")
            }
        }
        #expect(Self.strings(classified) == expected)
    }

    @Test func tiesGoToTheLowerIndexAndNaNRanksLast() throws {
        let ties = try V2Classification.classify(Self.logits([1, 5], [2, 5, 5, 1, 5]), count: 4, labels: .none)
        #expect(Self.strings(ties) == ["5.000000:1", "5.000000:2", "5.000000:4", "2.000000:0"])
        let nan = try V2Classification.classify(Self.logits([1, 4], [.nan, -1, .nan, -0.0]), count: 4, labels: .none)
        #expect(Self.strings(nan) == ["-0.000000:3", "-1.000000:1", "nan:0", "nan:2"])
    }

    @Test func everyRowOfEveryPositionIsRankedAlone() throws {
        // (B, O, C) = (2, 2, 3): four rankings; the shape keeps B and O.
        let values: [Float] = [0, 1, 2, /**/ 9, 8, 7, /**/ 1, 3, 2, /**/ -1, -3, -2]
        let classified = try V2Classification.classify(Self.logits([2, 2, 3], values), count: 2, labels: .none)
        #expect(classified.shape == [2, 2, 2])
        #expect(Self.strings(classified) == ["2.000000:2", "1.000000:1", "9.000000:0", "8.000000:1",
                                             "3.000000:1", "2.000000:2", "-1.000000:0", "-2.000000:2"])
    }

    @Test func maskedLanguageModelClassesAreTheirBytes() throws {
        // ids: 3 [MASK]; byte + 6: 103 'a', 64 ':', 6 NUL, 261 0xFF, 38 ' '.
        var row = [Float](repeating: -10, count: 262)
        for (rank, id) in [103, 3, 64, 6, 261, 38].enumerated() { row[id] = Float(6 - rank) }
        let classified = try V2Classification.classify(Self.logits([1, 1, 262], row), count: 6, labels: .byteTokens)
        #expect(classified.shape == [1, 1, 6])
        #expect(Self.strings(classified) == ["6.000000:103:a", "5.000000:3:[MASK]", "4.000000:64::",
                                             "3.000000:6:\\x00", "2.000000:261:\\xff", "1.000000:38: "])
    }

    @Test func labelsFollowTheTask() throws {
        #expect(V2Classification.labels(of: try ServerFixtures.model("seqcls")) == ["logits": .names(["zero", "one", "two"])])
        #expect(V2Classification.labels(of: try ServerFixtures.model("mlm")) == ["logits": .byteTokens])
        #expect(V2Classification.labels(of: try ServerFixtures.model("flow")) == [:])
    }

    @Test(arguments: [Float(0), -1.5, 3.3, 1e-7, 123456.789, 1e20, -.greatestFiniteMagnitude, .infinity, -.infinity,
                      .nan])
    func valuesAreWrittenAsPercentF(value: Float) throws {
        let classified = try V2Classification.classify(Self.logits([1, 1], [value]), count: 1, labels: .none)
        #expect(Self.strings(classified) == ["\(Self.percentF(value)):0"])
    }

    // MARK: K bounds

    static func request(_ parameters: String) -> String {
        #"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"INT64","data":[4,5]}],"#
            + #""outputs":[{"name":"logits","parameters":\#(parameters)}]}"#
    }

    @Test(arguments: [(#"{"classification":0}"#, "0"), (#"{"classification":-2}"#, "-2"),
                      (#"{"classification":2.5}"#, "2.5"), (#"{"classification":"3"}"#, #""3""#),
                      (#"{"classification":true}"#, "true"), (#"{"classification":1e30}"#, "1e+30")])
    func aCountThatIsNotAPositiveIntegerIsRefused(parameters: String, shown: String) {
        #expect(throws: RequestError.badOutput(name: "logits", reason: "parameter 'classification' must be an integer "
                                               + "of at least 1 (how many classes to return), got \(shown)")) {
            try V2InferenceRequest(json: Data(Self.request(parameters).utf8))
        }
    }

    @Test func aCountBeyondTheClassesReturnsEveryClassAsTritonDoes() throws {
        // Triton: min(K, classes) strings per row, and the shape's last dimension says so.
        let fits = try V2InferenceRequest(json: Data(Self.request(#"{"classification":3.0}"#).utf8))
        #expect(fits.outputs?.first?.classification == 3)
        let beyond = try V2InferenceRequest(json: Data(Self.request(#"{"classification":9223372036854775807}"#).utf8))
        let count = try #require(beyond.outputs?.first?.classification)
        let classified = try V2Classification.classify(Self.logits([2, 3], [1, 2, 3, 6, 5, 4]), count: count,
                                                       labels: .none)
        #expect(classified.shape == [2, 3])
        #expect(Self.strings(classified) == ["3.000000:2", "2.000000:1", "1.000000:0",
                                             "6.000000:0", "5.000000:1", "4.000000:2"])
        // No classes: rows of nothing.
        let empty = try V2Classification.classify(Self.logits([2, 0], []), count: 5, labels: .none)
        #expect(empty.shape == [2, 0] && Self.strings(empty).isEmpty)
    }

    @Test func onlyFloatOutputsClassify() throws {
        let specs = [TensorSpec(name: "logits", datatypes: ["INT64"], shape: [-1, 3], isOptional: false)]
        let request = try V2InferenceRequest(json: Data(Self.request(#"{"classification":1}"#).utf8))
        #expect(throws: RequestError.badOutput(name: "logits", reason: "classification needs an FP32 output, this "
                                               + "one is INT64")) {
            try V2Classification.check(request, specs: specs)
        }
        try V2Classification.check(request, specs: [TensorSpec(name: "logits", datatypes: ["FP32"], shape: [-1, 3],
                                                                isOptional: false)])
        let ints = V2Tensor(name: "ids", datatype: "INT64", shape: [1, 2], data: .integers([1, 2]))
        #expect(throws: RequestError.badOutput(name: "ids", reason: "classification needs an FP32 output of at least "
                                               + "one dimension, this one is INT64 [1, 2]")) {
            try V2Classification.classify(ints, count: 1, labels: .none)
        }
    }

    // MARK: Through a model

    @Test func theResponseCarriesTheClassesInJSONAndBinary() throws {
        let model = try ServerFixtures.model("seqcls")
        let inputs = #"{"name":"input_ids","shape":[2,3],"datatype":"INT64","data":[4,50,5,4,60,5]}"#
        let plain = try V2Inference.run(try ServerFixtures.request(#"{"inputs":[\#(inputs)]}"#), model: model,
                                        modelName: "seqcls")
        let request = try ServerFixtures.request(#"{"inputs":[\#(inputs)],"outputs":[{"name":"logits","#
                                                 + #""parameters":{"classification":2,"binary_data":true}}]}"#)
        let response = try V2Inference.run(request, model: model, modelName: "seqcls")
        let expected = try V2Classification.classify(plain.outputs[0], count: 2, labels: .names(["zero", "one", "two"]))
        #expect(response.outputs == [expected])
        #expect(expected.shape == [2, 2] && Self.strings(expected).allSatisfy { $0.split(separator: ":").count == 3 })
        let (body, headerLength) = response.encoded()
        let length = try #require(headerLength)
        #expect(String(decoding: body.prefix(length), as: UTF8.self).contains(
            #""datatype":"BYTES","shape":[2,2],"parameters":{"binary_data_size":"#))
        #expect([UInt8](body.dropFirst(length)) == LengthPrefixed.bytes(Self.strings(expected)))
        let json = try JSONSerialization.jsonObject(with: response.jsonData()) as? [String: Any]
        #expect((json?["outputs"] as? [[String: Any]])?.first?["data"] as? [String] == Self.strings(expected))
    }

    @Test func serverMetadataAdvertisesClassification() {
        #expect(V2Metadata.extensions.contains("classification"))
    }
}
