import Foundation

/// The framing of a multipart body (RFC 2046 section 5.1.1) over its bytes, in one pass:
///
///     [preamble CRLF] "--" boundary padding CRLF part *( CRLF "--" boundary padding CRLF part )
///     CRLF "--" boundary "--" padding [CRLF epilogue]
///
/// where padding is spaces and tabs and each part is a header section, an empty line and the content. The
/// first delimiter is `--boundary` at the start of the body or after a CRLF; a boundary after a CRLF anywhere
/// later is a delimiter, so one not followed by padding and CRLF or `--` is refused, not taken as content
/// (RFC 2046: the boundary must not appear inside a part). Offsets are into `bytes`.
struct MultipartParser {
    let bytes: UnsafeRawBufferPointer
    /// `CRLF "--" boundary`, the delimiter between parts. Its only CR is its first byte (bchars hold none).
    let delimiter: [UInt8]
    let limits: MultipartLimits

    init(bytes: UnsafeRawBufferPointer, boundary: [UInt8], limits: MultipartLimits) {
        self.bytes = bytes
        self.delimiter = [HTTPSyntax.cr, HTTPSyntax.lf, UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        self.limits = limits
    }

    /// What follows a delimiter.
    enum DelimiterEnd {
        /// A part, whose header section starts at the offset.
        case part(Int)
        /// The close delimiter: no part follows.
        case close
    }

    /// The parts of the body, ranges relative to `bytes`.
    /// - Throws: `MultipartError` for the first thing wrong, in body order.
    func parse() throws(MultipartError) -> [MultipartPart] {
        var index = try openingDelimiterEnd()
        var parts: [MultipartPart] = []
        var names: Set<String> = []
        while true {
            let number = parts.count + 1
            guard case .part(let headerStart) = try delimiterEnd(at: index, part: number) else { return parts }
            guard parts.count < limits.maxParts else { throw .tooManyParts(limit: limits.maxParts) }
            let (fields, contentStart) = try headerSection(from: headerStart, part: number)
            guard let next = delimiter(from: contentStart) else { throw .missingClosingDelimiter }
            let part = try Self.part(fields, range: contentStart..<next, number: number, limits: limits)
            // Set<String> compares names as String does (canonical equivalence), as `subscript(name:)` finds them.
            guard names.insert(part.name).inserted else { throw .duplicateName(part.name) }
            parts.append(part)
            index = next + delimiter.count
        }
    }

    /// The offset after the first `--boundary`: at the start of the body, or the first after a CRLF (the
    /// preamble before it is ignored).
    func openingDelimiterEnd() throws(MultipartError) -> Int {
        // `--boundary` is the delimiter without its CRLF: body byte k against delimiter byte k + 2.
        let dashBoundary = delimiter.count - 2
        if bytes.count >= dashBoundary, matchesDelimiter(at: -2, from: 2) { return dashBoundary }
        guard let found = delimiter(from: 0) else { throw .missingOpeningDelimiter }
        return found + delimiter.count
    }

    /// Reads what follows the delimiter ending at `index`: `--` (the close delimiter) then padding and either
    /// the end or CRLF and an epilogue; or padding and CRLF, then a part.
    /// - Throws: `.bareLineFeed`, `.missingClosingDelimiter` at the end of the body, else `.malformedDelimiter`.
    func delimiterEnd(at start: Int, part: Int) throws(MultipartError) -> DelimiterEnd {
        let dash = UInt8(ascii: "-")
        let isClose = start + 1 < bytes.count && bytes[start] == dash && bytes[start + 1] == dash
        var index = isClose ? start + 2 : start
        while index < bytes.count, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        if isClose && index == bytes.count { return .close }
        guard index < bytes.count else { throw .missingClosingDelimiter }
        if bytes[index] == HTTPSyntax.cr && index + 1 < bytes.count && bytes[index + 1] == HTTPSyntax.lf {
            return isClose ? .close : .part(index + 2)
        }
        if bytes[index] == HTTPSyntax.lf { throw .bareLineFeed(part: part) }
        if bytes[index] == HTTPSyntax.cr && index + 1 == bytes.count { throw .missingClosingDelimiter }
        throw .malformedDelimiter(part: part)
    }

    /// The offset of the first delimiter (its CR) at or after `start`, or nil.
    ///
    /// Linear: memchr finds each CR, and a comparison that fails after matching k bytes has seen no CR among
    /// them (the delimiter's only CR is its first byte), so the next CR is past them and no byte is compared
    /// more than twice, whatever the body holds (a naive search restarting inside a partial match is what makes
    /// some multipart parsers quadratic).
    func delimiter(from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let lastStart = bytes.count - delimiter.count
        var index = start
        while index <= lastStart {
            guard let hit = memchr(base + index, Int32(HTTPSyntax.cr), lastStart - index + 1) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if matchesDelimiter(at: position, from: 1) { return position }
            index = position + 1
        }
        return nil
    }

    /// Whether `bytes[position + k] == delimiter[k]` for every k from `first` on; the caller has checked that
    /// the bytes are there. Stops at the first byte that differs.
    func matchesDelimiter(at position: Int, from first: Int) -> Bool {
        for k in first..<delimiter.count where bytes[position + k] != delimiter[k] { return false }
        return true
    }
}
