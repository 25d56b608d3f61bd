import Foundation
import HTTPServer
import PerceiverEngine

/// `POST /v2/models/{m}[/versions/{v}]/infer`: KServe V2 inference, JSON or Triton binary tensors.
extension Router {
    func v2Infer(_ request: HTTPRequest, model served: ServedModel, context: RequestContext,
                 respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let start = Date()
        // Decoding and checking happen here, on the work pool (the router calls this through `offload`); only the
        // forward pass goes to the model's queue.
        let parsed: V2InferenceRequest
        let inputs: ModelInputs
        do {
            let headerLength = try V2InferenceRequest.inferenceHeaderLength(
                request.headers["Inference-Header-Content-Length"])
            let specs = V2Interpolation.parsingSpecs(of: served.model, rawBinary: headerLength == 0)
            parsed = try V2InferenceRequest(body: request.body, inferenceHeaderLength: headerLength, specs: specs)
            try V2Inference.checkOutputs(parsed, available: V2Inference.availableOutputs(served.model))
            try V2Classification.check(parsed, specs: V2Inference.outputSpecs(served.model))
            let tensors = try TextInput.expand(parsed.inputs, maxLength: served.model.config.maxPositionEmbeddings,
                                               maxRows: served.scheduler.policy.maxBatchSize)
            var decoded = try ModelInputs(v2: tensors, specs: served.model.inputSpecs, latentsGiven: parsed.latentsID != nil)
            try V2Interpolation.apply(parsed, to: &decoded, model: served.model)
            inputs = decoded
            if let tiling = try? served.model.flowTiling(inputs) { try V2Inference.refuseLatents(parsed, tiling: tiling) }
        } catch {
            var response = errorResponse(error, context.logger)
            response.logMetadata["model"] = served.name
            Self.account(response, model: served.name, start: start, metrics: metrics)
            return respond(response)
        }
        let classLabels = V2Classification.labels(of: served.model)
        schedule(inputs, latentsID: parsed.latentsID, on: served, timeout: parsed.timeout, priority: parsed.priority,
                 context: context, scope: access.scope(of: request.head), start: start,
                 respond: respond) { answer throws(RequestError) in
            Self.encode(try V2Inference.response(to: parsed, outputs: answer.outputs, latents: answer.latents,
                                                 latentsID: answer.latentsID, modelName: served.name,
                                                 modelVersion: served.version, classLabels: classLabels))
        }
    }

    /// A V2 response as HTTP: JSON, or JSON header + binary tensors with `Inference-Header-Content-Length`.
    static func encode(_ result: V2InferenceResponse) -> HTTPResponse {
        let (body, headerLength) = result.encoded()
        guard let headerLength else { return .json(200, body) }
        return HTTPResponse(status: 200, headers: HTTPHeaders([
            ("Content-Type", "application/octet-stream"),
            ("Inference-Header-Content-Length", String(headerLength)),
        ]), body: body)
    }
}
