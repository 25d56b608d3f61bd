import Foundation

/// Strict wrappers around `JSONSerialization` for the two JSON documents a checkpoint contains
/// (the safetensors header and `model.safetensors.index.json`).
///
/// `JSONSerialization` is lenient in ways the safetensors format is not: it guesses UTF-16/32
/// encodings, and it hands numbers back as `NSNumber`s that bridge `1.0` and `true` to the
/// integer 1. These helpers undo that leniency so a malformed file is rejected instead of being
/// read as something its writer never meant.
enum StrictJSON {
    /// Why a document was rejected, phrased for an error message.
    struct Failure: Error {
        /// Human-readable reason.
        let reason: String
    }

    /// Parses `bytes` as one UTF-8 JSON object; surrounding whitespace is allowed (Python's
    /// safetensors writer pads the header with trailing spaces to an 8-byte boundary).
    static func object(from bytes: UnsafeRawBufferPointer) throws(Failure) -> [String: Any] {
        // RFC 8259 forbids raw control characters anywhere in a document (inside strings they
        // must be escaped), so any byte below 0x20 other than JSON whitespace is malformed.
        // Rejecting NULs up front also stops JSONSerialization from guessing UTF-16 or UTF-32.
        if let index = bytes.firstIndex(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) {
            throw Failure(reason: "control byte 0x\(String(bytes[index], radix: 16)) at offset \(index)")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Failure(reason: "not valid UTF-8")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw Failure(reason: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw Failure(reason: "top level is not a JSON object")
        }
        return object
    }

    /// `value` as a non-negative `Int`, or nil unless it was written as a JSON integer literal
    /// in `0...Int.max`. Rejects `true`/`false`, fractions, exponent forms such as `1e3`
    /// (JSONSerialization reports those as doubles) and values beyond `Int.max`.
    static func nonNegativeInteger(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(number is NSDecimalNumber) else {
            return nil
        }
        // objCType records how JSONSerialization stored the literal: integer codes for integer
        // literals, "d" for anything with a fraction or exponent, "c" for booleans.
        switch String(cString: number.objCType) {
        case "s", "i", "l", "q":
            let signed = number.int64Value
            return signed >= 0 ? Int(exactly: signed) : nil
        case "S", "I", "L", "Q":
            return Int(exactly: number.uint64Value)
        default:
            return nil
        }
    }

    /// `value` as an array of non-negative integers (see ``nonNegativeInteger(_:)``), or nil.
    static func nonNegativeIntegers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else {
            return nil
        }
        var result: [Int] = []
        result.reserveCapacity(array.count)
        for element in array {
            guard let integer = nonNegativeInteger(element) else {
                return nil
            }
            result.append(integer)
        }
        return result
    }

    /// `value` as a `[String: String]` object, or nil if it is not an object or any value is
    /// not a string.
    static func stringMap(_ value: Any?) -> [String: String]? {
        guard let object = value as? [String: Any] else {
            return nil
        }
        var result: [String: String] = [:]
        for (key, element) in object {
            guard let string = element as? String else {
                return nil
            }
            result[key] = string
        }
        return result
    }
}
