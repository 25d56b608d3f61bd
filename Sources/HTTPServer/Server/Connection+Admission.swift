import Foundation

/// What a request may cost before its body is read: the handler's screen (access control, routes) on the head,
/// then the body budget for the bytes the head declares.
extension Connection {
    /// The refusal for `head`, or nil when its body may be read: the handler's screen first (so a refused client
    /// learns why, 401 before 503), then `budget` for the declared `Content-Length` (a chunked body reserves as
    /// it arrives, `reserveGrowingBody`).
    func screen(_ head: HTTPRequestHead) -> HTTPResponse? {
        if let problem = head.hostProblem { return .error(400, problem) }
        let context = RequestContext(id: Self.requestID(head.headers["X-Request-ID"]), peer: peer, isTLS: isTLS,
                                     cancellation: CancellationSignal(), logger: logger)
        if let refusal = handler.screen(head, context: context) { return refusal }
        let declared = parser.declaredBodyBytes
        guard budget.reserve(declared, for: client) else {
            return busy(bodyBudgetMessage(needed: declared))
        }
        headReservation = declared
        return nil
    }

    /// Grows the current chunked body's reservation to what has arrived (once per read, at most 64 KiB);
    /// refuses the request and closes when it does not fit.
    func reserveGrowingBody() {
        let buffered = parser.bufferedBodyBytes
        guard buffered > headReservation else { return }
        if budget.reserve(buffered - headReservation, for: client) {
            headReservation = buffered
            return
        }
        stopsReading = true
        requestStart = nil
        answerWithoutHandler(busy(bodyBudgetMessage(needed: buffered)))
    }

    /// Makes sure the whole body of a complete request is reserved (a chunked body's last bytes may arrive in
    /// the same read as its end); false after refusing it.
    func reserveWholeBody(_ request: HTTPRequest) -> Bool {
        let missing = request.body.count - headReservation
        guard missing > 0 else { return true }
        if budget.reserve(missing, for: client) {
            headReservation += missing
            return true
        }
        stopsReading = true
        answerWithoutHandler(busy(bodyBudgetMessage(needed: request.body.count)), head: request.head)
        return false
    }

    /// A 503 with `Retry-After`: the server is at a limit that frees up by itself.
    func busy(_ message: String) -> HTTPResponse {
        var response = HTTPResponse.error(503, message)
        response.headers.add(name: "Retry-After", value: String(configuration.retryAfterSeconds))
        return response
    }

    private func bodyBudgetMessage(needed: Int) -> String {
        "the server already holds its limit of request bodies (\(budget.serverBytes) bytes in all, "
            + "\(budget.clientBytes) per client address); a body of \(needed) bytes does not fit now, retry later"
    }

}
