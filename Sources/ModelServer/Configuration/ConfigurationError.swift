/// Why a configuration (file, JSON or command-line overrides) cannot be used. One type for the configuration
/// layer; `description` reads as one line naming the offending key by its dotted path (`models[1].precision`).
public indirect enum ConfigurationError: Error, Equatable, Sendable {
    /// The configuration file cannot be read.
    case unreadableFile(path: String, reason: String)
    /// The bytes are not JSON, or the top level is not an object; `reason` includes the position if known.
    case invalidJSON(reason: String)
    /// A key the format does not define, as a full dotted path.
    case unknownKey(String)
    /// A required key is absent, as a full dotted path.
    case missingKey(String)
    /// An object names a key twice (RFC 8259 section 4 leaves its value undefined), as a full dotted path.
    case duplicateKey(String)
    /// A value has the wrong type or is out of range. `found` renders the offending value.
    case invalidValue(key: String, expected: Requirement, found: String)
    /// `models` is empty.
    case noModels
    /// Two models share a name.
    case duplicateModelName(String)
    /// The TLS listener would bind the same non-zero port as the plain listener.
    case conflictingPorts(Int)
    /// A command-line model override is not `NAME=DIR` with a valid name and a non-empty directory.
    case invalidModelOverride(String)
    /// The bearer-token file cannot be read.
    case unreadableTokenFile(path: String, reason: String)
    /// A token (line `line` of `source`, counted from 1) is not an RFC 6750 `b64token`; the token itself is
    /// never echoed.
    case malformedToken(source: String, line: Int)
    /// `auth.token_file` names a file with no tokens, or `$PERCEIVERD_TOKENS` is set but empty (`source` says
    /// which): refused rather than serving unprotected.
    case noTokens(source: String)
    /// OpenSSL could not hash every token, so some could never be accepted: refused rather than half-protected.
    case tokenDigestFailed
    /// An error found while loading the file at `path`.
    case inFile(path: String, ConfigurationError)

    /// What a configuration value must be; used to word the error.
    public enum Requirement: Equatable, Sendable {
        /// An integer in `min...max`, or at least `min` when `max` is nil.
        case integer(min: Int, max: Int?)
        /// A non-empty string.
        case nonEmptyString
        /// One of the listed strings.
        case oneOf([String])
        /// A model name: one or more of `A-Z a-z 0-9 _ . -`.
        case modelName
        /// A JSON object.
        case object
        /// A JSON object or `null`.
        case objectOrNull
        /// A JSON array.
        case array
        /// `true` or `false`.
        case boolean
    }
}

extension ConfigurationError: CustomStringConvertible {
    /// The error as one line, e.g. `config.json: unknown key 'limits.max_bodyy_bytes'`.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): return "\(path): cannot read configuration: \(reason)"
        case .invalidJSON(let reason): return "invalid JSON: \(reason)"
        case .unknownKey(let key): return "unknown key '\(key)'"
        case .missingKey(let key): return "missing required key '\(key)'"
        case .duplicateKey(let key): return "duplicate key '\(key)'"
        case .invalidValue(let key, let expected, let found): return "'\(key)' must be \(expected) (found \(found))"
        case .noModels: return "'models' must list at least one model"
        case .duplicateModelName(let name): return "model name '\(name)' appears more than once in 'models'"
        case .conflictingPorts(let port): return "'tls.port' and 'port' are both \(port); give them different ports"
        case .invalidModelOverride(let text):
            return "model override '\(text)' must be NAME=DIR with NAME matching [A-Za-z0-9_.-]+"
        case .unreadableTokenFile(let path, let reason): return "auth.token_file \(path): cannot read: \(reason)"
        case .malformedToken(let source, let line):
            return "\(source): token \(line) is not a bearer token (allowed: A-Z a-z 0-9 - . _ ~ + / then = padding)"
        case .noTokens(let source): return "\(source) holds no tokens (one per line or comma-separated; # starts a comment)"
        case .tokenDigestFailed: return "OpenSSL could not compute the SHA-256 digests of the bearer tokens"
        case .inFile(let path, let error): return "\(path): \(error)"
        }
    }
}

extension ConfigurationError.Requirement: CustomStringConvertible {
    /// The requirement as a noun phrase: `an integer from 0 to 65535`.
    public var description: String {
        switch self {
        case .integer(let min, let max?): return "an integer from \(min) to \(max)"
        case .integer(let min, nil): return "an integer of at least \(min)"
        case .nonEmptyString: return "a non-empty string"
        case .oneOf(let choices): return "one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))"
        case .modelName: return "a string matching [A-Za-z0-9_.-]+"
        case .object: return "an object"
        case .objectOrNull: return "an object or null"
        case .array: return "an array"
        case .boolean: return "true or false"
        }
    }
}
