import Foundation
import HTTPServer
import ImageCodecs
import PerceiverEngine

/// `POST /infer`: the task-level endpoint for people with curl.
///
/// - `{"model":"NAME","text":"... [MASK] ...","top_k":5}`: fill-mask (masked LM) or labels (text classifier).
/// - `{"model":"NAME","inputs":{"pixel_values":[[...]]}}`: any model, tensors as nested arrays.
/// - `?model=NAME&input=frames&shape=1,2,3,368,496[&output_positions=...]` with a body of raw little-endian
///   float32 (`Content-Type: application/octet-stream`): one float tensor in binary, e.g. optical-flow frames.
/// - `?model=NAME[&output_positions=...]` with a `multipart/form-data` body of parts `frame1` and `frame2` (PNG or
///   JPEG files): an optical-flow frame pair (`TaskRequest+Multipart.swift`).
/// - `?model=NAME[&top_k=K]` with a PNG or JPEG body (`Content-Type: image/png` or `image/jpeg`): an image classifier's
///   labels; the image goes through the model's `ImageProcessor` (`preprocessor_config.json`).
/// `model` may be left out when one model is served.
extension Router {
    func taskInfer(_ request: HTTPRequest, context: RequestContext,
                   respond: @escaping @Sendable (HTTPResponse) -> Void) throws(RequestError) {
        let contentType = request.head.headers["Content-Type"]
        let body: TaskRequest
        if let contentType, MultipartFormData.isFormData(contentType: contentType) {
            body = try TaskRequest(multipart: request.body, contentType: contentType, query: request.head.query)
        } else if let format = try TaskRequest.imageFormat(contentType: contentType) {
            body = try TaskRequest(image: request.body, format: format, query: request.head.query)
        } else if contentType.map(TaskRequest.isBinary) == true {
            body = try TaskRequest(binary: request.body, query: request.head.query)
        } else {
            body = try TaskRequest(json: request.body)
        }
        let format = try TaskAnswerFormat(query: request.head.query, accept: request.head.headers["Accept"])
        try requireReady()
        let (served, answer) = try acquire(body.model, version: nil, respond: respond)
        let plan: TaskPlan
        do {
            try Self.checkFlowModel(format, on: served)
            plan = try Self.plan(body, on: served, maxImagePixels: limits.maxImagePixels,
                                 maxFramePixels: min(limits.maxImagePixels, limits.maxInputPixels))
            try Self.checkFlowAnswer(format, inputs: plan.inputs)
        } catch {
            return answer(errorResponse(error, context.logger))
        }
        schedule(plan.inputs, latentsID: body.latentsID, on: served, timeout: nil, priority: nil, context: context,
                 scope: access.scope(of: request.head), start: Date(), respond: answer) { answer throws(RequestError) in
            switch format {
            case .json:
                let id = answer.latentsID.map { ",\"latents_id\":" + JSONText.quoted($0) } ?? ""
                return .json(200, Data(("{\"model\":" + JSONText.quoted(served.name)
                                        + (try plan.render(answer.outputs)) + id + "}").utf8))
            case .png, .f32:
                return try Self.flowAnswer(answer.outputs.logits, format: format)
            }
        }
    }

    /// What a task runs and how its answer is written.
    struct TaskPlan: Sendable {
        /// The model inputs of the task.
        var inputs: ModelInputs
        /// The answer's JSON members after `"model"`, from the outputs (with a leading comma).
        var render: @Sendable (ModelOutputs) throws(RequestError) -> String
    }

