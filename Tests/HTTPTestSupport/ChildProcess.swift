import Foundation
import Glibc

/// Failures of the test scaffolding itself (not of the code under test).
public struct TLSTestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// A self-signed RSA certificate for CN=localhost, a second unrelated key, and a garbage PEM, made once per
/// test run with the `openssl` command-line tool in a temporary directory.
public struct CertificateFixture: Sendable {
    public let directory: String
    public var certificate: String { directory + "/cert.pem" }
    public var key: String { directory + "/key.pem" }
    public var otherKey: String { directory + "/other-key.pem" }
    public var garbage: String { directory + "/garbage.pem" }

    public static let shared: Result<CertificateFixture, TLSTestSetupError> = Result { try make() }
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
public final class ChildProcess {
    public struct Result {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public let timedOut: Bool
    }

    private let process = Process()
    private let stdoutPath: String
    private let stderrPath: String

    public init(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws {
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
    public func finish(within seconds: Double) -> Result {
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

