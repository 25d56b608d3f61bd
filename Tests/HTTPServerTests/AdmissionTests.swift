import Foundation
import Glibc
import HTTPServer
import HTTPTestSupport
import Testing

/// What a request may cost before its body is read, and who may hold connections: the body budget (server-wide
/// and per client address), the connection caps (per listener and per client), the Host rules of RFC 9112
/// section 3.2 and the handler's screen on the head.
@Suite struct AdmissionTests {
    /// A head that declares `bytes` of body, without the body.
    static func head(_ path: String = "/echo", bytes: Int) -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(bytes)\r\n\r\n"
    }

    @Test func aBodyThatDoesNotFitTheBudgetIsRefusedBeforeItIsRead() throws {
        try withServer({
            $0.parserLimits.maxBodyBytes = 1000
            $0.maxBufferedBodyBytes = 1500
            $0.maxBufferedBodyBytesPerClient = 1500
        }) { server in
            // The first request holds 800 bytes until its slow answer.
            let holder = try RawHTTPClient(port: server.port)
            try holder.send(Self.head("/slow?ms=2000", bytes: 800) + String(repeating: "a", count: 800))
            for _ in 0..<2500 where server.bodyBudget.held < 800 { usleep(2_000) }
            #expect(server.bodyBudget.held == 800)
            // A second 800-byte body does not fit: 503 on its head, the body never read, the connection closed.
            let refused = try RawHTTPClient(port: server.port)
            try refused.send(Self.head(bytes: 800))
            let answer = try refused.readResponse()
            #expect(answer.status == 503)
            #expect(answer.header("Retry-After") == "1")
            #expect(answer.text.contains("limit of request bodies"), "\(answer.text)")
            #expect(refused.isClosedByPeer())
            #expect(try holder.readResponse().text == "slow 2000")
            // Once the first is answered its bytes are free again.
            for _ in 0..<2500 where server.bodyBudget.held > 0 { usleep(2_000) }
            let later = try RawHTTPClient(port: server.port).request("POST", "/echo", body: Data(count: 800))
            #expect(later.status == 200)
            #expect(server.bodyBudget.held == 0)
        }
    }

    @Test func aChunkedBodyIsCountedAsItGrows() throws {
        try withServer({
            $0.parserLimits.maxBodyBytes = 100_000
            $0.maxBufferedBodyBytes = 100_000
            $0.maxBufferedBodyBytesPerClient = 3000
        }) { server in
            let client = try RawHTTPClient(port: server.port)
            let chunk = String(repeating: "b", count: 1000)
            var request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            for _ in 0..<5 { request += "3e8\r\n" + chunk + "\r\n" }
            try? client.send(request + "0\r\n\r\n")
            let answer = try client.readResponse()
            #expect(answer.status == 503, "\(answer.status) \(answer.text)")
            for _ in 0..<2500 where server.bodyBudget.held > 0 { usleep(2_000) }
            #expect(server.bodyBudget.held == 0)
            // Within the budget it goes through.
            let small = try RawHTTPClient(port: server.port)
            try small.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + chunk
                           + "\r\n0\r\n\r\n")
            #expect(try small.readResponse().text == chunk)
        }
    }

    @Test func oneClientAddressCannotTakeEveryConnection() throws {
        try withServer({ $0.maxConnectionsPerClient = 3 }) { server in
            let held = try (0..<3).map { _ in try RawHTTPClient(port: server.port) }
            for client in held { #expect(try client.request("GET", "/echo").status == 200) }
            let fourth = try RawHTTPClient(port: server.port)
            let refused = try fourth.readResponse()
            #expect(refused.status == 503)
            #expect(refused.text.contains("too many connections from 127.0.0.1 (limit 3)"), "\(refused.text)")
        }
    }

    @Test func unfinishedTLSHandshakesCannotTakeThePlainListenersSlots() throws {
        let fixture = try CertificateFixture.shared.get()
        let context = try TLSContext(certificatePath: fixture.certificate, keyPath: fixture.key)
        try withServer({
            $0.tls = HTTPServerConfiguration.TLSListener(port: 0, context: context)
            $0.maxConnections = 4
            $0.maxTLSConnections = 2
        }) { server in
            let tlsPort = try #require(server.tlsPort)
            // Ten sockets on the TLS port that never send a ClientHello.
            let stalled = try (0..<10).map { _ in try RawHTTPClient(port: tlsPort, timeout: 2) }
            usleep(100_000)
            #expect(server.connectionCount <= 2, "the TLS listener holds at most its own cap")
            let probe = try RawHTTPClient(port: server.port).request("GET", "/echo")
            #expect(probe.status == 200)
            _ = stalled
        }
    }

    @Test(arguments: [
        ("GET /echo HTTP/1.1\r\n\r\n", "an HTTP/1.1 request needs a Host header"),
        ("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host header"),
        ("GET /echo HTTP/1.1\r\nHost: exa mple\r\n\r\n", "not a valid host"),
        ("GET /echo HTTP/1.1\r\nHost: x:8a\r\n\r\n", "not a valid host"),
        ("GET /echo HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", "more than one Host header"),
    ])
    func hostMustBeExactlyOneValidHost(request: String, error: String) throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send(request)
            let answer = try client.readResponse()
            #expect(answer.status == 400)
            #expect(answer.text.contains(error), "\(answer.text)")
            #expect(client.isClosedByPeer())
        }
    }

    @Test(arguments: ["Host: localhost\r\n", "Host: 127.0.0.1:8000\r\n", "Host: [::1]:80\r\n", "Host: \r\n", ""])
    func validHostsAndHTTP10WithoutOnePass(host: String) throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /echo HTTP/\(host.isEmpty ? "1.0" : "1.1")\r\n\(host)\r\n")
            #expect(try client.readResponse().status == 200)
        }
    }

    @Test func anAbsoluteFormTargetIsServedByItsPath() throws {
        try withServer { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET http://localhost:\(server.port)/echo?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let answer = try client.readResponse()
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.header("X-Method") == "GET")
        }
    }

    @Test func theHandlersScreenRefusesOnTheHeadAndNeverSendsContinue() throws {
        try withServer(handler: ScreeningHandler()) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 50000000\r\n\r\n")
            let answer = try client.readResponse()
            #expect(answer.status == 401)
            #expect(answer.header("Connection") == "close")
            #expect(client.isClosedByPeer())
            #expect(server.bodyBudget.held == 0)
        }
    }
}

/// Refuses every request on its head.
private struct ScreeningHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(.error(500, "the screen should have refused this"))
    }

    func screen(_ head: HTTPRequestHead, context: RequestContext) -> HTTPResponse? {
        .error(401, "no token")
    }
}
