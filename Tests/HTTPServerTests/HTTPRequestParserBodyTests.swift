import Foundation
import Testing
@testable import HTTPServer

/// Large bodies arrive the way a socket delivers them: in 64 KiB reads.
@Suite struct HTTPRequestParserBodyTests {
    static let readSize = 64 * 1024
    static let body = pseudoRandomBytes(8 * 1024 * 1024)

    /// Feeds `bytes` in reads of `readSize`, checking after each that the parser buffers at most `maxBuffered`
    /// bytes; returns the events.
    func feedInReads(_ bytes: [UInt8], maxBuffered: Int) throws -> [HTTPParserEvent] {
        var parser = HTTPRequestParser()
        var events: [HTTPParserEvent] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + Self.readSize, bytes.count)
            bytes[start..<end].withUnsafeBytes { parser.append($0) }
            while let event = try parser.next() { events.append(event) }
            #expect(parser.buffer.count <= maxBuffered)
            start = end
        }
        #expect(!parser.isMidRequest)
        return events
    }

    @Test func largeContentLengthBodyArrivesIntactWithoutBeingBuffered() throws {
        let headBytes = Array("POST /infer HTTP/1.1\r\nContent-Length: \(Self.body.count)\r\n\r\n".utf8)
        // Body bytes that arrive while nothing else is buffered go straight into the body.
        let events = try feedInReads(headBytes + Self.body, maxBuffered: Self.readSize)
        let expectedHead = parsedHead("POST", "/infer", [("Content-Length", "\(Self.body.count)")])
        #expect(events.count == 2)
        #expect(events.first == .head(expectedHead))
        guard case .request(let request) = events.last else {
            Issue.record("no request")
            return
        }
        #expect(request.head == expectedHead)
        #expect(request.body == Data(Self.body))
    }

    @Test func largeChunkedBodyArrivesIntact() throws {
        var bytes = Array("POST /infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        // Chunks of uneven sizes, so that chunk boundaries fall everywhere inside the reads.
        var offset = 0
        var size = 1
        while offset < Self.body.count {
            let count = min(size, Self.body.count - offset)
            bytes += Array(String(count, radix: 16).utf8) + Array(";i=\(offset)\r\n".utf8)
            bytes += Self.body[offset..<offset + count] + Array("\r\n".utf8)
            offset += count
            size = size * 7 % 100_003 + 1
        }
        bytes += Array("0\r\nX-Digest: none\r\n\r\n".utf8)
        let events = try feedInReads(bytes, maxBuffered: 2 * Self.readSize)
        #expect(events.count == 2)
        guard case .request(let request) = events.last else {
            Issue.record("no request")
            return
        }
        #expect(request.body == Data(Self.body))
    }
}
