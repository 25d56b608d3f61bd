import JSONKit

extension V2Tensor {
    /// Why a tensor's JSON values do not decode, named for the client (`/v2/.../infer` data and `/infer`
    /// nested arrays alike); syntax errors, which the readers have ruled out before decoding, as malformed.
    static func dataError(_ error: JSONError, name: String, datatype: String) -> RequestError {
        let reason: String
        switch error.reason {
        case .notANumber(let kind, let element):
            reason = "values must be numbers, but element \(element) is \(kind.article)"
        case .notAnInteger(let literal, _):
            reason = "\(datatype) data must be integers, got \(literal)"
        case .integerOutOfRange(let literal, let element):
            reason = "element \(element) is \(literal), beyond the 64-bit integer range"
        case .floatOutOfRange(let literal, let element):
            // JSON has no infinity: a number that rounds to one is refused as an infinity would be.
            reason = "element \(element) is \(literal.hasPrefix("-") ? "-" : "+")Inf in FP32 (\(literal) is beyond "
                + "the FP32 range, ±\(Float.greatestFiniteMagnitude)); inputs must be finite numbers"
        case .raggedArray(let depth, let expected):
            reason = "ragged nesting: every row at depth \(depth) must have \(expected) entries"
        case .tooManyElements(let limit):
            reason = "more than \(limit) values"
        default:
            return RequestError(error)
        }
        return RequestError.badTensor(name: name, reason: reason)
    }
}
