import Foundation
import HTTPServer
import HTTPTestSupport
import Testing

@Suite struct HTTPServerTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            for i in 0..<3 {
                let response = try client.request("POST", "/echo", body: Data("hello \(i)".utf8))
                #expect(response.status == 200)
                #expect(response.text == "hello \(i)")
                #expect(response.header("Connection") == "keep-alive")
            }
            #expect(server.connectionCount == 1)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            // The first answer is the slowest: order must still follow the requests.
            try client.send("GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\nGET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n"
                            + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
            #expect(try client.readResponse().text == "slow 200")
            #expect(try client.readResponse().text == "slow 50")
            #expect(try client.readResponse().text == "abc")
        }
    }

    @Test func chunkedRequestBodiesAreDeframed() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.text == "hello, world")
            #expect(response.header("X-Body-Bytes") == "12")
        }
    }

    @Test func expectContinueGetsAnInterimResponseBeforeTheBody() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            try client.send("body")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "body")
        }
    }

    @Test func headAnswersHeadersWithoutBody() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            let response = try client.request("HEAD", "/big?bytes=100")
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "100")
            #expect(response.body.isEmpty)
            // The connection is still in step: the next response parses.
            #expect(try client.request("POST", "/echo", body: Data("x".utf8)).text == "x")
        }
    }

    @Test func http10AndConnectionCloseEndTheConnection() throws {
        try withServer { server in
            let old = try RawHTTPClient(port: server.port)
            try old.send("GET /echo HTTP/1.0\r\n\r\n")
            #expect(try old.readResponse().header("Connection") == "close")
            #expect(old.isClosedByPeer())
            let closing = try RawHTTPClient(port: server.port)
            let response = try closing.request("GET", "/echo", headers: ["CONNECTION": "close"])
            #expect(response.header("Connection") == "close")
            #expect(closing.isClosedByPeer())
        }
    }

    @Test func oversizedHeadersGet431AndClose() throws {
        try withServer({ $0.parserLimits.maxHeaderBytes = 1024 }) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 431)
            #expect(response.json?["error"] is String)
            #expect(client.isClosedByPeer())
        }
    }

    @Test func oversizedBodiesGet413BeforeTheBodyIsSent() throws {
        try withServer({ $0.parserLimits.maxBodyBytes = 1000 }) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.text.contains("1000"))
        }
    }

    @Test func malformedRequestsGet400AndClose() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /echo HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test func slowRequestsTimeOutWith408() throws {
        try withServer({ $0.readTimeout = 0.3 }) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(client.isClosedByPeer())
        }
    }

    @Test func idleConnectionsAreClosed() throws {
        try withServer({ $0.idleTimeout = 0.3 }) { server in
            let client = try RawHTTPClient(port: server.port)
            #expect(try client.request("GET", "/echo").status == 200)
            #expect(client.isClosedByPeer())
        }
    }

    @Test func connectionsBeyondTheCapAreRefusedThenServedAgain() throws {
        try withServer({ $0.maxConnections = 2 }) { server in
            let second = try RawHTTPClient(port: server.port)
            do {
                let first = try RawHTTPClient(port: server.port)
                #expect(try first.request("GET", "/echo").status == 200)
                #expect(try second.request("GET", "/echo").status == 200)
                let third = try RawHTTPClient(port: server.port)
                let refused = try third.readResponse()
                #expect(refused.status == 503)
                #expect(refused.header("Retry-After") != nil)
            }  // the first client closes here, freeing a slot
            var waited = 0
            while server.connectionCount >= 2 && waited < 100 {
                Thread.sleep(forTimeInterval: 0.02)
                waited += 1
            }
            let fourth = try RawHTTPClient(port: server.port)
            #expect(try fourth.request("GET", "/echo").status == 200)
        }
    }

    @Test func gzipRequestBodiesAreInflatedAndUnknownCodingsRefused() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            let text = Data(String(repeating: "squeeze me ", count: 500).utf8)
            let response = try client.request("POST", "/echo", headers: ["Content-Encoding": "gzip"],
                                              body: try Compression.gzip(text))
            #expect(response.status == 200)
            #expect(response.body == text)
            let refused = try client.request("POST", "/echo", headers: ["Content-Encoding": "br"], body: Data("x".utf8))
            #expect(refused.status == 415)
            #expect(refused.text.contains("br"))
        }
    }

    @Test func decompressedBodiesOverTheLimitGet413() throws {
        try withServer({ $0.maxDecompressedBytes = 10_000 }) { server in
            let client = try RawHTTPClient(port: server.port)
            let bomb = try Compression.gzip(Data(count: 1_000_000))
            let response = try client.request("POST", "/echo", headers: ["Content-Encoding": "gzip"], body: bomb)
            #expect(response.status == 413)
        }
    }

    @Test func responsesAreGzippedWhenTheClientAcceptsIt() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            let plain = try client.request("GET", "/big?bytes=5000")
            #expect(plain.header("Content-Encoding") == nil)
            #expect(plain.body.count == 5000)
            let zipped = try client.request("GET", "/big?bytes=5000", headers: ["Accept-Encoding": "gzip, deflate"])
            #expect(zipped.header("Content-Encoding") == "gzip")
            #expect(zipped.body.count < 1000)
            let inflated = try Compression.decode(zipped.body, coding: .gzip, limit: 1 << 20)
            #expect(inflated == plain.body)
            let small = try client.request("GET", "/big?bytes=100", headers: ["Accept-Encoding": "gzip"])
            #expect(small.header("Content-Encoding") == nil)
        }
    }

    @Test func drainFinishesInFlightRequestsAndClosesIdleConnections() throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.idleTimeout = 30
        let server = HTTPServer(configuration: configuration, handler: TestHandler(), logger: .init(label: "t"))
        try server.start()
        let busy = try RawHTTPClient(port: server.port)
        let idle = try RawHTTPClient(port: server.port)
        #expect(try idle.request("GET", "/echo").status == 200)
        try busy.send("GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.05)
        let drained = DispatchSemaphore(value: 0)
        server.shutdown(timeout: 5) { drained.signal() }
        #expect(idle.isClosedByPeer())
        let response = try busy.readResponse()
        #expect(response.text == "slow 300")
        #expect(response.header("Connection") == "close")
        #expect(drained.wait(timeout: .now() + 5) == .success)
        #expect(throws: (any Error).self) { try RawHTTPClient(port: server.port) }
    }

    @Test func requestIDsAreEchoedOrMade() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            #expect(try client.request("GET", "/echo", headers: ["X-Request-ID": "abc-123"]).header("X-Request-ID")
                    == "abc-123")
            #expect(try client.request("GET", "/echo").header("X-Request-ID")?.count == 16)
        }
    }
}
