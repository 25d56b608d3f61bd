import Foundation
import HTTPTestSupport
import Logging
@testable import ModelServer
import Testing

/// Triton's logging extension over a real socket (issue #21): `GET /v2/logging` reads the settings the
/// configuration started with, `POST` changes what the daemon's next line does, bad bodies are 400 naming the
/// setting, and the route exists only behind `admin.logging`.
@Suite(.serialized) struct LoggingWireTests {
    /// Runs `body` against an in-process daemon logging into `log` (which records every level itself), then
    /// drains it.
    func withDaemon(logLevel: ServerConfiguration.LogLevel = .info, admin: AdminConfiguration = AdminConfiguration(logging: true),
                    auth: AuthConfiguration = AuthConfiguration(), environment: [String: String] = [:],
                    log: CapturedLog = CapturedLog(), _ body: (Daemon, RawHTTPClient) throws -> Void) throws {
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, threads: 1, logLevel: logLevel,
            models: [ModelConfiguration(name: "seqcls", path: ServerFixtures.root + "/models/seqcls")], auth: auth,
            admin: admin)
        try TestDaemon.run(configuration, environment: environment, logger: log.logger(level: .trace)) { daemon in
            try body(daemon, try RawHTTPClient(port: daemon.port))
        }
    }

    /// Whether the request line of the request with `id` was logged.
    func logged(_ log: CapturedLog, id: String) -> Bool {
        log.records.contains { $0.metadata["request.id"] == id && $0.metadata["http.path"] != nil }
    }

    func probe(_ client: RawHTTPClient, id: String) throws {
        #expect(try client.request("GET", "/v2/health/ready", headers: ["X-Request-ID": id]).status == 200)
    }

    @Test func aChangeAppliesToTheNextLineTheDaemonLogs() throws {
        let log = CapturedLog()
        try withDaemon(log: log) { daemon, client in
            let start = try client.request("GET", "/v2/logging")
            #expect(start.status == 200)
            #expect(start.text == #"{"log_file":"","log_info":true,"log_warning":true,"log_error":true,"#
                    + #""log_verbose_level":0,"log_format":"default"}"#)
            try probe(client, id: "before")
            #expect(logged(log, id: "before"))

            let off = try client.request("POST", "/v2/logging", body: Data(#"{"log_info":false}"#.utf8))
            #expect(off.status == 200)
            #expect(off.json?["log_info"] as? Bool == false && off.json?["log_warning"] as? Bool == true)
            #expect(log.records.contains { $0.message == "log settings changed" && $0.level == .notice })
            try probe(client, id: "while-off")
            #expect(!logged(log, id: "while-off"), "info lines are off")

            let back = Data(#"{"log_info":true,"log_verbose_level":2,"log_file":"","log_format":"default"}"#.utf8)
            #expect(try client.request("POST", "/v2/logging", body: back).json?["log_verbose_level"] as? Int == 2)
            try probe(client, id: "after")
            #expect(logged(log, id: "after"))
            #expect(daemon.logSwitch.settings == LogSettings(verboseLevel: 2))
            #expect(try client.request("GET", "/v2").json?["extensions"] as? [String]
                    == V2Metadata.extensions(admin: AdminConfiguration(logging: true)))
        }
    }

    @Test func aBadChangeIs400NamingTheSettingAndChangesNothing() throws {
        try withDaemon { daemon, client in
            for (body, field) in [(#"{"log_info":"no"}"#, "log_info"), (#"{"log_verbose_level":-2}"#, "log_verbose_level"),
                                  (#"{"log_file":"/var/log/p.log"}"#, "log_file"), (#"{"verbose":1}"#, "verbose"),
                                  ("not json", "JSON object")] {
                let response = try client.request("POST", "/v2/logging", body: Data(body.utf8))
                #expect(response.status == 400, "\(body)")
                #expect((response.json?["error"] as? String)?.contains(field) == true, "\(response.text)")
            }
            #expect(daemon.logSwitch.settings == LogSettings())
            let put = try client.request("PUT", "/v2/logging")
            #expect(put.status == 405 && put.header("Allow") == "GET, HEAD, POST")
        }
    }

    @Test func theConfiguredLevelIsWhatTheSettingsStartAt() throws {
        let log = CapturedLog()
        try withDaemon(logLevel: .error, log: log) { _, client in
            let json = try #require(try client.request("GET", "/v2/logging").json)
            #expect(json["log_info"] as? Bool == false && json["log_warning"] as? Bool == false)
            #expect(json["log_error"] as? Bool == true && json["log_verbose_level"] as? Int == 0)
            try probe(client, id: "quiet")
            #expect(!logged(log, id: "quiet"))
        }
    }

    /// Off (the default): 403 for everyone (refused on the head, so each on a connection of its own), and the
    /// server does not list the extension.
    @Test func withoutAdminLoggingTheRouteIs403AndNotAdvertised() throws {
        let response = try TestDaemon.client().request("GET", "/v2/logging")
        #expect(response.status == 403)
        #expect((response.json?["error"] as? String)?.contains("admin.logging") == true)
        #expect(try TestDaemon.client().request("POST", "/v2/logging", body: Data(#"{"log_info":false}"#.utf8))
                .status == 403)
        #expect(try TestDaemon.client().request("GET", "/v2").json?["extensions"] as? [String] == V2Metadata.extensions)
    }

    /// With access control on, only an admin token changes the settings.
    @Test func withAuthOnlyAnAdminTokenChangesTheSettings() throws {
        let environment = ["PERCEIVERD_TOKENS": "user-token", AccessTokens.adminEnvironmentVariable: "admin-token"]
        try withDaemon(environment: environment) { daemon, client in
            let body = Data(#"{"log_verbose_level":1}"#.utf8)
            let user = try client.request("POST", "/v2/logging", headers: ["Authorization": "Bearer user-token"],
                                          body: body)
            #expect(user.status == 403)
            let admin = try RawHTTPClient(port: daemon.port)
            #expect(try admin.request("POST", "/v2/logging", headers: ["Authorization": "Bearer admin-token"],
                                      body: body).status == 200)
            #expect(daemon.logSwitch.settings.verboseLevel == 1)
        }
    }
}
