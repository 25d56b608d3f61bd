import Foundation
import HTTPServer
import HTTPTestSupport
import Testing
@testable import ModelServer

/// Bearer tokens: where they come from, and what a daemon that requires them answers.
@Suite struct AccessControlTests {
    static func tokenFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func configurationNamesATokenFileAndMetricsProtection() throws {
        let json = #"{"models": [{"name": "m", "path": "m"}], "auth": {"token_file": "tokens", "protect_metrics": true}}"#
        let configuration = try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/etc/perceiverd")
        #expect(configuration.auth == AuthConfiguration(tokenFile: "/etc/perceiverd/tokens", protectMetrics: true))
        let open = try ServerConfiguration(json: Data(#"{"models": [{"name": "m", "path": "m"}]}"#.utf8), baseDirectory: "/")
        #expect(open.auth == AuthConfiguration(tokenFile: nil, protectMetrics: false))
    }

    @Test(arguments: [
        (#"{"protect_metrics": 1}"#, "'auth.protect_metrics' must be true or false (found 1)"),
        (#"{"token_file": ""}"#, "'auth.token_file' must be a non-empty string"),
        (#"{"tokens": "abc"}"#, "unknown key 'auth.tokens'"),
    ])
    func badAuthSettingsNameTheKey(auth: String, expected: String) {
        let json = #"{"models": [{"name": "m", "path": "m"}], "auth": \#(auth)}"#
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/") }
        do {
            _ = try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func tokensComeFromTheFileAndTheEnvironment() throws {
        let path = try Self.tokenFile("# operators\nalpha-1\n\n  beta/2==  \r\n# old: gamma\n")
        let tokens = try AccessTokens.load(AuthConfiguration(tokenFile: path),
                                           environment: ["PERCEIVERD_TOKENS": "delta, epsilon\nzeta"])
        #expect(tokens == ["alpha-1", "beta/2==", "delta", "epsilon", "zeta"])
        #expect(try AccessTokens.load(AuthConfiguration(), environment: [:]).isEmpty)
    }

    @Test func unusableTokenSourcesStopTheStartWithoutEchoingTokens() throws {
        let malformed = try Self.tokenFile("good\nsecret with space\n")
        #expect(throws: ConfigurationError.malformedToken(source: malformed, line: 2)) {
            try AccessTokens.load(AuthConfiguration(tokenFile: malformed), environment: [:])
        }
        #expect(!ConfigurationError.malformedToken(source: malformed, line: 2).description.contains("secret"))
        let empty = try Self.tokenFile("# nothing yet\n\n")
        #expect(throws: ConfigurationError.noTokens(source: "auth.token_file \(empty)")) {
            try AccessTokens.load(AuthConfiguration(tokenFile: empty), environment: [:])
        }
        #expect(throws: ConfigurationError.noTokens(source: "$PERCEIVERD_TOKENS")) {
            try AccessTokens.load(AuthConfiguration(), environment: ["PERCEIVERD_TOKENS": " , "])
        }
        #expect(throws: ConfigurationError.unreadableTokenFile(path: "/nonexistent/tokens", reason: "no such file")) {
            try AccessTokens.load(AuthConfiguration(tokenFile: "/nonexistent/tokens"), environment: [:])
        }
        #expect(throws: ConfigurationError.malformedToken(source: "$PERCEIVERD_TOKENS", line: 2)) {
            try AccessTokens.load(AuthConfiguration(), environment: ["PERCEIVERD_TOKENS": "ok,bad\"quote"])
        }
    }

    static func daemon(protectMetrics: Bool) throws -> Daemon {
        let path = try tokenFile("file-token\n")
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [
            ModelConfiguration(name: "seqcls", path: ServerFixtures.root + "/models/seqcls"),
        ])
        configuration.auth = AuthConfiguration(tokenFile: path, protectMetrics: protectMetrics)
        return try TestDaemon.start(configuration, environment: ["PERCEIVERD_TOKENS": "env-token"])
    }

    static let inference = Data(#"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]}]}"#.utf8)

    @Test func requestsWithoutAnAcceptedTokenGet401WithAChallenge() throws {
        let daemon = try Self.daemon(protectMetrics: false)
        defer { daemon.stop {} }
        let client = try RawHTTPClient(port: daemon.port)
        let missing = try client.request("POST", "/v2/models/seqcls/infer", body: Self.inference)
        #expect(missing.status == 401)
        #expect(missing.header("WWW-Authenticate") == #"Bearer realm="perceiverd""#)
        #expect(missing.json?["error"] as? String == "missing bearer token: send the header 'Authorization: Bearer TOKEN'")
        let wrong = try client.request("POST", "/v2/models/seqcls/infer", headers: ["Authorization": "Bearer file-tokem"],
                                       body: Self.inference)
        #expect(wrong.status == 401)
        #expect(wrong.header("WWW-Authenticate") == #"Bearer realm="perceiverd", error="invalid_token""#)
        #expect(try client.request("GET", "/v2/models/seqcls").status == 401)
        #expect(try client.request("GET", "/v2").status == 401)
        #expect(try client.request("POST", "/infer", body: Data(#"{"text":"hi"}"#.utf8)).status == 401)
        #expect(try client.request("GET", "/v2/models/nope").status == 401, "401 before 404: names stay private")
        // The connection stays usable after a 401.
        for token in ["file-token", "env-token"] {
            let answer = try client.request("POST", "/v2/models/seqcls/infer", headers: ["Authorization": "Bearer \(token)"],
                                            body: Self.inference)
            #expect(answer.status == 200, "\(token): \(answer.text)")
        }
    }

    @Test func healthIsExemptAndMetricsProtectionIsOptional() throws {
        for protects in [false, true] {
            let daemon = try Self.daemon(protectMetrics: protects)
            defer { daemon.stop {} }
            let client = try RawHTTPClient(port: daemon.port)
            for path in ["/health", "/v2/health/live", "/v2/health/ready"] {
                #expect(try client.request("GET", path).status == 200, "\(path)")
            }
            #expect(try client.request("GET", "/metrics").status == (protects ? 401 : 200))
            let authorized = try client.request("GET", "/metrics", headers: ["Authorization": "Bearer env-token"])
            #expect(authorized.status == 200)
            #expect(authorized.text.contains(#"perceiverd_http_requests_total{code="401"}"#) == protects)
        }
    }

    @Test func routerWithoutTokensIsOpen() {
        #expect(!AccessPolicy.open.isEnabled)
        #expect(!AccessPolicy(tokens: BearerTokenSet([]), protectsMetrics: true).isEnabled)
    }
}
