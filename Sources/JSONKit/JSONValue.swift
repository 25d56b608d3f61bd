import Foundation

/// A whole JSON document as a tree, for small documents (parameters, configuration, tests). Objects keep
/// their members in order; numbers keep their literal (`JSONNumber`). Large arrays of numbers are better
/// read with `JSONScanner`'s typed reads, which build no value per element.
public enum JSONValue: Sendable, Hashable {
    case object([JSONMember])
    case array([JSONValue])
    case string(String)
    case number(JSONNumber)
    case bool(Bool)
    case null

    /// Parses one JSON text (RFC 8259): UTF-8, one value, only whitespace around it.
    /// - Throws: `JSONError` with the offset of the first byte that is wrong.
    public init(parsing bytes: UnsafeRawBufferPointer, options: JSONOptions = JSONOptions()) throws(JSONError) {
        var cursor = JSONCursor(bytes: bytes, range: 0..<bytes.count, options: options)
        self = try Self.read(&cursor)
        try cursor.finish()
    }

    /// Parses one JSON text held in `data` (see `init(parsing:options:)`).
    public init(parsing data: Data, options: JSONOptions = JSONOptions()) throws(JSONError) {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> JSONValue in try JSONValue(parsing: raw, options: options) }
        }
        self = try result.get()
    }

    /// Parses the UTF-8 of `text` (see `init(parsing:options:)`).
    public init(parsing text: String, options: JSONOptions = JSONOptions()) throws(JSONError) {
        try self.init(parsing: Data(text.utf8), options: options)
    }

    /// The value at the cursor, read recursively; the depth limit bounds the recursion.
    static func read(_ cursor: inout JSONCursor) throws(JSONError) -> JSONValue {
        switch try cursor.peekKind() {
        case .object:
            try cursor.beginObject()
            var members: [JSONMember] = []
            while let key = try cursor.nextKey() {
                members.append(JSONMember(key: key, value: try read(&cursor)))
            }
            return .object(members)
        case .array:
            try cursor.beginArray()
            var elements: [JSONValue] = []
            while try cursor.nextElement() {
                elements.append(try read(&cursor))
            }
            return .array(elements)
        case .string: return .string(try cursor.readString())
        case .number: return .number(try cursor.readNumber())
        case .bool: return .bool(try cursor.readBool())
        case .null:
            try cursor.readNull()
            return .null
        }
    }

    /// The kind of this value.
    public var kind: JSONKind {
        switch self {
        case .object: return .object
        case .array: return .array
        case .string: return .string
        case .number: return .number
        case .bool: return .bool
        case .null: return .null
        }
    }

    /// The value of the first member named `key` (compared by UTF-8 bytes), when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// The text, when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The number, when this is one.
    public var numberValue: JSONNumber? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// The boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The members in document order, when this is an object.
    public var members: [JSONMember]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value when this is a number that is a whole number within `Int`'s range, however it is written
    /// (see `JSONNumber.integralValue`); nil for anything else, booleans included.
    public var integerValue: Int? {
        numberValue?.integralValue.flatMap { Int(exactly: $0) }
    }

    /// A short rendering for error messages: a string quoted and cut at 40 characters, a number as written
    /// (cut likewise), `true`, `false`, `null`, `an array`, `an object`.
    public var summary: String {
        switch self {
        case .string(let text): return "\"\(JSONError.excerpt(text))\""
        case .number(let number): return JSONError.excerpt(number.literal)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array, .object: return kind.article
        }
    }
}

/// One member of a JSON object: a name and its value.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}
