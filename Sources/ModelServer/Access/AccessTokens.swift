import Foundation
import HTTPServer

/// Where the bearer tokens come from: `auth.token_file` and the `PERCEIVERD_TOKENS` environment variable.
public enum AccessTokens {
    /// The environment variable holding tokens, separated by commas or whitespace.
    public static let environmentVariable = "PERCEIVERD_TOKENS"
    /// The environment variable holding admin tokens, likewise.
    public static let adminEnvironmentVariable = "PERCEIVERD_ADMIN_TOKENS"

    /// Every token from `configuration.tokenFile` (one per line; blank lines and `#` comments skipped) and from
    /// `environment[environmentVariable]`. Empty: access is open.
    /// - Throws: `ConfigurationError.unreadableTokenFile`, `.noTokens` for a file without tokens or a set but
    ///   empty variable, or
    ///   `.malformedToken` naming the source and the token's position (never the token).
    public static func load(_ configuration: AuthConfiguration,
                            environment: [String: String]) throws(ConfigurationError) -> [String] {
        try load(file: configuration.tokenFile, fileKey: "auth.token_file", environment: environment,
                 variable: environmentVariable)
    }

    /// Every admin token from `configuration.tokenFile` and `environment[adminEnvironmentVariable]`, read as
    /// `load` reads the inference tokens.
    public static func loadAdmin(_ configuration: AdminConfiguration,
                                 environment: [String: String]) throws(ConfigurationError) -> [String] {
        try load(file: configuration.tokenFile, fileKey: "admin.token_file", environment: environment,
                 variable: adminEnvironmentVariable)
    }

    private static func load(file: String?, fileKey: String, environment: [String: String],
                             variable environmentVariable: String) throws(ConfigurationError) -> [String] {
        var tokens: [String] = []
        if let path = file {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw .unreadableTokenFile(path: path, reason: reason(path: path))
            }
            let fromFile = try fileTokens(text, path: path)
            guard !fromFile.isEmpty else { throw .noTokens(source: "\(fileKey) \(path)") }
            tokens += fromFile
        }
        if let value = environment[environmentVariable] {
            let parts = value.split { $0 == "," || $0.isWhitespace }
            // Set but empty (a secret that failed to load): refused, like a token file without tokens.
            guard !parts.isEmpty else { throw .noTokens(source: "$\(environmentVariable)") }
            for (index, part) in parts.enumerated() {
                guard BearerTokenSet.isWellFormed(part) else {
                    throw .malformedToken(source: "$\(environmentVariable)", line: index + 1)
                }
                tokens.append(String(part))
            }
        }
        return tokens
    }

    private static func fileTokens(_ text: String, path: String) throws(ConfigurationError) -> [String] {
        var tokens: [String] = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            // CRLF is one Character (a newline), so Windows-edited files split the same way.
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard BearerTokenSet.isWellFormed(line) else { throw .malformedToken(source: path, line: index + 1) }
            tokens.append(line)
        }
        return tokens
    }

    private static func reason(path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "not UTF-8 text"
    }
}
