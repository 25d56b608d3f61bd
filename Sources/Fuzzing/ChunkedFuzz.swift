import HTTPParserTestSupport
import HTTPServer

/// The `chunked` target: a fixed valid chunked head followed by the input, so that the fuzzer spends its time
/// in chunk framing. Every `httpParser` invariant holds, and the first request agrees with `ChunkedReference`:
/// the same body when it completes, no request while the reference needs more bytes, an error when the
/// reference refuses the framing.
enum ChunkedFuzz {
    static let head = Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        var message = head
        message.append(contentsOf: bytes)
        let outcome = message.withUnsafeBytes { HTTPParserFuzz.check($0) }
        let expected = ChunkedReference.decode(message[head.count...], limits: HTTPParserFuzz.limits)
        check(outcome, against: expected)
    }

    /// The parser's first request against the reference's reading of the same bytes.
    static func check(_ outcome: ParseOutcome, against expected: ChunkedReference.Outcome) {
        Invariant.require(outcome.events.first.map(isHead) == true, "the fixed head gave \(outcome)")
        let request = outcome.events.dropFirst().first
        switch expected {
        case .complete(let body):
            guard case .request(let parsed)? = request else {
                return Invariant.require(false, "the reference decoded \(body.count) bytes, the parser gave \(outcome)")
            }
            Invariant.require(parsed.body.elementsEqual(body),
                              "the parser decoded \(parsed.body.count) bytes, the reference \(body.count) others")
        case .incomplete:
            Invariant.require(request == nil && outcome.error == nil,
                              "the reference needs more bytes, the parser gave \(outcome)")
        case .invalid(let why):
            Invariant.require(request == nil && outcome.error != nil,
                              "the reference refuses the framing (\(why)), the parser gave \(outcome)")
        }
    }

    private static func isHead(_ event: HTTPParserEvent) -> Bool {
        if case .head = event { return true }
        return false
    }
}
