import Foundation
import Testing
@testable import ModelServer

/// Parses `json` with base directory `/etc/perceiverd`.
private func parse(_ json: String) throws(ConfigurationError) -> ServerConfiguration {
    try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/etc/perceiverd")
}

/// The error parsing `json` throws, or nil if it parses.
private func parseError(_ json: String) -> ConfigurationError? {
    do {
        _ = try parse(json)
        return nil
    } catch {
        return error
    }
}

/// A config with one valid model and `extra` spliced into the top-level object.
private func withModel(_ extra: String = "", model: String = "") -> String {
    let modelExtra = model.isEmpty ? "" : ", " + model
    let topExtra = extra.isEmpty ? "" : extra + ", "
    return #"{\#(topExtra)"models": [{"name": "mlm", "path": "m"\#(modelExtra)}]}"#
}

@Suite struct ConfigurationParsingTests {
    @Test func parsesEveryKey() throws {
        let json = #"""
        {
          "host": "0.0.0.0", "port": 9000, "threads": 2, "log_level": "debug", "drain_timeout_ms": 5000,
          "models": [
            {"name": "mlm", "path": "/srv/models/mlm", "version": "3", "precision": "bf16", "max_batch_size": 16,
             "max_queue_delay_us": 500, "max_queue_size": 0, "default_timeout_us": 250000,
             "preferred_batch_sizes": [4, 16], "priority_levels": 3, "default_priority_level": 2, "instances": 2,
             "threads_per_instance": 1, "memory_budget_mib": 512, "latent_cache_mib": 0},
            {"name": "vision.v2-small_1", "path": "models/vision"}
          ],
          "limits": {
            "max_request_line_bytes": 1024, "max_header_bytes": 2048, "max_header_count": 10,
            "max_body_bytes": 4096, "max_decompressed_bytes": 8192, "max_connections": 16,
            "read_timeout_ms": 100, "idle_timeout_ms": 200, "write_timeout_ms": 300
          },
          "tls": {"port": 9443, "cert": "tls/cert.pem", "key": "/keys/key.pem"}
        }
        """#
        let expected = ServerConfiguration(
            host: "0.0.0.0", port: 9000, threads: 2, logLevel: .debug, drainTimeoutMilliseconds: 5000,
            models: [
                ModelConfiguration(name: "mlm", path: "/srv/models/mlm", version: "3", precision: "bf16",
                                   maxBatchSize: 16, maxQueueDelayMicroseconds: 500, maxQueueSize: 0,
                                   defaultTimeoutMicroseconds: 250_000, preferredBatchSizes: [4, 16],
                                   priorityLevels: 3, defaultPriorityLevel: 2, instances: 2, threadsPerInstance: 1,
                                   memoryBudgetMiB: 512, latentCacheMiB: 0),
                ModelConfiguration(name: "vision.v2-small_1", path: "/etc/perceiverd/models/vision"),
            ],
            limits: .with {
                ($0.maxRequestLineBytes, $0.maxHeaderBytes, $0.maxHeaderCount) = (1024, 2048, 10)
                ($0.maxBodyBytes, $0.maxDecompressedBytes, $0.maxConnections) = (4096, 8192, 16)
                ($0.readTimeoutMilliseconds, $0.idleTimeoutMilliseconds, $0.writeTimeoutMilliseconds) = (100, 200, 300)
            },
            tls: TLSConfiguration(port: 9443, certificatePath: "/etc/perceiverd/tls/cert.pem",
                                  keyPath: "/keys/key.pem"))
        #expect(try parse(json) == expected)
    }

    /// A pass may take every core in `threads` however many models and instances there are; a positive
    /// `threads_per_instance` caps it, and a cap above `threads` is `threads`.
    @Test func aPassMayTakeEveryComputeThreadUnlessCapped() throws {
        let configuration = try parse(#"""
            {"threads": 8, "models": [{"name": "a", "path": "/a", "instances": 2}, {"name": "b", "path": "/b"},
                                      {"name": "c", "path": "/c", "threads_per_instance": 3},
                                      {"name": "d", "path": "/d", "threads_per_instance": 9}]}
            """#)
        #expect(configuration.models.map(configuration.maxThreadsPerPass(of:)) == [8, 8, 3, 8])
    }

    @Test func appliesDefaultsWhenKeysAreAbsent() throws {
        let config = try parse(#"{"models": [{"name": "mlm", "path": "/m"}]}"#)
        #expect(config == ServerConfiguration(models: [ModelConfiguration(name: "mlm", path: "/m")]))
        #expect(config.host == "127.0.0.1" && config.port == 8000 && config.threads == 0)
        #expect(config.logLevel == .info && config.drainTimeoutMilliseconds == 30_000 && config.tls == nil)
        let model = try #require(config.models.first)
        #expect(model.version == "1" && model.precision == "f32" && model.maxBatchSize == 8)
        #expect(model.maxQueueDelayMicroseconds == 0 && model.maxQueueSize == 64 && model.defaultTimeoutMicroseconds == 0)
        #expect(config.limits.maxBodyBytes == 67_108_864 && config.limits.maxDecompressedBytes == 67_108_864)
        #expect(config.limits.maxRequestLineBytes == 8192 && config.limits.maxHeaderBytes == 32768)
        #expect(config.limits.maxHeaderCount == 100 && config.limits.maxConnections == 1024)
        #expect(config.limits.readTimeoutMilliseconds == 30_000 && config.limits.idleTimeoutMilliseconds == 60_000)
        #expect(config.limits.writeTimeoutMilliseconds == 30_000)
    }

    @Test func appliesLimitDefaultsForAbsentLimitKeys() throws {
        let config = try parse(withModel(#""limits": {"max_connections": 7}"#))
        #expect(config.limits == .with { $0.maxConnections = 7 })
    }

    @Test func treatsNullTLSAsNoTLS() throws {
        #expect(try parse(withModel(#""tls": null"#)).tls == nil)
    }

    @Test func acceptsIntegralFloatsAsIntegers() throws {
        #expect(try parse(withModel(#""port": 8080.0, "threads": 4e0"#)).port == 8080)
    }

    @Test(arguments: [
        ("models/mlm", "/etc/perceiverd/models/mlm"),
        ("./models/../mlm", "/etc/perceiverd/mlm"),
        ("../shared/mlm", "/etc/shared/mlm"),
        ("/abs/mlm", "/abs/mlm"),
    ])
    func resolvesRelativePathsAgainstTheBaseDirectory(path: String, resolved: String) throws {
        let json = #"{"models": [{"name": "m", "path": "\#(path)"}], "tls": {"port": 1, "cert": "\#(path)", "key": "k"}}"#
        let config = try parse(json)
        #expect(config.models.first?.path == resolved)
        #expect(config.tls?.certificatePath == resolved)
        #expect(config.tls?.keyPath == "/etc/perceiverd/k")
    }

    @Test func loadResolvesPathsAgainstTheFilesDirectory() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/config.json"
        try Data(withModel().utf8).write(to: URL(fileURLWithPath: file))
        let config = try ServerConfiguration.load(path: file)
        #expect(config.models.first?.path == directory.path + "/m")
    }
}

@Suite struct ConfigurationErrorTests {
    @Test(arguments: [
        (withModel(#""portt": 1"#), "portt"),
        (withModel(#""limits": {"max_bodyy_bytes": 1}"#), "limits.max_bodyy_bytes"),
        (#"{"models": [{"name": "a", "path": "a"}, {"name": "b", "path": "b", "presicion": "f32"}]}"#,
         "models[1].presicion"),
        (withModel(#""tls": {"port": 1, "cert": "c", "key": "k", "ca": "x"}"#), "tls.ca"),
        (withModel(model: #""nmae": "x""#), "models[0].nmae"),
    ])
    func rejectsUnknownKeysNamingTheFullPath(json: String, key: String) {
        let error = parseError(json)
        #expect(error == .unknownKey(key))
        #expect(error?.description == "unknown key '\(key)'")
    }

    @Test(arguments: [
        (withModel(#""port": true"#), "port", "an integer from 0 to 65535"),
        (withModel(#""port": "80""#), "port", "an integer from 0 to 65535"),
        (withModel(#""port": 80.5"#), "port", "an integer from 0 to 65535"),
        (withModel(#""port": 65536"#), "port", "an integer from 0 to 65535"),
        (withModel(#""port": -1"#), "port", "an integer from 0 to 65535"),
        (withModel(#""port": null"#), "port", "an integer from 0 to 65535"),
        (withModel(#""threads": 1e30"#), "threads", "an integer of at least 0"),
        (withModel(#""threads": 9223372036854775808"#), "threads", "an integer of at least 0"),
        (withModel(#""drain_timeout_ms": false"#), "drain_timeout_ms", "an integer of at least 0"),
        (withModel(#""host": """#), "host", "a non-empty string"),
        (withModel(#""host": 1"#), "host", "a non-empty string"),
        (withModel(#""log_level": "verbose""#), "log_level", "one of \"trace\""),
        (withModel(#""limits": []"#), "limits", "an object or null"),
        (withModel(#""limits": {"max_body_bytes": 0}"#), "limits.max_body_bytes", "an integer of at least 1"),
        (withModel(#""tls": 5"#), "tls", "an object or null"),
        (withModel(#""tls": {"port": 70000, "cert": "c", "key": "k"}"#), "tls.port", "an integer from 0 to 65535"),
        (withModel(model: #""max_batch_size": 0"#), "models[0].max_batch_size", "an integer of at least 1"),
        (withModel(model: #""latent_cache_mib": -1"#), "models[0].latent_cache_mib", "an integer from 0 to"),
        (withModel(model: #""latent_cache_mib": "256""#), "models[0].latent_cache_mib", "an integer from 0 to"),
        (withModel(model: #""max_batch_size": true"#), "models[0].max_batch_size", "an integer of at least 1"),
        (withModel(model: #""max_queue_size": -1"#), "models[0].max_queue_size", "an integer of at least 0"),
        (withModel(model: #""max_queue_delay_us": 1.5"#), "models[0].max_queue_delay_us", "an integer from 0 to 1099511627776"),
        (withModel(model: #""default_timeout_us": "1""#), "models[0].default_timeout_us", "an integer from 0 to 1099511627776"),
        (withModel(model: #""default_timeout_us": 1099511627777"#), "models[0].default_timeout_us",
         "an integer from 0 to 1099511627776"),
        (withModel(model: #""precision": "f16""#), "models[0].precision", "one of \"f32\", \"bf16\", \"auto\""),
        (withModel(model: #""preferred_batch_sizes": [2, 9]"#), "models[0].preferred_batch_sizes[1]",
         "an integer from 1 to 8"),
        (withModel(model: #""preferred_batch_sizes": [0]"#), "models[0].preferred_batch_sizes[0]", "an integer of at least 1"),
        (withModel(model: #""preferred_batch_sizes": 4"#), "models[0].preferred_batch_sizes", "an array"),
        (withModel(model: #""priority_levels": 2, "default_priority_level": 3"#), "models[0].default_priority_level",
         "an integer from 0 to 2"),
        (withModel(model: #""instances": 0"#), "models[0].instances", "an integer of at least 1"),
        (withModel(model: #""threads_per_instance": -1"#), "models[0].threads_per_instance", "an integer of at least 0"),
        (withModel(model: #""version": 2"#), "models[0].version", "a non-empty string"),
        (#"{"models": [{"name": "a b", "path": "p"}]}"#, "models[0].name", "a string matching [A-Za-z0-9_.-]+"),
        (#"{"models": [{"name": "m", "path": ""}]}"#, "models[0].path", "a non-empty string"),
        (#"{"models": {"name": "m"}}"#, "models", "an array"),
        (#"{"models": ["mlm"]}"#, "models[0]", "an object"),
    ])
    func rejectsWrongTypesNamingKeyAndExpectation(json: String, key: String, expected: String) {
        let error = parseError(json)
        guard case .invalidValue(let errorKey, _, _) = error else {
            Issue.record("expected invalidValue for '\(key)', got \(String(describing: error))")
            return
        }
        #expect(errorKey == key)
        #expect(error?.description.hasPrefix("'\(key)' must be \(expected)") == true)
    }

    @Test(arguments: [
        (#"{}"#, "models"),
        (#"{"models": [{"path": "p"}]}"#, "models[0].name"),
        (#"{"models": [{"name": "m"}]}"#, "models[0].path"),
        (withModel(#""tls": {"cert": "c", "key": "k"}"#), "tls.port"),
        (withModel(#""tls": {"port": 1, "cert": "c"}"#), "tls.key"),
    ])
    func rejectsMissingRequiredKeys(json: String, key: String) {
        let error = parseError(json)
        #expect(error == .missingKey(key))
        #expect(error?.description == "missing required key '\(key)'")
    }

    /// RFC 8259 leaves an object with a repeated name undefined (parsers take the first, the last or both), so
    /// the file is refused rather than read one way here and another by a tool that checked it.
    @Test(arguments: [
        (#"{"port": 1, "port": 2, "models": [{"name": "m", "path": "p"}]}"#, "port"),
        (#"{"models": [{"name": "a", "path": "a"}, "#
            + #"{"name": "b", "path": "b", "precision": "f32", "precision": "bf16"}]}"#, "models[1].precision"),
        (withModel(#""limits": {"max_body_bytes": 1, "max_body_bytes": 2}"#), "limits.max_body_bytes"),
    ])
    func rejectsDuplicateKeysNamingTheDottedPath(json: String, key: String) {
        let error = parseError(json)
        #expect(error == .duplicateKey(key))
        #expect(error?.description == "duplicate key '\(key)'")
    }

    @Test func rejectsAnEmptyModelList() {
        #expect(parseError(#"{"models": []}"#) == .noModels)
    }

    @Test func rejectsDuplicateModelNames() {
        let error = parseError(#"{"models": [{"name": "m", "path": "a"}, {"name": "m", "path": "b"}]}"#)
        #expect(error == .duplicateModelName("m"))
        #expect(error?.description.contains("'m'") == true)
    }

    @Test func rejectsTLSOnThePlainPort() {
        #expect(parseError(withModel(#""port": 8443, "tls": {"port": 8443, "cert": "c", "key": "k"}"#))
            == .conflictingPorts(8443))
    }

    @Test func reportsInvalidJSONWithItsPosition() {
        let error = parseError("{\n  \"port\": 1,\n  oops\n}")
        guard case .invalidJSON(let reason) = error else {
            Issue.record("expected invalidJSON, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("line 3"))
    }

    @Test func rejectsATopLevelThatIsNotAnObject() {
        guard case .invalidJSON = parseError("[1, 2]") else {
            Issue.record("expected invalidJSON")
            return
        }
    }

    @Test func loadReportsAMissingFile() {
        #expect(throws: ConfigurationError.unreadableFile(path: "/nonexistent/config.json", reason: "no such file")) {
            try ServerConfiguration.load(path: "/nonexistent/config.json")
        }
    }

    @Test func loadPrefixesErrorsWithTheFilePath() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/config.json"
        try Data(withModel(#""limits": {"max_bodyy_bytes": 1}"#).utf8).write(to: URL(fileURLWithPath: file))
        let error = #expect(throws: ConfigurationError.self) { try ServerConfiguration.load(path: file) }
        #expect(error == .inFile(path: file, .unknownKey("limits.max_bodyy_bytes")))
        #expect(error?.description == "\(file): unknown key 'limits.max_bodyy_bytes'")
    }
}

@Suite struct ConfigurationOverrideTests {
    private let base = ServerConfiguration(models: [ModelConfiguration(name: "mlm", path: "/srv/mlm", maxBatchSize: 4)])

    @Test func overridesHostPortAndThreads() throws {
        let config = try base.overriding(host: "::", port: 0, threads: 3, models: [])
        #expect(config.host == "::" && config.port == 0 && config.threads == 3)
        #expect(config.models == base.models)
    }

    @Test func keepsValuesWithoutOverrides() throws {
        #expect(try base.overriding(host: nil, port: nil, threads: nil, models: []) == base)
    }

    @Test func replacesThePathOfANamedModelKeepingItsSettings() throws {
        let config = try base.overriding(host: nil, port: nil, threads: nil, models: ["mlm=/other/mlm"])
        #expect(config.models == [ModelConfiguration(name: "mlm", path: "/other/mlm", maxBatchSize: 4)])
    }

    @Test func addsAModelWithDefaultSettings() throws {
        let config = try base.overriding(host: nil, port: nil, threads: nil, models: ["clf=/srv/clf=x"])
        #expect(config.models.last == ModelConfiguration(name: "clf", path: "/srv/clf=x"))
        #expect(config.models.count == 2)
    }

    @Test func resolvesARelativeOverrideAgainstTheWorkingDirectory() throws {
        let config = try base.overriding(host: nil, port: nil, threads: nil, models: ["clf=models/clf"])
        let expected = URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/models/clf")
            .standardizedFileURL.path
        #expect(config.models.last?.path == expected)
    }

    @Test(arguments: ["mlm", "=dir", "mlm=", "a b=dir", ""])
    func rejectsMalformedModelOverrides(text: String) {
        #expect(throws: ConfigurationError.invalidModelOverride(text)) {
            try base.overriding(host: nil, port: nil, threads: nil, models: [text])
        }
    }

    @Test func validatesOverriddenValues() {
        #expect(throws: ConfigurationError.invalidValue(key: "port", expected: .integer(min: 0, max: 65535),
                                                        found: "70000")) {
            try base.overriding(host: nil, port: 70000, threads: nil, models: [])
        }
    }

    @Test func addingAModelToAnEmptyConfigurationMakesItValid() throws {
        #expect(throws: ConfigurationError.noModels) { try ServerConfiguration().validate() }
        let config = try ServerConfiguration().overriding(host: nil, port: nil, threads: nil, models: ["m=/m"])
        #expect(config.models == [ModelConfiguration(name: "m", path: "/m")])
    }
}

/// A fresh directory under the system temporary directory, removed when the value is released.
private final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "perceiverd-config-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
