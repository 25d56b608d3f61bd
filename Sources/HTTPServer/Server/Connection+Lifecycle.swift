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
            answerWithoutHandler(status: 408, message: "request not received within \(configuration.readTimeout) s")
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
            if self.pending.isEmpty && !self.parser.isMidRequest && self.outboxOffset >= self.outbox.count {
                self.closeNow()
            }
        }
    }

    /// Drain time is over: close whatever is left.
    func forceClose() {
        queue.async { self.closeNow() }
    }

    /// How long a closing connection keeps reading (and discarding) before it closes anyway.
    static let lingerSeconds = 2.0
}
