import Foundation
import JSONKit
import PerceiverEngine

/// One pass over the JSON of a V2 request (`$inference_request`, docs/reference/serving.md 1.5) with `JSONScanner`:
/// small fields are read, each input's `data` is validated and located but not decoded, and each input is checked
/// (name, datatype, shape against `specs`, element count against its data) as soon as its object ends, so
/// the first disagreement is refused before any tensor data is decoded. Unknown fields are skipped, as the
/// protocol requires; repeated keys are refused.
struct V2RequestReader {
    /// The fields of a request, its inputs located but not decoded.
    struct Document {
        var id: String?
        var parameters: [String: V2Parameter]
        var inputs: [V2InferenceRequest.ParsedInput]
        var outputs: [V2RequestedOutput]?
    }

    private var scanner: JSONScanner
    private let specs: [TensorSpec]
    /// Input names given so far, when `specs` are checked.
    private var seen: Set<String> = []

    /// A reader of `header`, checking inputs against `specs` (a model's `inputSpecs`; none: no check).
    init(header: Foundation.Data, specs: [TensorSpec]) {
        scanner = JSONScanner(header)
        self.specs = specs
    }

    /// Reads the whole document.
    /// - Throws: `RequestError.malformedBody` for JSON that is invalid or not the protocol's, and
    ///   `.badTensor` naming the first input that does not fit.
    mutating func read() throws(RequestError) -> Document {
        guard try kind() == .object else {
            // Invalid JSON is named as such first, as when the body is an object.
            try skip()
            try RequestError.json { () throws(JSONError) in try scanner.finish() }
            throw RequestError.malformedBody("expected a JSON object")
        }
        try RequestError.json { () throws(JSONError) in try scanner.beginObject() }
        var document = Document(parameters: [:], inputs: [])
        while let key = try nextKey() {
            switch key {
            case "id":
                guard try kind() == .string else { throw RequestError.malformedBody("'id' must be a string") }
                document.id = try RequestError.json { () throws(JSONError) in try scanner.readString() }
            case "parameters":
                document.parameters = try Self.checkedRequestParameters(try parameters(at: "parameters"))
            case "inputs":
                document.inputs = try inputs()
            case "outputs":
                document.outputs = try outputs()
            default:
                try skip()
            }
        }
        try RequestError.json { () throws(JSONError) in try scanner.finish() }
        // A request that names cached latents may send nothing else (the default outputs).
        guard !document.inputs.isEmpty || document.parameters["latents_id"] != nil else {
            throw RequestError.malformedBody("'inputs' must be a non-empty array")
        }
        return document
    }

    // MARK: Inputs

    private mutating func inputs() throws(RequestError) -> [V2InferenceRequest.ParsedInput] {
        guard try kind() == .array else { throw RequestError.malformedBody("'inputs' must be a non-empty array") }
        try RequestError.json { () throws(JSONError) in try scanner.beginArray() }
        var inputs: [V2InferenceRequest.ParsedInput] = []
        while try nextElement() {
            let index = inputs.count
            guard try kind() == .object else { throw RequestError.malformedBody("inputs[\(index)] must be an object") }
            inputs.append(try input(index: index))
        }
        return inputs
    }

    /// Reads `inputs[index]` and checks it (`V2InputFields.checked`).
    private mutating func input(index: Int) throws(RequestError) -> V2InferenceRequest.ParsedInput {
        try RequestError.json { () throws(JSONError) in try scanner.beginObject() }
        var fields = V2InputFields()
        while let key = try nextKey() {
            switch key {
            case "name": fields.name = try stringOrSkip()
            case "datatype": fields.datatype = try stringOrSkip()
            case "shape": fields.shape = try shape()
            case "parameters": fields.parameters = try parameters(at: "inputs[\(index)].parameters")
            case "data":
                fields.data = try RequestError.json { () throws(JSONError) in try scanner.skipValueCountingLeaves() }
            default: try skip()
            }
        }
        return try fields.checked(index: index, specs: specs, seen: &seen)
    }

    /// The dimensions of `shape`, or why they are not a shape; at most `V2InputFields.maxRank` are kept.
    private mutating func shape() throws(RequestError) -> V2InputFields.Shape {
        guard try kind() == .array else {
            try skip()
            return .missing
        }
        try RequestError.json { () throws(JSONError) in try scanner.beginArray() }
        var dims: [Int] = []
        var result: V2InputFields.Shape?
        while try nextElement() {
            guard result == nil, try kind() == .number else {
                result = result ?? .invalid
                try skip()
                continue
            }
            let number = try RequestError.json { () throws(JSONError) in try scanner.readNumber() }
            if let value = number.int64Value, value >= 0 {
                dims.append(Int(value))
                if dims.count > V2InputFields.maxRank { result = .tooManyDimensions }
            } else {
                result = .invalid
            }
        }
        return result ?? .dims(dims)
    }

