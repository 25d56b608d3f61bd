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

    /// The value when it is a whole number within the 64-bit range, however it is written: `8080`, `8080.0`,
    /// `4e0` and `1.5e1` all qualify, `80.5` and `1e30` do not. Exact, from the decimal digits (a double
    /// would take `9007199254740993.0` for `9007199254740992`). For a reader that accepts only integer
    /// literals, see `int64Value`.
    public var integralValue: Int64? {
        scanned { literal, _ in literal.integral } ?? nil
    }

    /// The value rounded to the nearest double; ±infinity beyond the double range.
    public var doubleValue: Double { Double(literal) ?? .nan }

    /// The value rounded to the nearest float, as `Float(literal)`; nil when it rounds beyond the float range
    /// (JSON has no infinity).
    public var floatValue: Float? {
        guard let value = scanned({ literal, bytes in literal.float(in: bytes) }), value.isFinite else { return nil }
        return value
    }

    /// `body` applied to the literal scanned again (it was valid when this number was made, so the scan
    /// cannot fail).
    private func scanned<T>(_ body: (NumberLiteral, UnsafeRawBufferPointer) -> T) -> T? {
        var utf8 = literal
        return utf8.withUTF8 { buffer in
            let bytes = UnsafeRawBufferPointer(buffer)
            var cursor = JSONCursor(bytes: bytes, range: 0..<bytes.count, options: JSONOptions())
            return (try? cursor.scanNumber()).map { body($0, bytes) }
        }
    }

    public var description: String { literal }
}
