import Foundation
import JSONKit

/// Triton's `$log_setting_response` and `$log_setting_request` (docs/reference/serving.md 3.8). Triton's server
/// and tritonclient name two settings `log_warning` and `log_error`, the protocol page `log_warnings` and
/// `log_errors`; the server's names are the ones clients send and are used here.
extension LogSettings {
    /// Every setting, in the order of the answer.
    static let fields = ["log_file", "log_info", "log_warning", "log_error", "log_verbose_level", "log_format"]
    /// The one `log_format`: swift-log's stream format (an ISO 8601 timestamp, the level, the label, the
    /// metadata and the message).
    static let format = "default"
    /// The largest body a change may have; a log setting request is a few dozen bytes.
    static let maxBodyBytes = 64 << 10

    /// `{"log_file":"","log_info":…,"log_warning":…,"log_error":…,"log_verbose_level":…,"log_format":"default"}`.
    var json: Data {
        Data(("{\"log_file\":\"\",\"log_info\":\(logInfo),\"log_warning\":\(logWarning),\"log_error\":\(logError)"
              + ",\"log_verbose_level\":\(verboseLevel),\"log_format\":" + JSONText.quoted(Self.format) + "}").utf8)
    }

    /// These settings with the ones `body` (a JSON object of settings) names changed; all or nothing.
    /// - Throws: `RequestError.tooLarge` over 64 KiB; `.malformedBody` naming the setting that is unknown or
    ///   wrong: a flag that is not a boolean, a verbose level that is not an integer from 0 to 2^32 - 1, a
    ///   `log_file` other than "" (the log is stderr), a `log_format` other than "default".
    func updated(json body: Data) throws(RequestError) -> LogSettings {
        guard body.count <= Self.maxBodyBytes else {
            throw RequestError.tooLarge("a log settings body is at most \(Self.maxBodyBytes) bytes (got \(body.count))")
        }
        let value: JSONValue
        do { value = try JSONValue(parsing: body) } catch {
            throw RequestError.malformedBody("\(error); expected a JSON object of log settings like "
                                             + "{\"log_verbose_level\":1}")
        }
        guard let members = value.members else {
            throw RequestError.malformedBody("expected a JSON object of log settings like {\"log_verbose_level\":1}, "
                                             + "got \(value.summary)")
        }
        var settings = self
        for member in members {
            try settings.apply(member.key, member.value)
        }
        return settings
    }

    private mutating func apply(_ key: String, _ value: JSONValue) throws(RequestError) {
        switch key {
        case "log_info": logInfo = try Self.flag(key, value)
        case "log_warning": logWarning = try Self.flag(key, value)
        case "log_error": logError = try Self.flag(key, value)
        case "log_verbose_level":
            guard let level = value.integerValue, let verbose = UInt32(exactly: level) else {
                throw RequestError.malformedBody("'log_verbose_level' must be an integer from 0 to \(UInt32.max), "
                                                 + "got \(value.summary)")
            }
            verboseLevel = verbose
        case "log_file":
            guard value.stringValue == "" else {
                throw RequestError.malformedBody("'log_file' cannot be changed: perceiverd logs to stderr (send \"\" "
                                                 + "or leave it out), got \(value.summary)")
            }
        case "log_format":
            guard value.stringValue == Self.format else {
                throw RequestError.malformedBody("'log_format' must be \"\(Self.format)\" (perceiverd has one log "
                                                 + "format), got \(value.summary)")
            }
        default:
            // The protocol page's plural names, which Triton's server does not read either.
            let hint = ["log_warnings": "log_warning", "log_errors": "log_error"][key]
                .map { "; Triton's server and perceiverd call it '\($0)'" } ?? ""
            throw RequestError.malformedBody("unknown log setting '\(JSONError.excerpt(key, limit: 64))' (settings: "
                                             + Self.fields.joined(separator: ", ") + hint + ")")
        }
    }

    private static func flag(_ key: String, _ value: JSONValue) throws(RequestError) -> Bool {
        guard let flag = value.boolValue else {
            throw RequestError.malformedBody("'\(key)' must be a boolean (true or false), got \(value.summary)")
        }
        return flag
    }
}
