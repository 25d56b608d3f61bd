import Foundation
import HTTPServer
import Logging

/// The daemon's routes: health, KServe V2 (metadata and inference), the friendly `/infer`, and
/// `/metrics`. Knows models; knows nothing of sockets.
public struct Router: HTTPHandler {
    public let state: ServerState
    public let metrics: MetricsRegistry
    /// Server name and version for `GET /v2`.
    public let serverVersion: String
    /// Which routes need a bearer token.
    public let access: AccessPolicy
    /// Where request bodies are parsed and images decoded; nil runs that work on the caller's thread (tests).
    public let workPool: WorkPool?
    /// What one request may ask of the engine (input and output sizes), and the `Retry-After` of a 503.
    public let limits: LimitsConfiguration
    /// The model repository the `/v2/repository` routes change; nil: those routes answer 404.
    public let repository: ModelRepository?
    /// Where a relative `path` in a model configuration given to `/v2/repository/.../load` resolves.
    public let configurationDirectory: String

    public init(state: ServerState, metrics: MetricsRegistry, serverVersion: String, access: AccessPolicy = .open,
                workPool: WorkPool? = nil, limits: LimitsConfiguration = LimitsConfiguration(),
                repository: ModelRepository? = nil, configurationDirectory: String = "/") {
        self.state = state
        self.metrics = metrics
        self.serverVersion = serverVersion
        self.access = access
        self.workPool = workPool
        self.limits = limits
        self.repository = repository
        self.configurationDirectory = configurationDirectory
    }

    public func handle(_ request: HTTPRequest, context: RequestContext,
                       respond: @escaping @Sendable (HTTPResponse) -> Void) {
        do {
            let segments = try Self.segments(of: request.head)
            try access.check(request.head, segments: segments)
            try route(request, segments: segments, context: context, respond: respond)
        } catch {
            respond(errorResponse(error, context.logger))
        }
    }

    /// Refuses on the head alone, before the body is read: a malformed path (400) and a missing or refused
    /// token (401). The connection then closes without reading or inflating the body.
    public func screen(_ head: HTTPRequestHead, context: RequestContext) -> HTTPResponse? {
        do {
            try access.check(head, segments: try Self.segments(of: head))
            return nil
        } catch {
            return errorResponse(error, context.logger)
        }
    }

    /// The path's segments, percent-decoded one by one.
    static func segments(of head: HTTPRequestHead) throws(RequestError) -> [String] {
        guard let segments = head.pathSegments() else { throw RequestError.badPath(head.path) }
        return segments
    }

