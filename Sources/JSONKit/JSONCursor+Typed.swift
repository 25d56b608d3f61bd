// Typed reads: numbers straight into [Float] or [Int], row-major, no value per element.

/// A number type the typed reads decode into.
protocol JSONNumberElement {
    /// `literal` as this type, or the error naming it as element `element`.
    static func decode(_ literal: NumberLiteral, in bytes: UnsafeRawBufferPointer,
                       element: Int) throws(JSONError) -> Self
    /// `true` and `false` as 1 and 0, for reads that take booleans.
    init(_ value: Bool)
}

extension Float: JSONNumberElement {
    static func decode(_ literal: NumberLiteral, in bytes: UnsafeRawBufferPointer,
                       element: Int) throws(JSONError) -> Float {
        let value = literal.float(in: bytes)
        guard value.isFinite else {
            throw JSONError(offset: literal.range.lowerBound,
                            reason: .floatOutOfRange(literal: literal.excerpt(in: bytes), element: element))
        }
        return value
    }

    init(_ value: Bool) { self = value ? 1 : 0 }
}

extension Int: JSONNumberElement {
    static func decode(_ literal: NumberLiteral, in bytes: UnsafeRawBufferPointer,
                       element: Int) throws(JSONError) -> Int {
        guard literal.isInteger else {
            throw JSONError(offset: literal.range.lowerBound,
                            reason: .notAnInteger(literal: literal.excerpt(in: bytes), element: element))
        }
        guard let value = literal.int64 else {
            throw JSONError(offset: literal.range.lowerBound,
                            reason: .integerOutOfRange(literal: literal.excerpt(in: bytes), element: element))
        }
        return Int(value)
    }

    init(_ value: Bool) { self = value ? 1 : 0 }
}

extension JSONCursor {
    /// The numbers of the value at the cursor, a number or arrays of numbers nested in any way, in row-major
    /// order; at most `maxCount` of them. Booleans count as 1 and 0 only with `acceptsBooleans`.
    mutating func readNumbers<T: JSONNumberElement>(_: T.Type, maxCount: Int,
                                                    acceptsBooleans: Bool) throws(JSONError) -> [T] {
        var values: [T] = []
        guard try beginValue() == UInt8(ascii: "[") else {
            try appendNumber(to: &values, maxCount: maxCount, acceptsBooleans: acceptsBooleans)
            endValue()
            return values
        }
        // n numbers take at least 2n - 1 bytes: a bound that a small body cannot inflate.
        values.reserveCapacity(min(maxCount, (end - position) / 2 + 1))
        let maxNesting = options.maxDepth - frames.count
        var nesting = 0
        var expectsValue = true  // after '[' or ','
        var isJustOpened = false  // after '['
        while true {
            if expectsValue {
                skipWhitespace()
                guard position < end else { throw unexpected(.value) }
                switch bytes[position] {
                case UInt8(ascii: "["):
                    guard nesting < maxNesting else {
                        throw JSONError(offset: position, reason: .tooDeep(limit: options.maxDepth))
                    }
                    nesting += 1
                    position += 1
                    isJustOpened = true
                    continue
                case UInt8(ascii: "]") where isJustOpened:
                    break
                default:
                    try appendNumber(to: &values, maxCount: maxCount, acceptsBooleans: acceptsBooleans)
                    expectsValue = false
                    continue
                }
            } else {
                skipWhitespace()
                guard position < end else { throw unexpected(.commaOrArrayEnd) }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    expectsValue = true
                    isJustOpened = false
                    continue
                }
                guard bytes[position] == UInt8(ascii: "]") else { throw unexpected(.commaOrArrayEnd) }
            }
            // The ']' at `position` closes an array.
            position += 1
            nesting -= 1
            if nesting == 0 { break }
            expectsValue = false
            isJustOpened = false
        }
        endValue()
        return values
    }

    /// Reads the number (or boolean, with `acceptsBooleans`) at `position` into `values`.
    @inline(__always)
    mutating func appendNumber<T: JSONNumberElement>(to values: inout [T], maxCount: Int,
                                                     acceptsBooleans: Bool) throws(JSONError) {
        let byte = bytes[position]
        let isBool = byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f")
        guard byte == UInt8(ascii: "-") || Self.isDigit(byte) || (isBool && acceptsBooleans) else {
            guard let kind = Self.kind(startingWith: byte) else { throw unexpected(.value) }
            throw JSONError(offset: position, reason: .notANumber(kind, element: values.count))
        }
        guard values.count < maxCount else {
            throw JSONError(offset: position, reason: .tooManyElements(limit: maxCount))
        }
        if isBool {
            values.append(T(try scanBool()))
        } else {
            values.append(try T.decode(try scanNumber(), in: bytes, element: values.count))
        }
    }
}
