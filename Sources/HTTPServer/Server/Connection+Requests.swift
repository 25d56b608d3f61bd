import Dispatch
import Foundation
import Logging

/// A request handed to the handler and not yet written back.
struct PendingRequest {
    var head: HTTPRequestHead
    var context: RequestContext
    var keepAlive: Bool
    var start: Double
    var bytesIn: Int
}

extension Connection {
    /// Turns buffered bytes into requests until the parser needs more, the pipeline is full, or reading stops.
    func processEvents() {
        // A request answered inline (415, a bad body) completes inside this loop and its flush asks for more
        // events: the loop below carries on instead, so buffered requests never nest one call each.
        guard !isProcessingEvents else { return }
        isProcessingEvents = true
        defer { isProcessingEvents = false }
        while !stopsReading && !isClosed {
            // Backpressure: a full pipeline, or answers the client is not reading, pause reading. Buffered
            // requests are then waiting on us, not on the client, so the read timeout restarts when we resume.
            if nextSequence - nextToSend >= Self.maxPipelineDepth
                || outbox.count - outboxOffset >= Self.maxUnsentBytes {
                requestStart = nil
                suspendReading()
                return
            }
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                stopsReading = true
                requestStart = nil
                logger.notice("bad request", metadata: ["peer": "\(peer)", "error": "\(error)"])
                answerWithoutHandler(status: error.status, message: error.description)
                return
            }
            guard let event else {
                requestStart = parser.isMidRequest ? (requestStart ?? Self.now()) : nil
                return
            }
            switch event {
            case .head(let head):
                // Interim 100 only when nothing earlier is outstanding, so it cannot overtake a
                // pipelined response (RFC 9110 section 10.1.1 lets a server omit it).
                if head.expectsContinue && nextSequence == nextToSend { send(ResponseSerializer.continueBytes) }
            case .request(let request):
                requestStart = parser.isMidRequest ? Self.now() : nil
                dispatch(request)
            }
        }
    }

    /// Undoes the content coding and hands the request to the handler.
    private func dispatch(_ request: HTTPRequest) {
        var request = request
        let sequence = nextSequence
        nextSequence += 1
        let keepAlive = request.head.isKeepAlive && !isDraining
        if !keepAlive { stopsReading = true }
        let context = RequestContext(id: Self.requestID(request.headers["X-Request-ID"]), peer: peer, isTLS: isTLS,
                                     cancellation: CancellationSignal(),
                                     logger: logger)
        pending[sequence] = PendingRequest(head: request.head, context: context, keepAlive: keepAlive,
                                           start: Self.now(), bytesIn: request.body.count)
        if let encoding = request.headers["Content-Encoding"], !request.body.isEmpty {
            guard let coding = ContentCoding(headerValue: encoding) else {
                complete(sequence, .error(415, "unsupported Content-Encoding '\(encoding)' (use gzip or deflate)"))
                return
            }
            do {
                request.body = try Compression.decode(request.body, coding: coding,
                                                      limit: configuration.maxDecompressedBytes)
            } catch {
                complete(sequence, Self.response(for: error, limit: configuration.maxDecompressedBytes))
                return
            }
        }
        var handlerContext = context
        handlerContext.logger[metadataKey: "request.id"] = "\(context.id)"
        handler.handle(request, context: handlerContext) { response in
            self.queue.async { self.complete(sequence, response) }
        }
    }

    /// Answers a request the handler never saw (parse errors, timeouts), then closes.
    func answerWithoutHandler(status: Int, message: String) {
        let sequence = nextSequence
        nextSequence += 1
        let head = HTTPRequestHead(method: "-", target: "-", version: .http1_1, headers: HTTPHeaders())
        let context = RequestContext(id: Self.requestID(nil), peer: peer, isTLS: isTLS,
                                     cancellation: CancellationSignal(), logger: logger)
        pending[sequence] = PendingRequest(head: head, context: context, keepAlive: false, start: Self.now(),
                                           bytesIn: 0)
        complete(sequence, .error(status, message))
    }

    /// Serializes a response and writes every response whose turn has come.
    func complete(_ sequence: Int, _ response: HTTPResponse) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let request = pending[sequence], !isClosed else { return }
        let keepAlive = request.keepAlive && !isDraining
        pending[sequence]?.keepAlive = keepAlive
        let framing = ResponseSerializer.Framing(isHead: request.head.method == "HEAD", keepAlive: keepAlive,
                                                 acceptEncoding: request.head.headers["Accept-Encoding"],
                                                 requestID: request.context.id)
        let (bytes, bodyBytes) = serializer.serialize(response, framing: framing)
        ready[sequence] = bytes
        log(request, response, bodyBytes: bodyBytes)
        onResponse?(response.status)
        flushReady()
    }

    private func flushReady() {
        // Nothing may follow the response that closes the connection (answers made after a drain began).
        while !closesWhenFlushed, let bytes = ready.removeValue(forKey: nextToSend) {
            let request = pending.removeValue(forKey: nextToSend)
            nextToSend += 1
            let isLast = request?.keepAlive == false
            if isLast {
                closesWhenFlushed = true
                stopsReading = true
            }
            send(bytes)
            if isClosed || isLast { return }
        }
        if !stopsReading {
            resumeReading()
            processEvents()
        }
    }

    private func log(_ request: PendingRequest, _ response: HTTPResponse, bodyBytes: Int) {
        var metadata: Logger.Metadata = [
            "request.id": "\(request.context.id)",
            "http.method": "\(request.head.method)",
            "http.path": "\(request.head.path)",
            "http.status": "\(response.status)",
            "bytes.in": "\(request.bytesIn)",
            "bytes.out": "\(bodyBytes)",
            "duration.ms": "\(String(format: "%.3f", (Self.now() - request.start) * 1000))",
            "peer": "\(peer)",
        ]
        for (key, value) in response.logMetadata { metadata[key] = "\(value)" }
        logger.info("\(request.head.method) \(request.head.path) \(response.status)", metadata: metadata)
    }

    static func response(for error: CompressionError, limit: Int) -> HTTPResponse {
        switch error {
        case .tooLarge: return .error(413, "decompressed request body larger than the limit of \(limit) bytes")
        default: return .error(400, "request body does not decode: \(error)")
        }
    }

    /// The client's `X-Request-ID` when it is 1–128 visible ASCII characters, else a fresh random id.
    static func requestID(_ given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
