import Foundation

// The JSON part of a request: the whole body, or the header before binary tensor data (SERVING.md 1.5, 1.8).

extension V2InferenceRequest {
    /// The most elements one tensor may have; sizes are checked against it before anything is allocated.
    static let maxElementCount = 1 << 31

    /// An input as its JSON describes it, before binary data is attached.
    struct ParsedInput {
        var name: String
        var datatype: V2Datatype
        var shape: [Int]
        var content: Content

        enum Content {
            /// Decoded from JSON `data`.
            case data(V2Tensor.Data)
            /// `parameters.binary_data_size`, already checked against the shape.
            case binary(byteCount: Int)
        }
    }

    /// Parses the JSON `header`, then takes each binary input's bytes from `binary` in input order.
    init(header: Foundation.Data, binary: Foundation.Data?) throws(RequestError) {
        guard let parsed = try? JSONSerialization.jsonObject(with: header) else {
            throw RequestError.malformedBody("not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw RequestError.malformedBody("expected a JSON object")
        }
        var id: String?
        if let value = object["id"] {
            guard let string = value as? String else { throw RequestError.malformedBody("'id' must be a string") }
            id = string
        }
        let parameters = try Self.requestParameters(object["parameters"])
        guard let list = object["inputs"] as? [Any], !list.isEmpty else {
            throw RequestError.malformedBody("'inputs' must be a non-empty array")
        }
        var parsedInputs: [ParsedInput] = []
        for (index, item) in list.enumerated() {
            guard let tensor = item as? [String: Any] else {
                throw RequestError.malformedBody("inputs[\(index)] must be an object")
            }
            parsedInputs.append(try Self.input(tensor, index: index))
        }
        let outputs = try Self.outputs(object["outputs"])
        self.init(id: id, parameters: parameters, inputs: try Self.attach(binary, to: parsedInputs),
                  outputs: outputs)
    }

    /// The request `parameters`, with the reserved keys this server reads checked (SERVING.md 1.10).
    private static func requestParameters(_ value: Any?) throws(RequestError) -> [String: V2Parameter] {
        let parameters = try V2Parameter.parameters(value, at: "parameters")
        if let flag = parameters["binary_data_output"], flag.boolValue == nil {
            throw RequestError.malformedBody("parameter 'binary_data_output' must be a boolean")
        }
        for key in ["timeout", "priority"] {
            if let number = parameters[key], !(0...V2InferenceRequest.maxParameterValue).contains(number.intValue ?? -1) {
                throw RequestError.malformedBody("parameter '\(key)' must be an integer from 0 to "
                                                 + "\(V2InferenceRequest.maxParameterValue)")
            }
        }
        return parameters
    }

    /// The `outputs` list, nil when absent.
    private static func outputs(_ value: Any?) throws(RequestError) -> [V2RequestedOutput]? {
        guard let value else { return nil }
        guard let list = value as? [Any] else { throw RequestError.malformedBody("'outputs' must be an array") }
        var outputs: [V2RequestedOutput] = []
        for (index, item) in list.enumerated() {
            guard let entry = item as? [String: Any], let name = entry["name"] as? String else {
                throw RequestError.malformedBody("outputs[\(index)] must be an object with a 'name'")
            }
            let output = V2RequestedOutput(
                name: name, parameters: try V2Parameter.parameters(entry["parameters"], at: "outputs[\(index)].parameters"))
            if let flag = output.parameters["binary_data"], flag.boolValue == nil {
                throw RequestError.malformedBody("outputs[\(index)].parameters.binary_data must be a boolean")
            }
            guard !outputs.contains(where: { $0.name == name }) else {
                throw RequestError.malformedBody("output '\(name)' is requested more than once")
            }
            outputs.append(output)
        }
        return outputs
    }

    private static func input(_ object: [String: Any], index: Int) throws(RequestError) -> ParsedInput {
        guard let name = object["name"] as? String else {
            throw RequestError.malformedBody("inputs[\(index)] has no 'name'")
        }
        guard let typeName = object["datatype"] as? String else {
            throw RequestError.badTensor(name: name, reason: "missing 'datatype'")
        }
        guard let datatype = V2Datatype(rawValue: typeName) else {
            throw RequestError.badTensor(name: name, reason: "unsupported datatype \(typeName)")
        }
        guard let elementSize = datatype.byteSize else {
            throw RequestError.badTensor(name: name, reason: "BYTES tensors are not supported by these models")
        }
        let (shape, count) = try Self.shape(object["shape"], name: name)
        let parameters = try V2Parameter.parameters(object["parameters"], at: "inputs[\(index)].parameters")
        if let size = parameters["binary_data_size"] {
            guard object["data"] == nil else {
                throw RequestError.badTensor(name: name, reason: "has both 'data' and binary_data_size; give one")
            }
            let byteCount = try binaryByteCount(size, expected: count * elementSize, shape: shape, datatype, name)
            return ParsedInput(name: name, datatype: datatype, shape: shape, content: .binary(byteCount: byteCount))
        }
        guard let data = object["data"] else { throw RequestError.badTensor(name: name, reason: "missing 'data'") }
        guard datatype.hasJSONForm else {
            throw RequestError.badTensor(name: name, reason: "\(typeName) data is not supported in JSON; send it as binary")
        }
        var flat: [NSNumber] = []
        // The shape is only a claim until the data is counted: reserve a bounded amount up front.
        flat.reserveCapacity(min(count, 1 << 20))
        try flatten(data, into: &flat, name: name, limit: count)
        guard flat.count == count else {
            throw RequestError.badTensor(name: name, reason: "shape \(shape) needs \(count) values, data has \(flat.count)")
        }
        return ParsedInput(name: name, datatype: datatype, shape: shape,
                           content: .data(try decode(flat, datatype, name)))
    }

    /// `binary_data_size`, which must equal `expected`, the byte count of the input's shape; the check
    /// comes before anything is allocated from it. `expected` cannot overflow: the element count is at
    /// most 2^31 and an element at most 8 bytes.
    private static func binaryByteCount(_ size: V2Parameter, expected: Int, shape: [Int], _ datatype: V2Datatype,
                                        _ name: String) throws(RequestError) -> Int {
        guard let byteCount = size.intValue, byteCount >= 0 else {
            throw RequestError.badTensor(name: name, reason: "binary_data_size must be a non-negative integer")
        }
        guard byteCount == expected else {
            throw RequestError.badTensor(name: name, reason: "binary_data_size is \(byteCount) bytes, but shape "
                                         + "\(shape) of \(datatype.rawValue) needs \(expected)")
        }
        return byteCount
    }

    /// The shape and its element count, at most `maxElementCount`.
    private static func shape(_ value: Any?, name: String) throws(RequestError) -> (shape: [Int], count: Int) {
        guard let rawShape = value as? [Any] else {
            throw RequestError.badTensor(name: name, reason: "missing 'shape'")
        }
        var shape: [Int] = []
        for dim in rawShape {
            guard let number = dim as? NSNumber, let value = integer(number), value >= 0 else {
                throw RequestError.badTensor(name: name, reason: "shape must hold non-negative integers")
            }
            shape.append(value)
        }
        guard let count = elementCount(shape) else {
            throw RequestError.badTensor(name: name, reason: "shape \(shape) is too large")
        }
        return (shape, count)
    }

    /// The product of `shape`, or nil past `maxElementCount` (overflow checked).
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= maxElementCount else { return nil }
            count = product
        }
        return count
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

    private static func decode(_ flat: [NSNumber], _ datatype: V2Datatype,
                               _ name: String) throws(RequestError) -> V2Tensor.Data {
        guard datatype.isInteger else { return .floats(flat.map { $0.floatValue }) }
        var values: [Int] = []
        values.reserveCapacity(flat.count)
        for number in flat {
            guard let value = integer(number) else {
                throw RequestError.badTensor(name: name,
                                             reason: "\(datatype.rawValue) data must be integers, got \(number)")
            }
            values.append(value)
        }
        return .integers(values)
    }

    /// A JSON number as an exact integer (true and false as 1 and 0), or nil. Integers are read as
    /// integers, so INT64 values beyond 2^53 keep every digit.
    private static func integer(_ number: NSNumber) -> Int? {
        switch V2Parameter(json: number) {
        case .bool(let value): return value ? 1 : 0
        case let parameter?: return parameter.intValue
        case nil: return nil
        }
    }
}
