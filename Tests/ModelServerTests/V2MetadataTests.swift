import Foundation
import Testing
import ModelServer
import PerceiverEngine

@Suite struct V2MetadataTests {
    @Test func serverMetadataListsTheExtensions() {
        let json = V2Metadata.server(version: "0.4.0")
        #expect(String(decoding: json, as: UTF8.self) == #"{"name":"perceiverd","version":"0.4.0","extensions":"#
                + #"["binary_tensor_data","parameters","classification","statistics","model_configuration"]}"#)
    }

    /// `model_repository` and `logging` only where their endpoints answer: with `admin.repository` and
    /// `admin.logging` on.
    @Test func administrativeExtensionsAreListedOnlyWhenTheirEndpointsAreOn() {
        #expect(V2Metadata.extensions(admin: AdminConfiguration()) == V2Metadata.extensions)
        #expect(V2Metadata.extensions(admin: AdminConfiguration(logging: true)) == V2Metadata.extensions + ["logging"])
        #expect(V2Metadata.extensions(admin: AdminConfiguration(repository: true, logging: true))
                == V2Metadata.extensions + ["model_repository", "logging"])
    }

    @Test func modelMetadataGivesFirstDatatypeAndVariableDimensions() {
        let inputs = [
            TensorSpec(name: "input_ids", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: false),
            TensorSpec(name: "queries", datatypes: ["FP32"], shape: [-1, -1, 32], isOptional: true),
        ]
        let outputs = [TensorSpec(name: "logits", datatypes: ["FP32"], shape: [-1, 3], isOptional: false)]
        let json = V2Metadata.model(name: "cls", versions: ["1"], inputs: inputs, outputs: outputs)
        #expect(String(decoding: json, as: UTF8.self) == #"{"name":"cls","versions":["1"],"#
            + #""platform":"perceiverd_safetensors","inputs":[{"name":"input_ids","datatype":"INT64","shape":[-1,-1]},"#
            + #"{"name":"queries","datatype":"FP32","shape":[-1,-1,32]}],"#
            + #""outputs":[{"name":"logits","datatype":"FP32","shape":[-1,3]}]}"#)
        let unversioned = V2Metadata.model(name: "x", versions: nil, platform: "p", inputs: [], outputs: [],
                                           architecture: "A")
        #expect(String(decoding: unversioned, as: UTF8.self)
                == #"{"name":"x","platform":"p","architecture":"A","inputs":[],"outputs":[]}"#)
    }

    @Test func modelMetadataCarriesTheEffectiveAndRequestedPrecision() throws {
        let model = try ServerFixtures.model("learned")
        let choice = PrecisionSetting.bf16.resolve(.unavailable(reason: "status 3"))
        let json = try JSONSerialization.jsonObject(
            with: V2Metadata.model(name: "learned", model, precision: choice)) as? [String: Any]
        #expect(json?["parameters"] as? [String: String] == ["precision": "f32", "requested_precision": "bf16"])
        let plain = try JSONSerialization.jsonObject(with: V2Metadata.model(name: "learned", model)) as? [String: Any]
        #expect(plain?["parameters"] == nil)
    }

    @Test func modelMetadataOfALoadedModel() throws {
        let model = try ServerFixtures.model("learned")
        let json = try JSONSerialization.jsonObject(with: V2Metadata.model(name: "learned", model)) as? [String: Any]
        #expect(json?["architecture"] as? String == "PerceiverForImageClassificationLearned")
        #expect(json?["versions"] as? [String] == ["1"])
        let inputs = json?["inputs"] as? [[String: Any]]
        #expect(inputs?.map { $0["name"] as? String } == model.inputSpecs.map(\.name))
        #expect(inputs?.first?["shape"] as? [Int] == model.inputSpecs.first?.shape)
    }
}
