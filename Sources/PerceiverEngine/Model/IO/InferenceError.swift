/// Everything that can go wrong while running a loaded model: caller input that does not fit the model,
/// and failures of the compute backend.
///
/// Input cases name the tensor and what was expected, so a server can answer 400 with the message as is.
/// `backend` is an engine fault (a server answers 500 and logs the details).
public enum InferenceError: Error, Equatable, Sendable {
    /// A required input tensor is absent.
    case missingInput(String)
    /// An input tensor this model does not take was given.
    case unexpectedInput(String)
    /// An input's shape does not fit; `expected` reads like "(B, L) with L <= 2048".
    case badShape(tensor: String, expected: String, actual: [Int])
    /// An input holds a value outside its valid range (a token id, a position, a mask value).
    case badValue(tensor: String, reason: String)
    /// A oneDNN call failed; `operation` names the call, `status` is its `dnnl_status_t`.
    case backend(operation: String, status: Int32)
    /// The pass was abandoned between two primitives because its instance was told to stop (`ModelInstance.abort`).
    case aborted
}

extension InferenceError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .missingInput(let name):
            return "missing input tensor '\(name)'"
        case .unexpectedInput(let name):
            return "this model does not take an input named '\(name)'"
        case .badShape(let tensor, let expected, let actual):
            return "input '\(tensor)' has shape \(actual), expected \(expected)"
        case .badValue(let tensor, let reason):
            return "input '\(tensor)': \(reason)"
        case .backend(let operation, let status):
            return "oneDNN call \(operation) failed with status \(status)"
        case .aborted:
            return "the forward pass was abandoned: the server is shutting down"
        }
    }

    /// True when the caller sent something wrong (HTTP 400); false for engine faults (HTTP 500).
    public var isClientError: Bool {
        switch self {
        case .backend, .aborted: return false
        default: return true
        }
    }
}
