import Foundation
import Glibc
import HTTPTestSupport
import ModelServer
import Testing

/// Hostile connections rather than hostile requests: slow clients, floods, the wrong protocol on the TLS
/// port, clients that leave mid-request. Each runs against its own daemon, whose connection gauge it reads.
@Suite struct HostileConnectionTests {
    static let ok = Data(HostileCatalog.ok.utf8)

    /// `perceiverd_http_connections` of `daemon`, read in-process (a request would itself be a connection).
    static func openConnections(_ daemon: Daemon) -> Int? {
        metricValue("perceiverd_http_connections", in: daemon.metrics.render()).map { Int($0) }
    }

    /// Waits until `daemon` has `count` open connections; false if it does not happen within `seconds`.
    static func waitForConnections(_ daemon: Daemon, _ count: Int, within seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if openConnections(daemon) == count { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func slowClientsAreCutOffByTheReadTimeoutWhileOthersAreServed() throws {
        let daemon = try TestDaemon.start(HostileDaemon.configuration(readTimeoutMilliseconds: 1000))
        defer { daemon.stop {} }
        let slowHeaders = try RawHTTPClient(port: daemon.port, timeout: 10)
        let slowBody = try RawHTTPClient(port: daemon.port, timeout: 10)
        try slowHeaders.send("POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\n")
        try slowBody.send("POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(Self.ok.count)\r\n\r\n{")
        let start = Date()
        // One byte every 200 ms: activity never stops, but the request is never complete.
        for index in 0..<8 {
            try? slowHeaders.send("X-\(index): v\r\n")
            try? slowBody.send(" ")
            usleep(200_000)
        }
        for client in [slowHeaders, slowBody] {
            let answer = try client.readResponse()
            #expect(answer.status == 408)
            #expect((answer.json?["error"] as? String)?.contains("request not received within 1.0 s") == true)
            #expect(client.isClosedByPeer())
        }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(try HostileDaemon.servesOthers(port: daemon.port))
        #expect(Self.waitForConnections(daemon, 0))
    }

    @Test func connectionsBeyondTheCapAreRefusedThenServiceRecovers() throws {
        let daemon = try TestDaemon.start(HostileDaemon.configuration(maxConnections: 8))
        defer { daemon.stop {} }
        var holders: [RawHTTPClient] = []
        for _ in 0..<8 { holders.append(try RawHTTPClient(port: daemon.port)) }
        #expect(Self.waitForConnections(daemon, 8))
        for _ in 0..<24 {
            let extra = try RawHTTPClient(port: daemon.port)
            try? extra.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = try extra.readResponse()
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.json?["error"] as? String == "too many connections (limit 8)")
            #expect(extra.isClosedByPeer())
        }
        // The held connections were never disturbed: each still gets answers.
        #expect(try holders[0].request("POST", "/v2/models/seqcls/infer", body: Self.ok).status == 200)
        holders.removeAll()
        #expect(Self.waitForConnections(daemon, 0))
        #expect(try HostileDaemon.servesOthers(port: daemon.port))
    }

    @Test func plaintextAndGarbageOnTheTLSPortAreRefusedWhileHTTPSWorks() throws {
        let certificate = try CertificateFixture.shared.get()
        var configuration = HostileDaemon.configuration(readTimeoutMilliseconds: 1000)
        configuration.tls = TLSConfiguration(port: 0, certificatePath: certificate.certificate, keyPath: certificate.key)
        let daemon = try TestDaemon.start(configuration)
        defer { daemon.stop {} }
        let tlsPort = try #require(daemon.tlsPort)

        let plaintext = try RawHTTPClient(port: tlsPort)
        try plaintext.send("POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(Self.ok.count)\r\n\r\n")
        try? plaintext.send(Self.ok)
        let refused = try plaintext.readResponse()
        #expect(refused.status == 400)
        #expect(refused.json?["error"] as? String == "plain HTTP request sent to the HTTPS port; use https://")
        #expect(plaintext.isClosedByPeer())

        // Garbage, and handshakes that never finish (a record header announcing 64 KiB, half a header): the
        // read timeout covers the handshake, so none of them holds a connection for the idle timeout.
        let start = Date()
        for garbage in [Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }),
                        Data([0x16, 0x03, 0x01, 0xFF, 0xFF]) + Data(count: 300), Data("\r\n\r\n".utf8)] {
            let client = try RawHTTPClient(port: tlsPort)
            try? client.send(garbage)
            // Throws if the peer has not closed within the client's timeout.
            let reply = try client.readUntilClosed()
            // Nothing, or a TLS alert record (content type 21) before the close.
            #expect(reply.isEmpty || reply.first == 21, "\(reply.prefix(8).map { $0 })")
        }
        #expect(Date().timeIntervalSince(start) < 8)
        let result = try ChildProcess("/usr/bin/curl", [
            "-sS", "--cacert", certificate.certificate, "--resolve", "localhost:\(tlsPort):127.0.0.1",
            "-X", "POST", "https://localhost:\(tlsPort)/v2/models/seqcls/infer", "--data-binary", HostileCatalog.ok,
        ]).finish(within: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""name":"logits""#))
        #expect(try HostileDaemon.servesOthers(port: daemon.port))
        #expect(Self.waitForConnections(daemon, 0))
    }

