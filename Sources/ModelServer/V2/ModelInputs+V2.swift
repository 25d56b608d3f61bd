import PerceiverEngine

extension ModelInputs {
    /// Engine inputs from KServe V2 tensors, each checked by name and datatype against `specs`
    /// (a model's `inputSpecs`, with `TensorSpec+Checks.swift`). Shapes are checked by the engine. The
    /// encoder's inputs are required unless the latents are known: a `latents` tensor, or `latentsGiven`
    /// (the request names cached latents by `latents_id`).
    /// - Throws: `RequestError.badTensor` naming the tensor and what was expected.
    public init(v2 tensors: [V2Tensor], specs: [TensorSpec], latentsGiven: Bool = false) throws(RequestError) {
        self.init()
        var seen: Set<String> = []
        for tensor in tensors {
            try specs.spec(forInput: tensor.name, seen: &seen).requireDatatype(tensor.datatype)
            try Self.requireFinite(tensor)
            try assign(tensor)
        }
        let decodeOnly = latentsGiven || seen.contains("latents")
        for spec in specs where !spec.isOptional && !seen.contains(spec.name) && !decodeOnly {
            throw RequestError.badTensor(name: spec.name, reason: "required input is missing")
        }
    }

    /// Refuses NaN and ±Inf in a float tensor. The engine would carry them through every layer norm and
    /// softmax into all of the row's outputs, which is never what a client meant; a 400 naming the first
    /// such element is (docs/security.md "Hostile input", NaN and infinity). Binary data can hold them; JSON
    /// numbers beyond the FP32 range are refused as they are decoded, in the same words (`V2Tensor.dataError`).
    /// - Throws: `RequestError.badTensor` naming the element.
    private static func requireFinite(_ tensor: V2Tensor) throws(RequestError) {
        guard case .floats(let values) = tensor.data, let index = values.firstIndex(where: { !$0.isFinite }) else {
            return
        }
        let kind = values[index].isNaN ? "NaN" : "\(values[index] < 0 ? "-" : "+")Inf (or beyond the FP32 range)"
        throw RequestError.badTensor(name: tensor.name, reason: "element \(index) is \(kind); inputs must be finite numbers")
    }

    /// Sets the input of `tensor`'s name: the name and datatype were checked against the model's spec, so
    /// the mapping needs to know nothing of any architecture.
    private mutating func assign(_ tensor: V2Tensor) throws(RequestError) {
        switch tensor.data {
        case .integers(let values): self[tensor.name] = .integers(IndexTensor(shape: tensor.shape, values: values))
        case .floats(let values): self[tensor.name] = .floats(Tensor(shape: tensor.shape, scalars: values))
        case .bytes:
            // No engine input is BYTES: a BYTES input the server takes becomes engine inputs before this.
            throw RequestError.badTensor(name: tensor.name, reason: "BYTES data is not an engine input")
        }
    }
}
