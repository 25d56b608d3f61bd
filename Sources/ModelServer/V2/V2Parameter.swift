import Foundation

/// One value of a KServe V2 `$parameters` object: `$string : $string | $number | $boolean` (SERVING.md 1.5).
public enum V2Parameter: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

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

    /// The parameter a `JSONSerialization` value holds, or nil for an array, object or null.
    init?(json value: Any) {
        if let string = value as? String {
            self = .string(string)
        } else if let number = value as? NSNumber {
            self = Self(number)
        } else {
            return nil
        }
    }

    private init(_ number: NSNumber) {
        // JSONSerialization gives true/false as NSNumber; only their objCType ("c") tells them apart
        // from 1 and 0, which it stores as "i" or "q".
        switch String(cString: number.objCType) {
        case "c": self = .bool(number.boolValue)
        case "d", "f": self = .double(number.doubleValue)
        case "Q": self = Int(exactly: number.uint64Value).map(Self.int) ?? .double(number.doubleValue)
        default: self = .int(number.intValue)
        }
    }

    /// The parameters of a JSON `parameters` object; entries that are not scalars are ignored, as
    /// unknown parameters are.
    /// - Throws: `RequestError.malformedBody` when `value` is not an object.
    static func parameters(_ value: Any?, at path: String) throws(RequestError) -> [String: V2Parameter] {
        guard let value else { return [:] }
        guard let object = value as? [String: Any] else {
            throw RequestError.malformedBody("'\(path)' must be an object")
        }
        return object.compactMapValues { V2Parameter(json: $0) }
    }
}
