import Foundation
import JSONKit

// The differential half of the `jsonKit` target: `JSONSerialization` as the reference.

extension JSONKitFuzz {
    /// What `JSONSerialization` makes of `data` with its default options (an object or an array at the
    /// top), or nil when it refuses.
    static func foundation(_ data: Data) -> Any? {
        try? JSONSerialization.jsonObject(with: data)
    }

    /// What JSONKit accepted, Foundation reads to the same values, when it accepts it.
    static func checkAgainstFoundation(_ data: Data, _ value: JSONValue) {
        guard let reference = foundation(data) else { return }
        Invariant.require(same(value, reference), "JSONKit read \(value), JSONSerialization \(reference)")
    }

    /// What JSONKit refused, Foundation refuses too, unless JSONKit is stricter by design there.
    static func checkFoundationRefusesToo(_ data: Data, _ error: JSONError) {
        guard let reference = foundation(data) else { return }
        switch error.reason {
        case .invalidUTF8, .loneSurrogate, .tooDeep, .duplicateKey:
            return
        case .unexpectedByte(let byte, let expected)
            where (byte == UInt8(ascii: "]") && expected == .value || byte == UInt8(ascii: "}") && expected == .memberName)
                && data[..<error.offset].last(where: { !isWhitespace($0) }) == UInt8(ascii: ","):
            return  // JSONSerialization takes a trailing comma; RFC 8259 does not.
        default:
            // JSONSerialization also reads UTF-16 and UTF-32 (told apart by zero bytes) and skips a byte order
            // mark; RFC 8259 section 8.1 requires UTF-8 without one.
            let hasOtherEncoding = data.contains(0) || data.starts(with: [0xEF, 0xBB, 0xBF])
                || String(validating: data, as: UTF8.self) == nil
            Invariant.require(hasOtherEncoding, "JSONKit refused (\(error)) what JSONSerialization read as \(reference)")
        }
    }

    /// Whether a JSONKit value and a `JSONSerialization` value are the same: strings by their UTF-8, numbers
    /// as exact integers or as the nearest double, booleans only as booleans.
    static func same(_ value: JSONValue, _ reference: Any) -> Bool {
        switch value {
        case .null:
            return reference is NSNull
        case .bool(let flag):
            guard let number = reference as? NSNumber, isBoolean(number) else { return false }
            return number.boolValue == flag
        case .number(let number):
            guard let other = reference as? NSNumber, !isBoolean(other) else { return false }
            return same(number, other)
        case .string(let text):
            guard let other = reference as? String else { return false }
            return text.utf8.elementsEqual(other.utf8)
        case .array(let elements):
            guard let list = reference as? [Any], list.count == elements.count else { return false }
            return zip(elements, list).allSatisfy { same($0, $1) }
        case .object(let members):
            guard let dictionary = reference as? [String: Any] else { return false }
            // Names that differ in bytes but are equal Swift strings ("é", "e\u0301") are one key of a Swift
            // dictionary: nothing to compare member by member.
            guard Set(members.map(\.key)).count == members.count else { return true }
            return dictionary.count == members.count
                && members.allSatisfy { member in dictionary[member.key].map { same(member.value, $0) } ?? false }
        }
    }

    private static func same(_ number: JSONNumber, _ other: NSNumber) -> Bool {
        if case .integer(let value) = number.kind, other.int64Value == value {
            return true
        }
        // JSONSerialization keeps a literal whose double does not print back the same as a Decimal, whose
        // doubleValue is not correctly rounded (0.5488135027885437 gives 0.5488135027885435): compare decimals.
        if let decimal = other as? NSDecimalNumber {
            return Decimal(string: number.literal) == decimal.decimalValue
        }
        let double = number.doubleValue
        return double == other.doubleValue || (double.isNaN && other.doubleValue.isNaN)
    }

    /// RFC 8259 whitespace.
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Whether `JSONSerialization` made this number from `true` or `false`.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
