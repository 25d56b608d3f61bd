import COpenSSL
import Glibc

/// TLS over one connected non-blocking socket. The server handshake runs inside the first `read` or `write`
/// (`SSL_set_accept_state`); until it completes, either may answer `.wantRead` or `.wantWrite`, which means
/// "call the same operation again when the socket is readable / writable". The socket stays open after
/// `deinit`: its owner closes it.
///
/// Used from one connection queue at a time (see `Transport`); the queue's thread may change between calls,
/// so each call clears OpenSSL's per-thread error queue first.
final class TLSTransport: Transport {
    /// The `SSL *`; freed in `deinit`.
    private let handle: OpaquePointer
    /// Keeps the configuration alive for as long as this connection (the `SSL` also holds a reference).
    private let context: TLSContext
    // The mutable state below belongs to the connection's queue, like every call on this transport.
    /// After a fatal error OpenSSL forbids further I/O and `SSL_shutdown`.
    private var hasFailed = false
    /// `shutdown()` sends close_notify at most once.
    private var hasShutDown = false
    /// Whether the peer opened with plaintext HTTP (OpenSSL's "http request"): the connection may answer with
    /// a plaintext 400 written straight to the socket before closing. Set when `read` returns `.failed`.
    private(set) var receivedPlaintextHTTP = false

    /// Wraps the connected socket `fd`, which must already be non-blocking.
    /// - Throws: `TLSError.connectionSetup` if OpenSSL cannot make the connection object.
    init(context: TLSContext, socket fd: Int32) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let handle = SSL_new(context.handle) else {
            throw .connectionSetup(fd: fd, reason: OpenSSLErrorQueue.drain())
        }
        self.handle = handle
        self.context = context
        // A socket BIO made with BIO_NOCLOSE: SSL_free leaves the descriptor open.
        guard SSL_set_fd(handle, fd) == 1 else {
            throw .connectionSetup(fd: fd, reason: OpenSSLErrorQueue.drain())
        }
        SSL_set_accept_state(handle)
    }

    deinit {
        SSL_free(handle)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .failed("TLS read into an empty buffer") }
        guard !hasFailed, !hasShutDown else { return .failed("TLS read after the stream failed or shut down") }
        OpenSSLErrorQueue.clear()
        errno = 0  // So a stale value is not mistaken for this call's failure.
        var count = 0
        let rc = SSL_read_ex(handle, base, buffer.count, &count)
        let savedErrno = errno
        return rc == 1 ? .transferred(count) : failure(of: rc, errno: savedErrno, in: "read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .failed("TLS write of no bytes") }
        guard !hasFailed, !hasShutDown else { return .failed("TLS write after the stream failed or shut down") }
        OpenSSLErrorQueue.clear()
        errno = 0
        var count = 0
        let rc = SSL_write_ex(handle, base, bytes.count, &count)
        let savedErrno = errno
        return rc == 1 ? .transferred(count) : failure(of: rc, errno: savedErrno, in: "write")
    }

    /// Whether the handshake has finished.
    var isEstablished: Bool {
        SSL_is_init_finished(handle) == 1
    }

    /// Sends close_notify once, without waiting for the peer's (RFC 8446 section 6.1 lets the server close
    /// after sending it). Skipped after a fatal error and before the handshake finished.
    func shutdown() {
        guard !hasFailed, !hasShutDown else { return }
        hasShutDown = true
        guard SSL_is_init_finished(handle) == 1 else { return }
        OpenSSLErrorQueue.clear()
        // 0 (sent, peer's not yet seen) and WANT_WRITE (socket full) are both fine: the socket closes next.
        _ = SSL_shutdown(handle)
        OpenSSLErrorQueue.clear()
    }

    /// Maps a failed `SSL_read_ex` / `SSL_write_ex` (return value `rc`, `errno` right after it) to a result.
    private func failure(of rc: Int32, errno savedErrno: Int32, in operation: String) -> TransportResult {
        let error = SSL_get_error(handle, rc)
        switch error {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            // The peer sent close_notify; our own close_notify may still go out in shutdown().
            return .closed
        case SSL_ERROR_SYSCALL:
            hasFailed = true
            let queued = OpenSSLErrorQueue.drain(fallback: "")
            // No queued error and errno 0: EOF without close_notify (OpenSSL 1.1 style report).
            if queued.isEmpty && savedErrno == 0 { return .closed }
            let reason = queued.isEmpty ? String(cString: strerror(savedErrno)) : queued
            return .failed("TLS \(operation): \(reason)")
        case SSL_ERROR_SSL:
            hasFailed = true
            let reason = OpenSSLErrorQueue.firstReason()
            let message = OpenSSLErrorQueue.drain()
            // The peer closed the TCP stream without close_notify: the peer went away (a client giving up
            // during the handshake, or one that does not bother). HTTP's own framing catches a truncated
            // request, so this is an ordinary close rather than an attack to report.
            if reason == SSL_R_UNEXPECTED_EOF_WHILE_READING { return .closed }
            if reason == SSL_R_HTTP_REQUEST { receivedPlaintextHTTP = true }
            return .failed("TLS \(operation): \(message)")
        default:
            hasFailed = true
            return .failed("TLS \(operation): SSL_get_error \(error): \(OpenSSLErrorQueue.drain())")
        }
    }
}
