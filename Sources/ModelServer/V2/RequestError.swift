import ImageCodecs
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
    /// A requested output's parameters cannot be honoured: a `classification` count that is not a positive integer,
    /// or one on an output that is not FP32.
    case badOutput(name: String, reason: String)
    /// The `Inference-Header-Content-Length` header is not a decimal integer.
    case badInferenceHeaderLength(String)
    /// `Inference-Header-Content-Length` is negative or beyond the body (docs/reference/serving.md 1.8).
    case inferenceHeaderOutOfRange(length: Int, bodyLength: Int)
    /// The binary section after the JSON header is not the sum of the inputs' `binary_data_size`.
    case binaryDataLength(declared: Int, actual: Int)
    /// An uploaded image does not decode; `sniffed` is the format its first bytes announce, if any.
    case badImage(ImageDecodeError, sniffed: ImageFormat?)
    /// `Content-Type` names an image type `/infer` does not decode (415).
    case unsupportedMediaType(String)
    /// `Accept` names no format the answer can be written in, or one the model's answers do not come in (406).
    case notAcceptable(String)
    /// The engine refused the inputs or failed.
    case inference(InferenceError)
    /// A bearer token is required: none was sent (`invalidToken` false) or it is not accepted.
    case unauthorized(invalidToken: Bool)
    /// No route has this path.
    case routeNotFound(path: String)
    /// The request target's path has a `%` not followed by two hex digits, or does not decode to UTF-8.
    case badPath(String)
    /// The path exists but not for this method.
    case methodNotAllowed(method: String, allowed: [String])
    /// No model of this name is served.
    case modelNotFound(name: String, available: [String])
    /// The model is served, but not in this version.
    case versionNotFound(model: String, version: String, available: [String])
    /// `/infer` without `model` while several models are served.
    case modelRequired(available: [String])
    /// Not taking inference requests now: models loading, or draining.
    case unavailable(String)
    /// The model's queue already holds `max_queue_size` requests (503, Triton's wording).
    case queueFull(limit: Int)
    /// The request waited in the queue past its deadline (503, Triton's wording).
    case timeoutExpired(microseconds: Int)
    /// The client closed the connection while the request waited; nobody reads the answer.
    case canceled
    /// One request has more rows than the model's `max_batch_size`.
    case batchTooLarge(rows: Int, limit: Int)
    /// `parameters.priority` names a level the model does not have.
    case badPriority(Int, levels: Int)
    /// The request's pass alone would need more memory than the model's `memory_budget_mib` (413).
    case overMemoryBudget(needed: Int, budget: Int)
    /// An input or the outputs asked for exceed a configured size limit (413); the text names it.
    case tooLarge(String)
    /// `latents_id` names no latents this client may use: never issued, evicted, another token's, or the cache
    /// is off (404).
    case latentsNotFound(id: String, model: String)
    /// `latents_id` or `latents` beside inputs that contradict it (400); the text says which.
    case latentsConflict(String)
    /// An administrative endpoint that is off, or a token that may not use it (403); the text says which.
    case forbidden(String)
    /// A model the repository knows but does not serve now: unloaded, or its load failed (404).
    case modelUnavailable(name: String, reason: String)
    /// A model load or reload through the repository API failed (400, as Triton answers): the reason, and the
    /// previous version, if any, still serves.
    case loadFailed(model: String, reason: String)
    /// A model configuration given to the repository API is not valid (400), named by its key.
    case badModelConfiguration(String)

    /// The HTTP status this error answers with.
    public var status: Int {
        switch self {
        case .malformedBody, .badTensor, .unknownOutput, .badOutput, .badInferenceHeaderLength,
             .inferenceHeaderOutOfRange, .binaryDataLength:
            return 400
        case .inference(.aborted): return 503
        case .inference(let error): return error.isClientError ? 400 : 500
        case .badImage(.tooLarge, _), .overMemoryBudget, .tooLarge: return 413
        case .badImage(.unsupported, _), .unsupportedMediaType: return 415
        case .notAcceptable: return 406
        case .badImage(.outOfMemory, _): return 500
        case .badImage: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .loadFailed, .badModelConfiguration: return 400
        case .routeNotFound, .modelNotFound, .versionNotFound, .latentsNotFound, .modelUnavailable: return 404
        case .modelRequired, .batchTooLarge, .badPriority, .badPath, .latentsConflict: return 400
        case .methodNotAllowed: return 405
        case .unavailable, .queueFull, .timeoutExpired: return 503
        // nginx's "client closed request": never sent, but it labels the metrics and the log line.
        case .canceled: return 499
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
        case .badOutput(let name, let reason): return "output '\(name)': \(reason)"
        case .badInferenceHeaderLength(let value):
            return "Inference-Header-Content-Length must be a decimal integer, got '\(value)'"
        case .inferenceHeaderOutOfRange(let length, let bodyLength):
            // Triton's wording, which clients may match on.
            return "inference header size should be in range: Inference-Header-Content-Length is \(length), "
                + "the body has \(bodyLength) bytes"
        case .binaryDataLength(let declared, let actual):
            let difference = actual > declared ? "\(actual - declared) extra bytes" : "\(declared - actual) bytes missing"
            return "the inputs' binary_data_size values add up to \(declared) bytes, but \(actual) bytes follow "
                + "the JSON header (\(difference))"
        case .inference(let error): return error.description
        case .badImage(let error, let sniffed):
            guard case .corrupt(let format, _) = error, let sniffed, sniffed != format else { return error.description }
            return "\(error) (the bytes look like \(sniffed.mimeType): is Content-Type right?)"
        case .notAcceptable(let reason): return reason
        case .unsupportedMediaType(let type):
            return "Content-Type '\(type)' is not supported here: send image/png or image/jpeg"
        case .unauthorized(let invalidToken):
            return invalidToken ? "invalid bearer token"
                : "missing bearer token: send the header 'Authorization: Bearer TOKEN'"
        case .routeNotFound(let path): return "no route for '\(path)'"
        case .badPath(let path):
            return "the path '\(path)' is not valid percent-encoding (RFC 3986 section 2.1) of UTF-8"
        case .methodNotAllowed(let method, let allowed):
            return "method \(method) not allowed here (allowed: \(allowed.joined(separator: ", ")))"
        case .modelNotFound(let name, let available):
            return "unknown model '\(name)' (models: \(available.joined(separator: ", ")))"
        case .versionNotFound(let model, let version, let available):
            return "model '\(model)' has no version '\(version)' (versions: \(available.joined(separator: ", ")))"
        case .modelRequired(let available):
            return "several models are served; name one with \"model\" (models: \(available.joined(separator: ", ")))"
        case .unavailable(let reason): return "service unavailable: \(reason)"
        case .queueFull(let limit): return "exceeds maximum queue size (\(limit) requests are waiting); retry later"
        case .timeoutExpired(let microseconds):
            return "request timeout expired: waited \(microseconds) us in the queue without reaching compute"
        case .canceled: return "request canceled: the client closed the connection before compute"
        case .batchTooLarge(let rows, let limit):
            return "the request has \(rows) rows, more than the model's max_batch_size \(limit); split it"
        case .overMemoryBudget(let needed, let budget):
            return "the request needs about \(needed >> 20) MiB of working memory, more than the model's memory budget "
                + "of \(budget >> 20) MiB (models[].memory_budget_mib); send smaller inputs or fewer outputs"
        case .tooLarge(let reason): return reason
        case .latentsNotFound(let id, let model):
            return "latents_id '\(id.prefix(64))' names no cached latents of model '\(model)' (evicted, never issued, or "
                + "issued to another token); resend the inputs"
        case .latentsConflict(let reason): return reason
        case .forbidden(let reason): return reason
        case .modelUnavailable(let name, let reason): return "model '\(name)' is not loaded (\(reason))"
        case .loadFailed(let model, let reason): return "model '\(model)' failed to load: \(reason)"
        case .badModelConfiguration(let reason): return "parameters.config: \(reason)"
        case .badPriority(let priority, let levels):
            return "parameter 'priority' must be from 0 (the default level) to \(levels), got \(priority)"
        }
    }
}
