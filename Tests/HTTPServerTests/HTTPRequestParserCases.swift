@testable import HTTPServer

/// The parser table. Every row is checked fed whole, one byte at a time, and split in two at every index.
extension ParserCase {
    static let all = accepted + rejectedHeads + rejectedFraming + rejectedChunked

    static let small = HTTPParserLimits(maxRequestLineBytes: 32, maxHeaderBytes: 40, maxHeaderCount: 3,
                                        maxBodyBytes: 10)

    /// Field values that bring the "limits are inclusive" sections to exactly 64 bytes.
    static let fill27 = String(repeating: "x", count: 27)
    static let fill47 = String(repeating: "y", count: 47)

    static let accepted: [ParserCase] = [
        .accepts("simple GET", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
                 parsedRequest("GET", "/", [("Host", "example.com")])),
        .accepts("GET with a query", "GET /v2/models/mlm?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
                 parsedRequest("GET", "/v2/models/mlm?x=1&y=%20", [("Host", "h"), ("Accept", "*/*")])),
        .accepts("HEAD without Host", "HEAD /health HTTP/1.1\r\n\r\n", parsedRequest("HEAD", "/health")),
        .accepts("absolute-form and asterisk-form targets",
                 "GET http://example.com/x HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n",
                 parsedRequest("GET", "http://example.com/x"), parsedRequest("OPTIONS", "*")),
        .accepts("HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", parsedRequest("GET", "/", version: .http1_0)),
        .accepts("POST with Content-Length", "POST /infer HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world",
                 parsedRequest("POST", "/infer", [("Content-Length", "11")], body: "hello world")),
        .accepts("Content-Length 0 is an empty body", "POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                 parsedRequest("POST", "/a", [("Content-Length", "0")])),
        .accepts("a body that looks like a request is body",
                 "POST /a HTTP/1.1\r\nContent-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n",
                 parsedRequest("POST", "/a", [("Content-Length", "18")], body: "GET / HTTP/1.1\r\n\r\n")),
        .accepts("identical repeated Content-Lengths",
                 "PUT /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 003\r\n\r\nabc",
                 parsedRequest("PUT", "/a", [("Content-Length", "3"), ("Content-Length", "3, 003")], body: "abc")),
        .accepts("POST chunked with extensions and trailers",
                 "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + "5;name=value\r\nhello\r\n6 ; a ; b = \"q \\\" ;x\"\r\n world\r\n0;last\r\n"
                     + "X-Trailer: t\r\nX-Other: u\r\n\r\n",
                 parsedRequest("POST", "/c", [("Transfer-Encoding", "chunked")], body: "hello world")),
        .accepts("chunk sizes in either case of hex",
                 chunkedHead + "A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n",
                 parsedRequest("POST", "/c", [("Transfer-Encoding", "chunked")], body: "0123456789abcdefghijk")),
        .accepts("header names are case-insensitive and kept as sent",
                 "POST /a HTTP/1.1\r\ncontent-length: 2\r\ncOnTeNt-TyPe: x/y\r\n\r\nhiPOST /b HTTP/1.1\r\n"
                     + "TRANSFER-ENCODING: Chunked\r\n\r\n2\r\nho\r\n0\r\n\r\n",
                 parsedRequest("POST", "/a", [("content-length", "2"), ("cOnTeNt-TyPe", "x/y")], body: "hi"),
                 parsedRequest("POST", "/b", [("TRANSFER-ENCODING", "Chunked")], body: "ho")),
        .accepts("Transfer-Encoding lists with empty elements reduce to chunked",
                 "POST /c HTTP/1.1\r\nTransfer-Encoding: ,\r\nTransfer-Encoding: , chunked ,\r\n\r\n0\r\n\r\n",
                 parsedRequest("POST", "/c", [("Transfer-Encoding", ","), ("Transfer-Encoding", ", chunked ,")])),
        .accepts("two pipelined requests",
                 "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz",
                 parsedRequest("GET", "/a"), parsedRequest("POST", "/b", [("Content-Length", "3")], body: "xyz")),
        .accepts("three pipelined requests: Content-Length, chunked, GET",
                 "POST /1 HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"
                     + "POST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nefg\r\n0\r\n\r\n"
                     + "GET /3 HTTP/1.1\r\n\r\n",
                 parsedRequest("POST", "/1", [("Content-Length", "4")], body: "abcd"),
                 parsedRequest("POST", "/2", [("Transfer-Encoding", "chunked")], body: "efg"),
                 parsedRequest("GET", "/3")),
        .accepts("empty lines before and between requests are ignored",
                 "\r\n\r\nGET /a HTTP/1.1\r\n\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
                 parsedRequest("GET", "/a"), parsedRequest("GET", "/b")),
        .accepts("Expect: 100-continue with its body",
                 "PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n12345",
                 parsedRequest("PUT", "/u", [("Expect", "100-continue"), ("Content-Length", "5")], body: "12345")),
        .accepts("values lose surrounding whitespace and may be empty",
                 "GET / HTTP/1.1\r\nX-A: \t v a l \t \r\nX-Empty:\r\nX-Spaces:   \r\n\r\n",
                 parsedRequest("GET", "/", [("X-A", "v a l"), ("X-Empty", ""), ("X-Spaces", "")])),
        .accepts("obs-text in a value decodes as UTF-8",
                 Array("GET / HTTP/1.1\r\nX-Name: caf".utf8) + [0xC3, 0xA9, 0x20, 0xFF] + Array("\r\n\r\n".utf8),
                 [parsedRequest("GET", "/", [("X-Name", "café \u{FFFD}")])]),
        .accepts("limits are inclusive",
                 "GET /123456789012345678 HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: \(fill27)\r\n"
                     + "Content-Length: 10\r\n\r\n0123456789"
                     + "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n"
                     + "T: 1\r\nU: 2\r\nV: \(fill47)\r\n\r\n",
                 parsedRequest("GET", "/123456789012345678", [("A", "1"), ("B", "2"), ("C", fill27)]
                     + [("Content-Length", "10")], body: "0123456789"),
                 parsedRequest("POST", "/", [("Transfer-Encoding", "chunked")], body: "0123456789"),
                 limits: HTTPParserLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 4,
                                          maxBodyBytes: 10)),
    ]

