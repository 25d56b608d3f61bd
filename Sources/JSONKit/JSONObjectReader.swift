/// One JSON object of a configuration file, read key by key: it knows its place in the document as a
/// dotted path (`models[1]`), names each key by its full path (`models[1].precision`) and, given the keys
/// its format allows, finds one that is not among them.
///
/// It judges no value and throws nothing: each layer turns what it finds into its own error (the server's
/// `ConfigurationError`, the engine's `ModelLoadError`), with `JSONValue`'s typed accessors for the values.
///
/// ```swift
/// guard let limits = JSONObjectReader(value, path: "limits", allowedKeys: ["max_body_bytes"]) else { ... }
/// if let unknown = limits.unknownKeyPath { ... }                 // "limits.max_bodyy_bytes"
/// let bytes = limits["max_body_bytes"]?.integerValue             // nil when absent or not an integer
/// ```
public struct JSONObjectReader: Sendable {
    /// The dotted path of this object, like `models[1]`; empty for the top level.
    public let path: String
    /// The object's members in document order (the parser refused repeated names).
    public let members: [JSONMember]
    /// The names the object may hold; nil when any name is allowed.
    public let allowedKeys: Set<String>?

    /// A reader of `value`, which must be an object (nil otherwise); `path` names it in key paths.
    public init?(_ value: JSONValue, path: String = "", allowedKeys: Set<String>? = nil) {
        guard let members = value.members else { return nil }
        self.path = path
        self.members = members
        self.allowedKeys = allowedKeys
    }

    /// The full path of a member whose name is not allowed (the first in sorted order, so the report does
    /// not depend on how the file is laid out), or nil when every name is allowed.
    public var unknownKeyPath: String? {
        guard let allowedKeys else { return nil }
        return members.map(\.key).filter { !allowedKeys.contains($0) }.sorted().first.map(keyPath)
    }

    /// The full dotted path of `key` in this object, like `models[1].precision`.
    public func keyPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The full path of element `index` of the array at `key`, like `models[1].preferred_batch_sizes[0]`.
    public func elementPath(_ key: String, _ index: Int) -> String {
        "\(keyPath(key))[\(index)]"
    }

    /// The value of `key` (compared by UTF-8 bytes), `null` included; nil when the object does not hold it.
    /// Reading a key that is not among `allowedKeys` is a programming error.
    public subscript(key: String) -> JSONValue? {
        assert(allowedKeys?.contains(key) ?? true, "reading '\(key)', which is not among the allowed keys")
        return members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// The value of `key` unless it is absent or `null` (for formats that read a `null` as the default, as
    /// `transformers` reads its configs).
    public func nonNull(_ key: String) -> JSONValue? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }
}
