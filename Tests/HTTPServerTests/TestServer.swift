import Dispatch
import Foundation
import HTTPServer
import Logging

/// A handler for server tests. Routes:
/// - `/echo`: 200 with the body it got, and `X-Method`, `X-Body-Bytes`, `X-Seen-Encoding` headers;
/// - `/slow?ms=N`: answers `slow N` after N ms (from another queue);
/// - `/big?bytes=N`: N bytes of compressible text;
/// - anything else: 404.
struct TestHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let query = request.head.query ?? ""
        let number = Int(query.split(separator: "=").last ?? "") ?? 0
        switch request.path {
        case "/echo":
            var headers = HTTPHeaders([("X-Method", request.method), ("X-Body-Bytes", String(request.body.count))])
            headers.add(name: "X-Seen-Encoding", value: request.headers["Content-Encoding"] ?? "none")
            respond(HTTPResponse(status: 200, headers: headers, body: request.body))
        case "/slow":
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(number)) {
                respond(HTTPResponse(status: 200, body: Data("slow \(number)".utf8)))
            }
        case "/big":
            let line = "perceiverd compresses this line well. "
            let text = String(repeating: line, count: number / line.utf8.count + 1).prefix(number)
            respond(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]),
                                 body: Data(text.utf8)))
        default:
            respond(.error(404, "no route"))
        }
    }
}

/// Starts a server on a free loopback port with `configure` applied; stops it when the test's scope ends.
func withServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                handler: HTTPHandler = TestHandler(), _ body: (HTTPServer) throws -> Void) throws {
    let server = try startServer(handler, configure)
    defer { stop(server) }
    try body(server)
}

/// Starts a server on a free loopback port with `configure` applied, logging only critical messages; the
/// caller stops it (`stop(_:)`), or drains it itself.
func startServer(_ handler: HTTPHandler, _ configure: (inout HTTPServerConfiguration) -> Void = { _ in })
    throws -> HTTPServer {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let server = HTTPServer(configuration: configuration, handler: handler, logger: logger)
    try server.start()
    return server
}

/// Shuts `server` down, waiting up to 5 s for the drain.
func stop(_ server: HTTPServer) {
    let done = DispatchSemaphore(value: 0)
    server.shutdown(timeout: 1) { done.signal() }
    _ = done.wait(timeout: .now() + 5)
}
