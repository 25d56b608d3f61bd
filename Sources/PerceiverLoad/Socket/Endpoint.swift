import Glibc

/// A resolved server address, looked up once so that reconnects never call the resolver.
struct Endpoint: @unchecked Sendable {
    // @unchecked: `sockaddr_storage` is a plain value; it is only read after `resolve` returns.
    /// The socket family (`AF_INET` or `AF_INET6`).
    let family: Int32
    let address: sockaddr_storage
    let length: socklen_t

    /// The first TCP address of `host:port`.
    /// - Throws: `ClientError.resolve` when the name does not resolve.
    static func resolve(host: String, port: Int) throws(ClientError) -> Endpoint {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw .resolve(host: host, status: status) }
        defer { freeaddrinfo(list) }
        var storage = sockaddr_storage()
        let length = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(length)))
        }
        return Endpoint(family: first.pointee.ai_family, address: storage, length: length)
    }
}
