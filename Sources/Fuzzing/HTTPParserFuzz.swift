import HTTPParserTestSupport
import HTTPServer
import Support

/// The `httpParser` target: any bytes through `HTTPRequestParser`, fed at once, in pieces whose sizes come from
/// the input, and (for short inputs) one byte at a time. Invariants: every way of feeding gives the same
/// outcome (RFC 9112 framing cannot depend on how TCP split the bytes); events alternate `.head`/`.request`;
/// every accepted head is well-formed and within limits, and the fields the server reads from it read sanely;
/// a body is never larger than `maxBodyBytes` and matches its Content-Length; a failed parser stays failed.
enum HTTPParserFuzz {
    /// Small limits, so that inputs of a few KiB reach every limit.
    static let limits = HTTPParserLimits(maxRequestLineBytes: 256, maxHeaderBytes: 1024, maxHeaderCount: 16,
                                         maxBodyBytes: 4096)
    /// Inputs up to this many bytes are also fed one byte at a time.
    static let byteAtATimeLimit = 512

    static func run(_ bytes: UnsafeRawBufferPointer) {
        check(bytes)
    }

    /// Runs every feeding of `bytes` and checks the invariants; returns the outcome of feeding them at once.
    @discardableResult
    static func check(_ bytes: UnsafeRawBufferPointer) -> ParseOutcome {
        let whole = ParseOutcome(feeding: bytes, limits: limits, afterError: checkStaysFailed)
        checkWellFormed(whole, limits: limits)
        let cuts = pieceCuts(bytes)
        let pieces = ParseOutcome(feeding: bytes, cuts: cuts, limits: limits, afterError: checkStaysFailed)
        Invariant.require(pieces == whole, "pieces ending at \(cuts) gave \(pieces), at once \(whole)")
        if bytes.count <= byteAtATimeLimit {
            let single = ParseOutcome(feeding: bytes, cuts: Array(0..<bytes.count), limits: limits,
                                      afterError: checkStaysFailed)
            Invariant.require(single == whole, "one byte at a time gave \(single), at once \(whole)")
        }
        return whole
    }

    /// Ascending cut offsets for pieces of 1 to 64 bytes, drawn from a generator seeded with a hash of the
    /// bytes: each input has its own split, and the same one on every run.
    static func pieceCuts(_ bytes: UnsafeRawBufferPointer) -> [Int] {
        var generator = SplitMix64(seed: fnv1a(bytes))
        var cuts: [Int] = []
        var offset = 0
        while true {
            offset += generator.nextInt(in: 1..<65)
            guard offset < bytes.count else { return cuts }
            cuts.append(offset)
        }
    }

    /// After an error the parser is unusable: it drops appended bytes and throws the same error again.
    static func checkStaysFailed(_ parser: inout HTTPRequestParser, with error: HTTPParseError) {
        Invariant.require(!parser.isMidRequest, "a failed parser reports being inside a request")
        parser.append("GET / HTTP/1.1\r\n\r\n".utf8)
        do throws(HTTPParseError) {
            let event = try parser.next()
            Invariant.require(false, "a failed parser gave \(String(describing: event)) after \(error)")
        } catch let again {
            Invariant.require(again == error, "a failed parser threw \(error), then \(again)")
        }
    }

    /// Checks the events of one outcome: `.head` then its `.request`, each well-formed.
    static func checkWellFormed(_ outcome: ParseOutcome, limits: HTTPParserLimits) {
        var pending: HTTPRequestHead?
        for event in outcome.events {
            switch event {
            case .head(let head):
                Invariant.require(pending == nil, "two heads without a request between them")
                checkHead(head, limits: limits)
                checkInterpretedFields(head)
                pending = head
            case .request(let request):
                Invariant.require(pending == request.head, "a request whose head was not the last .head event")
                pending = nil
                checkBody(request, limits: limits)
            }
        }
        if pending != nil && outcome.error == nil {
            Invariant.require(outcome.isMidRequest, "a head without its request, but not inside a request")
        }
    }

    /// A head the parser accepted: token method, visible-ASCII target, HTTP/1.0 or 1.1, token field names,
    /// values without control bytes or surrounding whitespace, at most `maxHeaderCount` fields.
    static func checkHead(_ head: HTTPRequestHead, limits: HTTPParserLimits) {
        Invariant.require(!head.method.isEmpty && head.method.utf8.allSatisfy(isTokenByte),
                          "method \(head.method.debugDescription) is not a token")
        Invariant.require(!head.target.isEmpty && head.target.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E },
                          "target \(head.target.debugDescription) is not visible ASCII")
        Invariant.require(head.version == .http1_1 || head.version == .http1_0, "version \(head.version)")
        Invariant.require(head.headers.fields.count <= limits.maxHeaderCount,
                          "\(head.headers.fields.count) fields, limit \(limits.maxHeaderCount)")
        for (name, value) in head.headers {
            Invariant.require(!name.isEmpty && name.utf8.allSatisfy(isTokenByte),
                              "field name \(name.debugDescription) is not a token")
            Invariant.require(value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) },
                              "field value \(value.debugDescription) has a control byte")
            Invariant.require(value.utf8.first.map(isWhitespace) != true && value.utf8.last.map(isWhitespace) != true,
                              "field value \(value.debugDescription) keeps surrounding whitespace")
        }
    }

    /// A complete request: body within `maxBodyBytes`, framed as its head says (RFC 9112 section 6.3).
    static func checkBody(_ request: HTTPRequest, limits: HTTPParserLimits) {
        Invariant.require(request.body.count <= limits.maxBodyBytes,
                          "a \(request.body.count)-byte body, limit \(limits.maxBodyBytes)")
        let codings = request.headers.values(of: "Transfer-Encoding")
        let lengths = request.headers.values(of: "Content-Length")
        if !codings.isEmpty {
            Invariant.require(request.head.version == .http1_1, "Transfer-Encoding accepted in HTTP/1.0")
            Invariant.require(lengths.isEmpty, "Transfer-Encoding accepted beside Content-Length")
        } else if let length = lengths.first.flatMap(contentLength) {
            Invariant.require(request.body.count == length,
                              "Content-Length \(length), but a \(request.body.count)-byte body")
        } else {
            Invariant.require(lengths.isEmpty, "unparsable Content-Length \(lengths) accepted")
            Invariant.require(request.body.isEmpty, "a \(request.body.count)-byte body without framing headers")
        }
    }

    /// The first element of a Content-Length value as a decimal number, or nil.
    static func contentLength(_ value: String) -> Int? {
        guard let first = value.split(separator: ",", omittingEmptySubsequences: false).first else { return nil }
        let digits = first.utf8.drop(while: isWhitespace).reversed().drop(while: isWhitespace).reversed()
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }

    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// tchar (RFC 9110 section 5.6.2), written out again rather than borrowed from the parser.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        // ! # $ % & ' * + - . ^ _ ` | ~
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }
}
