import Foundation
import JSONKit

// The configuration file's typed reads: JSONKit's `JSONObjectReader` finds keys and names them by their
// dotted path; these turn what it finds into `ConfigurationError`s that say what the key must be.

extension JSONObjectReader {
    /// Parses `data` as the configuration file: one JSON object (RFC 8259, names unique), with only
    /// `allowedKeys` at its top level.
    /// - Throws: `invalidJSON` with JSONKit's reason and the line and column; `duplicateKey` naming the
    ///   repeated key by its dotted path; `unknownKey`.
    static func configuration(_ data: Data, allowedKeys: Set<String>) throws(ConfigurationError) -> JSONObjectReader {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: data)
        } catch {
            if case .duplicateKey(let key, let path) = error.reason {
                throw .duplicateKey(path.isEmpty ? key : "\(path).\(key)")
            }
            let (line, column) = error.lineAndColumn(in: data)
            throw .invalidJSON(reason: "\(error) (line \(line), column \(column))")
        }
        guard value.members != nil else { throw .invalidJSON(reason: "the top level must be an object") }
        return try checked(value, path: "", allowedKeys: allowedKeys, expected: .object)
    }

    /// A reader of `value`, an object with only `allowedKeys`, at `path`.
    /// - Throws: `invalidValue` (wanting `expected`) when it is not an object; `unknownKey` for a name it
    ///   may not hold.
    static func checked(_ value: JSONValue, path: String, allowedKeys: Set<String>,
                        expected: ConfigurationError.Requirement) throws(ConfigurationError) -> JSONObjectReader {
        guard let reader = JSONObjectReader(value, path: path, allowedKeys: allowedKeys) else {
            throw .invalidValue(key: path, expected: expected, found: value.summary)
        }
        if let unknown = reader.unknownKeyPath { throw .unknownKey(unknown) }
        return reader
    }

    /// The integer at `key`, or `defaultValue` if absent (a required key when `defaultValue` is nil). A whole
    /// number written with a fraction or an exponent (`8080.0`, `4e0`) counts; booleans, other fractions,
    /// null and values beyond `Int` are type errors; the range is checked here too.
    func integer(_ key: String, default defaultValue: Int?,
                 _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> Int {
        guard let value = try present(key, required: defaultValue == nil) else { return defaultValue ?? 0 }
        return try Self.integer(value, at: keyPath(key), requirement)
    }

    /// The string at `key`, or `defaultValue` if absent (a required key when `defaultValue` is nil).
    func string(_ key: String, default defaultValue: String?,
                _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> String {
        guard let value = try present(key, required: defaultValue == nil) else { return defaultValue ?? "" }
        guard let string = value.stringValue, requirement.isSatisfied(by: string) else {
            throw .invalidValue(key: keyPath(key), expected: requirement, found: value.summary)
        }
        return string
    }

    /// Whether `key` is present (null counts as present).
    func has(_ key: String) -> Bool {
        self[key] != nil
    }

    /// The boolean at `key`, or `defaultValue` if absent; numbers and strings are type errors.
    func boolean(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = try present(key, required: false) else { return defaultValue }
        guard let boolean = value.boolValue else {
            throw .invalidValue(key: keyPath(key), expected: .boolean, found: value.summary)
        }
        return boolean
    }

    /// The array at `key`, or nil if absent.
    func array(_ key: String) throws(ConfigurationError) -> [JSONValue]? {
        guard let value = try present(key, required: false) else { return nil }
        guard let array = value.arrayValue else {
            throw .invalidValue(key: keyPath(key), expected: .array, found: value.summary)
        }
        return array
    }

    /// The array of integers at `key`, each meeting `requirement` (errors name the element, `key[2]`), or nil
    /// if absent.
    func integers(_ key: String, _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> [Int]? {
        guard let array = try array(key) else { return nil }
        var integers: [Int] = []
        for (index, element) in array.enumerated() {
            integers.append(try Self.integer(element, at: elementPath(key, index), requirement))
        }
        return integers
    }

    /// The object at `key` with its allowed keys, or nil if absent or null.
    func object(_ key: String, allowedKeys: Set<String>) throws(ConfigurationError) -> JSONObjectReader? {
        guard let value = try present(key, required: false), value != .null else { return nil }
        return try Self.checked(value, path: keyPath(key), allowedKeys: allowedKeys, expected: .objectOrNull)
    }

    /// The value at `key`; nil if absent and not `required`.
    private func present(_ key: String, required: Bool) throws(ConfigurationError) -> JSONValue? {
        guard let value = self[key] else {
            if required { throw .missingKey(keyPath(key)) }
            return nil
        }
        return value
    }

    /// `value` as an integer meeting `requirement`; `path` names it in the error.
    private static func integer(_ value: JSONValue, at path: String,
                                _ requirement: ConfigurationError.Requirement) throws(ConfigurationError) -> Int {
        guard let integer = value.integerValue, requirement.isSatisfied(by: integer) else {
            throw .invalidValue(key: path, expected: requirement, found: value.summary)
        }
        return integer
    }
}
