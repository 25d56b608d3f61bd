import Foundation
import Testing
@testable import HTTPServer

/// One refused body: the Content-Type, the body and the error it must throw.
struct MultipartRefusal: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var contentType: String
    var body: [UInt8]
    var error: MultipartError

    /// A case whose body is `text` (with `boundary=b` unless `contentType` says otherwise).
    init(_ name: String, _ text: String, contentType: String = "multipart/form-data; boundary=b", _ error: MultipartError) {
        self.init(name, Array(text.utf8), contentType: contentType, error)
    }

    init(_ name: String, _ body: [UInt8], contentType: String = "multipart/form-data; boundary=b",
         _ error: MultipartError) {
        testDescription = name
        self.contentType = contentType
        self.body = body
        self.error = error
    }

    /// `--b`, one part with `headers` (each line given without CRLF) and content `x`, then `--b--`.
    static func part(_ headers: [String]) -> String {
        "--b\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\nx\r\n--b--\r\n"
    }

    static let disposition = "Content-Disposition: form-data; name=\"a\""
    static let sixteenParts = (0..<16).map { "--b\r\nContent-Disposition: form-data; name=\"p\($0)\"\r\n\r\n\r\n" }.joined()

    static let all: [MultipartRefusal] = contentTypeCases + framingCases + limitCases + headerCases + dispositionCases

    static let contentTypeCases: [MultipartRefusal] = [
        .init("another media type", part([disposition]), contentType: "application/json", .notFormData(mediaType: "application/json")),
        .init("multipart/mixed", part([disposition]), contentType: "multipart/mixed; boundary=b",
              .notFormData(mediaType: "multipart/mixed")),
        .init("no boundary", part([disposition]), contentType: "multipart/form-data", .missingBoundary),
        .init("no boundary among parameters", part([disposition]), contentType: "multipart/form-data; charset=utf-8",
              .missingBoundary),
        .init("boundary of 71", part([disposition]),
              contentType: "multipart/form-data; boundary=" + String(repeating: "b", count: 71), .boundaryTooLong(length: 71)),
        .init("empty boundary", part([disposition]), contentType: "multipart/form-data; boundary=\"\"", .invalidBoundary("")),
        .init("boundary ending in a space", part([disposition]), contentType: "multipart/form-data; boundary=\"b \"",
              .invalidBoundary("b ")),
        .init("boundary outside bchars", part([disposition]), contentType: "multipart/form-data; boundary=\"b{\"",
              .invalidBoundary("b{")),
        .init("unterminated quoted boundary", part([disposition]), contentType: "multipart/form-data; boundary=\"b",
              .malformedContentType("unterminated quoted string in 'boundary'")),
        .init("space before =", part([disposition]), contentType: "multipart/form-data; boundary =b",
              .malformedContentType("parameter 'boundary' has no '=' right after its name")),
        .init("boundary twice", part([disposition]), contentType: "multipart/form-data; boundary=b; Boundary=c",
              .malformedContentType("parameter 'boundary' given twice")),
        .init("control byte in the boundary", part([disposition]), contentType: "multipart/form-data; boundary=\"b\u{1}\"",
              .malformedContentType("control byte in the value of 'boundary'")),
        .init("no ; between parameters", part([disposition]), contentType: "multipart/form-data; boundary=b c=d",
              .malformedContentType("expected ';' at byte 32")),
    ]

    static let framingCases: [MultipartRefusal] = [
        .init("no delimiter", "Content-Disposition: form-data; name=a\r\n\r\nx", .missingOpeningDelimiter),
        .init("empty body", "", .missingOpeningDelimiter),
        .init("boundary not after CRLF", "x--b\r\n" + disposition + "\r\n\r\nx--b--", .missingOpeningDelimiter),
        .init("no close delimiter", "--b\r\n" + disposition + "\r\n\r\nx", .missingClosingDelimiter),
        .init("ends after a delimiter", "--b\r\n" + disposition + "\r\n\r\nx\r\n--b", .missingClosingDelimiter),
        .init("ends in a delimiter's CR", "--b\r\n" + disposition + "\r\n\r\nx\r\n--b\r", .missingClosingDelimiter),
        .init("ends inside headers", "--b\r\n" + disposition, .missingClosingDelimiter),
        .init("ends before the empty line", "--b\r\n" + disposition + "\r\n", .missingClosingDelimiter),
        .init("boundary as a prefix of the opening line", "--bc\r\n" + disposition + "\r\n\r\nx\r\n--b--",
              .malformedDelimiter(part: 1)),
        .init("boundary after CRLF inside content", "--b\r\n" + disposition + "\r\n\r\nx\r\n--bx\r\n--b--",
              .malformedDelimiter(part: 2)),
        .init("garbage after the close delimiter", "--b\r\n" + disposition + "\r\n\r\nx\r\n--b--x", .malformedDelimiter(part: 2)),
        .init("bare LF after a delimiter", "--b\n" + disposition + "\r\n\r\nx\r\n--b--", .bareLineFeed(part: 1)),
        .init("bare LF after the close delimiter", "--b\r\n" + disposition + "\r\n\r\nx\r\n--b--\n", .bareLineFeed(part: 2)),
        .init("bare LF ending a header line", "--b\r\n" + disposition + "\n\r\nx\r\n--b--", .bareLineFeed(part: 1)),
        .init("bare LF as the empty line", "--b\r\n" + disposition + "\r\n\nx\r\n--b--", .bareLineFeed(part: 1)),
    ]

    static let limitCases: [MultipartRefusal] = [
        .init("17 parts", sixteenParts + "--b\r\n" + disposition + "\r\n\r\n\r\n--b--", .tooManyParts(limit: 16)),
        .init("17 parts, the last one empty", sixteenParts + "--b\r\n\r\n\r\n--b--", .tooManyParts(limit: 16)),
        .init("header line over 8 KiB", part([disposition, "X-Long: " + String(repeating: "l", count: 8192)]),
              .partHeadersTooLarge(part: 1, limit: 8192)),
        .init("header section over 8 KiB", part([disposition] + (0..<9).map { "X-\($0): " + String(repeating: "l", count: 1000) }),
              .partHeadersTooLarge(part: 1, limit: 8192)),
        .init("17 header lines", part([disposition] + (0..<16).map { "X-\($0): v" }), .tooManyPartHeaderLines(part: 1, limit: 16)),
        .init("name of 257 bytes", part(["Content-Disposition: form-data; name=\"\(String(repeating: "n", count: 257))\""]),
              .nameTooLong(part: 1, limit: 256)),
        .init("filename of 257 bytes",
              part([disposition.dropLast(0) + "; filename=\"\(String(repeating: "f", count: 257))\""]),
              .nameTooLong(part: 1, limit: 256)),
    ]

    static let headerCases: [MultipartRefusal] = [
        .init("header line without colon", part([disposition, "No colon here"]), .malformedPartHeader(part: 1, "no colon")),
        .init("obs-fold", part([disposition, "X-A: a", " folded"]),
              .malformedPartHeader(part: 1, "line starts with whitespace (obs-fold)")),
        .init("space before the colon", part(["Content-Disposition : form-data; name=a"]),
              .malformedPartHeader(part: 1, "whitespace before the colon")),
        .init("NUL in a value", part([disposition, "X-A: a\u{0}b"]), .malformedPartHeader(part: 1, "NUL in a field value")),
        .init("bare CR in a value", part([disposition, "X-A: a\rb"]),
              .malformedPartHeader(part: 1, "CR without LF in a field value")),
        .init("delimiter inside the header section", "--b\r\n" + disposition + "\r\n--b--\r\n",
              .malformedPartHeader(part: 1, "no colon")),
        .init("no headers", "--b\r\n\r\nx\r\n--b--", .missingContentDisposition(part: 1)),
        .init("no Content-Disposition", part(["Content-Type: image/png"]), .missingContentDisposition(part: 1)),
        .init("two Content-Dispositions", part([disposition, "content-disposition: form-data; name=b"]),
              .repeatedPartHeader(part: 1, name: "content-disposition")),
        .init("two Content-Types", part([disposition, "Content-Type: a/b", "Content-Type: c/d"]),
              .repeatedPartHeader(part: 1, name: "Content-Type")),
        .init("base64", part([disposition, "Content-Transfer-Encoding: base64"]),
              .unsupportedTransferEncoding(part: 1, encoding: "base64")),
        .init("quoted-printable", part([disposition, "Content-Transfer-Encoding: quoted-printable"]),
              .unsupportedTransferEncoding(part: 1, encoding: "quoted-printable")),
    ]

    static let dispositionCases: [MultipartRefusal] = [
        .init("attachment", part(["Content-Disposition: attachment; name=a"]), .notFormDataPart(part: 1, disposition: "attachment")),
        .init("no name", part(["Content-Disposition: form-data; filename=\"a.png\""]), .missingName(part: 1)),
        .init("empty name", part(["Content-Disposition: form-data; name=\"\""]), .missingName(part: 1)),
        .init("no type", part(["Content-Disposition: ; name=a"]),
              .malformedDisposition(part: 1, "expected a type before the parameters")),
        .init("unterminated name", part(["Content-Disposition: form-data; name=\"a"]),
              .malformedDisposition(part: 1, "unterminated quoted string in 'name'")),
        .init("escaped tab in a name", part(["Content-Disposition: form-data; name=\"a\\\tb\""]),
              .malformedDisposition(part: 1, "control byte in name")),
        .init("DEL in a filename", part([disposition + "; filename=\"a\u{7F}\""]),
              .malformedPartHeader(part: 1, "control byte in a field value")),
        .init("name twice", part([disposition + "; NAME=b"]), .malformedDisposition(part: 1, "parameter 'name' given twice")),
        .init("filename*", part([disposition + "; filename*=UTF-8''a.png"]), .extendedParameter(part: 1, name: "filename*")),
        .init("name*", part(["Content-Disposition: form-data; name*=UTF-8''a"]), .extendedParameter(part: 1, name: "name*")),
        .init("duplicate name", "--b\r\n" + disposition + "\r\n\r\n1\r\n--b\r\n" + disposition + "\r\n\r\n2\r\n--b--",
              .duplicateName("a")),
        .init("canonically equal names", "--b\r\nContent-Disposition: form-data; name=\"\u{E9}\"\r\n\r\n1\r\n"
              + "--b\r\nContent-Disposition: form-data; name=\"e\u{301}\"\r\n\r\n2\r\n--b--", .duplicateName("e\u{301}")),
        .init("name not UTF-8", Array("--b\r\nContent-Disposition: form-data; name=\"".utf8) + [0xFF]
              + Array("\"\r\n\r\nx\r\n--b--".utf8), .malformedDisposition(part: 1, "name is not UTF-8")),
    ]
}