    private func route(_ request: HTTPRequest, segments: [String], context: RequestContext,
                       respond: @escaping @Sendable (HTTPResponse) -> Void) throws(RequestError) {
        switch segments {
        case ["health"]:
            try allow(request, "GET")
            respond(.json(200, Data(#"{"status":"ok"}"#.utf8)))
        case ["metrics"]:
            try allow(request, "GET")
            if let workPool {
                let load = workPool.load
                metrics.setWorkPool(running: load.running, waiting: load.waiting)
            }
            let body = Data(metrics.render().utf8)
            respond(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", MetricsRegistry.contentType)]),
                                 body: body))
        case ["infer"]:
            try allow(request, "POST")
            offload(context, respond: respond) { () throws(RequestError) in
                try taskInfer(request, context: context, respond: respond)
            }
        case _ where Self.isServerRoute(segments):
            try allow(request, "GET")
            respond(try serverRoute(segments))
        case _ where segments.count >= 3 && segments[0] == "v2" && segments[1] == "repository":
            try repositoryRoute(request, Array(segments.dropFirst(2)), context: context, respond: respond)
        case _ where segments.first == "v2" && segments.count >= 3 && segments[1] == "models":
            try modelRoute(request, Array(segments.dropFirst(2)), context: context, respond: respond)
        default:
            throw RequestError.routeNotFound(path: request.path)
        }
    }

    private static func isServerRoute(_ segments: [String]) -> Bool {
        segments == ["v2"] || segments == ["v2", "models"] || segments == ["v2", "health", "live"]
            || segments == ["v2", "health", "ready"]
    }

    /// `GET /v2`, `/v2/health/{live,ready}`, `/v2/models`.
    private func serverRoute(_ segments: [String]) throws(RequestError) -> HTTPResponse {
        switch segments {
        case ["v2"]:
            return .json(200, V2Metadata.server(name: "perceiverd", version: serverVersion,
                                                extensions: V2Metadata.extensions))
        case ["v2", "health", "live"]:
            return .json(200, Data(#"{"live":true}"#.utf8))
        case ["v2", "health", "ready"]:
            try requireReady()
            return .json(200, Data(#"{"ready":true}"#.utf8))
        case ["v2", "models"]:
            let names = state.registry.names.map(JSONText.quoted).joined(separator: ",")
            return .json(200, Data("{\"models\":[\(names)]}".utf8))
        default:
            throw RequestError.routeNotFound(path: "/" + segments.joined(separator: "/"))
        }
    }

    /// `/v2/models/{m}[/versions/{v}][/ready|/infer]`.
    private func modelRoute(_ request: HTTPRequest, _ rest: [String], context: RequestContext,
                            respond: @escaping @Sendable (HTTPResponse) -> Void) throws(RequestError) {
        var rest = rest
        let name = rest.removeFirst()
        var version: String?
        if rest.first == "versions" {
            guard rest.count >= 2 else { throw RequestError.routeNotFound(path: request.path) }
            version = rest[1]
            rest.removeFirst(2)
        }
        switch rest {
        case []:
            try allow(request, "GET")
            let served = try lookUp(name, version: version)
            respond(.json(200, V2Metadata.model(name: served.name, versions: [served.version], served.model,
                                                        precision: served.precision), logMetadata: ["model": served.name]))
        case ["ready"]:
            try allow(request, "GET")
            let served = try lookUp(name, version: version)
            try requireReady()
            respond(.json(200, Data("{\"name\":\(JSONText.quoted(served.name)),\"ready\":true}".utf8),
                          logMetadata: ["model": served.name]))
        case ["infer"]:
            try allow(request, "POST")
            try requireReady()
            let (served, answer) = try acquire(name, version: version, respond: respond)
            offload(context, respond: answer) { v2Infer(request, model: served, context: context, respond: answer) }
        default:
            throw RequestError.routeNotFound(path: request.path)
        }
    }

    /// The served model `name` (and `version`, when given).
    /// - Throws: `.unavailable` while models load, `.modelNotFound` / `.versionNotFound` otherwise.
    func lookUp(_ name: String?, version: String?) throws(RequestError) -> ServedModel {
        if state.phase == .starting { throw RequestError.unavailable("models are still loading") }
        let registry = state.registry
        guard let served = registry.model(named: name) else { throw notServed(name) }
        try check(served, version: version)
        return served
    }

    /// Why no model answers to `name`: none named, unknown, loading, or known to the repository but not loaded.
    func notServed(_ name: String?) -> RequestError {
        let names = state.registry.names
        guard let name else { return .modelRequired(available: names) }
        guard let entry = repository?.index().first(where: { $0.name == name }) else {
            return .modelNotFound(name: name, available: names)
        }
        switch entry.state {
        case .loading: return .unavailable("model '\(name)' is loading")
        case .ready: return .modelNotFound(name: name, available: names)
        case .unloading, .unavailable:
            return .modelUnavailable(name: name, reason: entry.reason.isEmpty ? entry.state.rawValue : entry.reason)
        }
    }

    /// The served model an inference request goes to, counted as arrived there (`ServerState.acquire`), and
    /// `respond` wrapped to count it as gone once answered: a reload or unload that replaces the model meanwhile
    /// lets it finish on the model it found.
    /// - Throws: as `lookUp`.
    func acquire(_ name: String?, version: String?, respond: @escaping @Sendable (HTTPResponse) -> Void)
        throws(RequestError) -> (ServedModel, @Sendable (HTTPResponse) -> Void) {
        if state.phase == .starting { throw RequestError.unavailable("models are still loading") }
        guard let served = state.acquire(name) else { throw notServed(name) }
        do { try check(served, version: version) } catch {
            served.scheduler.leave()
            throw error
        }
        let scheduler = served.scheduler
        return (served, { response in
            respond(response)
            scheduler.leave()
        })
    }

    private func check(_ served: ServedModel, version: String?) throws(RequestError) {
        if let version, version != served.version {
            throw RequestError.versionNotFound(model: served.name, version: version, available: [served.version])
        }
    }

    func requireReady() throws(RequestError) {
        switch state.phase {
        case .ready: return
        case .starting: throw RequestError.unavailable("models are still loading")
        case .draining: throw RequestError.unavailable("server is shutting down")
        }
    }

    /// HEAD is allowed wherever GET is (RFC 9110 section 9.3.2).
    func allow(_ request: HTTPRequest, _ method: String) throws(RequestError) {
        if request.method == method || (method == "GET" && request.method == "HEAD") { return }
        throw RequestError.methodNotAllowed(method: request.method, allowed: method == "GET" ? ["GET", "HEAD"] : [method])
    }

    /// `Self.response(for:)` with this router's `Retry-After`.
    func errorResponse(_ error: Error, _ logger: Logger) -> HTTPResponse {
        Self.response(for: error, logger: logger, retryAfter: limits.retryAfterSeconds)
    }

    /// Runs `work` on the work pool, where request bodies are parsed and images decoded, never on a connection's
    /// queue (so probes and other connections never wait behind a large body); a full pool answers 503. An error
    /// `work` throws is answered.
    func offload(_ context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void,
                 _ work: @escaping @Sendable () throws(RequestError) -> Void) {
        let run: @Sendable () -> Void = {
            do { try work() } catch { respond(self.errorResponse(error, context.logger)) }
        }
        guard let workPool else { return run() }
        guard workPool.submit(run) else {
            return respond(errorResponse(RequestError.unavailable(
                "every worker is busy with other request bodies (\(workPool.width) running, \(workPool.queueLimit) "
                + "waiting)"), context.logger))
        }
    }

    /// The one place a `RequestError` (or anything else) becomes a response; 5xx details go to the log only.
    static func response(for error: Error, logger: Logger, retryAfter: Int = 1) -> HTTPResponse {
        guard let error = error as? RequestError else {
            logger.error("internal error: \(error)")
            return .error(500, "internal server error")
        }
        if error.status >= 500 && error.status != 503 {
            logger.error("internal error: \(error)")
            return .error(error.status, "internal server error")
        }
        var response = HTTPResponse.error(error.status, error.description)
        if case .methodNotAllowed(_, let allowed) = error {
            response.headers.add(name: "Allow", value: allowed.joined(separator: ", "))
        }
        if error.status == 503 { response.headers.add(name: "Retry-After", value: String(retryAfter)) }
        if case .unauthorized(let invalidToken) = error {
            // RFC 6750 section 3: the challenge, with error="invalid_token" when a token was sent but refused.
            response.headers.add(name: "WWW-Authenticate",
                                 value: "Bearer realm=\"perceiverd\"" + (invalidToken ? ", error=\"invalid_token\"" : ""))
        }
        return response
    }
}
