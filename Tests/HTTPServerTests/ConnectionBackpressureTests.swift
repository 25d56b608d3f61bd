import Dispatch
import Foundation
import Glibc
import HTTPServer
import HTTPTestSupport
import Testing

/// Counts the requests it is handed and answers each with `bytes` bytes after `delayMilliseconds`
/// (from another queue when delayed).
private final class CountingHandler: HTTPHandler, @unchecked Sendable {
    // `lock` guards `handled`.
    private let lock = NSLock()
    private var handled_ = 0
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    var handled: Int { lock.withLock { handled_ } }

    func handle(_ request: HTTPRequest, context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        lock.withLock { handled_ += 1 }
        let ms = Int(request.head.query?.split(separator: "=").last ?? "") ?? 0
        let body = Data(count: bytes)
        if ms == 0 { return respond(HTTPResponse(status: 200, body: body)) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
            respond(HTTPResponse(status: 200, body: body))
        }
    }
}

/// Answers nothing on its own: holds each request's responder, in arrival order, until the test answers it.
/// `condition` guards `held`: the handler appends on connection queues while the test waits and answers.
private final class HoldingHandler: HTTPHandler, @unchecked Sendable {
    private let condition = NSCondition()
    private var held: [@Sendable (HTTPResponse) -> Void] = []

    func handle(_ request: HTTPRequest, context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        condition.withLock {
            held.append(respond)
            condition.broadcast()
        }
    }

    /// Waits until `count` requests have been handed over or `seconds` have passed; whether they were.
    func waitForRequests(_ count: Int, within seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while held.count < count {
                if !condition.wait(until: deadline) { return held.count >= count }
            }
            return true
        }
    }

    /// Answers the `index`th request (from 0) with `response`.
    func answer(_ index: Int, with response: HTTPResponse) {
        let respond = condition.withLock { held[index] }
        respond(response)
    }
}

@Suite struct ConnectionBackpressureTests {
    /// A client that pipelines requests for large responses and never reads must not make the server
    /// produce (and buffer) every response: reading pauses while unsent output piles up.
    @Test func aClientThatDoesNotReadStopsBeingServed() throws {
        let handler = CountingHandler(bytes: 1 << 20)
        let server = try startServer(handler)
        defer { stop(server) }
        let client = try RawHTTPClient(port: server.port)
        try client.send(String(repeating: "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", count: 200))
        Thread.sleep(forTimeInterval: 1.5)
        // Socket buffers on loopback hold a few MB; the pipeline holds 16 more. Not 200 MB.
        #expect(handler.handled < 80)
    }

    /// Requests whose answer the connection makes without the handler (here: an unknown Content-Encoding,
    /// 415) must not nest one call per buffered request: thousands of them overflowed the stack.
    @Test func manyPipelinedRequestsAnsweredInlineDoNotExhaustTheStack() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port, timeout: 20)
            // Fill the pipeline with slow requests so the refused ones pile up unread in the socket.
            try client.send(String(repeating: "GET /slow?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n", count: 16))
            let refused = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: x\r\nContent-Length: 1\r\n\r\nx"
            let count = 40_000
            let fd = client.fd
            let bytes = Data(String(repeating: refused, count: count).utf8)
            let sender = Thread {
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes {
                        Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                    }
                    if n <= 0 { return }
                    offset += n
                }
            }
            sender.start()
            for _ in 0..<16 { #expect(try client.readResponse().status == 200) }
            var statuses: [Int: Int] = [:]
            for _ in 0..<count { statuses[try client.readResponse().status, default: 0] += 1 }
            #expect(statuses == [415: count])
        }
    }

    /// Complete requests held back because the pipeline is full were received in time: no 408 for them.
    @Test func requestsWaitingForAFullPipelineDoNotTimeOut() throws {
        try withServer({ $0.readTimeout = 0.3 }) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send(String(repeating: "GET /slow?ms=800 HTTP/1.1\r\nHost: x\r\n\r\n", count: 16)
                            + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
            for _ in 0..<16 { #expect(try client.readResponse().text == "slow 800") }
            let last = try client.readResponse()
            #expect(last.status == 200)
            #expect(last.text == "ok")
        }
    }

    /// A drain must not wait for the idle timeout on a connection that was writing a keep-alive response
    /// when the drain began: once the response is out, the connection is idle and closes.
    @Test func drainClosesAConnectionOnceItsResponseIsWritten() throws {
        let server = try startServer(TestHandler()) { $0.idleTimeout = 30 }
        let client = try RawHTTPClient(port: server.port)
        let size = 32 << 20
        try client.send("GET /big?bytes=\(size) HTTP/1.1\r\nHost: x\r\n\r\n")
        // Wait for the first byte of the answer: from then on the rest is stuck in the outbox.
        var byte: UInt8 = 0
        #expect(recv(client.fd, &byte, 1, Int32(MSG_PEEK)) == 1)
        Thread.sleep(forTimeInterval: 0.1)
        let drained = DispatchSemaphore(value: 0)
        server.shutdown(timeout: 10) { drained.signal() }
        let response = try client.readResponse()
        #expect(response.body.count == size)
        #expect(drained.wait(timeout: .now() + 3) == .success)
        #expect(client.isClosedByPeer())
    }

    /// After the response that says `Connection: close`, no further bytes follow on the connection, even when
    /// a drain made an earlier-pipelined request's answer the last one. The test answers both requests itself,
    /// so nothing depends on timing: the order of events is fixed by the queues.
    @Test func nothingFollowsTheResponseThatClosesTheConnection() throws {
        let handler = HoldingHandler()
        let server = try startServer(handler)
        defer { stop(server) }
        let drained = DispatchSemaphore(value: 0)
        do {
            let client = try RawHTTPClient(port: server.port, timeout: 30)
            try client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
            // Both requests are pending on the connection, as keep-alive, before the drain begins.
            try #require(handler.waitForRequests(2, within: 30))
            server.shutdown(timeout: 30) { drained.signal() }
            // `connectionCount` runs on the accept queue after the shutdown, which has by then queued the drain
            // on the connection's queue; the answers below queue behind it, so both are made while draining.
            #expect(server.connectionCount == 1)
            // The first answer becomes the last one (`Connection: close`). It is far larger than the socket
            // buffers and the client reads nothing yet, so most of it is still unsent when the second is made.
            handler.answer(0, with: HTTPResponse(status: 200, body: Data(count: 8 << 20)))
            handler.answer(1, with: HTTPResponse(status: 200, body: Data("must never be sent".utf8)))
            let first = try client.readResponse()
            #expect(first.status == 200)
            #expect(first.header("Connection") == "close")
            #expect(first.body.count == 8 << 20)
            // Everything after it until the server closes the connection: nothing.
            let after = try client.readUntilClosed()
            #expect(after.isEmpty,
                    "\(after.count) bytes followed: \(String(decoding: after.prefix(200), as: UTF8.self))")
        }  // the client closes here, ending the server's lingering close
        #expect(drained.wait(timeout: .now() + 30) == .success)
    }
}
