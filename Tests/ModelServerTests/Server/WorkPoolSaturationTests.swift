import Foundation
import Glibc
import HTTPTestSupport
import Testing

/// Work that grows with a request's bytes (here: decoding and resizing a 2048 x 2048 PNG) runs on the work pool,
/// never on the connection threads: while every pool thread is busy, health, readiness and metrics still answer
/// within 100 ms, and what does not fit the pool's queue gets 503 with `Retry-After`. Before, twelve
/// 8192 x 8192 PNGs all decoded on the I/O threads at once and the liveness probe stalled for 10.6 s.
@Suite(.serialized) struct WorkPoolSaturationTests {
    static let png = try? Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/black-2048x2048.png"))

    static func start(queue: Int) throws -> DaemonProcess {
        let config = try LifecycleTests.writeConfig("""
            {"port": 0, "threads": 1, "limits": {"work_threads": 1, "work_queue": \(queue)},
             "models": [{"name": "learned", "path": "\(LifecycleTests.models)/learned"}]}
            """)
        return try DaemonProcess(["--config", config], environment: [:])
    }

    /// `count` PNG uploads on connections of their own (not yet read).
    static func upload(_ port: Int, count: Int) throws -> [RawHTTPClient] {
        let image = try #require(png)
        let head = "POST /infer?model=learned HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            + "Content-Length: \(image.count)\r\n\r\n"
        return try (0..<count).map { _ in
            let client = try RawHTTPClient(port: port, timeout: 120)
            try client.send(Data(head.utf8) + image)
            return client
        }
    }

    static func gauge(_ name: String, port: Int) throws -> Double {
        metricValue(name, in: try RawHTTPClient(port: port).request("GET", "/metrics").text) ?? -1
    }

    @Test func probesAnswerWithin100msWhileThePoolIsSaturated() throws {
        let daemon = try Self.start(queue: 16)
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        let uploads = try Self.upload(port, count: 6)
        let deadline = Date().addingTimeInterval(30)
        while try Self.gauge("perceiverd_work_pool_waiting", port: port) < 1 && Date() < deadline { usleep(20_000) }
        #expect(try Self.gauge("perceiverd_work_pool_running", port: port) == 1, "the one worker is busy")
        var slowest = 0.0
        var samples = 0
        let end = Date().addingTimeInterval(2)
        while Date() < end {
            for path in ["/v2/health/live", "/v2/health/ready", "/health", "/metrics"] {
                let start = Date()
                let answer = try RawHTTPClient(port: port).request("GET", path)
                slowest = max(slowest, Date().timeIntervalSince(start))
                samples += 1
                #expect(answer.status == 200, "\(path)")
            }
            usleep(50_000)
        }
        #expect(try Self.gauge("perceiverd_work_pool_waiting", port: port) >= 1, "still saturated at the end")
        #expect(slowest < 0.1, "slowest of \(samples) probes: \(Int(slowest * 1000)) ms")
        for client in uploads { #expect(try client.readResponse().status == 200) }
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(daemon.wait(within: 30) == 0)
    }

    @Test func uploadsBeyondThePoolAndItsQueueGet503WithRetryAfter() throws {
        let daemon = try Self.start(queue: 1)
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        let uploads = try Self.upload(port, count: 5)
        let answers = try uploads.map { try $0.readResponse() }
        let refused = answers.filter { $0.status == 503 }
        #expect(answers.filter { $0.status == 200 }.count >= 2, "one decoding and one waiting get through")
        #expect(refused.count >= 1)
        for answer in refused {
            #expect(answer.header("Retry-After") == "1")
            #expect(answer.text.contains("every worker is busy"), "\(answer.text)")
        }
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(daemon.wait(within: 30) == 0)
    }
}
