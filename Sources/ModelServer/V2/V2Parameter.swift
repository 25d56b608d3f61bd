import JSONKit

/// One value of a KServe V2 `$parameters` object: `$string : $string | $number | $boolean` (docs/reference/serving.md
/// 1.5).
public enum V2Parameter: Sendable, Equatable {
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

    /// A JSON number as written: an integer literal within 64 bits is `.int`, any other number `.double`.
    init(_ number: JSONNumber) {
        if let value = number.int64Value {
            self = .int(Int(value))
        } else {
            self = .double(number.doubleValue)
        }
    }
}
