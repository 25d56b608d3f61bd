import Foundation
import Glibc
import HTTPTestSupport
@testable import HTTPServer

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