    static let rejectedHeads: [ParserCase] = [
        .rejects("a method with a non-token byte", "GE(T / HTTP/1.1\r\n\r\n", .badRequestLine),
        .rejects("an empty method", " / HTTP/1.1\r\n\r\n", .badRequestLine),
        .rejects("no version", "GET /\r\n\r\n", .badRequestLine),
        .rejects("no target", "GET\r\n\r\n", .badRequestLine),
        .rejects("two spaces after the method", "GET  / HTTP/1.1\r\n\r\n", .badRequestLine),
        .rejects("a space after the version", "GET / HTTP/1.1 \r\n\r\n", .badRequestLine),
        .rejects("a control byte in the target", "GET /\u{1}a HTTP/1.1\r\n\r\n", .badRequestLine),
        .rejects("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", .unsupportedVersion),
        .rejects("HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", .unsupportedVersion),
        .rejects("HTTP/1.1x", "GET / HTTP/1.1x\r\n\r\n", .badRequestLine),
        .rejects("a lower-case version", "GET / http/1.1\r\n\r\n", .badRequestLine),
        .rejects("a request line over the limit", "GET /12345678901234567890 HTTP/1.1\r\n\r\n",
                 .requestLineTooLong, limits: small),
        .rejects("a request line over the limit that also ends in a bare LF",
                 "GET /12345678901234567890 HTTP/1.1\n\r\n", .requestLineTooLong, limits: small),
        .rejects("a bare LF after the request line", "GET / HTTP/1.1\n\r\n", .badRequestLine),
        .rejects("a bare LF as a leading empty line", "\nGET / HTTP/1.1\r\n\r\n", .badRequestLine),
        .rejects("a bare CR in the request line", "GET /\r HTTP/1.1\r\n\r\n", .badRequestLine),
        .rejects("a bare LF after a field line", "GET / HTTP/1.1\r\nHost: x\n\r\n", .badHeader),
        .rejects("a bare LF ending the header section", "GET / HTTP/1.1\r\nHost: x\r\n\n", .badHeader),
        .rejects("a bare CR in a value", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", .badHeader),
        .rejects("a CR before the CRLF", "GET / HTTP/1.1\r\nX-A: a\r\r\n\r\n", .badHeader),
        .rejects("a NUL in a value", "GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n", .badHeader),
        .rejects("a control byte in a value", "GET / HTTP/1.1\r\nX-A: a\u{1B}b\r\n\r\n", .badHeader),
        .rejects("DEL in a value", "GET / HTTP/1.1\r\nX-A: a\u{7F}b\r\n\r\n", .badHeader),
        .rejects("whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", .badHeader),
        .rejects("a tab before the colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", .badHeader),
        .rejects("obs-fold", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", .badHeader),
        .rejects("whitespace before the first field line", "GET / HTTP/1.1\r\n\tHost: x\r\n\r\n", .badHeader),
        .rejects("a field line without a colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", .badHeader),
        .rejects("an empty field name", "GET / HTTP/1.1\r\n: x\r\n\r\n", .badHeader),
        .rejects("a field name with a non-token byte", "GET / HTTP/1.1\r\nX{A}: 1\r\n\r\n", .badHeader),
        .rejects("a header section over the byte limit",
                 "GET / HTTP/1.1\r\nX-Long: 12345678901234567890123456789012\r\n\r\n", .headersTooLarge,
                 limits: small),
        .rejects("a header section over the byte limit across lines",
                 "GET / HTTP/1.1\r\nX-A: 1234567890\r\nX-B: 1234567890\r\nX-C: 1\r\n\r\n", .headersTooLarge,
                 limits: small),
        .rejects("more field lines than the limit", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                 .headersTooLarge, limits: small),
        .rejects("a bad request after a good one", "GET /a HTTP/1.1\r\n\r\nBAD\r\n\r\n", .badRequestLine,
                 after: events(of: parsedRequest("GET", "/a"))),
    ]

    static let rejectedFraming: [ParserCase] = [
        .rejects("Content-Length with Transfer-Encoding",
                 "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 .conflictingFraming),
        .rejects("two different Content-Lengths",
                 "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .badContentLength),
        .rejects("a Content-Length list of different values", "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
                 .badContentLength),
        .rejects("Content-Length +5", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", .badContentLength),
        .rejects("Content-Length -1", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", .badContentLength),
        .rejects("Content-Length 0x10", "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", .badContentLength),
        .rejects("Content-Length 1 2", "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", .badContentLength),
        .rejects("an empty Content-Length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", .badContentLength),
        .rejects("a Content-Length list with an empty element", "POST / HTTP/1.1\r\nContent-Length: 5,,5\r\n\r\n",
                 .badContentLength),
        .rejects("a Content-Length too large for Int",
                 "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", .bodyTooLarge),
        .rejects("a Content-Length over the limit", "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge,
                 limits: small),
        .rejects("Transfer-Encoding gzip, chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                 .unsupportedTransferEncoding),
        .rejects("chunked applied twice",
                 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                 .unsupportedTransferEncoding),
        .rejects("an empty Transfer-Encoding", "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n",
                 .unsupportedTransferEncoding),
        .rejects("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 .badHeader),
    ]

    static let chunkedHead = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    static let chunkedHeadEvent = HTTPParserEvent.head(parsedHead("POST", "/c", [("Transfer-Encoding", "chunked")]))

    static let rejectedChunked: [ParserCase] = [
        chunked("a chunk size that is not hex", "zz\r\n", .badChunk),
        chunked("an empty chunk size", "\r\n", .badChunk),
        chunked("a negative chunk size", "-1\r\n", .badChunk),
        chunked("whitespace before the chunk size", " 5\r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("whitespace after the chunk size", "5 \r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("a 17-digit chunk size", "10000000000000000\r\n", .badChunk),
        chunked("a 16-digit chunk size over the limit", "ffffffffffffffff\r\n", .bodyTooLarge),
        chunked("a bare LF after the chunk size", "5\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("chunk data without CRLF", "5\r\nhelloX\r\n0\r\n\r\n", .badChunk),
        chunked("chunk data followed by a bare LF", "5\r\nhello\n0\r\n\r\n", .badChunk),
        chunked("chunk data followed by a bare CR", "5\r\nhello\r0\r\n\r\n", .badChunk),
        chunked("an extension without a name", "5;\r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("an extension with an empty value", "5;a=\r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("an unterminated quoted extension", "5;a=\"b\r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("a bare CR in an extension", "5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("an extension value with a space", "5;a=b c\r\nhello\r\n0\r\n\r\n", .badChunk),
        chunked("a chunk-size line over 4 KiB", "5;a=" + String(repeating: "b", count: 4100) + "\r\n", .badChunk),
        chunked("a chunked body over the limit", "5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n", .bodyTooLarge,
                limits: small),
        chunked("a trailer section over the byte limit", "0\r\nX-Trailer: 123456789012345678901234567890123\r\n\r\n",
                .headersTooLarge, limits: small),
        chunked("more trailer fields than the limit", "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                .headersTooLarge, limits: small),
        chunked("a malformed trailer field", "0\r\nX-T : 1\r\n\r\n", .badHeader),
        chunked("a bare LF ending the trailer section", "0\r\nX-T: 1\r\n\n", .badHeader),
    ]

    /// A chunked request whose body (after the head) fails with `kind`, once the head has been given.
    static func chunked(_ name: String, _ body: String, _ kind: ParseErrorKind,
                        limits: HTTPParserLimits = HTTPParserLimits()) -> ParserCase {
        .rejects(name, chunkedHead + body, kind, after: [chunkedHeadEvent], limits: limits)
    }
}
