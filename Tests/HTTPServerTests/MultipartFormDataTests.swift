import Foundation
import Support
import Testing
@testable import HTTPServer

/// What `curl -F` sends parses back to what was sent, whatever the content holds short of a delimiter.
@Suite struct MultipartFormDataTests {
    /// A request body captured from `curl 7.88.1 -F frame1=@a.png -F 'frame2=@"b \"q\".png";type=image/png'
    /// -F note=x` (curl percent-encodes the quotes of a file name).
    static let capturedCurl = "--------------------------b6f26b9ce9cbfe87\r\n"
        + "Content-Disposition: form-data; name=\"frame1\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
        + "\u{89}PNG\r\n\u{1A}\nA\r\n--B\r\n"
        + "--------------------------b6f26b9ce9cbfe87\r\n"
        + "Content-Disposition: form-data; name=\"frame2\"; filename=\"b %22q%22.png\"\r\nContent-Type: image/png\r\n\r\n"
        + "frame two\r\n\r\n"
        + "--------------------------b6f26b9ce9cbfe87\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n"
        + "--------------------------b6f26b9ce9cbfe87--\r\n"

    @Test func parsesWhatCurlSent() throws {
        var body = Data(Self.capturedCurl.utf8)
        // The capture's first content byte is 0x89, not its UTF-8 encoding.
        body.replaceSubrange(body.range(of: Data("\u{89}".utf8))!, with: [0x89])
        let form = try MultipartFormData(
            body: body, contentType: "multipart/form-data; boundary=------------------------b6f26b9ce9cbfe87")
        #expect(form.parts.map(\.name) == ["frame1", "frame2", "note"])
        #expect(form.parts.map(\.filename) == ["a.png", "b %22q%22.png", nil])
        #expect(form.parts.map(\.contentType) == ["image/png", "image/png", nil])
        #expect(form.content(of: form.parts[0]) == Data([0x89] + Array("PNG\r\n\u{1A}\nA\r\n--B".utf8)))
        #expect(form.content(of: form["frame2"]!) == Data("frame two\r\n".utf8))
        #expect(form.content(of: form["note"]!) == Data("x".utf8))
    }