    /// Checks `task` against `served`'s model and turns it into model inputs and a renderer.
    static func plan(_ task: TaskRequest, on served: ServedModel, maxImagePixels: Int = DecodedImage.defaultMaxPixels,
                     maxFramePixels: Int = DecodedImage.defaultMaxPixels) throws(RequestError) -> TaskPlan {
        let model = served.model
        let topK = task.topK
        let latentsGiven = task.latentsID != nil
        if latentsGiven, case .text = task.input {
            throw RequestError.latentsConflict("'latents_id' replaces the encoder inputs: send 'inputs' with "
                                               + "output_positions (or nothing, for the default outputs), not 'text'")
        }
        switch task.input {
        case .text(let text) where model.architecture.task == .fillMask:
            let query = try FillMask.Query(model: model, text: text)
            return TaskPlan(inputs: query.inputs) { outputs in
                let result = FillMask(query: query, logits: outputs.logits, topK: topK)
                return ",\"text\":" + JSONText.quoted(result.filledText) + ",\"masks\":[" + result.predictions.map { prediction in
                    "{\"position\":\(prediction.position),\"candidates\":[" + prediction.candidates.map {
                        "{\"token\":\(JSONText.quoted($0.token)),\"token_id\":\($0.tokenID),\"score\":\(JSONText.number($0.score))}"
                    }.joined(separator: ",") + "]}"
                }.joined(separator: ",") + "]"
            }
        case .text(let text):
            guard model.architecture.task == .textClassification else {
                throw RequestError.badTensor(name: "text", reason: "model '\(served.name)' takes images, not text")
            }
            let labels = model.config.labels
            return TaskPlan(inputs: try Classification.inputs(model: model, text: text)) { outputs in
                ",\"labels\":" + labelsJSON(Classification(logits: outputs.logits, labels: labels, topK: topK).items[0])
            }
        case .tensors(let body, let arrays):
            // Every name is checked before any array is decoded.
            var seen: Set<String> = []
            let specs = try arrays.map { (name, _) throws(RequestError) in
                try model.inputSpecs.spec(forInput: name, seen: &seen)
            }
            let tensors = try zip(specs, arrays).map { (spec, array) throws(RequestError) -> V2Tensor in
                try NestedArray.tensor(name: spec.name, datatype: spec.datatypes[0], json: body, range: array.range)
            }
            return tensorPlan(try ModelInputs(v2: tensors, specs: model.inputSpecs, latentsGiven: latentsGiven),
                              model: model, topK: topK)
        case .binary(let tensors):
            return tensorPlan(try ModelInputs(v2: tensors, specs: model.inputSpecs), model: model, topK: topK)
        case .framePair(let first, let second, let positions):
            guard model.architecture.rawValue == "PerceiverForOpticalFlow" else {
                throw RequestError.badTensor(name: "frames", reason: "a frame1 and frame2 form is for optical-flow "
                                             + "models; model '\(served.name)' is \(model.architecture)")
            }
            var inputs = ModelInputs()
            inputs.frames = try FlowFrames.tensor(first, second, maxPixels: maxFramePixels)
            if let positions {
                inputs.outputPositions = IndexTensor(shape: [1, positions.count], values: positions)
            }
            return tensorPlan(inputs, model: model, topK: topK)
        case .image(let format, let data):
            let inputs = try ImageInput.inputs(data, format: format, model: model, name: served.name,
                                               maxPixels: maxImagePixels)
            return tensorPlan(inputs, model: model, topK: topK)
        }
    }

    /// Tensors in, every output out: class labels for a classifier's default query, otherwise each output
    /// as `{"shape": [...], "data": nested arrays}` under its name.
    private static func tensorPlan(_ inputs: ModelInputs, model: PerceiverModel, topK: Int) -> TaskPlan {
        let (isClassifier, labels) = (model.architecture.isClassifier, model.config.labels)
        return TaskPlan(inputs: inputs) { outputs in
            if isClassifier, let logits = outputs["logits"], logits.shape.count == 2 {
                let result = Classification(logits: logits, labels: labels, topK: topK)
                return ",\"labels\":[" + result.items.map(labelsJSON).joined(separator: ",") + "]"
            }
            return outputs.named.map { output in
                ",\(JSONText.quoted(output.name)):{\"shape\":[" + output.tensor.shape.map(String.init).joined(separator: ",")
                    + "],\"data\":" + NestedArray.json(output.tensor.scalars, shape: output.tensor.shape) + "}"
            }.joined()
        }
    }

    private static func labelsJSON(_ labels: [Classification.Label]) -> String {
        "[" + labels.map {
            "{\"label\":\(JSONText.quoted($0.label)),\"id\":\($0.id),\"score\":\(JSONText.number($0.score))}"
        }.joined(separator: ",") + "]"
    }
}
