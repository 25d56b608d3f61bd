import Foundation
import PerceiverEngine

/// Runs a KServe V2 inference request against one model.
public enum V2Inference {
    /// Decodes the request's tensors (a `text` input tokenized, `TextInput`), runs `model` (its decoder alone when the request carries `latents`), and
    /// selects and encodes the requested outputs, `latents` among them.
    /// - Throws: `RequestError` for bad tensors, unknown outputs, or engine failures.
    public static func run(_ request: V2InferenceRequest, model: PerceiverModel, modelName: String,
                           modelVersion: String? = "1") throws(RequestError) -> V2InferenceResponse {
        // Unknown outputs and classifications of outputs that are not FP32 are refused before any compute is spent.
        try checkOutputs(request, available: availableOutputs(model))
        try V2Classification.check(request, specs: outputSpecs(model))
        let tensors = try TextInput.expand(request.inputs, maxLength: model.config.maxPositionEmbeddings)
        var inputs = try ModelInputs(v2: tensors, specs: model.inputSpecs)
        try V2Interpolation.apply(request, to: &inputs, model: model)
        let outputs: ModelOutputs
        var latents = inputs.floats("latents")
        let tiling: FlowTiling?
        do throws(InferenceError) { tiling = try model.flowTiling(inputs) } catch { throw RequestError.inference(error) }
        if let tiling { try refuseLatents(request, tiling: tiling) }
        do throws(InferenceError) {
            if tiling != nil {
                outputs = try model.predict(inputs)
            } else {
                let result = try model.predict(batch: [PassRequest(inputs: inputs)])[0].get()
                (outputs, latents) = (result.outputs, result.latents?.tensor ?? latents)
            }
        } catch {
            throw RequestError.inference(error)
        }
        return try response(to: request, outputs: outputs, latents: latents, modelName: modelName,
                            modelVersion: modelVersion, classLabels: V2Classification.labels(of: model))
    }

    /// Optical-flow frames larger than `train_size` are encoded tile by tile, so there are no latents of the
    /// request to return.
    static func refuseLatents(_ request: V2InferenceRequest, tiling: FlowTiling) throws(RequestError) {
        guard request.requestedOutputs?.contains("latents") == true else { return }
        throw RequestError.latentsConflict("output 'latents': \(tiling.height) x \(tiling.width) frames are tiled "
                                           + "and each tile is encoded on its own; latents are returned for frames of "
                                           + "the model's train_size (\(tiling.tileHeight) x \(tiling.tileWidth))")
    }

    /// The outputs a request may name: the model's, and `latents` (returned only when named).
    public static func availableOutputs(_ model: PerceiverModel) -> [String] {
        outputSpecs(model).map(\.name)
    }

    /// The specs of the outputs a request may name: the model's, and `latents`.
    public static func outputSpecs(_ model: PerceiverModel) -> [TensorSpec] {
        model.outputSpecs + [model.latentsSpec]
    }

    /// The response to `request` from one forward pass's `outputs` and the latents it decoded (see
    /// `response(to:outputs:modelName:modelVersion:classLabels:)`): `latents` is among the outputs only when the
    /// request names it; `latentsID`, when given, is the response's `parameters.latents_id`.
    public static func response(to request: V2InferenceRequest, outputs: ModelOutputs, latents: Tensor? = nil,
                                latentsID: String? = nil, modelName: String, modelVersion: String?,
                                classLabels: [String: V2Classification.Labels] = [:]) throws(RequestError)
        -> V2InferenceResponse {
        var tensors = outputs.named.map {
            V2Tensor(name: $0.name, datatype: "FP32", shape: $0.tensor.shape, data: .floats($0.tensor.scalars))
        }
        if let latents, request.requestedOutputs?.contains("latents") == true {
            tensors.append(V2Tensor(name: "latents", datatype: "FP32", shape: latents.shape, data: .floats(latents.scalars)))
        }
        var response = try response(to: request, outputs: tensors, modelName: modelName, modelVersion: modelVersion,
                                    classLabels: classLabels)
        if let latentsID { response.parameters["latents_id"] = latentsID }
        return response
    }

    /// Checks that every output `request` lists is one of `available`.
    /// - Throws: `RequestError.unknownOutput`.
    public static func checkOutputs(_ request: V2InferenceRequest, available: [String]) throws(RequestError) {
        for name in request.requestedOutputs ?? [] where !available.contains(name) {
            throw RequestError.unknownOutput(name: name, available: available)
        }
    }

    /// The response to `request` from all of a model's `outputs`: the ones its `outputs` list names, in
    /// that order, or all of them; each binary as `request.returnsBinary(output:)` says, and each requested with a
    /// `classification` count as its top classes (`V2Classification`, labelled by `classLabels` by output name).
    /// - Throws: `RequestError.unknownOutput` for a listed output not in `outputs`, `.badOutput` for a
    ///   classification of an output that is not FP32.
    public static func response(to request: V2InferenceRequest, outputs: [V2Tensor], modelName: String,
                                modelVersion: String?,
                                classLabels: [String: V2Classification.Labels] = [:]) throws(RequestError)
        -> V2InferenceResponse {
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
        for requested in request.outputs ?? [] {
            guard let count = requested.classification, let index = selected.firstIndex(where: { $0.name == requested.name })
            else { continue }
            selected[index] = try V2Classification.classify(selected[index], count: count,
                                                             labels: classLabels[requested.name] ?? .none)
        }
        let binary = Set(selected.map(\.name).filter { request.returnsBinary(output: $0) })
        return V2InferenceResponse(modelName: modelName, modelVersion: modelVersion, id: request.id,
                                   outputs: selected, binaryOutputs: binary)
    }
}
