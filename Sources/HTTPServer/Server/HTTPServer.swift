import Dispatch
import Foundation
import Glibc
import Logging

/// A minimal HTTP/1.1 server on non-blocking POSIX sockets driven by dispatch sources: a serial accept
/// queue per server, one serial queue per connection targeting a shared concurrent I/O queue.
///
/// Mutable state (`listeners`, `connections`, `refusing`, drain bookkeeping) is owned by `acceptQueue`;
/// `onResponse` and `onConnectionCount` are set before `start()` and `port`/`tlsPort`/`connectionCap` inside it,
/// before its `acceptQueue.sync`, and all of them are only read afterwards. Hence `@unchecked Sendable`.
public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler
    /// Request-body bytes held at once, server-wide and per client address.
    public let bodyBudget: BodyBudget
    /// Where connections inflate bodies (and the handler does its heavy work), off the connection queues.
    public let workPool: WorkPool
    /// Serializes the 503 of a refused connection.
    private let serializer: ResponseSerializer
    private let logger: Logger
    private let acceptQueue = DispatchQueue(label: "perceiverd.accept")
    private let ioQueue = DispatchQueue(label: "perceiverd.io", attributes: .concurrent)
    private var listeners: [Listener] = []
    private var connections: [ObjectIdentifier: Connection] = [:]
    /// Open connections per listener (plain, TLS) and per client address, for their caps.
    private var tlsConnections = 0
    private var connectionsByClient: [String: Int] = [:]
    /// Refused sockets not yet closed (each lingers 200 ms); they spend descriptors too.
    private var refusing = 0
    /// Most connections at once: `maxConnections`, or less when the descriptor limit allows less.
    public private(set) var connectionCap = 0
    private var isDraining = false
    private var drainWaiters: [@Sendable () -> Void] = []
    /// Called with the status of every response (metrics), on connection queues.
    public var onResponse: (@Sendable (Int) -> Void)?
    /// Called with the number of open connections whenever it changes (metrics), on the accept queue.
    public var onConnectionCount: (@Sendable (Int) -> Void)?

    /// The bound ports, known after `start()`.
    public private(set) var port = 0
    public private(set) var tlsPort: Int?

    /// A server for `handler`; `workPool` defaults to one thread per core with 64 waiting jobs.
    public init(configuration: HTTPServerConfiguration, handler: HTTPHandler, logger: Logger,
                workPool: WorkPool? = nil) {
        self.configuration = configuration
        self.handler = handler
        self.bodyBudget = BodyBudget(serverBytes: configuration.maxBufferedBodyBytes,
                                     clientBytes: configuration.maxBufferedBodyBytesPerClient)
        self.workPool = workPool ?? WorkPool(width: ProcessInfo.processInfo.activeProcessorCount, queueLimit: 64)
        self.serializer = ResponseSerializer(serverName: configuration.serverName,
                                             compressionMinimumBytes: configuration.compressionMinimumBytes)
        self.logger = logger
    }

    /// Binds the listeners and starts accepting.
    /// - Throws: `SocketError` when an address cannot be resolved or bound.
    public func start() throws(SocketError) {
        // Writes to a closed peer must fail with EPIPE, not kill the daemon (OpenSSL writes without MSG_NOSIGNAL).
        signal(SIGPIPE, SIG_IGN)
        let budget = DescriptorBudget.current()
        let wanted = configuration.maxConnections + (configuration.tls == nil ? 0 : configuration.maxTLSConnections)
        connectionCap = min(wanted, budget.forConnections)
        guard connectionCap > 0 else {
            throw SocketError("listen", target: "the descriptor limit \(budget.limit) (\(budget.inUse) in use, "
                              + "\(budget.reserve) kept free) leaves no room for connections; raise LimitNOFILE", errno: EMFILE)
        }
        if connectionCap < wanted {
            logger.warning("the descriptor limit caps connections below max_connections", metadata: [
                "max_connections": "\(wanted)", "connections.cap": "\(connectionCap)",
                "descriptors.limit": "\(budget.limit)", "descriptors.in_use": "\(budget.inUse)",
                "descriptors.reserve": "\(budget.reserve)",
            ])
        }
        let plain = try Sockets.listen(host: configuration.host, port: configuration.port)
        port = plain.port
        var bound = [Listener(fd: plain.fd, tls: nil)]
        if let tls = configuration.tls {
            do {
                let secure = try Sockets.listen(host: configuration.host, port: tls.port)
                tlsPort = secure.port
                bound.append(Listener(fd: secure.fd, tls: tls.context))
            } catch {
                close(plain.fd)
                throw error
            }
        }
        acceptQueue.sync {
            listeners = bound
            for listener in bound { startAccepting(listener) }
        }
    }

    /// Stops accepting, lets in-flight requests finish (answered with `Connection: close`), closes idle
    /// connections, and calls `completion` when every connection is closed or `timeout` seconds have passed.
    public func shutdown(timeout: Double, completion: @escaping @Sendable () -> Void) {
        acceptQueue.async {
            self.drainWaiters.append(completion)
            guard !self.isDraining else { return self.finishDrainIfDone() }
            self.isDraining = true
            for listener in self.listeners {
                // A suspended source must be resumed before cancelling, or its cancel handler never runs.
                if listener.isPaused {
                    listener.isPaused = false
                    listener.source?.resume()
                }
                listener.source?.cancel()
            }
            self.listeners = []
            for connection in self.connections.values { connection.beginDrain() }
            self.finishDrainIfDone()
            self.acceptQueue.asyncAfter(deadline: .now() + timeout) {
                guard !self.connections.isEmpty else { return }
                self.logger.warning("drain timeout: closing \(self.connections.count) connection(s)")
                for connection in self.connections.values { connection.forceClose() }
            }
        }
    }

    /// Closes every connection now, answered or not (a second stop signal, a failed start); a drain in
    /// progress then completes.
    public func closeAllConnections() {
        acceptQueue.async {
            for connection in self.connections.values { connection.forceClose() }
        }
    }

    /// Number of open connections (for tests and metrics).
    public var connectionCount: Int {
        acceptQueue.sync { connections.count }
    }

    private func finishDrainIfDone() {
        guard isDraining, connections.isEmpty, !drainWaiters.isEmpty else { return }
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter() }
    }

    // MARK: accepting

    /// A listening socket and its accept source. `source` and `isPaused` are owned by `acceptQueue` (set in
    /// `start()` inside `acceptQueue.sync`), hence `@unchecked Sendable`.
    private final class Listener: @unchecked Sendable {
        let fd: Int32
        let tls: TLSContext?
        var source: DispatchSourceRead?
        var isPaused = false
        init(fd: Int32, tls: TLSContext?) {
            self.fd = fd
            self.tls = tls
        }
    }

    private func startAccepting(_ listener: Listener) {
        let source = DispatchSource.makeReadSource(fileDescriptor: listener.fd, queue: acceptQueue)
        source.setEventHandler { [weak self, listener] in self?.acceptPending(listener) }
        let fd = listener.fd
        source.setCancelHandler { close(fd) }
        listener.source = source
        source.resume()
    }

    private func acceptPending(_ listener: Listener) {
        for _ in 0..<64 {
            // Full, and refusing as many as the reserve allows: leave the rest in the kernel's backlog.
            if connections.count >= connectionCap && refusing >= Self.maxRefusing {
                logger.warning("accept paused for 100 ms: \(connections.count) connections and \(refusing) refusals in flight")
                pause(listener)
                return
            }
            switch Sockets.accept(listener.fd) {
            case .accepted(let fd, let peer):
                admit(fd: fd, peer: peer, tls: listener.tls)
            case .wouldBlock:
                return
            case .exhausted(let error):
                // Out of descriptors: the listener stays readable, so pause it instead of spinning.
                logger.error("accept paused for 100 ms: \(error)")
                pause(listener)
                return
            case .failed(let error):
                logger.error("accept failed: \(error)")
                return
            }
        }
    }

    private func pause(_ listener: Listener) {
        guard !listener.isPaused, let source = listener.source else { return }
        source.suspend()
        listener.isPaused = true
        acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) {
            guard listener.isPaused else { return }
            listener.isPaused = false
            listener.source?.resume()
        }
    }

    private func admit(fd: Int32, peer: String, tls: TLSContext?) {
        let client = Connection.clientAddress(ofPeer: peer)
        let isTLS = tls != nil
        let listenerCount = isTLS ? tlsConnections : connections.count - tlsConnections
        let listenerCap = isTLS ? configuration.maxTLSConnections : configuration.maxConnections
        let reason: String? =
            isDraining ? "the server is shutting down"
            : connections.count >= connectionCap ? "too many connections (limit \(connectionCap))"
            : listenerCount >= listenerCap ? "too many \(isTLS ? "TLS" : "plain") connections (limit \(listenerCap))"
            : connectionsByClient[client, default: 0] >= configuration.maxConnectionsPerClient
                ? "too many connections from \(client) (limit \(configuration.maxConnectionsPerClient))" : nil
        if let reason {
            refuse(fd: fd, peer: peer, isTLS: isTLS, reason: reason)
            return
        }
        let transport: Transport
        if let tls {
            do {
                transport = try TLSTransport(context: tls, socket: fd)
            } catch {
                logger.error("TLS session setup failed: \(error)")
                close(fd)
                return
            }
        } else {
            transport = SocketTransport(fd: fd)
        }
        let connection = Connection(fd: fd, peer: peer, transport: transport, isTLS: isTLS, handler: handler,
                                    configuration: configuration, budget: bodyBudget, workPool: workPool,
                                    target: ioQueue, logger: logger)
        let id = ObjectIdentifier(connection)
        connection.onResponse = onResponse
        connection.onClose = { [weak self] in
            guard let server = self else { return }
            server.acceptQueue.async {
                server.connections[id] = nil
                if isTLS { server.tlsConnections -= 1 }
                let left = server.connectionsByClient[client, default: 1] - 1
                server.connectionsByClient[client] = left > 0 ? left : nil
                server.onConnectionCount?(server.connections.count)
                server.finishDrainIfDone()
            }
        }
        connections[id] = connection
        if isTLS { tlsConnections += 1 }
        connectionsByClient[client, default: 0] += 1
        onConnectionCount?(connections.count)
        connection.start()
    }

    /// Over a connection cap: a best-effort 503 on the raw socket, then close.
    private func refuse(fd: Int32, peer: String, isTLS: Bool, reason: String) {
        logger.warning("connection refused: \(reason)", metadata: ["peer": "\(peer)",
                                                                  "connections": "\(connections.count)"])
        var answer = HTTPResponse.error(503, reason)
        answer.headers.add(name: "Retry-After", value: String(configuration.retryAfterSeconds))
        // On the TLS port there is no session to answer in; the client just sees the close.
        let bytes = isTLS ? Data() : serializer.serialize(answer, framing: .closing).bytes
        onResponse?(503)
        // Closing with the client's request unread would send a reset that can destroy the 503: shut the
        // write side, give the request a moment to arrive, discard it, then close.
        Sockets.sendAndShutdown(fd, bytes)
        refusing += 1
        acceptQueue.asyncAfter(deadline: .now() + .milliseconds(200)) {
            Sockets.discardReceived(fd)
            close(fd)
            self.refusing -= 1
        }
    }

    /// Most refused sockets lingering at once; beyond it new connections wait in the backlog.
    static let maxRefusing = 8
}
