import Foundation
import Glibc
@testable import HTTPServer

/// Failures of the test scaffolding itself (not of the code under test).
struct TLSTestSetupError: Error, CustomStringConvertible {
    let description: String
}

/// A self-signed RSA certificate for CN=localhost, a second unrelated key, and a garbage PEM, made once per
/// test run with the `openssl` command-line tool in a temporary directory.
struct CertificateFixture: Sendable {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }
    var otherKey: String { directory + "/other-key.pem" }
    var garbage: String { directory + "/garbage.pem" }

    static let shared: Result<CertificateFixture, TLSTestSetupError> = Result { try make() }
        .mapError { TLSTestSetupError(description: "\($0)") }

    private static func make() throws -> CertificateFixture {
        // OpenSSL writes with write(2); a client that hangs up must not kill the test process (the server
        // does the same at startup).
        signal(SIGPIPE, SIG_IGN)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fixture = CertificateFixture(directory: directory)
        try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", fixture.key,
                                     "-out", fixture.certificate, "-days", "1", "-subj", "/CN=localhost"])
        try run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                                     "-out", fixture.otherKey])
        try Data("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n".utf8)
            .write(to: URL(fileURLWithPath: fixture.garbage))
        return fixture
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let result = try ChildProcess(tool, arguments).finish(within: 30)
        guard result.status == 0 else {
            throw TLSTestSetupError(description: "\(tool) \(arguments) failed: \(result.stderr)")
        }
    }
}

/// A command run with its output collected into files (so a chatty child never blocks on a full pipe) and
/// killed if it outlives its deadline.
final class ChildProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        let timedOut: Bool
    }

    private let process = Process()
    private let stdoutPath: String
    private let stderrPath: String

    init(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
              FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw TLSTestSetupError(description: "cannot create output files at \(base)")
        }
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    /// Waits up to `seconds` for the child to exit, terminating it after that.
    func finish(within seconds: Double) -> Result {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(atPath: stdoutPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
        }
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "",
                      timedOut: timedOut)
    }
}

/// A TCP listener on 127.0.0.1 with a kernel-chosen port.
final class LoopbackListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TLSTestSetupError(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TLSTestSetupError(description: "bind/listen: errno \(errno)")
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        close(fd)
    }

    /// Accepts one connection within `seconds` and makes it non-blocking.
    func accept(within seconds: Double) throws -> Int32 {
        guard waitFor(fd, events: POLLIN, until: Date().addingTimeInterval(seconds)) else {
            throw TLSTestSetupError(description: "no connection within \(seconds) s")
        }
        let client = Glibc.accept(fd, nil, nil)
        guard client >= 0 else { throw TLSTestSetupError(description: "accept: errno \(errno)") }
        try makeNonBlocking(client)
        return client
    }
}

func makeNonBlocking(_ fd: Int32) throws {
    let flags = fcntl(fd, F_GETFL)
    guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
        throw TLSTestSetupError(description: "fcntl O_NONBLOCK: errno \(errno)")
    }
}

/// Whether `fd` became ready for `events` before `deadline`.
func waitFor(_ fd: Int32, events: Int32, until deadline: Date) -> Bool {
    let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
    var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
    return poll(&entry, 1, milliseconds) == 1
}

/// How a scripted exchange over a transport ended.
enum ExchangeEnd: Equatable {
    case done
    case ended(TransportResult)
    case timedOut
}

/// Reads through `transport` until the bytes contain `terminator` (done), the stream ends or fails, or the
/// deadline passes, waiting on the socket as `.wantRead` / `.wantWrite` ask.
func readUntil(_ terminator: String, from transport: Transport, socket fd: Int32, bufferSize: Int = 4096,
               until deadline: Date) -> (bytes: Data, end: ExchangeEnd) {
    var received = Data()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 1)
    defer { buffer.deallocate() }
    while Date() < deadline {
        switch transport.read(into: buffer) {
        case .transferred(let count):
            received.append(contentsOf: buffer.prefix(count))
            if received.range(of: Data(terminator.utf8)) != nil { return (received, .done) }
        case .wantRead:
            _ = waitFor(fd, events: POLLIN, until: deadline)
        case .wantWrite:
            _ = waitFor(fd, events: POLLOUT, until: deadline)
        case let end:
            return (received, .ended(end))
        }
    }
    return (received, .timedOut)
}

/// Writes all of `data` through `transport`, retrying with the same bytes after `.wantWrite` / `.wantRead`.
func writeAll(_ data: Data, to transport: Transport, socket fd: Int32, until deadline: Date) -> ExchangeEnd {
    var offset = 0
    while offset < data.count {
        guard Date() < deadline else { return .timedOut }
        let result = data.withUnsafeBytes { transport.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        switch result {
        case .transferred(let count): offset += count
        case .wantWrite: _ = waitFor(fd, events: POLLOUT, until: deadline)
        case .wantRead: _ = waitFor(fd, events: POLLIN, until: deadline)
        case let end: return .ended(end)
        }
    }
    return .done
}
