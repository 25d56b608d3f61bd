import Foundation

/// A strict, streaming JSON reader (RFC 8259) over UTF-8 bytes: the caller walks the document value by
/// value, reads what it needs and skips the rest, so nothing is built that the caller does not ask for.
///
/// ```swift
/// var scanner = JSONScanner(body)
/// try scanner.beginObject()
/// while let key = try scanner.nextKey() {
///     switch key {
///     case "shape": shape = try scanner.readIntegers(maxCount: 8)
///     case "data": data = try scanner.skipValue()           // validated, located, not decoded
///     default: try scanner.skipValue()
///     }
/// }
/// try scanner.finish()
/// ```
///
/// Every read checks the grammar around it: separators, UTF-8 (RFC 3629), escapes and surrogate pairs,
/// the nesting limit and, unless `JSONOptions.allowsDuplicateKeys`, repeated member names. Errors are
/// `JSONError`s with the byte offset from the start of `data`.
public struct JSONScanner {
    /// The bytes: the scanner reads `range` of them.
    private let data: Data
    private var cursor: JSONCursor

    /// A scanner over all of `data`.
    public init(_ data: Data, options: JSONOptions = JSONOptions()) {
        self.init(data, range: 0..<data.count, options: options)
    }

    /// A scanner over the bytes `range` of `data` (offsets from `data`'s first byte), for example a value
    /// located by `skipValue()`; error offsets stay relative to `data`.
    public init(_ data: Data, range: Range<Int>, options: JSONOptions = JSONOptions()) {
        self.data = data
        let bounded = range.clamped(to: 0..<data.count)
        cursor = JSONCursor(bytes: UnsafeRawBufferPointer(start: nil, count: 0), range: bounded, options: options)
    }

    /// The offset of the next byte to read, from `data`'s first byte.
    public var offset: Int { cursor.position }

    /// Containers open at the cursor.
    public var depth: Int { cursor.frames.count }

    /// Where the cursor is, like `inputs[0].data`: names and indices of the open containers; empty at the top.
    public var path: String { cursor.path() }

    /// The kind of the next value; nothing is consumed.
    public mutating func peek() throws(JSONError) -> JSONKind { try run { (c) throws(JSONError) in try c.peekKind() } }

    /// The next token: a container's start or end, a member name, or a scalar; nil once the top-level value
    /// is complete and only whitespace follows it.
    public mutating func nextToken() throws(JSONError) -> JSONToken? {
        try run { (c) throws(JSONError) in try c.nextToken() }
    }

    /// Enters the object at the cursor.
    public mutating func beginObject() throws(JSONError) { try run { (c) throws(JSONError) in try c.beginObject() } }

    /// The next member name of the innermost object (its value comes next), or nil after the object ends.
    public mutating func nextKey() throws(JSONError) -> String? {
        try run { (c) throws(JSONError) in try c.nextKey() }
    }

    /// Enters the array at the cursor.
    public mutating func beginArray() throws(JSONError) { try run { (c) throws(JSONError) in try c.beginArray() } }

    /// Whether the innermost array has another element (which comes next); false after the array ends.
    public mutating func nextElement() throws(JSONError) -> Bool {
        try run { (c) throws(JSONError) in try c.nextElement() }
    }

    /// Reads the string at the cursor.
    public mutating func readString() throws(JSONError) -> String {
        try run { (c) throws(JSONError) in try c.readString() }
    }

    /// Reads the number literal at the cursor.
    public mutating func readNumber() throws(JSONError) -> JSONNumber {
        try run { (c) throws(JSONError) in try c.readNumber() }
    }

    /// Reads the `true` or `false` at the cursor.
    public mutating func readBool() throws(JSONError) -> Bool {
        try run { (c) throws(JSONError) in try c.readBool() }
    }

    /// Reads the `null` at the cursor.
    public mutating func readNull() throws(JSONError) { try run { (c) throws(JSONError) in try c.readNull() } }

    /// Reads the value at the cursor as a tree (for small values: see `JSONValue`).
    public mutating func readValue() throws(JSONError) -> JSONValue {
        try run { (c) throws(JSONError) in try JSONValue.read(&c) }
    }

    /// Validates the value at the cursor without building it and moves past it; returns its byte range.
    /// Allocates nothing for arrays, numbers and strings (objects keep their names to refuse duplicates).
    @discardableResult
    public mutating func skipValue() throws(JSONError) -> Range<Int> {
        try run { (c) throws(JSONError) in try c.skipValue().range }
    }

    /// `skipValue()`, also counting the leaves of the value's array nesting: the values that are not arrays
    /// and not inside an object, as `readFloats` would read them (`[[1, 2], [3]]` has 3, a number 1).
    public mutating func skipValueCountingLeaves() throws(JSONError) -> (range: Range<Int>, leaves: Int) {
        try run { (c) throws(JSONError) in try c.skipValue() }
    }

    /// The numbers of the value at the cursor, a number or arrays of numbers nested in any way (row-major),
    /// each rounded to the nearest float exactly as `Float(String)` does. At most `maxCount` numbers.
    /// - Throws: `JSONError` for a non-number (booleans and null are not numbers), a number beyond the float
    ///   range (`floatOutOfRange`, as JSON has no infinity), more than `maxCount` numbers, or bad syntax.
    public mutating func readFloats(maxCount: Int) throws(JSONError) -> [Float] {
        try run { (c) throws(JSONError) in try c.readNumbers(Float.self, maxCount: maxCount, acceptsBooleans: false) }
    }

    /// The integers of the value at the cursor, nested as for `readFloats`, each exact: a literal with a
    /// fraction or an exponent (`4.0`, `1e2`) is `notAnInteger`, one outside the 64-bit range is
    /// `integerOutOfRange`. With `acceptsBooleans`, `true` and `false` read as 1 and 0 (for BOOL tensors).
    public mutating func readIntegers(maxCount: Int, acceptsBooleans: Bool = false) throws(JSONError) -> [Int] {
        try run { (c) throws(JSONError) in
            try c.readNumbers(Int.self, maxCount: maxCount, acceptsBooleans: acceptsBooleans)
        }
    }

    /// Nested arrays of numbers that form a rectangular block, as floats, and their shape (see
    /// `readFloats`): `[[1, 2], [3, 4]]` is shape [2, 2]. Ragged rows are `raggedArray`.
    public mutating func readRectangularFloats(maxCount: Int) throws(JSONError) -> (shape: [Int], values: [Float]) {
        try run { (c) throws(JSONError) in try c.readRectangular(Float.self, maxCount: maxCount) }
    }

    /// Nested arrays of integers that form a rectangular block, and their shape (see `readIntegers`).
    public mutating func readRectangularIntegers(maxCount: Int) throws(JSONError) -> (shape: [Int], values: [Int]) {
        try run { (c) throws(JSONError) in try c.readRectangular(Int.self, maxCount: maxCount) }
    }

    /// Checks that the top-level value is complete and only whitespace follows it.
    public mutating func finish() throws(JSONError) { try run { (c) throws(JSONError) in try c.finish() } }

    /// Runs `body` on the cursor with `data`'s bytes lent to it for the call.
    private mutating func run<Value>(_ body: (inout JSONCursor) throws(JSONError) -> Value) throws(JSONError) -> Value {
        let data = self.data
        let result = data.withUnsafeBytes { raw in
            cursor.bytes = raw
            defer { cursor.bytes = UnsafeRawBufferPointer(start: nil, count: 0) }
            return Result { () throws(JSONError) -> Value in try body(&cursor) }
        }
        return try result.get()
    }
}
