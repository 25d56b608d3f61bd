import JSONKit

extension RequestError {
    /// A body the JSON reader refused: 400 with the reason and byte offset. A repeated key gets its own
    /// message: the body is JSON, but two parsers could disagree on which value it holds (RFC 8259 section 4).
    init(_ error: JSONError) {
        switch error.reason {
        case .duplicateKey(let key, let path):
            self = .malformedBody("duplicate key '\(key)' in \(path.isEmpty ? "the top-level object" : path); "
                                  + "give each key once")
        default:
            self = .malformedBody("not valid JSON: \(error)")
        }
    }

    /// Runs one step of a JSON read, turning its error into a 400.
    @discardableResult
    static func json<Value>(_ body: () throws(JSONError) -> Value) throws(RequestError) -> Value {
        do {
            return try body()
        } catch {
            throw RequestError(error)
        }
    }
}
