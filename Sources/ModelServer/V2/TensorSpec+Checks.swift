import PerceiverEngine

// The checks of a request tensor against a model's input specs, shared by the request parsers (which run
// them before any data is decoded) and `ModelInputs(v2:specs:)`, so that both say the same thing.

extension Array where Element == TensorSpec {
    /// The spec of input `name`, recording it in `seen`.
    /// - Throws: `RequestError.badTensor` when the model takes no such input, or it was given already.
    func spec(forInput name: String, seen: inout Set<String>) throws(RequestError) -> TensorSpec {
        guard let spec = first(where: { $0.name == name }) else {
            let names = map(\.name).joined(separator: ", ")
            throw RequestError.badTensor(name: name, reason: "this model takes no such input (inputs: \(names))")
        }
        guard seen.insert(name).inserted else {
            throw RequestError.badTensor(name: name, reason: "given more than once")
        }
        return spec
    }
}

extension TensorSpec {
    /// - Throws: `RequestError.badTensor` when `datatype` is not one this input takes.
    func requireDatatype(_ datatype: String) throws(RequestError) {
        guard datatypes.contains(datatype) else {
            throw RequestError.badTensor(name: name, reason: "datatype \(datatype), expected "
                                         + datatypes.joined(separator: " or "))
        }
    }

    /// - Throws: `RequestError.badTensor` when `shape` has another rank than the spec, or a dimension other
    ///   than one the spec fixes (-1 in the spec is any size). The engine checks the rest (sequence
    ///   lengths, batch agreement between inputs). A BYTES vector (-1) also takes (B, 1), the shape Triton
    ///   clients often give one string per item.
    func requireShape(_ shape: [Int]) throws(RequestError) {
        if datatypes == [V2Datatype.bytes.rawValue], self.shape == [-1], shape.count == 2, shape[1] == 1 { return }
        guard shape.count == self.shape.count, zip(shape, self.shape).allSatisfy({ $1 < 0 || $0 == $1 }) else {
            throw RequestError.badTensor(name: name, reason: "shape \(shape) does not fit the model's \(self.shape) "
                                         + "(-1: any size)")
        }
    }
}
