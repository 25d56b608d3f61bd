import Foundation
import HTTPServer
import JSONKit

/// Triton's model repository extension (`docs/reference/serving.md` 1.9): `POST /v2/repository/index`,
/// `POST /v2/repository/models/{m}/load` and `.../unload`. Reached only when `admin.repository` is on and the
/// request passed the admin check (`AccessPolicy`); a load or unload answers once it is done.
extension Router {
    func repositoryRoute(_ request: HTTPRequest, _ rest: [String], context: RequestContext,
                         respond: @escaping @Sendable (HTTPResponse) -> Void) throws(RequestError) {
        guard let repository else { throw RequestError.routeNotFound(path: request.path) }
        switch rest {
        case ["index"]:
            try allow(request, "POST")
            let body = try Self.repositoryBody(request.body, allowed: ["ready"])
            var readyOnly = false
            if let body { readyOnly = try Self.boolean(body, "ready") ?? false }
            respond(.json(200, Data(Self.indexJSON(repository.index(readyOnly: readyOnly)).utf8)))
        case let path where path.count == 3 && path[0] == "models" && (path[2] == "load" || path[2] == "unload"):
            try allow(request, "POST")
            let name = path[1]
            let body = try Self.repositoryBody(request.body, allowed: ["parameters"])
            var parameters: [String: JSONValue]?
            if let body { parameters = try Self.parameters(body) }
            let logger = context.logger
            let answer: @Sendable (Result<ModelRepository.Entry, RequestError>) -> Void = { result in
                switch result {
                case .success(let entry):
                    respond(.json(200, Data(Self.indexJSON([entry]).dropFirst().dropLast().utf8),
                                  logMetadata: ["model": name]))
                case .failure(let error):
                    var response = Self.response(for: error, logger: logger)
                    response.logMetadata["model"] = name
                    respond(response)
                }
            }
            if path[2] == "unload" {
                repository.unload(name, completion: answer)
                return
            }
            var entry: ModelConfiguration?
            if let config = parameters?["config"] {
                guard let text = config.stringValue else {
                    throw RequestError.malformedBody("parameters.config must be a string holding a JSON model "
                                                     + "configuration (a `models` entry of the configuration file)")
                }
                do {
                    entry = try ModelConfiguration(json: Data(text.utf8), name: name,
                                                   baseDirectory: configurationDirectory)
                } catch {
                    throw RequestError.badModelConfiguration(error.description)
                }
            }
            repository.load(name, entry: entry, completion: answer)
        default:
            throw RequestError.routeNotFound(path: request.path)
        }
    }

    /// The body of a repository request: empty, or a JSON object with only `allowed` keys.
    private static func repositoryBody(_ data: Data, allowed: Set<String>) throws(RequestError) -> [String: JSONValue]? {
        guard !data.isEmpty else { return nil }
        let value: JSONValue
        do { value = try JSONValue(parsing: data) } catch {
            throw RequestError.malformedBody("not valid JSON: \(error)")
        }
        guard let members = value.members else { throw RequestError.malformedBody("expected a JSON object") }
        var object: [String: JSONValue] = [:]
        for member in members {
            guard allowed.contains(member.key) else {
                throw RequestError.malformedBody("unknown field '\(JSONError.excerpt(member.key, limit: 64))' (fields: "
                                                 + allowed.sorted().joined(separator: ", ") + ")")
            }
            object[member.key] = member.value
        }
        return object
    }

    private static func boolean(_ body: [String: JSONValue], _ key: String) throws(RequestError) -> Bool? {
        guard let value = body[key] else { return nil }
        guard let flag = value.boolValue else { throw RequestError.malformedBody("'\(key)' must be true or false") }
        return flag
    }

    private static func parameters(_ body: [String: JSONValue]) throws(RequestError) -> [String: JSONValue]? {
        guard let value = body["parameters"] else { return nil }
        guard let members = value.members else { throw RequestError.malformedBody("'parameters' must be an object") }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// Triton's index: `[{"name", "version", "state", "reason"}]`.
    static func indexJSON(_ entries: [ModelRepository.Entry]) -> String {
        "[" + entries.map { entry in
            "{\"name\":" + JSONText.quoted(entry.name) + ",\"version\":" + JSONText.quoted(entry.version)
                + ",\"state\":" + JSONText.quoted(entry.state.rawValue) + ",\"reason\":" + JSONText.quoted(entry.reason)
                + "}"
        }.joined(separator: ",") + "]"
    }
}
