import Foundation

/// Reads typed values out of one JSON object from `JSONSerialization`, naming keys by their full dotted path
/// (`models[1].precision`) in errors. Knows the object's allowed keys up front so that a misspelt key is
/// reported as unknown rather than as a missing required key.
struct JSONObjectReader {
    /// Dotted path of this object; empty for the top level.
    let path: String
    private let object: [String: Any]
    private let allowedKeys: Set<String>

    /// Checks `value` is an object with only `allowedKeys`; `path` names it in errors.
    /// - Throws: `invalidValue` (`invalidJSON` at the top level) if it is not an object, `unknownKey` (the first in sorted order) for extra keys.
    init(_ value: Any, path: String, allowedKeys: Set<String>) throws(ConfigurationError) {
        guard let object = value as? [String: Any] else {
            if path.isEmpty { throw .invalidJSON(reason: "the top level must be an object") }
            throw .invalidValue(key: path, expected: .object, found: Self.describe(value))
        }
        self.path = path
        self.object = object
        self.allowedKeys = allowedKeys
        if let unknown = object.keys.filter({ !allowedKeys.contains($0) }).sorted().first {
            throw .unknownKey(keyPath(unknown))
        }
    }

    /// Parses `data` as JSON; the result is for `init(_:path:allowedKeys:)`.
    /// - Throws: `invalidJSON` with JSONSerialization's message and, when it gives a character offset, the
    ///   line and column.
    static func parse(_ data: Data) throws(ConfigurationError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                ?? (error as NSError).localizedDescription
            throw .invalidJSON(reason: message + positionHint(message, in: data))
        }
    }

    /// The full dotted path of `key` in this object.
    func keyPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The integer at `key`, or `defaultValue` if absent. Booleans, fractions, null and values beyond `Int` are
    /// type errors; the range is checked here too.
    func integer(_ key: String, default defaultValue: Int?,
                 _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> Int {
        guard let value = try present(key, required: defaultValue == nil) else { return defaultValue ?? 0 }
        guard let integer = Self.integerValue(value), requirement.isSatisfied(by: integer) else {
            throw .invalidValue(key: keyPath(key), expected: requirement, found: Self.describe(value))
        }
        return integer
    }

    /// The string at `key`, or `defaultValue` if absent (a required key when `defaultValue` is nil).
    func string(_ key: String, default defaultValue: String?,
                _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> String {
        guard let value = try present(key, required: defaultValue == nil) else { return defaultValue ?? "" }
        guard let string = value as? String, requirement.isSatisfied(by: string) else {
            throw .invalidValue(key: keyPath(key), expected: requirement, found: Self.describe(value))
        }
        return string
    }

    /// Whether `key` is present (null counts as present).
    func has(_ key: String) -> Bool {
        object[key] != nil
    }

    /// The boolean at `key`, or `defaultValue` if absent; numbers and strings are type errors.
    func boolean(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = try present(key, required: false) else { return defaultValue }
        guard let number = value as? NSNumber, Self.isBoolean(number) else {
            throw .invalidValue(key: keyPath(key), expected: .boolean, found: Self.describe(value))
        }
        return number.boolValue
    }

    /// The array at `key`, or nil if absent.
    func array(_ key: String) throws(ConfigurationError) -> [Any]? {
        guard let value = try present(key, required: false) else { return nil }
        guard let array = value as? [Any] else {
            throw .invalidValue(key: keyPath(key), expected: .array, found: Self.describe(value))
        }
        return array
    }

    /// The array of integers at `key`, each meeting `requirement` (errors name the element, `key[2]`), or nil
    /// if absent.
    func integers(_ key: String, _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> [Int]? {
        guard let array = try array(key) else { return nil }
        var integers: [Int] = []
        for (index, element) in array.enumerated() {
            guard let integer = Self.integerValue(element), requirement.isSatisfied(by: integer) else {
                throw .invalidValue(key: "\(keyPath(key))[\(index)]", expected: requirement,
                                    found: Self.describe(element))
            }
            integers.append(integer)
        }
        return integers
    }

    /// The object at `key` with its allowed keys, or nil if absent or null.
    func object(_ key: String, allowedKeys: Set<String>) throws(ConfigurationError) -> JSONObjectReader? {
        guard let value = try present(key, required: false), !(value is NSNull) else { return nil }
        guard value is [String: Any] else {
            throw .invalidValue(key: keyPath(key), expected: .objectOrNull, found: Self.describe(value))
        }
        return try JSONObjectReader(value, path: keyPath(key), allowedKeys: allowedKeys)
    }

    /// The raw value at `key`; nil if absent and not `required`.
    private func present(_ key: String, required: Bool) throws(ConfigurationError) -> Any? {
        assert(allowedKeys.contains(key), "reading '\(key)', which is not among the allowed keys")
        guard let value = object[key] else {
            if required { throw .missingKey(keyPath(key)) }
            return nil
        }
        return value
    }

    /// `value` as an `Int` if it is a JSON number with an integral value in range; nil for booleans.
    static func integerValue(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        switch String(cString: number.objCType) {
        case "d", "f": return Int(exactly: number.doubleValue)
        case "Q", "L", "I", "S", "C": return number.uint64Value <= UInt64(Int.max) ? Int(number.uint64Value) : nil
        default: return Int(exactly: number.int64Value)
        }
    }

    /// Whether `JSONSerialization` made this number from `true`/`false`. On Linux `1 is Bool` is true, so the
    /// Objective-C type code ("c", char) is what tells a boolean from an integer.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// A short rendering of a JSON value for error messages.
    static func describe(_ value: Any) -> String {
        switch value {
        case let string as String:
            let shown = string.count > 40 ? String(string.prefix(40)) + "..." : string
            return "\"\(shown)\""
        case let number as NSNumber:
            return isBoolean(number) ? (number.boolValue ? "true" : "false") : number.stringValue
        case is NSNull: return "null"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return String(describing: type(of: value))
        }
    }

    /// ` (line L, column C)` for a message that ends in `character N`, counting in UTF-8 bytes; else empty.
    private static func positionHint(_ message: String, in data: Data) -> String {
        guard let range = message.range(of: "character ") else { return "" }
        let digits = message[range.upperBound...].prefix(while: \.isNumber)
        guard let offset = Int(digits), offset <= data.count else { return "" }
        let prefix = [UInt8](data.prefix(offset))
        let line = prefix.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        let column = offset - (prefix.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return " (line \(line), column \(column))"
    }
}
