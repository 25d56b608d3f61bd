/// Why a JSON text was refused, and where: `offset` counts bytes from the start of the input the scanner reads
/// (for a scanner over part of a buffer, from the start of the whole buffer).
public struct JSONError: Error, Equatable, Sendable {
    /// Byte offset of the first byte that is wrong (the end of the input when it ended too soon).
    public var offset: Int
    /// What is wrong there.
    public var reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// What is wrong at an offset: RFC 8259 syntax, a limit, or a value a typed read cannot take.
    public enum Reason: Equatable, Sendable {
        /// The input ended where `expected` had to come.
        case unexpectedEnd(expected: Expectation)
        /// This byte cannot start or continue what `expected` names.
        case unexpectedByte(UInt8, expected: Expectation)
        /// A number with a leading zero, like `012` (RFC 8259 section 6).
        case leadingZero
        /// A byte sequence that is not UTF-8 (RFC 8259 section 8.1; RFC 3629 section 4), inside a string.
        case invalidUTF8
        /// A control character (U+0000 to U+001F) written raw inside a string (RFC 8259 section 7).
        case controlCharacter(UInt8)
        /// A backslash followed by a byte that starts no escape.
        case invalidEscape(UInt8)
        /// A `\u` escape of a UTF-16 surrogate without its other half (RFC 8259 section 8.2).
        case loneSurrogate(UInt16)
        /// Containers nested deeper than the scanner's limit.
        case tooDeep(limit: Int)
        /// An object names `key` twice; `path` is the object's place, like `inputs[0]` (empty at the top).
        /// Each is shortened to its first 64 and 128 characters, followed by "...".
        case duplicateKey(String, path: String)
        /// The scanner was asked for `expected` where the input holds `found`.
        case typeMismatch(expected: JSONKind, found: JSONKind)
        /// A typed read met a value that is not a number (booleans and null are not numbers) at element `element`.
        case notANumber(JSONKind, element: Int)
        /// An integer read met a number written with a fraction or an exponent.
        case notAnInteger(literal: String, element: Int)
        /// An integer read met an integer outside the 64-bit range.
        case integerOutOfRange(literal: String, element: Int)
        /// A float read met a number whose magnitude rounds beyond `Float.greatestFiniteMagnitude`.
        case floatOutOfRange(literal: String, element: Int)
        /// A typed read found more than `limit` numbers.
        case tooManyElements(limit: Int)
        /// Nested arrays that are not rectangular: a row at `depth` (0 outermost) does not have `expected` entries.
        case raggedArray(depth: Int, expected: Int)
    }

    /// What the scanner was looking for when it met something else.
    public enum Expectation: Equatable, Sendable {
        case value
        case memberName
        case colon
        case commaOrObjectEnd
        case commaOrArrayEnd
        case digit
        case hexDigit
        case closingQuote
        case endOfInput
    }
}

/// The six kinds of JSON value (RFC 8259 section 3).
public enum JSONKind: String, Equatable, Sendable {
    case object, array, string, number, bool, null
}

extension JSONError: CustomStringConvertible {
    /// "unexpected '}' at byte 11, expected a value".
    public var description: String { "\(reason) at byte \(offset)" }
}

extension JSONError.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unexpectedEnd(let expected): return "unexpected end of input, expected \(expected)"
        case .unexpectedByte(let byte, let expected):
            return "unexpected \(JSONError.describe(byte)), expected \(expected)"
        case .leadingZero: return "a number with a leading zero"
        case .invalidUTF8: return "invalid UTF-8"
        case .controlCharacter(let byte): return "raw control character \(JSONError.describe(byte)) in a string"
        case .invalidEscape(let byte): return "invalid escape '\\\(JSONError.describe(byte, quoted: false))'"
        case .loneSurrogate(let unit):
            return "lone surrogate \\u\(String(unit, radix: 16, uppercase: true)) without its other half"
        case .tooDeep(let limit): return "nested deeper than \(limit) levels"
        case .duplicateKey(let key, let path):
            return "duplicate key '\(key)' in \(path.isEmpty ? "the top-level object" : path)"
        case .typeMismatch(let expected, let found): return "expected \(expected.article), found \(found.article)"
        case .notANumber(let kind, let element): return "element \(element) is \(kind.article), not a number"
        case .notAnInteger(let literal, let element): return "element \(element) is \(literal), not an integer"
        case .integerOutOfRange(let literal, let element):
            return "element \(element) is \(literal), outside the 64-bit integer range"
        case .floatOutOfRange(let literal, let element):
            return "element \(element) is \(literal), beyond the float32 range"
        case .tooManyElements(let limit): return "more than \(limit) numbers"
        case .raggedArray(let depth, let expected):
            return "ragged nesting: every row at depth \(depth) must have \(expected) entries"
        }
    }
}

extension JSONError.Expectation: CustomStringConvertible {
    public var description: String {
        switch self {
        case .value: return "a value"
        case .memberName: return "a member name"
        case .colon: return "':'"
        case .commaOrObjectEnd: return "',' or '}'"
        case .commaOrArrayEnd: return "',' or ']'"
        case .digit: return "a digit"
        case .hexDigit: return "a hex digit"
        case .closingQuote: return "the closing '\"'"
        case .endOfInput: return "the end of the input"
        }
    }
}

extension JSONKind {
    /// "an object", "a number", "null".
    public var article: String {
        switch self {
        case .object, .array: return "an \(rawValue)"
        case .null: return "null"
        case .bool: return "a boolean"
        case .string, .number: return "a \(rawValue)"
        }
    }
}

extension JSONError {
    /// A byte as text: `'x'` for printable ASCII, `byte 0x1F` otherwise.
    static func describe(_ byte: UInt8, quoted: Bool = true) -> String {
        guard (0x21...0x7E).contains(byte) else { return "byte 0x" + String(byte, radix: 16, uppercase: true) }
        let character = String(UnicodeScalar(byte))
        return quoted ? "'\(character)'" : character
    }

    /// `text` for a message that quotes what an input held: as is up to `limit` characters, else its first
    /// `limit` followed by "...".
    public static func excerpt(_ text: String, limit: Int = 40) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "..."
    }
}

extension JSONError {
    /// Where `offset` falls in `bytes`, the input this error came from: the line (1-based, lines end at a
    /// line feed) and the column (1-based, in UTF-8 bytes), for messages about files people edit.
    public func lineAndColumn(in bytes: some Collection<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