    /// A masked-LM request whose answer (full logits, about 4 MB of JSON) is far larger than socket buffers.
    static let bigAnswer: Data = {
        let rows = (0..<64).map { _ in "[4," + (0..<22).map { String(6 + $0) }.joined(separator: ",") + ",5]" }
        return Data(#"{"inputs":[{"name":"input_ids","shape":[64,24],"datatype":"INT64","data":[\#(rows.joined(separator: ","))]}]}"#.utf8)
    }()

    @Test func clientsLeavingMidBodyOrMidResponseLeaveNothingBehind() throws {
        let daemon = try TestDaemon.start(HostileDaemon.configuration())
        defer { daemon.stop {} }
        let head = "POST /v2/models/mlm/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(Self.bigAnswer.count)\r\n\r\n"
        for round in 0..<3 {
            // Mid-body: half the body, then gone.
            let midBody = try RawHTTPClient(port: daemon.port)
            try midBody.send(Data(head.utf8) + Self.bigAnswer.prefix(Self.bigAnswer.count / 2))
            // Right after sending: gone before the answer is computed.
            let beforeAnswer = try RawHTTPClient(port: daemon.port)
            try beforeAnswer.send(Data(head.utf8) + Self.bigAnswer)
            // Mid-response: reads a little of the 4 MB answer, then gone.
            let midResponse = try RawHTTPClient(port: daemon.port, timeout: 60)
            try midResponse.send(Data(head.utf8) + Self.bigAnswer)
            var first = [UInt8](repeating: 0, count: 1024)
            #expect(recv(midResponse.fd, &first, first.count, Int32(MSG_WAITALL)) == first.count, "round \(round)")
            #expect(String(decoding: first.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
        }
        #expect(Self.waitForConnections(daemon, 0, within: 30))
        #expect(try HostileDaemon.servesOthers(port: daemon.port))
        // A request whose client left may still be finishing (waiting for an identical request's encode, then
        // dropped as canceled) when its connection is gone: nothing is left once it has.
        let idle = #"perceiverd_inference_in_flight{model="mlm"} 0"#
        for _ in 0..<500 where !daemon.metrics.render().contains(idle) { usleep(10_000) }
        #expect(daemon.metrics.render().contains(idle))
    }

    /// A client that half-closes after its requests gets every answer (RFC 9112 section 9.6): it used to get a
    /// 499 on the wire about 60% of the time, and 4 of 20 pipelined requests were dropped.
    @Test func halfClosedClientsGetEveryAnswer() throws {
        let daemon = try TestDaemon.start(HostileDaemon.configuration())
        defer { daemon.stop {} }
        /// The next final response (the server may probe a half-closed client with an interim 100).
        func final(_ client: RawHTTPClient) throws -> RawHTTPClient.Response {
            var response = try client.readResponse()
            while response.status == 100 { response = try client.readResponse() }
            return response
        }
        let request = HostileCatalog.okHead + "Content-Length: \(Self.ok.count)\r\n\r\n" + HostileCatalog.ok
        for round in 0..<20 {
            let client = try RawHTTPClient(port: daemon.port)
            try client.send(request)
            client.halfClose()
            #expect(try final(client).status == 200, "round \(round)")
        }
        let pipelined = try RawHTTPClient(port: daemon.port)
        try pipelined.send(String(repeating: request, count: 20))
        pipelined.halfClose()
        for index in 0..<20 { #expect(try final(pipelined).status == 200, "request \(index)") }
        #expect(pipelined.isClosedByPeer())
        let metrics = daemon.metrics.render()
        #expect(metrics.contains(#"perceiverd_inference_failures_total{model="seqcls",reason="canceled"} 0"#))
    }
}
