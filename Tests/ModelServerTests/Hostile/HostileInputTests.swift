import Foundation
import Glibc
import HTTPTestSupport
import ModelServer
import Testing

/// A daemon with small limits, so that floods and bombs are cheap to send.
enum HostileDaemon {
    static func configuration(maxConnections: Int = 1024, readTimeoutMilliseconds: Int = 30_000) -> ServerConfiguration {
        ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: ["seqcls", "mlm", "learned"].map {
            ModelConfiguration(name: $0, path: ServerFixtures.root + "/models/" + $0, maxBatchSize: 64, maxQueueSize: 0)
        }, limits: .with {
            $0.maxRequestLineBytes = 4096
            $0.maxHeaderBytes = 8192
            $0.maxHeaderCount = 50
            $0.maxBodyBytes = 1 << 20
            $0.maxDecompressedBytes = 1 << 20
            $0.maxConnections = maxConnections
            $0.readTimeoutMilliseconds = readTimeoutMilliseconds
        })
    }

    static let shared = Result { () throws(TestDaemonError) in try TestDaemon.start(configuration()) }

    /// Whether `port` still serves a real inference on a fresh connection.
    static func servesOthers(port: Int) throws -> Bool {
        let client = try RawHTTPClient(port: port, timeout: 30)
        let answer = try client.request("POST", "/v2/models/seqcls/infer", body: Data(HostileCatalog.ok.utf8))
        return answer.status == 200 && answer.text.contains(#""name":"logits""#)
    }
}

@Suite struct HostileInputTests {
    @Test func catalogHasEveryCategory() {
        #expect(HostileCatalog.cases.count >= 40)
        #expect(Set(HostileCatalog.cases.map(\.name)).count == HostileCatalog.cases.count)
    }

    @Test(arguments: HostileCatalog.cases)
    func refusesClearlyAndKeepsServing(_ hostile: HostileCase) throws {
        let port = try HostileDaemon.shared.get().port
        let client = try RawHTTPClient(port: port, timeout: 30)
        // The server may answer and close before a large body is all sent (413 on the head): not a failure.
        try? client.send(hostile.bytes)
        let response = try client.readResponse()
        #expect(response.status == hostile.status, "\(response.status) \(response.text)")
        let message = response.json?["error"] as? String ?? ""
        #expect(message.contains(hostile.error), "error was: \(response.text)")
        if hostile.closes {
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByPeer())
        } else {
            let next = try client.request("POST", "/v2/models/seqcls/infer", body: Data(HostileCatalog.ok.utf8))
            #expect(next.status == 200, "the connection should stay usable: \(next.status) \(next.text)")
        }
        #expect(try HostileDaemon.servesOthers(port: port))
    }

    @Test func identicalRepeatedContentLengthsAreAccepted() throws {
        let client = try RawHTTPClient(port: HostileDaemon.shared.get().port)
        let body = HostileCatalog.ok
        try client.send(HostileCatalog.okHead + "Content-Length: \(body.utf8.count)\r\nContent-Length: \(body.utf8.count)"
                        + "\r\n\r\n" + body)
        #expect(try client.readResponse().status == 200)
    }
}
