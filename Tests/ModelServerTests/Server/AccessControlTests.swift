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

    @Test func requestsWithoutAnAcceptedTokenGet401WithAChallengeAndAClose() throws {
        let daemon = try Self.daemon(protectMetrics: false)
        defer { daemon.stop {} }
        /// One request on a connection of its own: a refused one is answered on its head and the connection closes.
        func send(_ method: String, _ path: String, headers: [String: String] = [:],
                  body: Data = Data()) throws -> RawHTTPClient.Response {
            let client = try RawHTTPClient(port: daemon.port)
            let response = try client.request(method, path, headers: headers, body: body)
            if response.status == 401 {
                #expect(response.header("Connection") == "close", "\(path)")
                #expect(client.isClosedByPeer(), "\(path)")
            }
            return response
        }
        let missing = try send("POST", "/v2/models/seqcls/infer", body: Self.inference)
        #expect(missing.status == 401)
        #expect(missing.header("WWW-Authenticate") == #"Bearer realm="perceiverd""#)
        #expect(missing.json?["error"] as? String == "missing bearer token: send the header 'Authorization: Bearer TOKEN'")
        let wrong = try send("POST", "/v2/models/seqcls/infer", headers: ["Authorization": "Bearer file-tokem"],
                             body: Self.inference)
        #expect(wrong.status == 401)
        #expect(wrong.header("WWW-Authenticate") == #"Bearer realm="perceiverd", error="invalid_token""#)
        #expect(try send("GET", "/v2/models/seqcls").status == 401)
        #expect(try send("GET", "/v2").status == 401)
        #expect(try send("POST", "/infer", body: Data(#"{"text":"hi"}"#.utf8)).status == 401)
        #expect(try send("GET", "/v2/models/nope").status == 401, "401 before 404: names stay private")
        // Accepted tokens keep the connection open.
        let client = try RawHTTPClient(port: daemon.port)
        for token in ["file-token", "env-token"] {
            let answer = try client.request("POST", "/v2/models/seqcls/infer", headers: ["Authorization": "Bearer \(token)"],
                                            body: Self.inference)
            #expect(answer.status == 200, "\(token): \(answer.text)")
        }
    }

    /// The token is checked on the head: no `100 Continue`, no body read or inflated, for a refused request.
    @Test func aRefusedRequestsBodyIsNeverReadOrInflated() throws {
        let daemon = try Self.daemon(protectMetrics: false)
        defer { daemon.stop {} }
        // Expect: 100-continue without a token: the answer is the 401, not an invitation to send 60 MiB.
        let waiting = try RawHTTPClient(port: daemon.port)
        try waiting.send("POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         + "Content-Length: 62914560\r\n\r\n")
        let answer = try waiting.readResponse()
        #expect(answer.status == 401, "\(answer.status) \(answer.text)")
        #expect(waiting.isClosedByPeer())
        // The declared body was never reserved or read: nothing is held for it.
        #expect(daemon.bufferedBodyBytes == 0)
        // A gzip bomb without a token is refused as unauthorized, not as too large after inflating it.
        let bomb = try RawHTTPClient(port: daemon.port)
        let compressed = try Compression.gzip(Data(count: 64 << 20), level: 9)
        let refused = try bomb.request("POST", "/v2/models/seqcls/infer", headers: ["Content-Encoding": "gzip"],
                                       body: compressed)
        #expect(refused.status == 401, "\(refused.text)")
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
            let authorized = try RawHTTPClient(port: daemon.port).request("GET", "/metrics",
                                                                          headers: ["Authorization": "Bearer env-token"])
            #expect(authorized.status == 200)
            #expect(authorized.text.contains(#"perceiverd_http_requests_total{code="401"}"#) == protects)
        }
    }

    @Test func routerWithoutTokensIsOpen() {
        #expect(!AccessPolicy.open.isEnabled)
        #expect(!AccessPolicy(tokens: BearerTokenSet([]), protectsMetrics: true).isEnabled)
    }

    /// The administrative routes: off unless enabled (403); with admin tokens, only those (an inference token is a
    /// 403, none or an unknown one a 401); with inference tokens and no admin tokens, refused (403); with
    /// neither, open like every other route.
    @Test(arguments: [
        // (inference tokens, admin tokens, repository on, presented token, expected status or nil for allowed)
        (false, false, false, nil, 403), (false, false, true, nil, nil),
        (true, false, true, "user", 403), (true, true, true, "user", 403), (true, true, true, "admin", nil),
        (true, true, true, nil, 401), (true, true, true, "stranger", 401), (false, true, true, nil, 401),
        (false, true, true, "admin", nil), (true, true, false, "admin", 403),
    ] as [(Bool, Bool, Bool, String?, Int?)])
    func administrativeRoutesNeedTheirOwnTokens(users: Bool, admins: Bool, on: Bool, token: String?,
                                                expected: Int?) throws {
        let policy = AccessPolicy(tokens: users ? BearerTokenSet(["user"]) : nil, protectsMetrics: false,
                                  adminTokens: admins ? BearerTokenSet(["admin"]) : nil,
                                  admin: AdminConfiguration(repository: on))
        var fields = [("Host", "x")]
        if let token { fields.append(("Authorization", "Bearer \(token)")) }
        let head = HTTPRequestHead(method: "POST", target: "/v2/repository/index", version: .http1_1,
                                   headers: HTTPHeaders(fields))
        var status: Int?
        do { try policy.check(head, segments: ["v2", "repository", "index"]) } catch { status = error.status }
        #expect(status == expected)
        // The logging group is its own switch.
        do {
            try policy.check(head, segments: ["v2", "logging"])
            Issue.record("logging is off")
        } catch { #expect(error.status == 403) }
    }

    @Test func adminSettingsParseAndResolveTheTokenFile() throws {
        let json = #"{"models": [{"name": "m", "path": "m"}], "admin": {"repository": true, "token_file": "admins"}}"#
        let configuration = try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/etc/perceiverd")
        #expect(configuration.admin == AdminConfiguration(repository: true, logging: false,
                                                          tokenFile: "/etc/perceiverd/admins"))
        let path = try Self.tokenFile("root-1\n")
        let tokens = try AccessTokens.loadAdmin(AdminConfiguration(tokenFile: path),
                                                environment: ["PERCEIVERD_ADMIN_TOKENS": "root-2"])
        #expect(tokens == ["root-1", "root-2"])
    }
}
