/// One token of a JSON text as `JSONScanner.nextToken()` reads it: separators are checked, not returned.
public enum JSONToken: Sendable, Hashable {
    case beginObject
    case endObject
    case beginArray
    case endArray
    /// A member name; its value is the next token.
    case key(String)
    case string(String)
    case number(JSONNumber)
    case bool(Bool)
    case null
}

extension JSONCursor {
    /// The next token; nil once the top-level value is complete and only whitespace follows.
    mutating func nextToken() throws(JSONError) -> JSONToken? {
        if let index = frames.indices.last, !frames[index].awaitingValue {
            if frames[index].isObject {
                guard let key = try nextKey() else { return .endObject }
                return .key(key)
            }
            guard try nextElement() else { return .endArray }
        } else if frames.isEmpty, isRootDone {
            try finish()
            return nil
        }
        switch try peekKind() {
        case .object:
            try beginObject()
            return .beginObject
        case .array:
            try beginArray()
            return .beginArray
        case .string: return .string(try readString())
        case .number: return .number(try readNumber())
        case .bool: return .bool(try readBool())
        case .null:
            try readNull()
            return .null
        }
    }

    /// Reads the string at the cursor.
    mutating func readString() throws(JSONError) -> String {
        let byte = try beginValue()
        guard byte == UInt8(ascii: "\"") else { throw mismatch(.string, byte) }
        let text = try readStringLiteral()
        endValue()
        return text
    }

    /// Reads the number at the cursor.
    mutating func readNumber() throws(JSONError) -> JSONNumber {
        let byte = try beginValue()
        guard byte == UInt8(ascii: "-") || Self.isDigit(byte) else { throw mismatch(.number, byte) }
        let literal = try scanNumber()
        endValue()
        return JSONNumber(literal, in: bytes)
    }

    /// Reads the `true` or `false` at the cursor.
    mutating func readBool() throws(JSONError) -> Bool {
        let byte = try beginValue()
        guard byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f") else { throw mismatch(.bool, byte) }
        let value = try scanBool()
        endValue()
        return value
    }

    /// Reads the `null` at the cursor.
    mutating func readNull() throws(JSONError) {
        let byte = try beginValue()
        guard byte == UInt8(ascii: "n") else { throw mismatch(.null, byte) }
        try expectLiteral("null")
        endValue()
    }
}
