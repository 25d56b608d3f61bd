import Foundation
import PerceiverEngine

/// Runs a KServe V2 inference request against one model.
public enum V2Inference {
    /// Decodes the request's tensors, runs `model`, and selects and encodes the requested outputs.
    /// - Throws: `RequestError` for bad tensors, unknown outputs, or engine failures.
    public static func run(_ request: V2InferenceRequest, model: PerceiverModel, modelName: String,
                           modelVersion: String? = "1") throws(RequestError) -> V2InferenceResponse {
        // Unknown outputs are refused before any compute is spent.
        try checkOutputs(request, available: model.outputSpecs.map(\.name))
        let inputs = try ModelInputs(v2: request.inputs, specs: model.inputSpecs)
        let outputs: ModelOutputs
        do {
            outputs = try model.predict(inputs)
        } catch {
            throw RequestError.inference(error)
        }
        return try response(to: request, outputs: outputs, modelName: modelName, modelVersion: modelVersion)
    }

    /// The response to `request` from one forward pass's `outputs` (see `response(to:outputs:modelName:modelVersion:)`).
    public static func response(to request: V2InferenceRequest, outputs: ModelOutputs, modelName: String,
                                modelVersion: String?) throws(RequestError) -> V2InferenceResponse {
        let tensors = outputs.named.map {
            V2Tensor(name: $0.name, datatype: "FP32", shape: $0.tensor.shape, data: .floats($0.tensor.scalars))
        }
        return try response(to: request, outputs: tensors, modelName: modelName, modelVersion: modelVersion)
    }

    /// Checks that every output `request` lists is one of `available`.
    /// - Throws: `RequestError.unknownOutput`.
    public static func checkOutputs(_ request: V2InferenceRequest, available: [String]) throws(RequestError) {
        for name in request.requestedOutputs ?? [] where !available.contains(name) {
            throw RequestError.unknownOutput(name: name, available: available)
        }
    }

    /// The response to `request` from all of a model's `outputs`: the ones its `outputs` list names, in
    /// that order, or all of them; each binary as `request.returnsBinary(output:)` says.
    /// - Throws: `RequestError.unknownOutput` for a listed output not in `outputs`.
    public static func response(to request: V2InferenceRequest, outputs: [V2Tensor], modelName: String,
                                modelVersion: String?) throws(RequestError) -> V2InferenceResponse {
        var selected = outputs
        if let names = request.requestedOutputs {
            selected = []
            for name in names {
                guard let output = outputs.first(where: { $0.name == name }) else {
                    throw RequestError.unknownOutput(name: name, available: outputs.map(\.name))
                }
                selected.append(output)
            }
        }
        let binary = Set(selected.map(\.name).filter { request.returnsBinary(output: $0) })
        return V2InferenceResponse(modelName: modelName, modelVersion: modelVersion, id: request.id,
                                   outputs: selected, binaryOutputs: binary)
    }
}
