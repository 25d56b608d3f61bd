import Foundation
import Glibc
import HTTPTestSupport
import Testing

/// The real `perceiverd serve` process: systemd notifications, SIGTERM drain, TLS, startup failures.
@Suite(.serialized) struct LifecycleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let binary = root + "/.build/debug/perceiverd"
    static let models = ServerFixtures.root + "/models"

    @Test func notifiesSystemdAndDrainsInFlightRequestsOnSIGTERM() throws {
        let notify = try NotifySocket()
        let config = try Self.writeConfig("""
            {"port": 0, "threads": 1, "models": [
              {"name": "seqcls", "path": "\(Self.models)/seqcls", "max_batch_size": 4096},
              {"name": "mlm", "path": "\(Self.models)/mlm"}]}
            """)
        let daemon = try DaemonProcess(["--config", config],
                                       environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        defer { daemon.kill() }
        #expect(try notify.receive(within: 60).contains("READY=1"))
        #expect(try notify.receive(within: 5) == "WATCHDOG=1")
        let port = try daemon.port()

        // A request still arriving when the signal comes: finished afterwards, answered 503 + close.
        let late = try RawHTTPClient(port: port)
        let small = #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]}]}"#
        try late.send("POST /v2/models/mlm/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(small.utf8.count)\r\n\r\n{")
        // A request being computed when the signal comes: answered 200.
        let busy = try RawHTTPClient(port: port, timeout: 30)
        try busy.send(Self.bigRequest())
        let watcher = try RawHTTPClient(port: port)
        var inFlight = false
        for _ in 0..<2000 where !inFlight {
            inFlight = try watcher.request("GET", "/metrics").text.contains(#"perceiverd_inference_in_flight{model="seqcls"} 1"#)
        }
        #expect(inFlight)
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(try notify.receive(within: 5, skipping: "WATCHDOG=1").contains("STOPPING=1"))

        let answer = try busy.readResponse()
        #expect(answer.status == 200)
        #expect(answer.header("Connection") == "close")
        try late.send(String(small.dropFirst()))
        let refused = try late.readResponse()
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") != nil)
        #expect(throws: (any Error).self) { try RawHTTPClient(port: port) }
        #expect(daemon.wait(within: 10) == 0)
        #expect(daemon.log().contains("draining"))
    }

    /// SIGHUP reads the configuration file again and applies its models (a model added is served, one whose
    /// settings changed is reloaded, readiness stays 200 throughout), reports a server-level change as needing a
    /// restart, and a file that no longer parses changes nothing; `threads: 0` under `taskset -c 0` is one
    /// thread, not every online CPU.
    @Test func sighupAppliesTheConfigurationsModelsAndTheAffinityMaskBoundsThreads() throws {
        let taskset = "/usr/bin/taskset"
        try #require(FileManager.default.isExecutableFile(atPath: taskset), "util-linux's taskset is missing")
        let config = try Self.writeConfig("""
            {"port": 0, "models": [{"name": "mlm", "path": "\(Self.models)/mlm"}]}
            """)
        let daemon = try DaemonProcess(["--config", config], environment: [:], wrapper: [taskset, "-c", "0"])
        defer { daemon.kill() }
        try daemon.waitForReady()
        #expect(daemon.logField("threads") == "1", "\(daemon.log())")
        let client = try RawHTTPClient(port: try daemon.port())
        #expect(try client.request("GET", "/v2/models/seqcls").status == 404)
        try Data("""
            {"port": 0, "threads": 1, "models": [{"name": "mlm", "path": "\(Self.models)/mlm", "max_batch_size": 4},
                                                 {"name": "seqcls", "path": "\(Self.models)/seqcls"}]}
            """.utf8).write(to: URL(fileURLWithPath: config))
        Glibc.kill(daemon.pid, SIGHUP)
        func waitForLog(_ text: String, count: Int = 1) -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while daemon.log().components(separatedBy: text).count - 1 < count && Date() < deadline {
                #expect((try? client.request("GET", "/v2/health/ready").status) == 200)
                usleep(20_000)
            }
            return daemon.log().components(separatedBy: text).count - 1 >= count
        }
        #expect(waitForLog("configuration reloaded: seqcls: loaded"), "\(daemon.log())")
        #expect(waitForLog("configuration reloaded: mlm: loaded"))
        #expect(daemon.log().contains("configuration reloaded: not applied (restart to change): threads"))
        #expect(try client.request("GET", "/v2/models/seqcls").status == 200)
        let answer = try client.request("POST", "/infer", body: Data(#"{"model":"seqcls","text":"hi"}"#.utf8))
        #expect(answer.status == 200, "\(answer.text)")
        // A file that no longer parses: logged, nothing changes.
        try Data("{".utf8).write(to: URL(fileURLWithPath: config))
        Glibc.kill(daemon.pid, SIGHUP)
        #expect(waitForLog("configuration not reloaded"))
        #expect(try client.request("GET", "/v2/models/seqcls").status == 200)
        Glibc.kill(daemon.pid, SIGTERM)
        #expect(daemon.wait(within: 10) == 0)
    }

    @Test func servesHTTPSWithTheConfiguredCertificate() throws {
        let certificate = try CertificateFixture.shared.get()
        let config = try Self.writeConfig("""
            {"port": 0, "threads": 1, "models": [{"name": "mlm", "path": "\(Self.models)/mlm"}],
             "tls": {"port": 0, "cert": "\(certificate.certificate)", "key": "\(certificate.key)"}}
            """)
        let daemon = try DaemonProcess(["--config", config], environment: [:])
        defer { daemon.kill() }
        try daemon.waitForReady()
        let tlsPort = try daemon.port(field: "https.port")
        let result = try ChildProcess("/usr/bin/curl", [
            "-sS", "--cacert", certificate.certificate, "--resolve", "localhost:\(tlsPort):127.0.0.1",
            "-X", "POST", "https://localhost:\(tlsPort)/infer", "--tlsv1.2",
            "-d", #"{"text":"a cat [MASK] mat","top_k":1}"#,
        ]).finish(within: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""masks":"#))
        let plain = try RawHTTPClient(port: tlsPort)
        try plain.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = try plain.readResponse()
        #expect(refused.status == 400)
        #expect(refused.json?["error"] as? String == "plain HTTP request sent to the HTTPS port; use https://")
        #expect(plain.isClosedByPeer())
        #expect(try RawHTTPClient(port: try daemon.port()).request("GET", "/health").status == 200)
    }

    @Test(arguments: [
        (#"{"models": [{"name": "m", "path": "/nonexistent"}]}"#, "model 'm' at /nonexistent"),
        (#"{"models": [{"name": "m", "path": "x"}], "limits": {"max_bodyy_bytes": 1}}"#, "limits.max_bodyy_bytes"),
        (#"{"models": [{"name": "m", "path": "x"}], "port": "80"}"#, "'port'"),
        (#"{"models": [{"name": "m", "path": "x"}], "tls": {"port": 0, "cert": "/no/cert.pem", "key": "/no/key.pem"}}"#,
         "/no/cert.pem"),
    ])
    func badConfigurationsPrintOneLineAndExitNonZero(config: String, expected: String) throws {
        let path = try Self.writeConfig(config)
        let daemon = try DaemonProcess(["--config", path, "--port", "0"], environment: [:])
        defer { daemon.kill() }
        #expect(daemon.wait(within: 30) == 1)
        let lines = daemon.log().split(separator: "\n").filter { $0.hasPrefix("perceiverd:") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains(expected) == true, "\(daemon.log())")
    }

    static func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A classifier request on 4096 rows: long enough (a few hundred ms) to be caught in flight.
    static func bigRequest() -> String {
        let rows = (0..<4096).map { row in "[" + (0..<24).map { String(6 + (row * 7 + $0) % 200) }.joined(separator: ",") + "]" }
        let body = #"{"inputs":[{"name":"input_ids","shape":[4096,24],"datatype":"INT64","data":["#
            + rows.joined(separator: ",") + "]}]}"
        return "POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }
}

/// `perceiverd serve` as a child process on a free port, its stderr in a file.
final class DaemonProcess {
    let process = Process()
    let logPath: String

    /// Starts `perceiverd serve`; with `descriptorLimit`, through a shell that first lowers `ulimit -n`; with
    /// `wrapper`, as that command's last arguments (`taskset -c 0`).
    init(_ arguments: [String], environment: [String: String], descriptorLimit: Int? = nil,
         wrapper: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: LifecycleTests.binary) else {
            throw TLSTestSetupError(description: "\(LifecycleTests.binary) is missing: run `swift build` first")
        }
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let needsPort = !arguments.contains("--config")
        let command = [LifecycleTests.binary, "serve"] + arguments + (needsPort ? ["--port", "0", "--threads", "1"] : [])
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$@\"", "sh"] + command
        } else if let tool = wrapper.first {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = Array(wrapper.dropFirst()) + command
        } else {
            process.executableURL = URL(fileURLWithPath: LifecycleTests.binary)
            process.arguments = Array(command.dropFirst())
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The port logged at startup (`http.port=N` or `https.port=N`).
    func port(field: String = "http.port") throws -> Int {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            for part in log().split(whereSeparator: { $0 == " " || $0 == "\n" }) where part.hasPrefix(field + "=") {
                if let port = Int(part.dropFirst(field.count + 1)) { return port }
            }
            usleep(20_000)
        }
        throw TLSTestSetupError(description: "no \(field) in the log: \(log())")
    }

    /// The value of `field=` in the first log line that has it.
    func logField(_ field: String) -> String? {
        log().split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix(field + "=") }
            .map { String($0.dropFirst(field.count + 1)) }
    }

    func waitForReady() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !log().contains(" ready") { usleep(20_000) }
        guard log().contains(" ready") else { throw TLSTestSetupError(description: "not ready: \(log())") }
    }

    /// The exit status, or nil if it did not exit in time.
    func wait(within seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func kill() {
        if process.isRunning { Glibc.kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A bound AF_UNIX datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let fd: Int32
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw TLSTestSetupError(description: "cannot bind \(path)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next datagram, waiting up to `seconds`; datagrams equal to `skipping` are passed over.
    func receive(within seconds: Double, skipping: String? = nil) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let text = String(decoding: buffer[..<n], as: UTF8.self)
            if text != skipping { return text }
        }
        throw TLSTestSetupError(description: "no notification within \(seconds) s")
    }
}
