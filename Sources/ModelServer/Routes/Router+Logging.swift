import Foundation
import HTTPServer

/// Triton's logging extension (docs/reference/serving.md 3.8): `GET /v2/logging` reads the log settings,
/// `POST /v2/logging` changes those it names and answers all of them. Reached only through
/// `AccessPolicy`'s administrative check (`admin.logging`, and an admin token when access control is on).
extension Router {
    func logging(_ request: HTTPRequest, context: RequestContext,
                 respond: @escaping @Sendable (HTTPResponse) -> Void) throws(RequestError) {
        switch request.method {
        case "GET", "HEAD":
            respond(.json(200, logSwitch.settings.json))
        case "POST":
            // The body is parsed on the work pool, as every body is.
            offload(context, respond: respond) { () throws(RequestError) in
                let settings = try logSwitch.settings.updated(json: request.body)
                logSwitch.set(settings)
                context.logger.notice("log settings changed", metadata: [
                    "log_info": "\(settings.logInfo)", "log_warning": "\(settings.logWarning)",
                    "log_error": "\(settings.logError)", "log_verbose_level": "\(settings.verboseLevel)",
                ])
                respond(.json(200, settings.json))
            }
        default:
            throw RequestError.methodNotAllowed(method: request.method, allowed: ["GET", "HEAD", "POST"])
        }
    }
}
