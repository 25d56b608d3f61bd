import JSONKit

// Reads of the two JSON documents a checkpoint contains (the safetensors header and
// `model.safetensors.index.json`), as strict as the safetensors format: JSONKit already refuses what is not
// RFC 8259 UTF-8 (no UTF-16/32 guessing, no raw control bytes, no repeated names); these add that integers
// count only when written as integer literals.

extension JSONValue {
    /// Parses `bytes` as one JSON object; whitespace around it is allowed (Python's safetensors writer pads
    /// the header with trailing spaces to an 8-byte boundary).
    /// - Throws: the reason, phrased for an error message.
    static func checkpointObject(_ bytes: UnsafeRawBufferPointer) throws(CheckpointJSONError) -> JSONObjectReader {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw CheckpointJSONError(reason: "not valid JSON: \(error)")
        }
        guard let object = JSONObjectReader(value) else {
            throw CheckpointJSONError(reason: "top level is not a JSON object")
        }
        return object
    }

    /// This value as a non-negative `Int` when it is an integer literal in `0...Int.max`; nil for fractions
    /// and exponent forms (`4.0`, `1e3`), booleans and values beyond `Int.max`.
    var nonNegativeIntegerLiteral: Int? {
        guard let value = numberValue?.int64Value, value >= 0 else { return nil }
        return Int(exactly: value)
    }

    /// This value as an array of non-negative integer literals (see `nonNegativeIntegerLiteral`), or nil.
    var nonNegativeIntegerLiterals: [Int]? {
        guard let array = arrayValue else { return nil }
        let integers = array.compactMap(\.nonNegativeIntegerLiteral)
        return integers.count == array.count ? integers : nil
    }

    /// This value as a `[String: String]`, or nil unless it is an object of string values whose names are
    /// distinct as Swift strings too (JSONKit compares names by bytes, so `"é"` and `"e\u0301"` are two).
    var stringMap: [String: String]? {
        guard let members else { return nil }
        var map: [String: String] = [:]
        for member in members {
            guard let string = member.value.stringValue, map.updateValue(string, forKey: member.key) == nil else {
                return nil
            }
        }
        return map
    }
}

/// Why a checkpoint's JSON document was refused, phrased for the error message of the file it came from.
struct CheckpointJSONError: Error {
    let reason: String
}
