import Foundation
import HTTPTestSupport
import Glibc
import Testing
@testable import HTTPServer

/// Serialized: each test drives real sockets and child processes, and both CPUs are shared.
@Suite(.serialized) struct TLSTransportTests {
    let fixture: CertificateFixture

    init() throws {
        fixture = try CertificateFixture.shared.get()
    }

    static func loadError(certificate: String, key: String) -> TLSError? {
        do {
            _ = try TLSContext(certificatePath: certificate, keyPath: key)
            return nil
        } catch {
            return error
        }
    }

    // MARK: context

    @Test func loadsCertificateAndKey() throws {
        _ = try TLSContext(certificatePath: fixture.certificate, keyPath: fixture.key)
    }

    @Test func missingCertificateNamesThePath() throws {
        let missing = fixture.directory + "/missing.pem"
        let error = try #require(Self.loadError(certificate: missing, key: fixture.key))
        guard case .certificate(let path, let reason) = error else { Issue.record("\(error)"); return }
        #expect(path == missing)
        #expect(reason.contains("No such file"))
        #expect("\(error)".contains(missing))
    }

    @Test func missingKeyNamesThePath() throws {
        let missing = fixture.directory + "/missing-key.pem"
        let error = try #require(Self.loadError(certificate: fixture.certificate, key: missing))
        guard case .privateKey(let path, _) = error else { Issue.record("\(error)"); return }
        #expect(path == missing)
        #expect("\(error)".contains(missing))
    }

    @Test func keyOfAnotherCertificateIsRefused() throws {
        let error = try #require(Self.loadError(certificate: fixture.certificate, key: fixture.otherKey))
        #expect("\(error)".contains(fixture.otherKey))
        #expect("\(error)".contains("mismatch"))
    }

    @Test func garbagePEMIsRefusedNamingTheFile() throws {
        let asCertificate = try #require(Self.loadError(certificate: fixture.garbage, key: fixture.key))
        guard case .certificate(let path, _) = asCertificate else { Issue.record("\(asCertificate)"); return }
        #expect(path == fixture.garbage)
        let asKey = try #require(Self.loadError(certificate: fixture.certificate, key: fixture.garbage))
        guard case .privateKey(let keyPath, _) = asKey else { Issue.record("\(asKey)"); return }
        #expect(keyPath == fixture.garbage)
        #expect("\(asKey)".contains(fixture.garbage))
    }

    // MARK: real clients over loopback

    /// Serves one request to `client` (started with the listener's port), answering `body`.
    func serveOne(body: Data, readBufferSize: Int = 4096,
                  client: (UInt16) throws -> ChildProcess) throws -> (request: Data, client: ChildProcess.Result) {
        let context = try TLSContext(certificatePath: fixture.certificate, keyPath: fixture.key)
        let listener = try LoopbackListener()
        let child = try client(listener.port)
        let deadline = Date().addingTimeInterval(5)
        let fd: Int32
        do {
            fd = try listener.accept(within: 5)
        } catch {
            _ = child.finish(within: 0)
            throw error
        }
        defer { close(fd) }
        let transport = try TLSTransport(context: context, socket: fd)
        let (request, readEnd) = readUntil("\r\n\r\n", from: transport, socket: fd, bufferSize: readBufferSize,
                                           until: deadline)
        #expect(readEnd == .done)
        let head = "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        #expect(writeAll(Data(head.utf8) + body, to: transport, socket: fd, until: deadline) == .done)
        transport.shutdown()
        return (request, child.finish(within: 5))
    }

    static func curl(_ port: UInt16, output: String? = nil, extra: [String] = []) throws -> ChildProcess {
        let target = output.map { ["-o", $0] } ?? []
        return try ChildProcess("/usr/bin/curl", ["-sS", "-k", "--max-time", "5"] + extra + target
                                    + ["https://127.0.0.1:\(port)/hello"])
    }

