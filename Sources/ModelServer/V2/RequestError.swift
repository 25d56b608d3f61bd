import PerceiverEngine

/// Why a request cannot be served: decided before or by the engine. One type for the ModelServer layer;
/// `status` maps each case to its HTTP status.
public enum RequestError: Error, Equatable, Sendable {
    /// The body is not the JSON the protocol requires.
    case malformedBody(String)
    /// A tensor in the request is wrong: name, datatype, shape or data.
    case badTensor(name: String, reason: String)
    /// `outputs` names an output the model does not produce.
    case unknownOutput(name: String, available: [String])
    /// The engine refused the inputs or failed.
    case inference(InferenceError)

    /// The HTTP status this error answers with.
    public var status: Int {
        switch self {
        case .malformedBody, .badTensor, .unknownOutput: return 400
        case .inference(let error): return error.isClientError ? 400 : 500
        }
    }
}

extension RequestError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .malformedBody(let reason): return "malformed request body: \(reason)"
        case .badTensor(let name, let reason): return "input '\(name)': \(reason)"
        case .unknownOutput(let name, let available):
            return "unknown output '\(name)' (outputs: \(available.joined(separator: ", ")))"
        case .inference(let error): return error.description
        }
    }
}
