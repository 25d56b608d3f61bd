import Dispatch
import Foundation
import Glibc
import Logging

/// One accepted client socket: reads and parses requests, hands them to the handler, and writes the
/// responses back in request order. Driven by dispatch sources on its own serial queue; never blocks.
///
/// Every mutable property is owned by `queue` (asserted with `dispatchPrecondition` at the entry points),
/// which is why the class can be `@unchecked Sendable`.
final class Connection: @unchecked Sendable {
    let fd: Int32
    let queue: DispatchQueue
    let peer: String
    /// The peer's address without its port: what per-client limits count by.
    let client: String
    let isTLS: Bool
    let transport: Transport
    let handler: HTTPHandler
    let configuration: HTTPServerConfiguration
    /// Request-body bytes held server-wide and per client (shared by every connection).
    let budget: BodyBudget
    /// Where inflation (and the handler's heavy work) runs, off this queue.
    let workPool: WorkPool
    let serializer: ResponseSerializer
    var logger: Logger
    /// Called once on `queue` after the socket is closed.
    var onClose: (@Sendable () -> Void)?
    /// Called with every response status (metrics).
    var onResponse: (@Sendable (Int) -> Void)?

    var parser: HTTPRequestParser
    var readSource: DispatchSourceRead?
    var writeSource: DispatchSourceWrite?
    var timer: DispatchSourceTimer?
    var isReadSuspended = false
    var isWriteSuspended = true

    /// Requests handed out and not yet answered or written, by sequence number.
    var pending: [Int: PendingRequest] = [:]
    /// Serialized responses waiting for earlier ones (pipelining).
    var ready: [Int: Data] = [:]
    var nextSequence = 0
    var nextToSend = 0
    var outbox = Data()
    var outboxOffset = 0

    /// No more requests are read: after `Connection: close`, HTTP/1.0, a parse error, or EOF once the buffered
    /// requests are taken.
    var stopsReading = false
    /// The client sent EOF (a half-close or a close): nothing more is read, but the requests it sent before are
    /// still answered (RFC 9112 section 9.6). Whether it is still there to read them shows once something is
    /// written (`probePeer`).
    var inputEnded = false
    /// The `100 Continue` that tells a half-closed client from a vanished one has been sent.
    var hasProbedPeer = false
    /// The last `processEvents` stopped because the buffered bytes hold no complete request.
    var parserNeedsBytes = true
    /// Bytes of `budget` held for the request whose head has arrived and whose body is still arriving.
    var headReservation = 0
    var closesWhenFlushed = false
    var isDraining = false
    var isClosed = false
    /// `processEvents` is on the stack (it must not nest).
    var isProcessingEvents = false
    /// After our final response: write side shut, reading and discarding until the peer closes
    /// (avoids a reset that would destroy the response in flight).
    var lingerStart: Double?
    var requestStart: Double?
    var lastActivity: Double
    var lastWriteProgress: Double
    /// When the socket was accepted: a TLS handshake must finish within the read timeout from here.
    let connectedAt: Double
    /// The transport has carried data once (the TLS handshake finished); the handshake timeout no longer applies.
    var hasEstablished = false
    /// The plaintext 400 of the TLS port went out.
    var hasAnsweredPlaintext = false

    static let readChunk = 64 * 1024

    init(fd: Int32, peer: String, transport: Transport, isTLS: Bool, handler: HTTPHandler,
         configuration: HTTPServerConfiguration, budget: BodyBudget, workPool: WorkPool, target: DispatchQueue,
         logger: Logger) {
        self.fd = fd
        self.peer = peer
        self.client = Self.clientAddress(ofPeer: peer)
        self.budget = budget
        self.workPool = workPool
        self.transport = transport
        self.isTLS = isTLS
        self.handler = handler
        self.configuration = configuration
        self.queue = DispatchQueue(label: "perceiverd.connection", target: target)
        self.serializer = ResponseSerializer(serverName: configuration.serverName,
                                             compressionMinimumBytes: configuration.compressionMinimumBytes)
        self.parser = HTTPRequestParser(limits: configuration.parserLimits)
        self.logger = logger
        self.lastActivity = Self.now()
        self.lastWriteProgress = lastActivity
        self.connectedAt = lastActivity
    }

