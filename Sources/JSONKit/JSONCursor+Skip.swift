extension JSONCursor {
    /// Validates the value at the cursor as `JSONValue(parsing:)` would (syntax, UTF-8, depth, duplicate
    /// names) without building it, and moves past it. Returns its byte range and its leaf count: the
    /// values of its array nesting that are not arrays (a number, or an object counted whole, ...), so
    /// `[[1, 2], [3]]` has 3 and a lone number 1. Allocates nothing for arrays, numbers and strings; only
    /// objects keep their member names, to refuse duplicates.
    mutating func skipValue() throws(JSONError) -> (range: Range<Int>, leaves: Int) {
        _ = try beginValue()
        let start = position
        let base = frames.count
        var leaves = 0
        var objectDepth = 0  // objects open inside the skipped value: leaves are not counted inside them
        while true {
            try skipValueStart(leaves: &leaves, objectDepth: &objectDepth, base: base)
            // Finish the containers the value closes, up to the next value that starts.
            while frames.count > base {
                let index = frames.count - 1
                frames[index].awaitingValue = false
                if frames[index].isObject {
                    if try nextKey() != nil { break }
                    objectDepth -= 1
                } else if try nextElement() {
                    break
                }
            }
            if frames.count == base { break }
        }
        endValue()
        return (start..<position, leaves)
    }

    /// Skips a scalar or opens a container at the start of a value; a run of numbers in one array is
    /// skipped in one go.
    private mutating func skipValueStart(leaves: inout Int, objectDepth: inout Int, base: Int) throws(JSONError) {
        skipWhitespace()
        guard position < end else { throw unexpected(.value) }
        let byte = bytes[position]
        switch byte {
        case UInt8(ascii: "["):
            try open(isObject: false)
            return
        case UInt8(ascii: "{"):
            try open(isObject: true)
            if objectDepth == 0 { leaves += 1 }
            objectDepth += 1
            return
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let count = try skipNumberRun(base: base)
            if objectDepth == 0 { leaves += count }
        case UInt8(ascii: "\""):
            _ = try scanString()
            if objectDepth == 0 { leaves += 1 }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try scanBool()
            if objectDepth == 0 { leaves += 1 }
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            if objectDepth == 0 { leaves += 1 }
        default:
            throw unexpected(.value)
        }
    }

    /// Skips the number at `position` and, inside an array opened by the skip (above frame `base`), the
    /// numbers that follow it as the next elements, up to the last of them; returns how many. The array's
    /// element count is brought up to date.
    private mutating func skipNumberRun(base: Int) throws(JSONError) -> Int {
        try skipNumber()
        guard frames.count > base, let index = frames.indices.last, !frames[index].isObject else { return 1 }
        var count = 1
        var next = position
        while true {
            // A local index: this loop sees every number of a body that may still be refused.
            while next < end, Self.isWhitespace(bytes[next]) { next += 1 }
            guard next < end, bytes[next] == UInt8(ascii: ",") else { break }
            next += 1
            while next < end, Self.isWhitespace(bytes[next]) { next += 1 }
            guard next < end, bytes[next] == UInt8(ascii: "-") || Self.isDigit(bytes[next]) else { break }
            try skipNumber(at: &next)
            position = next
            count += 1
        }
        frames[index].count += count - 1
        return count
    }
}
