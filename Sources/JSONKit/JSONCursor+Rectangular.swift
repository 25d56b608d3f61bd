extension JSONCursor {
    /// The numbers of nested arrays that form a rectangular block, and its shape: the rank is the number of
    /// `[` the value starts with, each dimension the length of the first array at that depth, and every
    /// other array at that depth must have the same length (`[[1, 2], [3, 4]]` is shape [2, 2]; a lone
    /// number is shape []). At most `maxCount` numbers.
    mutating func readRectangular<T: JSONNumberElement>(_: T.Type,
                                                        maxCount: Int) throws(JSONError) -> (shape: [Int], values: [T]) {
        var values: [T] = []
        _ = try beginValue()
        let rank = try leadingBrackets()
        guard rank > 0 else {
            try appendNumber(to: &values, maxCount: maxCount, acceptsBooleans: false)
            endValue()
            return ([], values)
        }
        values.reserveCapacity(min(maxCount, (end - position) / 2 + 1))
        var shape = [Int](repeating: -1, count: rank)  // -1 until the first array at that depth closes
        var counts = [Int](repeating: 0, count: rank)  // entries so far of the open array at each depth
        var depth = 0  // of the innermost open array
        var expectsValue = true
        var isJustOpened = true
        position += 1  // the outermost '['
        while true {
            skipWhitespace()
            guard position < end else { throw unexpected(expectsValue ? .value : .commaOrArrayEnd) }
            let byte = bytes[position]
            if expectsValue && !(byte == UInt8(ascii: "]") && isJustOpened) {
                guard byte != UInt8(ascii: "]") else { throw unexpected(.value) }
                counts[depth] += 1
                if shape[depth] >= 0, counts[depth] > shape[depth] {
                    throw JSONError(offset: position, reason: .raggedArray(depth: depth, expected: shape[depth]))
                }
                if depth + 1 < rank {
                    // Entries above the innermost depth are rows. The first row at each depth is on the
                    // leading-bracket chain, so it has closed, and set its length, before any other is read.
                    guard byte == UInt8(ascii: "[") else {
                        throw JSONError(offset: position,
                                        reason: .raggedArray(depth: depth + 1, expected: max(shape[depth + 1], 0)))
                    }
                    depth += 1
                    counts[depth] = 0
                    position += 1
                    isJustOpened = true
                    continue
                }
                guard byte != UInt8(ascii: "[") else {
                    throw JSONError(offset: position, reason: .notANumber(.array, element: values.count))
                }
                try appendNumber(to: &values, maxCount: maxCount, acceptsBooleans: false)
                expectsValue = false
                continue
            }
            if !expectsValue && byte == UInt8(ascii: ",") {
                position += 1
                expectsValue = true
                isJustOpened = false
                continue
            }
            guard byte == UInt8(ascii: "]") else { throw unexpected(.commaOrArrayEnd) }
            if shape[depth] < 0 {
                shape[depth] = counts[depth]
            } else if counts[depth] != shape[depth] {
                throw JSONError(offset: position, reason: .raggedArray(depth: depth, expected: shape[depth]))
            }
            position += 1
            if depth == 0 { break }
            depth -= 1
            expectsValue = false
            isJustOpened = false
        }
        endValue()
        return (shape, values)
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