    // MARK: Outputs and parameters

    /// The `outputs` list: objects with a unique `name`, at least one.
    private mutating func outputs() throws(RequestError) -> [V2RequestedOutput] {
        guard try kind() == .array else { throw RequestError.malformedBody("'outputs' must be an array") }
        try RequestError.json { () throws(JSONError) in try scanner.beginArray() }
        var outputs: [V2RequestedOutput] = []
        var names: Set<String> = []
        while try nextElement() {
            let index = outputs.count
            let malformed = RequestError.malformedBody("outputs[\(index)] must be an object with a 'name'")
            guard try kind() == .object else { throw malformed }
            try RequestError.json { () throws(JSONError) in try scanner.beginObject() }
            var name: String?
            var parameters: [String: V2Parameter] = [:]
            while let key = try nextKey() {
                switch key {
                case "name": name = try stringOrSkip()
                case "parameters": parameters = try self.parameters(at: "outputs[\(index)].parameters")
                default: try skip()
                }
            }
            guard let name else { throw malformed }
            if let flag = parameters["binary_data"], flag.boolValue == nil {
                throw RequestError.malformedBody("outputs[\(index)].parameters.binary_data must be a boolean")
            }
            guard names.insert(name).inserted else {
                throw RequestError.malformedBody("output '\(name)' is requested more than once")
            }
            if let count = parameters["classification"], (count.intValue ?? 0) < 1 {
                throw RequestError.badOutput(name: name, reason: "parameter 'classification' must be an integer of "
                                             + "at least 1 (how many classes to return), got \(count)")
            }
            outputs.append(V2RequestedOutput(name: name, parameters: parameters))
        }
        guard !outputs.isEmpty else {
            // An empty list would compute every output and return none.
            throw RequestError.malformedBody("'outputs' is empty; leave 'outputs' out to get every output")
        }
        return outputs
    }

    /// A `parameters` object: string, number and boolean values; other values are ignored, as unknown
    /// parameters are.
    private mutating func parameters(at path: String) throws(RequestError) -> [String: V2Parameter] {
        guard try kind() == .object else { throw RequestError.malformedBody("'\(path)' must be an object") }
        try RequestError.json { () throws(JSONError) in try scanner.beginObject() }
        var parameters: [String: V2Parameter] = [:]
        while let key = try nextKey() {
            let value: V2Parameter? = try RequestError.json { () throws(JSONError) -> V2Parameter? in
                switch try scanner.peek() {
                case .string: return .string(try scanner.readString())
                case .number: return V2Parameter(try scanner.readNumber())
                case .bool: return .bool(try scanner.readBool())
                case .object, .array, .null:
                    try scanner.skipValue()
                    return nil
                }
            }
            parameters[key] = value
        }
        return parameters
    }

    /// The request `parameters`, with the reserved keys this server reads checked (docs/reference/serving.md 1.10).
    private static func checkedRequestParameters(_ parameters: [String: V2Parameter]) throws(RequestError)
        -> [String: V2Parameter] {
        if let flag = parameters["binary_data_output"], flag.boolValue == nil {
            throw RequestError.malformedBody("parameter 'binary_data_output' must be a boolean")
        }
        if let flag = parameters[V2Interpolation.parameter], flag.boolValue == nil {
            throw RequestError.malformedBody("parameter '\(V2Interpolation.parameter)' must be a boolean")
        }
        if let id = parameters["latents_id"], id.stringValue == nil {
            throw RequestError.malformedBody("parameter 'latents_id' must be a string (the latents_id of an earlier "
                                             + "response)")
        }
        for key in ["timeout", "priority"] {
            if let number = parameters[key], !(0...V2InferenceRequest.maxParameterValue).contains(number.intValue ?? -1) {
                throw RequestError.malformedBody("parameter '\(key)' must be an integer from 0 to "
                                                 + "\(V2InferenceRequest.maxParameterValue)")
            }
        }
        return parameters
    }

    // MARK: Scanner steps

    private mutating func kind() throws(RequestError) -> JSONKind {
        try RequestError.json { () throws(JSONError) in try scanner.peek() }
    }

    private mutating func nextKey() throws(RequestError) -> String? {
        try RequestError.json { () throws(JSONError) in try scanner.nextKey() }
    }

    private mutating func nextElement() throws(RequestError) -> Bool {
        try RequestError.json { () throws(JSONError) in try scanner.nextElement() }
    }

    private mutating func skip() throws(RequestError) {
        try RequestError.json { () throws(JSONError) in try scanner.skipValue() }
    }

    /// The string value at the cursor, or nil (the value skipped) when it is not a string.
    private mutating func stringOrSkip() throws(RequestError) -> String? {
        guard try kind() == .string else {
            try skip()
            return nil
        }
        return try RequestError.json { () throws(JSONError) in try scanner.readString() }
    }
}