    @Test(arguments: [1, 2, 7, 16] as [UInt64])
    func curlFormsRoundTrip(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var form = CurlForm(seed: seed)
        var contents: [[UInt8]] = []
        for index in 0..<Int(seed) {
            let content = (0..<generator.nextInt(in: 0..<3000)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            contents.append(content)
            form.file("frame\(index + 1)", filename: "f\(index).png", content)
        }
        let parsed = try MultipartFormData(body: form.body, contentType: form.contentType)
        #expect(parsed.boundary == form.boundary)
        #expect(parsed.parts.map(\.name) == (0..<Int(seed)).map { "frame\($0 + 1)" })
        #expect(parsed.parts.map { Array(parsed.content(of: $0)) } == contents)
        #expect(parsed.parts.allSatisfy { $0.contentType == "image/png" && $0.headers.fields.count == 2 })
    }

    /// Content holding CRLFs, dashes and every proper prefix of the delimiter (CRLF `--` boundary), at its start,
    /// middle and end: all of it is content.
    @Test func nearDelimitersAreContent() throws {
        let boundary = "------------------------0123456789abcdef"
        let delimiter = Array("\r\n--\(boundary)".utf8)
        var contents: [[UInt8]] = [[], Array("\r\n".utf8), Array("\r".utf8), Array("\n".utf8), Array("--".utf8),
                                   Array("--\(boundary)".utf8), Array("x--\(boundary)--".utf8),
                                   Array("\r\n\r\n--\r\n-\(boundary)".utf8), Array("\r\r\n--\r\n--\(boundary.dropLast())x".utf8)]
        for length in 0..<delimiter.count {
            let prefix = Array(delimiter[..<length])
            contents += [prefix, prefix + Array("tail".utf8), Array("head".utf8) + prefix,
                         Array("head".utf8) + prefix + Array("x\r\n".utf8)]
        }
        var form = CurlForm(boundary: boundary)
        for (index, content) in contents.enumerated() {
            form.file("p\(index)", filename: "c.bin", type: "application/octet-stream", content)
        }
        let parsed = try MultipartFormData(body: form.body, contentType: form.contentType,
                                           limits: MultipartLimits(maxParts: contents.count))
        #expect(parsed.parts.map { Array(parsed.content(of: $0)) } == contents)
    }

    @Test func quotedStringsAreUnescapedAndNothingElseIs() throws {
        let body = "--b\r\nContent-Disposition: form-data; name=\"a\\\"b\\\\c\"; filename=\"%22x\\y.png\"\r\n\r\n1\r\n"
            + "--b\r\ncontent-disposition: Form-Data ; NAME=token-form;filename=\"\"\r\n\r\n2\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"caf\u{E9}\"; charset=x\r\n\r\n3\r\n--b--"
        let form = try MultipartFormData(body: Data(body.utf8), contentType: "Multipart/Form-Data; BOUNDARY=\"b\"")
        #expect(form.parts.map(\.name) == ["a\"b\\c", "token-form", "caf\u{E9}"])
        #expect(form.parts.map(\.filename) == ["%22xy.png", "", nil])
    }

    /// RFC 2046 section 5.1.1: a preamble and an epilogue are ignored, and transport padding (spaces and tabs)
    /// may follow a delimiter.
    @Test func preambleEpilogueAndPaddingAreIgnored() throws {
        let body = "This is a preamble.\r\n--my boundary \t\r\nContent-Disposition: form-data; name=x\r\n"
            + "X-Other: ignored\r\nContent-Transfer-Encoding: BINARY\r\n\r\nvalue\r\n--my boundary-- \r\nepilogue\r\n--my boundary\r\n"
        let form = try MultipartFormData(body: Data(body.utf8),
                                         contentType: "multipart/form-data; charset=utf-8; boundary=\"my boundary\"")
        #expect(form.parts.count == 1)
        #expect(form.content(of: form.parts[0]) == Data("value".utf8))
        #expect(form.parts[0].headers["x-other"] == "ignored")
    }

    @Test func anEmptyFormHasNoParts() throws {
        let form = try MultipartFormData(body: Data("--b--\r\n".utf8), contentType: "multipart/form-data; boundary=b")
        #expect(form.parts.isEmpty)
    }

    @Test func rangesAreIndicesOfTheBodyGiven() throws {
        let whole = Data(("xxxx--b\r\nContent-Disposition: form-data; name=n\r\n\r\ncontent\r\n--b--").utf8)
        let body = whole[4...]
        let form = try MultipartFormData(body: body, contentType: "multipart/form-data; boundary=b")
        let range = try #require(form.parts.first?.range)
        #expect(range == 51..<58)
        #expect(form.content(of: form.parts[0]) == Data("content".utf8))
        #expect(body[range] == Data("content".utf8))
    }

    @Test func boundariesOfSeventyCharactersAndEveryBcharAreAccepted() throws {
        let boundary = "0aZ'()+_,-./:=? " + String(repeating: "x", count: 54)
        #expect(boundary.count == MultipartFormData.maxBoundaryLength)
        var form = CurlForm(boundary: boundary)
        form.field("a", "1")
        let parsed = try MultipartFormData(body: form.body, contentType: "multipart/form-data; boundary=\"\(boundary)\"")
        #expect(parsed.boundary == boundary)
        #expect(parsed.parts.map(\.name) == ["a"])
    }

    /// A disposition of 1,100 parameters (8 KiB): each is checked against the others through a set, not a scan.
    @Test func aDispositionOfManyParametersParses() throws {
        let parameters = (0..<1100).map { ";p\($0)=v" }.joined()
        let body = "--b\r\nContent-Disposition: form-data; name=a\(parameters)\r\n\r\nx\r\n--b--"
        let form = try MultipartFormData(body: Data(body.utf8), contentType: "multipart/form-data; boundary=b")
        #expect(form.parts.map(\.name) == ["a"])
    }

    @Test func recognizesTheMediaType() {
        #expect(MultipartFormData.isFormData(contentType: " multipart/FORM-data ; boundary=x"))
        #expect(!MultipartFormData.isFormData(contentType: "multipart/mixed; boundary=x"))
        #expect(!MultipartFormData.isFormData(contentType: nil))
    }

    /// 1 MiB of near-delimiters in one part (each a CRLF and all but the last byte of the delimiter) and 1 MiB
    /// of CRs in another: each byte is compared a bounded number of times, so this parses as fast as a plain
    /// body would. A search that restarted inside partial matches would take minutes.
    @Test func aBodyFullOfNearDelimitersParsesInOnePass() throws {
        let boundary = String(repeating: "ab", count: 35)
        let near = Array("\r\n--\(boundary.dropLast())".utf8)
        let nearContent = Array(repeatElement(near, count: (1 << 20) / near.count).joined())
        let crs = [UInt8](repeating: HTTPSyntax.cr, count: 1 << 20)
        var form = CurlForm(boundary: boundary)
        form.file("near", filename: "n.bin", nearContent)
        form.file("crs", filename: "c.bin", crs)
        let parsed = try MultipartFormData(body: form.body, contentType: form.contentType)
        #expect(parsed.parts.map { parsed.content(of: $0).count } == [nearContent.count, crs.count])
    }
}
