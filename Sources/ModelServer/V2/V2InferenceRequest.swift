import Foundation
import PerceiverEngine

/// A KServe V2 inference request body (`$inference_request`, SERVING.md 1.5), JSON form.
///
/// Unknown fields and parameters are ignored, as the protocol allows.
public struct V2InferenceRequest: Sendable {
    /// `id`, echoed in the response.
    public var id: String?
    public var inputs: [V2Tensor]
    /// Names listed in `outputs`, or nil for all.
    public var requestedOutputs: [String]?

    /// Parses the JSON body.
    /// - Throws: `RequestError.malformedBody` or `.badTensor` naming the tensor.
    public init(json: Foundation.Data) throws(RequestError) {
        guard let parsed = try? JSONSerialization.jsonObject(with: json) else {
            throw RequestError.malformedBody("not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw RequestError.malformedBody("expected a JSON object")
        }
        if let id = object["id"] {
            guard let string = id as? String else { throw RequestError.malformedBody("'id' must be a string") }
            self.id = string
        }
        guard let inputs = object["inputs"] as? [Any], !inputs.isEmpty else {
            throw RequestError.malformedBody("'inputs' must be a non-empty array")
        }
        self.inputs = []
        for (index, item) in inputs.enumerated() {
            guard let tensor = item as? [String: Any] else {
                throw RequestError.malformedBody("inputs[\(index)] must be an object")
            }
            self.inputs.append(try Self.tensor(tensor, index: index))
        }
        if let outputs = object["outputs"] {
            guard let list = outputs as? [Any] else { throw RequestError.malformedBody("'outputs' must be an array") }
            requestedOutputs = try list.enumerated().map { (index, item) throws(RequestError) -> String in
                guard let entry = item as? [String: Any], let name = entry["name"] as? String else {
                    throw RequestError.malformedBody("outputs[\(index)] must be an object with a 'name'")
                }
                return name
            }
        }
    }

    private static func tensor(_ object: [String: Any], index: Int) throws(RequestError) -> V2Tensor {
        guard let name = object["name"] as? String else {
            throw RequestError.malformedBody("inputs[\(index)] has no 'name'")
        }
        guard let datatype = object["datatype"] as? String else {
            throw RequestError.badTensor(name: name, reason: "missing 'datatype'")
        }
        guard let rawShape = object["shape"] as? [Any] else {
            throw RequestError.badTensor(name: name, reason: "missing 'shape'")
        }
        var shape: [Int] = []
        for dim in rawShape {
            guard let number = dim as? NSNumber, let value = Int(exactly: number.doubleValue), value >= 0 else {
                throw RequestError.badTensor(name: name, reason: "shape must hold non-negative integers")
            }
            shape.append(value)
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, dim in
            let r = acc.0.multipliedReportingOverflow(by: dim)
            return (r.partialValue, acc.1 || r.overflow)
        }
        guard !overflow, count <= 1 << 31 else {
            throw RequestError.badTensor(name: name, reason: "shape \(shape) is too large")
        }
        guard let data = object["data"] else { throw RequestError.badTensor(name: name, reason: "missing 'data'") }
        var flat: [NSNumber] = []
        flat.reserveCapacity(count)
        try flatten(data, into: &flat, name: name, limit: count)
        guard flat.count == count else {
            throw RequestError.badTensor(name: name, reason: "shape \(shape) needs \(count) values, data has \(flat.count)")
        }
        return V2Tensor(name: name, datatype: datatype, shape: shape, data: try decode(flat, datatype, name))
    }

    /// Flattens nested `data` arrays (the protocol allows flat or nested row-major data).
    private static func flatten(_ value: Any, into flat: inout [NSNumber], name: String,
                                limit: Int) throws(RequestError) {
        if let number = value as? NSNumber {
            guard flat.count < limit else {
                throw RequestError.badTensor(name: name, reason: "data has more values than the shape allows")
            }
            flat.append(number)
        } else if let list = value as? [Any] {
            for item in list { try flatten(item, into: &flat, name: name, limit: limit) }
        } else {
            throw RequestError.badTensor(name: name, reason: "data must hold numbers")
        }
    }

    private static func decode(_ flat: [NSNumber], _ datatype: String,
                               _ name: String) throws(RequestError) -> V2Tensor.Data {
        if V2Tensor.integerTypes.contains(datatype) {
            var values: [Int] = []
            values.reserveCapacity(flat.count)
            for number in flat {
                guard let value = Int(exactly: number.doubleValue) else {
                    throw RequestError.badTensor(name: name, reason: "\(datatype) data must be integers, got \(number)")
                }
                values.append(value)
            }
            return .integers(values)
        }
        if V2Tensor.floatTypes.contains(datatype) {
            return .floats(flat.map { $0.floatValue })
        }
        throw RequestError.badTensor(name: name, reason: "unsupported datatype \(datatype)")
    }
}
