import Glibc

/// One blocking TCP connection to the server, with Nagle off and send/receive timeouts.
/// Owned by one client thread; `close()` must be called once.
struct ClientSocket {
    let fd: Int32

    /// Connects to `endpoint`. `timeout` bounds connect, every `send` and every `recv` (SO_SNDTIMEO and
    /// SO_RCVTIMEO; Linux applies SO_SNDTIMEO to a blocking connect too).
    /// - Throws: `ClientError` naming the failed call.
    static func connect(to endpoint: Endpoint, timeout: Double) throws(ClientError) -> ClientSocket {
        let fd = socket(endpoint.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .fromErrno("socket") }
        let socket = ClientSocket(fd: fd)
        do throws(ClientError) {
            try socket.configure(timeout: timeout)
            var address = endpoint.address
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, endpoint.length) }
            }
            guard status == 0 else { throw ClientError.fromErrno("connect") }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    private func configure(timeout: Double) throws(ClientError) {
        // Requests are written whole; Nagle would hold back nothing useful and delay small ones.
        var one: Int32 = 1
        guard setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .fromErrno("setsockopt TCP_NODELAY")
        }
        let seconds = timeout.rounded(.down)
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((timeout - seconds) * 1e6))
        let size = socklen_t(MemoryLayout<timeval>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, size) == 0,
              setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, size) == 0 else {
            throw .fromErrno("setsockopt timeout")
        }
    }

    /// Writes all of `bytes`; MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE.
    func sendAll(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw .fromErrno("send")
            }
            offset += sent
        }
    }

    /// Reads up to `buffer.count` bytes; 0 means the peer closed.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(ClientError) -> Int {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw .fromErrno("recv")
        }
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
