import Foundation
import Glibc

/// Thin wrappers over the Glibc socket calls the server uses; every call is checked.
enum Sockets {
    /// A listening, non-blocking, close-on-exec TCP socket bound to `host:port` (port 0 = any free port).
    /// `host` may be an IPv4 or IPv6 literal or a name; the first address that binds wins.
    static func listen(host: String, port: Int, backlog: Int32 = 511) throws(SocketError) -> (fd: Int32, port: Int) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let target = "\(host):\(port)"
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SocketError("resolve", target: "\(target) (\(String(cString: gai_strerror(status))))", errno: 0)
        }
        defer { freeaddrinfo(list) }
        var lastError = SocketError("bind", target: target, errno: EADDRNOTAVAIL)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do {
                let fd = try bindListener(info.pointee, target: target, backlog: backlog)
                return (fd, try boundPort(fd))
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func bindListener(_ info: addrinfo, target: String, backlog: Int32) throws(SocketError) -> Int32 {
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else { throw SocketError("socket", target: target) }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0,
              bind(fd, info.ai_addr, info.ai_addrlen) == 0,
              Glibc.listen(fd, backlog) == 0 else {
            let error = SocketError("bind", target: target)
            close(fd)
            throw error
        }
        do { try setNonBlocking(fd) } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private static func boundPort(_ fd: Int32) throws(SocketError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw SocketError("getsockname") }
        return port(of: storage)
    }

    /// The outcome of one `accept`.
    enum AcceptResult {
        case accepted(fd: Int32, peer: String)
        case wouldBlock
        /// Out of descriptors (EMFILE/ENFILE) or memory: the listener must pause, not spin.
        case exhausted(SocketError)
        case failed(SocketError)
    }

    /// Accepts one connection, made non-blocking and close-on-exec, with Nagle off (responses are whole).
    static func accept(_ listener: Int32) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
        }
        guard fd >= 0 else {
            let error = SocketError("accept")
            switch error.errno {
            case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO: return .wouldBlock
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .exhausted(error)
            default: return .failed(error)
            }
        }
        do {
            try setNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        } catch {
            close(fd)
            return .failed(error)
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return .accepted(fd: fd, peer: address(of: storage))
    }

    /// Writes what the socket takes of `bytes` at once, then shuts the write side: a best-effort answer on a
    /// socket no connection serves (a refusal over the cap, plaintext on the TLS port).
    static func sendAndShutdown(_ fd: Int32, _ bytes: Data) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads and drops what has already arrived (at most 64 KiB): closing with unread bytes would send a reset
    /// that can destroy an answer still in flight.
    static func discardReceived(_ fd: Int32) {
        var scratch = [UInt8](repeating: 0, count: 4096)
        var rounds = 0
        while rounds < 16 && recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) > 0 { rounds += 1 }
    }

    /// The socket's pending error (`SO_ERROR`, cleared by reading it), 0 when none: after a peer's FIN, a reset
    /// to what we wrote since (`EPIPE` in CLOSE_WAIT) says the peer closed rather than half-closed.
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }

    static func setNonBlocking(_ fd: Int32) throws(SocketError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw SocketError("fcntl(O_NONBLOCK)") }
    }

    static func port(of storage: sockaddr_storage) -> Int {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default: return 0
        }
    }

    /// `host:port` of a peer, for logs.
    static func address(of storage: sockaddr_storage) -> String {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = Int32(storage.ss_family)
        let ok: Bool = withUnsafePointer(to: &storage) { pointer in
            switch family {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var address = sin.pointee.sin_addr
                    return inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil
                }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var address = sin.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil
                }
            default: return false
            }
        }
        guard ok else { return "unknown" }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return family == AF_INET6 ? "[\(host)]:\(port(of: storage))" : "\(host):\(port(of: storage))"
    }
}
