import Foundation
import Glibc
import HTTPTestSupport
import Testing

/// The real `perceiverd serve` process ends cleanly whatever the timing: a SIGTERM during start-up, a drain
/// timeout while a pass runs, a second SIGTERM; SIGUSR1 and SIGUSR2 do not end it.
@Suite(.serialized) struct ShutdownTests {
    static let models = LifecycleTests.models

    /// A daemon serving the seqcls fixture with `drainMilliseconds` of drain time, on two oneDNN threads (with
    /// one there is no OpenMP team, and the old exit under a running pass did not crash).
    static func start(drainMilliseconds: Int) throws -> DaemonProcess {
        let config = try LifecycleTests.writeConfig("""
            {"port": 0, "threads": 2, "drain_timeout_ms": \(drainMilliseconds), "models": [
              {"name": "seqcls", "path": "\(models)/seqcls", "max_batch_size": 4096}]}
            """)
        return try DaemonProcess(["--config", config], environment: [:])
    }

    /// `count` large requests on connections of their own, and the clients (kept open).
    static func busy(_ port: Int, count: Int) throws -> [RawHTTPClient] {
        try (0..<count).map { _ in
            let client = try RawHTTPClient(port: port, timeout: 60)
            try client.send(LifecycleTests.bigRequest())
            return client
        }
    }

    /// Waits until the log shows a pass in flight (the metrics' in-flight gauge).
    static func waitForCompute(_ port: Int) throws {
        let watcher = try RawHTTPClient(port: port)
        for _ in 0..<2000 {
            if try watcher.request("GET", "/metrics").text.contains(#"perceiverd_inference_in_flight{model="seqcls"} 0"#) {
                usleep(2_000)
                continue
            }
            return
        }
    }

    @Test(arguments: [40, 80, 160, 320])
    func aSIGTERMDuringStartUpIsADrain(afterMilliseconds delay: Int) throws {
        // The first ~20 ms are the dynamic loader's, before any code of the program runs; from `main` on, the
        // signals are blocked and wait for the daemon's signal thread.
        let daemon = try Self.start(drainMilliseconds: 5000)
        defer { daemon.kill() }
        usleep(useconds_t(delay * 1000))
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(daemon.wait(within: 30) == 0, "\(daemon.log())")
        #expect(daemon.process.terminationReason == .exit)
        #expect(daemon.log().contains("received SIGTERM"), "\(daemon.log())")
    }

    @Test func sigusr1AndSIGUSR2AreLoggedAndIgnored() throws {
        let daemon = try Self.start(drainMilliseconds: 5000)
        defer { daemon.kill() }
        try daemon.waitForReady()
        Glibc.kill(daemon.pid, SIGUSR1)
        Glibc.kill(daemon.pid, SIGUSR2)
        let deadline = Date().addingTimeInterval(5)
        while !daemon.log().contains("received SIGUSR2") && Date() < deadline { usleep(20_000) }
        #expect(daemon.log().contains("received SIGUSR1: ignored"))
        #expect(daemon.log().contains("received SIGUSR2: ignored"))
        #expect(try RawHTTPClient(port: try daemon.port()).request("GET", "/v2/health/ready").status == 200)
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(daemon.wait(within: 10) == 0)
    }

    @Test func aDrainTimeoutWithAPassRunningExitsZero() throws {
        // It used to exit with SIGSEGV in about a third of the runs: the process ended under a running pass.
        for round in 0..<4 {
            let daemon = try Self.start(drainMilliseconds: 50)
            defer { daemon.kill() }
            try daemon.waitForReady()
            let port = try daemon.port()
            let clients = try Self.busy(port, count: 4)
            try Self.waitForCompute(port)
            Glibc.kill(daemon.pid, SIGTERM)
            #expect(daemon.wait(within: 30) == 0, "round \(round): \(daemon.log().suffix(2000))")
            #expect(daemon.process.terminationReason == .exit, "round \(round)")
            #expect(daemon.log().contains("drain timeout"), "round \(round)")
            _ = clients
        }
    }

    @Test func aSecondSIGTERMEndsTheDrainAtOnce() throws {
        let daemon = try Self.start(drainMilliseconds: 60_000)
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        let clients = try Self.busy(port, count: 24)
        try Self.waitForCompute(port)
        let start = Date()
        Glibc.kill(daemon.pid, SIGTERM)
        usleep(100_000)
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(daemon.wait(within: 30) == 0, "\(daemon.log().suffix(2000))")
        #expect(daemon.process.terminationReason == .exit)
        #expect(Date().timeIntervalSince(start) < 5, "the drain (60 s, and about 8 s of queued work) was cut short")
        #expect(daemon.log().contains("stop requested again"))
        _ = clients
    }
}