@Suite struct MultipartRefusalTests {
    @Test(arguments: MultipartRefusal.all)
    func isRefusedNamingWhatIsWrong(_ refusal: MultipartRefusal) {
        #expect(throws: refusal.error) {
            try MultipartFormData(body: Data(refusal.body), contentType: refusal.contentType)
        }
    }

    @Test func statusesSayWhatKindOfRefusal() {
        #expect(MultipartError.notFormData(mediaType: "text/plain").status == 415)
        #expect(MultipartError.tooManyParts(limit: 16).status == 413)
        #expect(MultipartError.partHeadersTooLarge(part: 1, limit: 8192).status == 413)
        #expect(MultipartError.missingName(part: 2).status == 400)
        #expect(MultipartError.missingName(part: 2).description == "multipart part 2 has no name")
    }

    /// Limits are configuration: the same body passes or fails as they say.
    @Test func limitsAreConfigurable() throws {
        let body = Data((MultipartRefusal.sixteenParts + "--b--").utf8)
        #expect(try MultipartFormData(body: body, contentType: "multipart/form-data; boundary=b").parts.count == 16)
        #expect(throws: MultipartError.tooManyParts(limit: 15)) {
            try MultipartFormData(body: body, contentType: "multipart/form-data; boundary=b", limits: MultipartLimits(maxParts: 15))
        }
        let header = Data(MultipartRefusal.part([MultipartRefusal.disposition]).utf8)
        let exact = MultipartLimits(maxHeaderBytes: MultipartRefusal.disposition.utf8.count + 2)
        #expect(try MultipartFormData(body: header, contentType: "multipart/form-data; boundary=b", limits: exact).parts.count == 1)
        #expect(throws: MultipartError.partHeadersTooLarge(part: 1, limit: exact.maxHeaderBytes - 1)) {
            try MultipartFormData(body: header, contentType: "multipart/form-data; boundary=b",
                                  limits: MultipartLimits(maxHeaderBytes: exact.maxHeaderBytes - 1))
        }
    }
}
