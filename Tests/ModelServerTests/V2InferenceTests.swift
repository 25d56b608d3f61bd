import Foundation
import Testing
import ModelServer
import PerceiverEngine

/// The fixture models, found beside the engine tests.
enum ServerFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PerceiverEngineTests/Fixtures").path

    static func model(_ name: String) throws -> PerceiverModel {
        try PerceiverModel.load(directory: root + "/models/" + name, options: ExecutionOptions(threads: 1))
    }

    static func request(_ json: String) throws -> V2InferenceRequest {
        try V2InferenceRequest(json: Data(json.utf8))
    }

    static func requestError(_ json: String, model: PerceiverModel) -> RequestError? {
        do {
            let parsed = try V2InferenceRequest(json: Data(json.utf8))
            _ = try V2Inference.run(parsed, model: model, modelName: "m")
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct V2InferenceTests {
    @Test func flatAndNestedDataDecodeTheSame() throws {
        let flat = try ServerFixtures.request(
            #"{"inputs":[{"name":"input_ids","shape":[2,2],"datatype":"INT64","data":[4,7,8,5]}]}"#)
        let nested = try ServerFixtures.request(
            #"{"inputs":[{"name":"input_ids","shape":[2,2],"datatype":"INT64","data":[[4,7],[8,5]]}]}"#)
        #expect(flat.inputs == nested.inputs)
        #expect(flat.inputs[0].data == .integers([4, 7, 8, 5]))
    }

    @Test func answersWithTheLogitsAndEchoesTheID() throws {
        let model = try ServerFixtures.model("mlm")
        let request = try ServerFixtures.request("""
            {"id":"abc","inputs":[{"name":"input_ids","shape":[1,4],"datatype":"INT32","data":[4,103,3,5]},
             {"name":"output_positions","shape":[1,1],"datatype":"INT64","data":[2]}],
             "outputs":[{"name":"logits"}],"parameters":{"ignored":true}}
            """)
        let response = try V2Inference.run(request, model: model, modelName: "mlm")
        let direct = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, 4], values: [4, 103, 3, 5]),
                                                   outputPositions: IndexTensor(shape: [1, 1], values: [2])))
        #expect(response.id == "abc")
        #expect(response.outputs[0].shape == [1, 1, 262])
        #expect(response.outputs[0].data == .floats(direct.logits.scalars))
        let json = try JSONSerialization.jsonObject(with: response.jsonData()) as! [String: Any]
        #expect(json["id"] as? String == "abc")
        #expect(json["model_name"] as? String == "mlm")
        let output = (json["outputs"] as! [[String: Any]])[0]
        let data = (output["data"] as! [NSNumber]).map(\.floatValue)
        // Shortest round-tripping float text: the JSON carries the exact f32 values.
        #expect(data == direct.logits.scalars)
    }

    @Test func imageRequestsReturnTheFixtureLogits() throws {
        let model = try ServerFixtures.model("learned")
        let pixels: [Float] = (0..<(2 * 3 * 8 * 8)).map { (i: Int) -> Float in Float(i % 17) / 17 - 0.5 }
        let data: String = pixels.map { (x: Float) -> String in x.description }.joined(separator: ",")
        let body = #"{"inputs":[{"name":"pixel_values","shape":[2,3,8,8],"datatype":"FP32","data":["# + data + "]}]}"
        let response = try V2Inference.run(try ServerFixtures.request(body), model: model, modelName: "learned")
        let direct = try model.predict(ModelInputs(pixelValues: Tensor(shape: [2, 3, 8, 8], scalars: pixels)))
        #expect(response.outputs[0].shape == [2, 5])
        #expect(response.outputs[0].data == V2Tensor.Data.floats(direct.logits.scalars))
    }

    @Test(arguments: [
        (#"{"inputs":[}"#, "malformed request body: not valid JSON: unexpected '}', expected a value at byte 11"),
        (#"[1,2]"#, "malformed request body: expected a JSON object"),
        (#"{"inputs":[]}"#, "malformed request body: 'inputs' must be a non-empty array"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"INT64","data":[4]}]}"#,
         "input 'input_ids': shape [1, 2] needs 2 values, data has 1"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"FP32","data":[4,5]}]}"#,
         "input 'input_ids': datatype FP32, expected INT64 or INT32"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"INT64","data":[4,5.5]}]}"#,
         "input 'input_ids': INT64 data must be integers, got 5.5"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,-2],"datatype":"INT64","data":[4,5]}]}"#,
         "input 'input_ids': shape must hold non-negative integers"),
        (#"{"inputs":[{"name":"pixels","shape":[1],"datatype":"FP32","data":[4]}]}"#,
         "input 'pixels': this model takes no such input (inputs: input_ids, attention_mask, output_positions, queries, latents)"),
        (#"{"inputs":[{"name":"attention_mask","shape":[1,1],"datatype":"INT64","data":[1]}]}"#,
         "input 'input_ids': required input is missing"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"INT64","data":[4,999]}]}"#,
         "input 'input_ids': token id 999 is outside 0..<262"),
        (#"{"inputs":[{"name":"input_ids","shape":[1,1],"datatype":"INT64","data":[4]}],"outputs":[{"name":"probs"}]}"#,
         "unknown output 'probs' (outputs: logits, latents)"),
        (#"{"inputs":[{"name":"input_ids","shape":[4294967296,4294967296],"datatype":"INT64","data":[4]}]}"#,
         "input 'input_ids': shape [4294967296, 4294967296] is too large"),
    ])
    func badRequestsNameWhatIsWrong(body: String, message: String) throws {
        let model = try ServerFixtures.model("mlm")
        let error = ServerFixtures.requestError(body, model: model)
        #expect(error?.description == message)
        #expect(error?.status == 400)
    }
}

@Suite struct TaskTests {
    @Test func fillMaskDecodesOnlyTheMaskedPositions() throws {
        let model = try ServerFixtures.model("mlm")
        let result = try FillMask(model: model, text: "a cat [MASK][MASK] mat", topK: 3)
        // [CLS] a ␠ c a t ␠ [MASK] [MASK] ␠ m a t [SEP]
        #expect(result.predictions.map(\.position) == [7, 8])
        #expect(result.predictions.allSatisfy { $0.candidates.count == 3 })
        let ids = ByteTokenizer().encode("a cat [MASK][MASK] mat")
        let logits = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids))).logits
        for prediction in result.predictions {
            let row = logits.scalars[(prediction.position * 262)..<((prediction.position + 1) * 262)]
            let best = row.indices.max { row[$0] < row[$1] }! - prediction.position * 262
            #expect(prediction.candidates[0].tokenID == best)
        }
        #expect(result.filledText.hasPrefix("a cat ") && result.filledText.hasSuffix(" mat"))
    }

    @Test func fillMaskWithoutMaskIsAnError() throws {
        let model = try ServerFixtures.model("mlm")
        #expect(throws: RequestError.badTensor(name: "text", reason: "contains no [MASK]")) {
            try FillMask(model: model, text: "no mask here", topK: 1)
        }
    }

    @Test func classificationRanksLabelsFromID2Label() throws {
        let model = try ServerFixtures.model("seqcls")
        let result = try Classification(model: model, text: "hello", topK: 3)
        #expect(result.items[0].count == 3)
        #expect(Set(result.items[0].map(\.label)) == Set(model.config.labels))
        #expect(abs(result.items[0].map(\.score).reduce(0, +) - 1) < 1e-5)
        #expect(result.items[0][0].score >= result.items[0][1].score)
    }
}
