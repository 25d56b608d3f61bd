/// A JSON number as written: its literal text, and whether it was an integer (within 64 bits or beyond) or
/// had a fraction or an exponent. Conversions happen when asked, each rounding once.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal exactly as the input wrote it, like `-0.5e3`.
    public let literal: String
    public let kind: Kind

    /// What the literal's form says about its value.
    public enum Kind: Sendable, Hashable {
        /// An integer literal within the 64-bit range (`-0` is 0).
        case integer(Int64)
        /// An integer literal beyond the 64-bit range.
        case largeInteger
        /// A literal with a fraction or an exponent, like `4.0` or `1e2`, whatever its value.
        case fractionOrExponent
    }

    init(_ literal: NumberLiteral, in bytes: UnsafeRawBufferPointer) {
        self.literal = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[literal.range]), as: UTF8.self)
        if !literal.isInteger {
            kind = .fractionOrExponent
        } else if let value = literal.int64 {
            kind = .integer(value)
        } else {
            kind = .largeInteger
        }
    }

    /// The number `text` holds, which must be exactly one JSON number (RFC 8259 section 6).
    /// - Throws: `JSONError` when it is not.
    public init(parsing text: String) throws(JSONError) {
        guard case .number(let number) = try JSONValue(parsing: text) else {
            throw JSONError(offset: 0, reason: .typeMismatch(expected: .number, found: .null))
        }
        self = number
    }

    /// The value when the literal is an integer within the 64-bit range.
    public var int64Value: Int64? {
        if case .integer(let value) = kind { return value }
        return nil
    }

    /// The value rounded to the nearest double; ±infinity beyond the double range.
    public var doubleValue: Double { Double(literal) ?? .nan }

    /// The value rounded to the nearest float, as `Float(literal)`; nil when it rounds beyond the float range
    /// (JSON has no infinity).
    public var floatValue: Float? {
        var utf8 = literal
        let value = utf8.withUTF8 { buffer in
            var cursor = JSONCursor(bytes: UnsafeRawBufferPointer(buffer), range: 0..<buffer.count,
                                    options: JSONOptions())
            return (try? cursor.scanNumber())?.float(in: UnsafeRawBufferPointer(buffer))
        }
        guard let value, value.isFinite else { return nil }
        return value
    }

    public var description: String { literal }
}
