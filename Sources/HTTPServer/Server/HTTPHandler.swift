import Logging

/// What the server calls for every complete request. `respond` must be called exactly once, from any
/// thread; the connection sends responses in request order (pipelining, RFC 9112 section 9.3.2).
/// Handlers must not block: long work (the engine) belongs on the handler's own queues.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void)

    /// Looks at a request's head as soon as it is complete, before any of its body is read: a response here
    /// refuses the request (no `100 Continue`, no body read or inflated; the connection answers it and
    /// closes), nil lets it proceed. Runs on the connection's queue, so it must be cheap (no I/O, no parsing
    /// of anything but the head). The default lets every request proceed.
    func screen(_ head: HTTPRequestHead, context: RequestContext) -> HTTPResponse?
}

extension HTTPHandler {
    public func screen(_ head: HTTPRequestHead, context: RequestContext) -> HTTPResponse? { nil }
}

/// Facts about one request besides its bytes.
public struct RequestContext: Sendable {
    /// `X-Request-ID` when the client sent a usable one, else a server-made id; echoed in the response.
    public var id: String
    /// `host:port` of the client.
    public var peer: String
    /// Whether the request came over the TLS listener.
    public var isTLS: Bool
    /// Fires when the client disconnects before its response is sent.
    public var cancellation: CancellationSignal
    /// The server's logger with `request.id` metadata.
    public var logger: Logger

    public init(id: String, peer: String, isTLS: Bool, cancellation: CancellationSignal, logger: Logger) {
        self.id = id
        self.peer = peer
        self.isTLS = isTLS
        self.cancellation = cancellation
        self.logger = logger
    }
}
