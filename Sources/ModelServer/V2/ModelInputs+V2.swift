import PerceiverEngine

extension ModelInputs {
    /// Engine inputs from KServe V2 tensors, each checked by name and datatype against `specs`
    /// (a model's `inputSpecs`, with `TensorSpec+Checks.swift`). Shapes are checked by the engine.
    /// - Throws: `RequestError.badTensor` naming the tensor and what was expected.
    public init(v2 tensors: [V2Tensor], specs: [TensorSpec]) throws(RequestError) {
        self.init()
        var seen: Set<String> = []
        for tensor in tensors {
            try specs.spec(forInput: tensor.name, seen: &seen).requireDatatype(tensor.datatype)
            try Self.requireFinite(tensor)
            try assign(tensor)
        }
        for spec in specs where !spec.isOptional && !seen.contains(spec.name) {
            throw RequestError.badTensor(name: spec.name, reason: "required input is missing")
        }
    }

    /// Refuses NaN and ±Inf in a float tensor. The engine would carry them through every layer norm and
    /// softmax into all of the row's outputs, which is never what a client meant; a 400 naming the first
    /// such element is (README "NaN and infinity"). Binary data can hold them; JSON numbers beyond the FP32
    /// range are refused as they are decoded, in the same words (`V2Tensor.dataError`).
    /// - Throws: `RequestError.badTensor` naming the element.
    private static func requireFinite(_ tensor: V2Tensor) throws(RequestError) {
        guard case .floats(let values) = tensor.data, let index = values.firstIndex(where: { !$0.isFinite }) else {
            return
        }
        let kind = values[index].isNaN ? "NaN" : "\(values[index] < 0 ? "-" : "+")Inf (or beyond the FP32 range)"
        throw RequestError.badTensor(name: tensor.name, reason: "element \(index) is \(kind); inputs must be finite numbers")
    }

    private mutating func assign(_ tensor: V2Tensor) throws(RequestError) {
        switch (tensor.name, tensor.data) {
        case ("input_ids", .integers(let values)):
            inputIDs = IndexTensor(shape: tensor.shape, values: values)
        case ("attention_mask", .integers(let values)):
            attentionMask = IndexTensor(shape: tensor.shape, values: values)
        case ("output_positions", .integers(let values)):
            outputPositions = IndexTensor(shape: tensor.shape, values: values)
        case ("pixel_values", .floats(let values)):
            pixelValues = Tensor(shape: tensor.shape, scalars: values)
        case ("queries", .floats(let values)):
            queries = Tensor(shape: tensor.shape, scalars: values)
        case ("inputs", .floats(let values)):
            flowPatches = Tensor(shape: tensor.shape, scalars: values)
        case ("frames", .floats(let values)):
            frames = Tensor(shape: tensor.shape, scalars: values)
        case ("image", .floats(let values)):
            image = Tensor(shape: tensor.shape, scalars: values)
        case ("audio", .floats(let values)):
            audio = Tensor(shape: tensor.shape, scalars: values)
        case ("label", .floats(let values)):
            label = Tensor(shape: tensor.shape, scalars: values)
        case (let name, .integers(let values)) where name.hasPrefix("output_positions_"):
            guard let modality = Modality(rawValue: String(name.dropFirst("output_positions_".count))) else {
                fallthrough
            }
            modalityPositions[modality] = IndexTensor(shape: tensor.shape, values: values)
        default:
            throw RequestError.badTensor(name: tensor.name, reason: "datatype \(tensor.datatype) does not fit this input")
        }
    }
}
