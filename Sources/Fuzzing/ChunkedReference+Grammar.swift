import HTTPServer

extension ChunkedReference {
    /// One line of `bytes`: its content without CRLF and the index after its LF.
    enum Line {
        case line(ArraySlice<UInt8>, next: Int)
        case incomplete
        case invalid(String)
    }

    /// The line at `start`. A non-empty line longer than `maxLength` (a CR before its LF not counted) is
    /// invalid, even before its LF has arrived (a trailing CR not counted); a line ending in a bare LF is too.
    static func line(_ bytes: ArraySlice<UInt8>, from start: Int, maxLength: Int) -> Line {
        guard let lfIndex = bytes[start...].firstIndex(of: lf) else {
            var length = bytes.endIndex - start
            if length > 0 && bytes[bytes.endIndex - 1] == cr { length -= 1 }
            return length > 0 && length > maxLength ? .invalid("partial line over \(maxLength) bytes") : .incomplete
        }
        let endsInCR = lfIndex > start && bytes[lfIndex - 1] == cr
        let content = bytes[start..<(endsInCR ? lfIndex - 1 : lfIndex)]
        if !content.isEmpty && content.count > maxLength { return .invalid("line over \(maxLength) bytes") }
        return endsInCR ? .line(content, next: lfIndex + 1) : .invalid("bare LF")
    }

    /// `1*16HEXDIG` followed by well-formed extensions only; nil otherwise.
    static func chunkSize(_ line: ArraySlice<UInt8>) -> UInt64? {
        let digits = line.prefix(while: { hexValue($0) != nil })
        guard !digits.isEmpty, digits.count <= maxSizeDigits else { return nil }
        guard extensionsAreValid(line[digits.endIndex...]) else { return nil }
        return digits.reduce(0) { $0 << 4 | UInt64(hexValue($1) ?? 0) }
    }

    /// Whether `rest` is `*( BWS ";" BWS name [ BWS "=" BWS value ] )`, scanned left to right as a small state
    /// machine: after each element only whitespace followed by `;` or `=` may come, never the end.
    static func extensionsAreValid(_ rest: ArraySlice<UInt8>) -> Bool {
        enum State { case afterElement, beforeName, inName, afterName, beforeValue, inToken, inQuoted, escaped }
        var state = State.afterElement
        for byte in rest {
            let space = byte == 0x20 || byte == 0x09
            switch state {
            case .afterElement:
                if byte == 0x3B { state = .beforeName } else if !space { return false }
            case .beforeName:
                if HTTPParserFuzz.isTokenByte(byte) { state = .inName } else if !space { return false }
            case .inName, .afterName:
                if HTTPParserFuzz.isTokenByte(byte) && state == .inName { continue }
                if byte == 0x3B { state = .beforeName } else if byte == 0x3D { state = .beforeValue }
                else if space { state = .afterName } else { return false }
            case .beforeValue:
                if byte == 0x22 { state = .inQuoted }
                else if HTTPParserFuzz.isTokenByte(byte) { state = .inToken } else if !space { return false }
            case .inToken:
                if HTTPParserFuzz.isTokenByte(byte) { continue }
                if byte == 0x3B { state = .beforeName } else if space { state = .afterElement } else { return false }
            case .inQuoted, .escaped:
                guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else { return false }
                if state == .escaped { state = .inQuoted }
                else if byte == 0x5C { state = .escaped } else if byte == 0x22 { state = .afterElement }
            }
        }
        // Only a finished name or value may end the line: no trailing whitespace, no open quote.
        let endsInSpace = rest.last == 0x20 || rest.last == 0x09
        return state == .inName || state == .inToken || (state == .afterElement && !endsInSpace)
    }

    /// The trailer section at `start` (RFC 9112 section 7.1.2): field lines within the header limits, then an
    /// empty line. `.complete([])` once it has ended.
    static func trailer(_ bytes: ArraySlice<UInt8>, from start: Int, limits: HTTPParserLimits) -> Outcome {
        var index = start
        var sectionBytes = 0
        var fields = 0
        while true {
            switch line(bytes, from: index, maxLength: limits.maxHeaderBytes - sectionBytes - 2) {
            case .incomplete: return .incomplete
            case .invalid(let why): return .invalid("trailer: " + why)
            case .line(let content, let next):
                if content.isEmpty { return .complete([]) }
                sectionBytes += content.count + 2
                fields += 1
                guard fields <= limits.maxHeaderCount else { return .invalid("too many trailer fields") }
                guard isFieldLine(content) else { return .invalid("trailer field \(Array(content))") }
                index = next
            }
        }
    }

    /// `token ":" value` with no whitespace before the name or the colon and no control byte in the value
    /// (RFC 9112 section 5, obs-fold refused).
    static func isFieldLine(_ line: ArraySlice<UInt8>) -> Bool {
        guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else { return false }
        return line[..<colon].allSatisfy(HTTPParserFuzz.isTokenByte)
            && line[(colon + 1)...].allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}
