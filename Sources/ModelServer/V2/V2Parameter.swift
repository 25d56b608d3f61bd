import JSONKit

/// One value of a KServe V2 `$parameters` object: `$string : $string | $number | $boolean` (docs/reference/serving.md
/// 1.5).
public enum V2Parameter: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    /// The value when it is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value when it is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value when it is an integer, or a number with no fractional part that fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int(exactly: value)
        case .string, .bool: return nil
        }
    }

    /// The value as JSON would write it, for messages: `"a"`, `3`, `2.5`, `true`.
    public var description: String {
        switch self {
        case .string(let value): return JSONText.quoted(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .bool(let value): return String(value)
        }
    }

    /// A JSON number as written: an integer literal within 64 bits is `.int`, any other number `.double`.
    init(_ number: JSONNumber) {
        if let value = number.int64Value {
            self = .int(Int(value))
        } else {
            self = .double(number.doubleValue)
        }
    }
}
