/// The scanning core under `JSONScanner` and `JSONValue`: a position in UTF-8 bytes (RFC 8259) and the
/// containers open around it. Values are read one at a time; separators are checked by `nextKey()` and
/// `nextElement()`, so a value can only be read where the grammar allows one.
///
/// `bytes` is borrowed: its owner sets it for the duration of each call (`JSONScanner.run`) or of a whole
/// parse (`JSONValue(parsing:)`), and it is never kept beyond that.
struct JSONCursor {
    /// The input; reads stay below `end`.
    var bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    var position: Int
    /// One past the last byte of the text.
    var end: Int
    /// The containers open at `position`, outermost first.
    var frames: [Frame] = []
    /// Whether the top-level value has been read completely.
    var isRootDone = false
    let options: JSONOptions

    /// One open object or array.
    struct Frame {
        var isObject: Bool
        /// Members or elements begun so far.
        var count = 0
        /// Whether a member name (object) or an element start (array) was read and its value comes next.
        var awaitingValue = false
        /// The name of the object's current member, for paths.
        var key = ""
        /// The names seen so far, when duplicates are refused.
        var keys: Set<ExactKey> = []
    }

    init(bytes: UnsafeRawBufferPointer, range: Range<Int>, options: JSONOptions) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.options = options
    }

    // MARK: Errors

    /// The error for finding something other than `expected` at `position`.
    func unexpected(_ expected: JSONError.Expectation) -> JSONError {
        guard position < end else { return JSONError(offset: position, reason: .unexpectedEnd(expected: expected)) }
        return JSONError(offset: position, reason: .unexpectedByte(bytes[position], expected: expected))
    }

    /// The error for a value of another kind than `expected` starting with `byte` at `position`.
    func mismatch(_ expected: JSONKind, _ byte: UInt8) -> JSONError {
        guard let found = Self.kind(startingWith: byte) else { return unexpected(.value) }
        return JSONError(offset: position, reason: .typeMismatch(expected: expected, found: found))
    }

    // MARK: Bytes

    /// RFC 8259 section 2: whitespace is space, tab, line feed and carriage return.
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always) mutating func skipWhitespace() {
        while position < end, Self.isWhitespace(bytes[position]) { position += 1 }
    }

    /// The kind of value `byte` starts, or nil when no value starts with it.
    static func kind(startingWith byte: UInt8) -> JSONKind? {
        switch byte {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: return nil
        }
    }

    // MARK: Values

    /// Checks that a value may start here, skips the whitespace before it and returns its first byte
    /// (not consumed).
    mutating func beginValue() throws(JSONError) -> UInt8 {
        if let index = frames.indices.last {
            guard frames[index].awaitingValue else {
                skipWhitespace()
                throw unexpected(frames[index].isObject ? .memberName : .commaOrArrayEnd)
            }
        } else if isRootDone {
            skipWhitespace()
            throw unexpected(.endOfInput)
        }
        skipWhitespace()
        guard position < end else { throw unexpected(.value) }
        return bytes[position]
    }

    /// Records that the value begun with `beginValue()` is complete (a scalar read, a container closed).
    mutating func endValue() {
        if let index = frames.indices.last {
            frames[index].awaitingValue = false
        } else {
            isRootDone = true
        }
    }

    /// The kind of the value at the cursor, which is not consumed.
    mutating func peekKind() throws(JSONError) -> JSONKind {
        let byte = try beginValue()
        guard let kind = Self.kind(startingWith: byte) else { throw unexpected(.value) }
        return kind
    }

    /// Consumes the `{` or `[` at `position` and opens its frame.
    mutating func open(isObject: Bool) throws(JSONError) {
        guard frames.count < options.maxDepth else {
            throw JSONError(offset: position, reason: .tooDeep(limit: options.maxDepth))
        }
        frames.append(Frame(isObject: isObject))
        position += 1
    }

    mutating func beginObject() throws(JSONError) {
        let byte = try beginValue()
        guard byte == UInt8(ascii: "{") else { throw mismatch(.object, byte) }
        try open(isObject: true)
    }

    mutating func beginArray() throws(JSONError) {
        let byte = try beginValue()
        guard byte == UInt8(ascii: "[") else { throw mismatch(.array, byte) }
        try open(isObject: false)
    }

    /// The next member name of the innermost object, with its `:` consumed; nil after its `}`.
    mutating func nextKey() throws(JSONError) -> String? {
        guard let index = try advance(inObject: true) else { return nil }
        skipWhitespace()
        guard position < end, bytes[position] == UInt8(ascii: "\"") else { throw unexpected(.memberName) }
        let keyOffset = position
        let key = try readStringLiteral()
        skipWhitespace()
        guard position < end, bytes[position] == UInt8(ascii: ":") else { throw unexpected(.colon) }
        position += 1
        if !options.allowsDuplicateKeys, !frames[index].keys.insert(ExactKey(key)).inserted {
            // Both shortened: a hostile body can make them as long as itself.
            let reason = JSONError.Reason.duplicateKey(JSONError.excerpt(key, limit: 64),
                                                       path: JSONError.excerpt(path(upTo: index), limit: 128))
            throw JSONError(offset: keyOffset, reason: reason)
        }
        frames[index].key = key
        return key
    }

    /// Moves to the next element of the innermost array, its `,` consumed: true when there is one, false
    /// after the array's `]`.
    mutating func nextElement() throws(JSONError) -> Bool {
        try advance(inObject: false) != nil
    }

    /// In the innermost container, which must be an object (`inObject`) or an array whose last value is
    /// complete: consumes its end and closes it (nil), or the `,` before its next member or element (none
    /// before the first) and counts that one, whose value is awaited next (the container's frame index).
    private mutating func advance(inObject: Bool) throws(JSONError) -> Int? {
        skipWhitespace()
        guard let index = frames.indices.last, frames[index].isObject == inObject, !frames[index].awaitingValue else {
            throw unexpected(inObject ? .value : .memberName)
        }
        let isFirst = frames[index].count == 0
        let separator: JSONError.Expectation = inObject ? .commaOrObjectEnd : .commaOrArrayEnd
        guard position < end else { throw unexpected(isFirst ? (inObject ? .memberName : .value) : separator) }
        if bytes[position] == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
            position += 1
            frames.removeLast()
            endValue()
            return nil
        }
        if !isFirst {
            guard bytes[position] == UInt8(ascii: ",") else { throw unexpected(separator) }
            position += 1
        }
        frames[index].count += 1
        frames[index].awaitingValue = true
        return index
    }

    /// Checks that the top-level value is complete and only whitespace follows it (RFC 8259 section 2).
    mutating func finish() throws(JSONError) {
        skipWhitespace()
        if let frame = frames.last {
            throw unexpected(frame.isObject ? .commaOrObjectEnd : .commaOrArrayEnd)
        }
        guard isRootDone else { throw unexpected(.value) }
        guard position == end else { throw unexpected(.endOfInput) }
    }

    /// Where the cursor is, like `inputs[0].data`: the names and indices of the open containers' current
    /// members below frame `index` (all of them by default); empty at the top level.
    func path(upTo index: Int? = nil) -> String {
        var path = ""
        for frame in frames[..<(index ?? frames.count)] where frame.count > 0 {
            if frame.isObject {
                path += (path.isEmpty ? "" : ".") + frame.key
            } else {
                path += "[\(frame.count - 1)]"
            }
        }
        return path
    }
}

/// A member name compared by its UTF-8 bytes, as RFC 8259 section 8.3 compares names: `"é"` and `"e\u0301"`
/// are two names, though Swift's `String ==` holds them equal.
struct ExactKey: Hashable {
    var name: String

    init(_ name: String) { self.name = name }

    static func == (lhs: ExactKey, rhs: ExactKey) -> Bool { lhs.name.utf8.elementsEqual(rhs.name.utf8) }

    func hash(into hasher: inout Hasher) {
        for byte in name.utf8 { hasher.combine(byte) }
    }
}
