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
    /// Bytes of the body budget it holds until its response is made.
    var reservedBytes = 0
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
            if nextSequence - nextToSend >= configuration.maxPipelineDepth
                || outbox.count - outboxOffset >= configuration.maxUnsentBytes {
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
                answerWithoutHandler(.error(error.status, error.description))
                return
            }
            guard let event else {
                parserNeedsBytes = true
                requestStart = parser.isMidRequest ? (requestStart ?? Self.now()) : nil
                if inputEnded {
                    // EOF came before: what is buffered now is all there will be.
                    stopsReading = true
                } else {
                    reserveGrowingBody()
                }
                return
            }
            parserNeedsBytes = false
            switch event {
            case .head(let head):
                if let refusal = screen(head) {
                    // Refused on its head: the body is never read (the closing connection discards it).
                    stopsReading = true
                    requestStart = nil
                    answerWithoutHandler(refusal, head: head)
                    return
                }
                // Interim 100 only when nothing earlier is outstanding, so it cannot overtake a
                // pipelined response (RFC 9110 section 10.1.1 lets a server omit it).
                if head.expectsContinue && nextSequence == nextToSend { send(ResponseSerializer.continueBytes) }
            case .request(let request):
                requestStart = parser.isMidRequest ? Self.now() : nil
                guard reserveWholeBody(request) else { return }
                dispatch(request)
            }
        }
    }

    /// Hands the request to the handler, after undoing its content coding on the work pool.
    private func dispatch(_ request: HTTPRequest) {
        let sequence = nextSequence
        nextSequence += 1
        let keepAlive = request.head.isKeepAlive && !isDraining
        if !keepAlive { stopsReading = true }
        let context = RequestContext(id: Self.requestID(request.headers["X-Request-ID"]), peer: peer, isTLS: isTLS,
                                     cancellation: CancellationSignal(),
                                     logger: logger)
        pending[sequence] = PendingRequest(head: request.head, context: context, keepAlive: keepAlive,
                                           start: Self.now(), bytesIn: request.body.count,
                                           reservedBytes: headReservation)
        headReservation = 0
        guard let encoding = request.headers["Content-Encoding"], !request.body.isEmpty else {
            return handOver(request, sequence: sequence, context: context)
        }
        guard let coding = ContentCoding(headerValue: encoding) else {
            return complete(sequence, .error(415, "unsupported Content-Encoding '\(encoding)' (use gzip or deflate)"))
        }
        // Inflating scales with the body: never on this queue.
        let limit = configuration.maxDecompressedBytes
        let accepted = workPool.submit { [self] in
            let inflated = Result { () throws(CompressionError) in try Compression.decode(request.body, coding: coding,
                                                                                          limit: limit) }
            queue.async { self.inflated(inflated, request, sequence: sequence, context: context) }
        }
        if !accepted { complete(sequence, busy("every worker is busy decoding request bodies")) }
    }

    /// Continues `dispatch` once the body is inflated: its reservation grows to the inflated size, then the
    /// handler gets it.
    private func inflated(_ result: Result<Data, CompressionError>, _ request: HTTPRequest, sequence: Int,
                          context: RequestContext) {
        guard !isClosed, let held = pending[sequence]?.reservedBytes else { return }
        switch result {
        case .failure(let error):
            complete(sequence, Self.response(for: error, limit: configuration.maxDecompressedBytes))
        case .success(let body):
            guard budget.reserve(body.count, for: client) else {
                return complete(sequence, busy("the server holds as many request bytes as it may (inflated body of "
                                               + "\(body.count) bytes)"))
            }
            budget.release(held, for: client)
            pending[sequence]?.reservedBytes = body.count
            var request = request
            request.body = body
            handOver(request, sequence: sequence, context: context)
        }
    }

    private func handOver(_ request: HTTPRequest, sequence: Int, context: RequestContext) {
        var handlerContext = context
        handlerContext.logger[metadataKey: "request.id"] = "\(context.id)"
        handler.handle(request, context: handlerContext) { response in
            self.queue.async { self.complete(sequence, response) }
        }
    }

    /// Answers a request the handler never saw (parse errors, timeouts, refusals on the head), then closes.
    func answerWithoutHandler(_ response: HTTPResponse, head: HTTPRequestHead? = nil) {
        let sequence = nextSequence
        nextSequence += 1
        let head = head ?? HTTPRequestHead(method: "-", target: "-", version: .http1_1, headers: HTTPHeaders())
        let context = RequestContext(id: Self.requestID(head.headers["X-Request-ID"]), peer: peer, isTLS: isTLS,
                                     cancellation: CancellationSignal(), logger: logger)
        pending[sequence] = PendingRequest(head: head, context: context, keepAlive: false, start: Self.now(),
                                           bytesIn: 0, reservedBytes: headReservation)
        headReservation = 0
        complete(sequence, response)
    }

    /// Serializes a response and writes every response whose turn has come.
    func complete(_ sequence: Int, _ response: HTTPResponse) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let request = pending[sequence], !isClosed else { return }
        // The request's body bytes are no longer held on its behalf once it is answered.
        budget.release(request.reservedBytes, for: client)
        pending[sequence]?.reservedBytes = 0
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
