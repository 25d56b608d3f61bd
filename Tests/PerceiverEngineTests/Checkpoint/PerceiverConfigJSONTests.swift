import Foundation
import Testing
@testable import PerceiverEngine

/// `config.json` as transformers writes it, read with JSONKit: floats like `1e-12`, nested `id2label`,
/// booleans and nulls; numbers and booleans are told apart by the JSON, not guessed.
@Suite struct PerceiverConfigJSONTests {
    static func config(_ members: String) throws(ModelLoadError) -> PerceiverConfig {
        try PerceiverConfig(json: Data(#"{"architectures": ["PerceiverForSequenceClassification"]\#(members)}"#.utf8))
    }

    static func error(_ members: String) -> ModelLoadError? {
        guard case .failure(let error) = Result(catching: { () throws(ModelLoadError) in try config(members) }) else {
            return nil
        }
        return error
    }

    @Test func readsWhatTransformersWrites() throws {
        let config = try Self.config(#"""
            , "layer_norm_eps": 1e-12, "initializer_range": 0.02, "num_latents": 8.0, "qk_channels": null,
            "use_query_residual": false, "id2label": {"1": "dog", "0": "cat"}, "torch_dtype": "float32",
            "train_size": [368, 496], "unknown_future_key": {"nested": [true, null]}
            """#)
        #expect(config.numLatents == 8 && config.qkChannels == nil && config.useQueryResidual == false)
        #expect(config.labels == ["cat", "dog"] && config.storedDType == "float32")
        #expect(config.trainSize == [368, 496])
    }

    @Test(arguments: [
        (#", "num_latents": true"#, "num_latents"),
        (#", "num_latents": 8.5"#, "num_latents"),
        (#", "num_latents": 4294967296"#, "num_latents"),
        (#", "use_query_residual": 1"#, "use_query_residual"),
        (#", "train_size": [368, true]"#, "train_size"),
        (#", "id2label": {"0": "cat", "2": "dog"}"#, "id2label"),
        (#", "id2label": {"0": 7}"#, "id2label"),
        (#", "hidden_act": 3"#, "hidden_act"),
    ])
    func refusesValuesOfTheWrongKind(members: String, key: String) {
        guard case .invalidConfig(let failedKey, _)? = Self.error(members) else {
            Issue.record("expected invalidConfig for \(key), got \(String(describing: Self.error(members)))")
            return
        }
        #expect(failedKey == key)
    }

    @Test func refusesARepeatedKeyAsInvalidJSON() {
        guard case .invalidConfig("(root)", let reason)? = Self.error(#", "num_latents": 8, "num_latents": 16"#) else {
            Issue.record("expected a (root) error")
            return
        }
        #expect(reason.contains("duplicate key 'num_latents'"))
    }

    @Test func refusesArchitecturesThatAreNotNames() {
        let error = ModelLoadError.invalidConfig(key: "architectures", reason: "missing or not a list of class names")
        #expect(throws: error) {
            try PerceiverConfig(json: Data(#"{"architectures": ["PerceiverForMaskedLM", 3]}"#.utf8))
        }
    }
}
