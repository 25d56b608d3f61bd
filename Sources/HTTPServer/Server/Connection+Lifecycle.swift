import Dispatch

extension Connection {
    /// Periodic check of the read, idle, write and linger deadlines.
    func tick() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        let now = Self.now()
        if let lingerStart {
            if now - lingerStart > Self.lingerSeconds { closeNow() }
            return
        }
        // A handshake that never finishes (half a record header, a record announcing 64 KiB that never comes)
        // is cut off by the read timeout, not left holding a connection for the idle timeout. There is no
        // session to answer 408 in.
        if !hasEstablished {
            // Checked until it first succeeds: a TLS 1.3 post-handshake message may briefly make the live state
            // read as unfinished on an old connection.
            if transport.isEstablished {
                hasEstablished = true
            } else if now - connectedAt > configuration.readTimeout {
                logger.notice("TLS handshake timeout, closing", metadata: ["peer": "\(peer)"])
                closeNow()
                return
            }
        }
        checkPeerGone()
        if outboxOffset < outbox.count {
            if now - lastWriteProgress > configuration.writeTimeout {
                logger.notice("write timeout, closing", metadata: ["peer": "\(peer)"])
                closeNow()
            }
            return
        }
        if let requestStart, !stopsReading, now - requestStart > configuration.readTimeout {
            stopsReading = true
            self.requestStart = nil
            answerWithoutHandler(.error(408, "request not received within \(configuration.readTimeout) s"))
            return
        }
        if pending.isEmpty && requestStart == nil && now - lastActivity > configuration.idleTimeout {
            closeNow()
        }
    }

    /// The server is shutting down: close now if idle; otherwise finish what is in progress with
    /// `Connection: close`.
    func beginDrain() {
        queue.async {
            guard !self.isClosed else { return }
            self.isDraining = true
            // A request already in the socket buffer was sent before the drain: read it now, so that it is
            // answered (with `Connection: close`) instead of reset by closing an "idle" connection under it.
            if !self.isReadSuspended && !self.stopsReading { self.readable() }
            guard !self.isClosed, self.lingerStart == nil else { return }
            if self.pending.isEmpty && !self.parser.isMidRequest && self.outboxOffset >= self.outbox.count {
                self.closeNow()
            }
        }
    }

    /// Drain time is over: close whatever is left.
    func forceClose() {
        queue.async { self.closeNow() }
    }

    /// A plaintext HTTP request arrived on the TLS port: there is no session to answer in, so a plaintext 400
    /// goes straight to the socket (as nginx does) before the connection closes. Best effort: one
    /// non-blocking send; then what has already arrived is dropped, so that a request sent in one piece does
    /// not reset the connection under the answer. Sent at most once.
    func answerPlaintextOnTLSPort() {
        guard !hasAnsweredPlaintext else { return }
        hasAnsweredPlaintext = true
        let answer = HTTPResponse.error(400, "plain HTTP request sent to the HTTPS port; use https://")
        Sockets.sendAndShutdown(fd, serializer.serialize(answer, framing: .closing).bytes)
        onResponse?(400)
        Sockets.discardReceived(fd)
    }

    /// How long a closing connection keeps reading (and discarding) before it closes anyway.
    static let lingerSeconds = 2.0
}
