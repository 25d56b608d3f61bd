import Foundation
import HTTPParserTestSupport
import Testing
@testable import HTTPServer

/// The case table, fed three ways (swift-nio manner): whole, one byte at a time, and in two appends split at
/// every index. The split feedings must give exactly what the whole feeding gives, messages included.
@Suite struct HTTPRequestParserTableTests {
    @Test(arguments: ParserCase.all)
    func wholeInputGivesTheExpectedEvents(_ row: ParserCase) {
        let outcome = ParseOutcome(feeding: row.bytes, limits: row.limits)
        #expect(outcome.events == row.events, "\(outcome)")
        #expect(outcome.error.map(ParseErrorKind.init) == row.error, "\(outcome)")
    }

    @Test(arguments: ParserCase.all)
    func oneByteAtATimeGivesWhatWholeInputGives(_ row: ParserCase) {
        let whole = ParseOutcome(feeding: row.bytes, limits: row.limits)
        let bytewise = ParseOutcome(feeding: row.bytes, cuts: Array(row.bytes.indices), limits: row.limits)
        #expect(bytewise == whole, "whole: \(whole)\nbytewise: \(bytewise)")
    }

    @Test(arguments: ParserCase.all)
    func everySplitIntoTwoAppendsGivesWhatWholeInputGives(_ row: ParserCase) {
        let whole = ParseOutcome(feeding: row.bytes, limits: row.limits)
        for split in 0...row.bytes.count {
            let outcome = ParseOutcome(feeding: row.bytes, cuts: [split], limits: row.limits)
            guard outcome == whole else {
                Issue.record("split at \(split): \(outcome), whole: \(whole)")
                return
            }
        }
    }
}

@Suite struct HTTPRequestParserTests {
    @Test func headComesBeforeTheBodyArrivesSoContinueCanBeSent() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".utf8))
        let expectedHead = parsedHead("PUT", "/u", [("Expect", "100-continue"), ("Content-Length", "5")])
        #expect(try parser.next() == .head(expectedHead))
        #expect(expectedHead.expectsContinue)
        #expect(try parser.next() == nil)
        #expect(parser.isMidRequest)
        parser.append(Array("123".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("45".utf8))
        #expect(try parser.next() == .request(HTTPRequest(head: expectedHead, body: Data("12345".utf8))))
        #expect(try parser.next() == nil)
        #expect(!parser.isMidRequest)
    }

    @Test func bodylessRequestGivesHeadThenRequestOnConsecutiveCalls() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET /a HTTP/1.1\r\n\r\nGET /b".utf8))
        #expect(try parser.next() == .head(parsedHead("GET", "/a")))
        #expect(try parser.next() == .request(parsedRequest("GET", "/a")))
        #expect(try parser.next() == nil)
        #expect(parser.isMidRequest)
    }

    @Test func isMidRequestIsTrueOnlyWhileARequestIsUnfinished() throws {
        var parser = HTTPRequestParser()
        #expect(!parser.isMidRequest)
        parser.append(Array("GE".utf8))
        #expect(parser.isMidRequest)
        parser.append(Array("T / HTTP/1.1\r\nContent-Length: 2\r\n\r\n".utf8))
        _ = try parser.next()
        #expect(parser.isMidRequest)
        parser.append(Array("x".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.isMidRequest)
        parser.append(Array("y\r\n".utf8))
        _ = try parser.next()
        #expect(try parser.next() == nil)
        #expect(!parser.isMidRequest, "an empty line between requests is not a request")
    }

    @Test func requestLineTooLongIsDetectedBeforeItsLineEnds() throws {
        let limits = HTTPParserLimits(maxRequestLineBytes: 16)
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array("GET /23456789012\r".utf8))
        #expect(try parser.next() == nil, "16 bytes and a CR may still be a line of 16 bytes")
        var over = HTTPRequestParser(limits: limits)
        over.append(Array("GET /234567890123".utf8))
        #expect(throws: HTTPParseError.requestLineTooLong(limit: 16)) { try over.next() }
    }

    @Test func headerSectionTooLargeIsDetectedBeforeItsLineEnds() {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: 64))
        parser.append(Array("GET / HTTP/1.1\r\nX-A: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 60))
        #expect(throws: HTTPParseError.headersTooLarge(limit: 64)) { try parser.next() }
    }

    @Test func bodyTooLargeIsThrownInsteadOfTheHead() {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxBodyBytes: 1000))
        parser.append(Array("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 1000)) { try parser.next() }
    }

    @Test func failedParserThrowsTheSameErrorAgainAndDropsLaterBytes() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/2.0\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.unsupportedVersion("HTTP/2.0")) { try parser.next() }
        parser.append(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.unsupportedVersion("HTTP/2.0")) { try parser.next() }
        #expect(parser.buffer.isEmpty)
        #expect(!parser.isMidRequest)
    }

    @Test func errorsAnswerWithTheirStatus() {
        let statuses = [("GET / HTTP/3.0\r\n\r\n", 505),
                        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
                        ("GET / HTTP/1.1\r\nA : b\r\n\r\n", 400)]
        for (raw, status) in statuses {
            let outcome = ParseOutcome(feeding: Array(raw.utf8), limits: HTTPParserLimits())
            #expect(outcome.error?.status == status, "\(raw)")
        }
    }

    @Test func consumedBytesAreDroppedBetweenPipelinedRequests() throws {
        var parser = HTTPRequestParser()
        let get = Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        var count = 0
        for _ in 0..<2000 {
            parser.append(get + get[..<7])
            parser.append(get[7...])
            while let event = try parser.next() {
                if case .request = event { count += 1 }
            }
            #expect(parser.buffer.count < HTTPRequestParser.compactionThreshold + 2 * get.count)
        }
        #expect(count == 4000)
    }
}
