import Foundation
import PerceiverEngine

/// Runs a KServe V2 inference request against one model.
public enum V2Inference {
    /// Decodes the request's tensors, runs `model`, and encodes the requested outputs.
    /// - Throws: `RequestError` for bad tensors, unknown outputs, or engine failures.
    public static func run(_ request: V2InferenceRequest, model: PerceiverModel, modelName: String,
                           modelVersion: String? = "1") throws(RequestError) -> V2InferenceResponse {
        let outputNames = model.outputSpecs.map(\.name)
        for name in request.requestedOutputs ?? [] where !outputNames.contains(name) {
            throw RequestError.unknownOutput(name: name, available: outputNames)
        }
        let inputs = try ModelInputs(v2: request.inputs, specs: model.inputSpecs)
        let outputs: ModelOutputs
        do {
            outputs = try model.predict(inputs)
        } catch {
            throw RequestError.inference(error)
        }
        let logits = V2Tensor(name: "logits", datatype: "FP32", shape: outputs.logits.shape,
                              data: .floats(outputs.logits.scalars))
        return V2InferenceResponse(modelName: modelName, modelVersion: modelVersion, id: request.id,
                                   outputs: [logits])
    }
}
