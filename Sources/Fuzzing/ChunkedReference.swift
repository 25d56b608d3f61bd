import HTTPServer

/// A second, deliberately plain reading of a chunked body (RFC 9112 section 7.1) over bytes that are all
/// there, for the `chunked` target to compare the incremental parser with.
///
/// It follows the parser's documented policy rather than its code: strict CRLF line ends, 1 to 16 hex digits,
/// extensions `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )` with nothing after them, a
/// chunk-size line of at most 4096 bytes, the body checked against `maxBodyBytes` at each size line, trailer
/// fields within the header limits; a line over its limit is refused as soon as its bytes show it, before its
/// LF arrives.
enum ChunkedReference {
    enum Outcome: Equatable {
        /// The chunked body ends inside the bytes; its decoded content.
        case complete([UInt8])
        /// Valid so far, but the body has not ended.
        case incomplete
        /// Refused, and why.
        case invalid(String)
    }

    static let maxSizeLineBytes = 4096
    static let maxSizeDigits = 16
    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

    /// Decodes the chunked body at the start of `bytes`; what follows it is ignored.
    static func decode(_ bytes: ArraySlice<UInt8>, limits: HTTPParserLimits) -> Outcome {
        var index = bytes.startIndex
        var body: [UInt8] = []
        while true {
            let size: UInt64
            switch line(bytes, from: index, maxLength: maxSizeLineBytes) {
            case .incomplete: return .incomplete
            case .invalid(let why): return .invalid("size line: " + why)
            case .line(let content, let next):
                guard let parsed = chunkSize(content) else { return .invalid("size line \(Array(content))") }
                guard parsed <= UInt64(limits.maxBodyBytes - body.count) else { return .invalid("body too large") }
                size = parsed
                index = next
            }
            if size == 0 { break }
            guard bytes.endIndex - index >= Int(size) else { return .incomplete }
            body.append(contentsOf: bytes[index..<(index + Int(size))])
            index += Int(size)
            guard bytes.endIndex - index >= 2 else { return .incomplete }
            guard bytes[index] == cr, bytes[index + 1] == lf else { return .invalid("no CRLF after chunk data") }
            index += 2
        }
        switch trailer(bytes, from: index, limits: limits) {
        case .complete: return .complete(body)
        case let unfinished: return unfinished
        }
    }
}