    @Test(arguments: [[], ["--tlsv1.2", "--tls-max", "1.2"]])
    func servesCurl(versionFlags: [String]) throws {
        let (request, client) = try serveOne(body: Data("ok".utf8)) { try Self.curl($0, extra: versionFlags) }
        #expect(String(decoding: request, as: UTF8.self).hasPrefix("GET /hello HTTP/1.1\r\n"))
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout == "ok")
    }

    @Test func largeResponseSurvivesPartialWritesAndSmallReads() throws {
        let body = CompressionTests.sample(.noise, count: 4 << 20)
        let output = fixture.directory + "/large-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (_, client) = try serveOne(body: body, readBufferSize: 7) { try Self.curl($0, output: output) }
        #expect(client.status == 0, "\(client.stderr)")
        #expect(FileManager.default.contents(atPath: output) == body)
    }

    @Test func refusesTLS11Client() throws {
        let context = try TLSContext(certificatePath: fixture.certificate, keyPath: fixture.key)
        let listener = try LoopbackListener()
        // OpenSSL 3 clients refuse TLS 1.1 at the default security level, so lower it on the client side to
        // make it actually offer TLS 1.1.
        let child = try ChildProcess("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(listener.port)",
                                                          "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        let fd = try listener.accept(within: 5)
        defer { close(fd) }
        let transport = try TLSTransport(context: context, socket: fd)
        let (_, end) = readUntil("\r\n\r\n", from: transport, socket: fd, until: Date().addingTimeInterval(5))
        let client = child.finish(within: 5)
        #expect(client.status != 0)
        if end == .ended(.closed) {
            // This client build cannot offer TLS 1.1 at all; nothing reached the server to refuse.
            return
        }
        guard case .ended(.failed(let message)) = end else { Issue.record("\(end)"); return }
        #expect(message.contains("unsupported protocol"), "\(message)")
    }

    // MARK: misbehaving peers over a socket pair

    /// A non-blocking server socket wrapped in TLS, and the raw other end.
    func socketPair() throws -> (transport: TLSTransport, server: Int32, peer: Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw TLSTestSetupError(description: "socketpair: errno \(errno)")
        }
        try makeNonBlocking(fds[0])
        let context = try TLSContext(certificatePath: fixture.certificate, keyPath: fixture.key)
        return (try TLSTransport(context: context, socket: fds[0]), fds[0], fds[1])
    }

    @Test func readWantsReadBeforeTheClientSpeaks() throws {
        let (transport, server, peer) = try socketPair()
        defer { close(server); close(peer) }
        var byte: UInt8 = 0
        #expect(withUnsafeMutableBytes(of: &byte) { transport.read(into: $0) } == .wantRead)
    }

    @Test(arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /v2/models/m/infer HTTP/1.1\r\n\r\n"])
    func plaintextHTTPFailsReadAndIsRecognised(request: String) throws {
        let (transport, server, peer) = try socketPair()
        defer { close(server); close(peer) }
        #expect(Data(request.utf8).withUnsafeBytes { send(peer, $0.baseAddress, $0.count, 0) } == request.utf8.count)
        let (bytes, end) = readUntil("\r\n", from: transport, socket: server, until: Date().addingTimeInterval(3))
        #expect(bytes.isEmpty)
        guard case .ended(.failed(let message)) = end else { Issue.record("\(end)"); return }
        #expect(message.contains("http request"), "\(message)")
        #expect(transport.receivedPlaintextHTTP)
        // Later calls fail at once instead of touching the broken session.
        var byte: UInt8 = 0
        #expect(withUnsafeMutableBytes(of: &byte) { transport.read(into: $0) } != .wantRead)
        transport.shutdown()
    }

    @Test func binaryGarbageFailsRead() throws {
        let (transport, server, peer) = try socketPair()
        defer { close(server); close(peer) }
        let garbage = CompressionTests.sample(.noise, count: 300)
        #expect(garbage.withUnsafeBytes { send(peer, $0.baseAddress, $0.count, 0) } == garbage.count)
        let (_, end) = readUntil("\r\n", from: transport, socket: server, until: Date().addingTimeInterval(3))
        guard case .ended(.failed) = end else { Issue.record("\(end)"); return }
        #expect(!transport.receivedPlaintextHTTP)
    }

    @Test func peerHangingUpDuringHandshakeReadsAsClosed() throws {
        let (transport, server, peer) = try socketPair()
        defer { close(server) }
        close(peer)
        let (_, end) = readUntil("\r\n", from: transport, socket: server, until: Date().addingTimeInterval(3))
        #expect(end == .ended(.closed))
        transport.shutdown()
    }
}
