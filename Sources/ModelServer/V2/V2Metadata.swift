import Foundation
import PerceiverEngine

/// KServe V2 metadata bodies as compact JSON: server (`$metadata_server_response`, docs/reference/serving.md 1.3) and
/// model (`$metadata_model_response`, 1.4).
public enum V2Metadata {
    /// The extensions every server implements, one a line: Triton's binary tensor data
    /// (docs/reference/serving.md 1.8), request parameters (1.10), classification (1.11), statistics (3.6) and
    /// model configuration (3.7).
    public static let extensions = [
        "binary_tensor_data",
        "parameters",
        "classification",
        "statistics",
        "model_configuration",
    ]

    /// The extensions a server answers: `extensions`, then `model_repository` (3.4) and `logging` (3.8) when
    /// `admin.repository` and `admin.logging` turn their endpoints on (off, they answer 403 to everyone, so the
    /// server does not offer them).
    public static func extensions(admin: AdminConfiguration) -> [String] {
        extensions + (admin.repository ? ["model_repository"] : []) + (admin.logging ? ["logging"] : [])
    }

    /// The platform reported for every model, `<runtime>_<format>` as Triton's `onnxruntime_onnx`:
    /// this daemon's engine running `transformers` Perceiver checkpoints stored as safetensors.
    public static let platform = "perceiverd_safetensors"

    /// `{"name":…,"version":…,"extensions":[…]}`.
    public static func server(name: String = "perceiverd", version: String,
                              extensions: [String] = extensions) -> Data {
        let list = extensions.map(JSONText.quoted).joined(separator: ",")
        return Data(("{\"name\":" + JSONText.quoted(name) + ",\"version\":" + JSONText.quoted(version)
                     + ",\"extensions\":[" + list + "]}").utf8)
    }

    /// `{"name":…,"versions":[…],"platform":…,"inputs":[…],"outputs":[…]}`, each tensor as its name, first
    /// datatype and shape with -1 where variable. `versions` is left out when nil; `architecture`, when
    /// given, is added as a non-standard `"architecture"` field, and `parameters` (string values, in order) as
    /// a `"parameters"` object as V2 requests and responses carry one; clients ignore both.
    public static func model(name: String, versions: [String]?, platform: String = platform,
                             inputs: [TensorSpec], outputs: [TensorSpec], architecture: String? = nil,
                             parameters: KeyValuePairs<String, String> = [:]) -> Data {
        var out = "{\"name\":" + JSONText.quoted(name)
        if let versions { out += ",\"versions\":[" + versions.map(JSONText.quoted).joined(separator: ",") + "]" }
        out += ",\"platform\":" + JSONText.quoted(platform)
        if let architecture { out += ",\"architecture\":" + JSONText.quoted(architecture) }
        if !parameters.isEmpty {
            out += ",\"parameters\":{" + parameters.map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }
                .joined(separator: ",") + "}"
        }
        out += ",\"inputs\":" + tensors(inputs) + ",\"outputs\":" + tensors(outputs) + "}"
        return Data(out.utf8)
    }

    /// The model metadata of a loaded `model` (its inputs end with `text` for a text model, `TextInput`; its
    /// outputs with `latents`, which a response holds only when the request names it), with its `architecture` (the `config.json` class) and, when
    /// given, its precision as `parameters.precision` (what runs) and `parameters.requested_precision`.
    public static func model(name: String, versions: [String]? = ["1"], _ model: PerceiverModel,
                             precision: PrecisionChoice? = nil) -> Data {
        let parameters: KeyValuePairs<String, String> = precision.map {
            ["precision": $0.effective.rawValue, "requested_precision": $0.requested.rawValue]
        } ?? [:]
        return self.model(name: name, versions: versions, inputs: TextInput.specs(of: model),
                          outputs: model.outputSpecs + [model.latentsSpec],
                          architecture: model.architecture.rawValue, parameters: parameters)
    }

    /// `[{"name":…,"datatype":…,"shape":[…]},…]`.
    private static func tensors(_ specs: [TensorSpec]) -> String {
        let items = specs.map { spec in
            "{\"name\":" + JSONText.quoted(spec.name) + ",\"datatype\":" + JSONText.quoted(spec.datatypes.first ?? "")
                + ",\"shape\":[" + spec.shape.map(String.init).joined(separator: ",") + "]}"
        }
        return "[" + items.joined(separator: ",") + "]"
    }
}
