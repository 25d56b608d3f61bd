extension JSONCursor {
    /// The numbers of nested arrays that form a rectangular block, and its shape: the rank is the number of
    /// `[` the value starts with, each dimension the length of the first array at that depth, and every
    /// other array at that depth must have the same length (`[[1, 2], [3, 4]]` is shape [2, 2]; a lone
    /// number is shape []). At most `maxCount` numbers.
    mutating func readRectangular<T: JSONNumberElement>(_: T.Type,
                                                        maxCount: Int) throws(JSONError) -> (shape: [Int], values: [T]) {
        var values: [T] = []
        _ = try beginValue()
        var rows = RectangularRows(rank: try leadingBrackets())
        guard rows.rank > 0 else {
            try appendNumber(to: &values, maxCount: maxCount, acceptsBooleans: false)
            endValue()
            return ([], values)
        }
        values.reserveCapacity(min(maxCount, (end - position) / 2 + 1))
        var expectsValue = true
        var isJustOpened = true
        position += 1  // the outermost '['
        while true {
            skipWhitespace()
            guard position < end else { throw unexpected(expectsValue ? .value : .commaOrArrayEnd) }
            let byte = bytes[position]
            if expectsValue && !(byte == UInt8(ascii: "]") && isJustOpened) {
                guard byte != UInt8(ascii: "]") else { throw unexpected(.value) }
                try rows.countEntry(at: position)
                if !rows.isInnermost {
                    // Entries above the innermost depth are rows.
                    guard byte == UInt8(ascii: "[") else { throw rows.raggedBelow(at: position) }
                    rows.open()
                    position += 1
                    isJustOpened = true
                } else {
                    guard byte != UInt8(ascii: "[") else {
                        throw JSONError(offset: position, reason: .notANumber(.array, element: values.count))
                    }
                    try appendNumber(to: &values, maxCount: maxCount, acceptsBooleans: false)
                    expectsValue = false
                }
            } else if !expectsValue && byte == UInt8(ascii: ",") {
                position += 1
                expectsValue = true
                isJustOpened = false
            } else {
                guard byte == UInt8(ascii: "]") else { throw unexpected(.commaOrArrayEnd) }
                guard try rows.close(at: position) else { break }
                position += 1
                expectsValue = false
                isJustOpened = false
            }
        }
        position += 1
        endValue()
        return (rows.shape, values)
    }

    /// How many `[` (whitespace between them allowed) start at `position`, within the depth limit.
    private func leadingBrackets() throws(JSONError) -> Int {
        var count = 0
        var index = position
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "[") {
                guard frames.count + count < options.maxDepth else {
                    throw JSONError(offset: index, reason: .tooDeep(limit: options.maxDepth))
                }
                count += 1
            } else if !Self.isWhitespace(byte) {
                break
            }
            index += 1
        }
        return count
    }
}

/// The rows of a rectangular block as they are read: each dimension is fixed when the first row at its
/// depth closes, and every later row at that depth must have as many entries. The first row at each depth
/// lies on the chain of leading brackets, so it has closed before any other row at its depth is read.
struct RectangularRows {
    /// Each dimension, -1 until the first row at its depth closes.
    private var dims: [Int]
    /// Entries so far of the open row at each depth.
    private var counts: [Int]
    /// The depth of the innermost open row (0 the outermost).
    private var depth = 0

    init(rank: Int) {
        dims = Array(repeating: -1, count: rank)
        counts = Array(repeating: 0, count: rank)
    }

    var rank: Int { dims.count }
    var shape: [Int] { dims }
    /// Whether the open row holds numbers rather than rows.
    var isInnermost: Bool { depth + 1 == dims.count }

    /// Counts an entry of the open row, starting at `offset`.
    mutating func countEntry(at offset: Int) throws(JSONError) {
        counts[depth] += 1
        if dims[depth] >= 0, counts[depth] > dims[depth] {
            throw JSONError(offset: offset, reason: .raggedArray(depth: depth, expected: dims[depth]))
        }
    }

    /// Opens a row one deeper.
    mutating func open() {
        depth += 1
        counts[depth] = 0
    }

    /// Closes the open row at `offset` (its `]`), fixing or checking its length; false when it was the
    /// outermost.
    mutating func close(at offset: Int) throws(JSONError) -> Bool {
        if dims[depth] < 0 {
            dims[depth] = counts[depth]
        } else if counts[depth] != dims[depth] {
            throw JSONError(offset: offset, reason: .raggedArray(depth: depth, expected: dims[depth]))
        }
        guard depth > 0 else { return false }
        depth -= 1
        return true
    }

    /// The error for an entry that should be a row one deeper but is not.
    func raggedBelow(at offset: Int) -> JSONError {
        JSONError(offset: offset, reason: .raggedArray(depth: depth + 1, expected: max(dims[depth + 1], 0)))
    }
}
