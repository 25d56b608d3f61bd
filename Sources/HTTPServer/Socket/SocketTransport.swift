import Glibc

/// Plain TCP over a connected non-blocking socket. The socket is closed by its owner, not here.
final class SocketTransport: Transport {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .transferred(n) }
            if n == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantRead
            case ECONNRESET, ENOTCONN, EPIPE: return .closed
            default: return .failed(SocketError("recv").description)
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        while true {
            // MSG_NOSIGNAL: a peer that went away must not raise SIGPIPE (SWIFT_ON_THIS_MACHINE.md section 3).
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .transferred(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantWrite
            case ECONNRESET, ENOTCONN, EPIPE: return .closed
            default: return .failed(SocketError("send").description)
            }
        }
    }

    /// Plain TCP carries data from the start.
    var isEstablished: Bool { true }

    func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