    /// Installs the sources and starts reading.
    func start() {
        queue.async { self.installSources() }
    }

    private func installSources() {
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        read.setEventHandler { [weak self] in self?.readable() }
        let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        write.setEventHandler { [weak self] in self?.writable() }
        // The descriptor is closed only after both sources on it are cancelled, so no source ever
        // watches a descriptor number the kernel has already handed to another connection.
        let closer = DescriptorCloser(fd: fd, sources: 2)
        read.setCancelHandler { closer.sourceCancelled() }
        write.setCancelHandler { closer.sourceCancelled() }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let tick = Self.tickInterval(configuration)
        timer.schedule(deadline: .now() + tick, repeating: tick, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.tick() }
        readSource = read
        writeSource = write
        self.timer = timer
        read.resume()
        timer.resume()
    }

    // MARK: reading

    func readable() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        var sawEOF = false
        withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 16) { buffer in
            readLoop: while true {
                switch transport.read(into: buffer) {
                case .transferred(let count):
                    lastActivity = Self.now()
                    if lingerStart != nil || stopsReading { continue }
                    let wasMidRequest = parser.isMidRequest
                    parser.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    if !wasMidRequest && requestStart == nil { requestStart = lastActivity }
                    // Read on until .wantRead: TLS may hold a decrypted record the socket no longer signals.
                case .wantRead: break readLoop
                case .wantWrite: resumeWriting(); break readLoop
                case .closed: sawEOF = true; break readLoop
                case .failed(let reason):
                    logger.debug("connection read failed", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
                    if (transport as? TLSTransport)?.receivedPlaintextHTTP == true { answerPlaintextOnTLSPort() }
                    sawEOF = true
                    break readLoop
                }
            }
        }
        if lingerStart != nil {
            if sawEOF { closeNow() }
            return
        }
        processEvents()
        if sawEOF { peerClosed() }
        if !isClosed && outboxOffset < outbox.count { writeOutbox() }
    }

    /// The client closed its side: either a half-close (it still reads) or a close. The requests it sent before
    /// are answered either way; a vanished client shows when the probe comes back as a reset, and then its
    /// requests are cancelled (`checkPeerGone`). The socket closes once nothing is left to answer or write.
    private func peerClosed() {
        inputEnded = true
        suspendReading()
        // Nothing complete is buffered (processEvents just ran): no more requests can come.
        if parserNeedsBytes { stopsReading = true }
        if stopsReading && pending.isEmpty && outboxOffset >= outbox.count { return closeNow() }
        probePeer()
    }

    /// After EOF with requests unanswered: an interim `100 Continue`, which every HTTP/1.1 client must accept
    /// before a final response (RFC 9110 section 15.2). A client that only half-closed reads past it; the socket
    /// of one that closed answers it with a reset, which `checkPeerGone` finds. Only at a response boundary,
    /// and only before an HTTP/1.1 request's answer (HTTP/1.0 clients get no 1xx, RFC 9110 section 15.2).
    func probePeer() {
        guard !hasProbedPeer, !isClosed, outboxOffset >= outbox.count,
              let first = pending[nextToSend], first.head.version == .http1_1 else { return }
        hasProbedPeer = true
        send(ResponseSerializer.continueBytes)
        queue.asyncAfter(deadline: .now() + .milliseconds(50)) { [weak self] in self?.checkPeerGone() }
    }

    /// Cancels and closes once the probe met a reset: the client is gone, its queued work need not run.
    func checkPeerGone() {
        guard inputEnded, hasProbedPeer, !isClosed else { return }
        if Sockets.pendingError(fd) != 0 {
            logger.debug("client gone before its answers", metadata: ["peer": "\(peer)"])
            closeNow()
        }
    }

    func suspendReading() {
        guard !isReadSuspended, let readSource else { return }
        readSource.suspend()
        isReadSuspended = true
    }

    func resumeReading() {
        guard isReadSuspended, !inputEnded, !stopsReading || lingerStart != nil, let readSource else { return }
        readSource.resume()
        isReadSuspended = false
    }

    // MARK: writing

    /// Queues bytes and writes what the socket takes now.
    func send(_ bytes: Data) {
        if outboxOffset >= outbox.count {
            outbox = bytes
            outboxOffset = 0
            lastWriteProgress = Self.now()
        } else {
            outbox.append(bytes)
        }
        writeOutbox()
    }

    private func writable() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        if outboxOffset < outbox.count {
            writeOutbox()
        } else {
            // A TLS handshake that wanted to write: let the reader continue.
            suspendWriting()
            readable()
        }
    }

    func writeOutbox() {
        while outboxOffset < outbox.count {
            let result = outbox.withUnsafeBytes { bytes in
                transport.write(UnsafeRawBufferPointer(rebasing: bytes[outboxOffset...]))
            }
            switch result {
            case .transferred(let count):
                outboxOffset += count
                lastWriteProgress = Self.now()
            case .wantWrite:
                resumeWriting()
                return
            case .wantRead:
                return
            case .closed, .failed:
                closeNow()
                return
            }
        }
        outbox = Data()
        outboxOffset = 0
        // The idle clock starts when the last response is out, not when the request came in.
        lastActivity = Self.now()
        suspendWriting()
        if closesWhenFlushed {
            beginLingeringClose()
        } else if stopsReading && pending.isEmpty {
            closeNow()
        } else if isDraining && pending.isEmpty && !parser.isMidRequest {
            // Draining, and this connection just became idle (as `beginDrain` would have closed it).
            closeNow()
        } else if !stopsReading {
            // Reading may have paused for this output (`processEvents`).
            resumeReading()
            processEvents()
        }
    }

    private func resumeWriting() {
        guard isWriteSuspended, let writeSource else { return }
        writeSource.resume()
        isWriteSuspended = false
    }

    private func suspendWriting() {
        guard !isWriteSuspended, let writeSource else { return }
        writeSource.suspend()
        isWriteSuspended = true
    }

    // MARK: closing

    private func beginLingeringClose() {
        guard lingerStart == nil else { return }
        transport.shutdown()
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        lingerStart = Self.now()
        stopsReading = true
        resumeReading()
    }

    /// Cancels the sources (the read source's cancel handler closes the socket) and tells the server.
    func closeNow() {
        guard !isClosed else { return }
        isClosed = true
        for request in pending.values {
            request.context.cancellation.cancel()
            budget.release(request.reservedBytes, for: client)
        }
        budget.release(headReservation, for: client)
        headReservation = 0
        timer?.cancel()
        // A suspended source must be resumed before it is cancelled, or its cancel handler never runs.
        if isWriteSuspended { writeSource?.resume() }
        writeSource?.cancel()
        if isReadSuspended { readSource?.resume() }
        readSource?.cancel()
        readSource = nil
        writeSource = nil
        timer = nil
        onClose?()
    }

    /// `host` of a `host:port` peer (`[v6]` of `[v6]:port`).
    static func clientAddress(ofPeer peer: String) -> String {
        peer.lastIndex(of: ":").map { String(peer[..<$0]) } ?? peer
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    private static func tickInterval(_ configuration: HTTPServerConfiguration) -> DispatchTimeInterval {
        let shortest = min(configuration.readTimeout, configuration.idleTimeout, configuration.writeTimeout)
        return .milliseconds(Int(max(0.02, min(1.0, shortest / 4)) * 1000))
    }
}

/// Closes a descriptor once every dispatch source watching it has been cancelled. Its count is touched
/// only from the connection's serial queue, where the cancel handlers run.
private final class DescriptorCloser: @unchecked Sendable {
    private let fd: Int32
    private var remaining: Int

    init(fd: Int32, sources: Int) {
        self.fd = fd
        self.remaining = sources
    }

    func sourceCancelled() {
        remaining -= 1
        if remaining == 0 { close(fd) }
    }
}
