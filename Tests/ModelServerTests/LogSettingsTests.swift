import Foundation
import Logging
import Testing
@testable import ModelServer

/// Triton's logging extension mapped onto swift-log: the settings a configured level starts with, which
/// levels each setting lets through, the switch every handler reads, and the bodies `POST /v2/logging` takes.
@Suite struct LogSettingsTests {
    /// (configured level, log_info, log_warning, log_error, log_verbose_level).
    @Test(arguments: [
        (Logger.Level.trace, true, true, true, UInt32(2)), (.debug, true, true, true, 1), (.info, true, true, true, 0),
        (.notice, false, true, true, 0), (.warning, false, true, true, 0), (.error, false, false, true, 0),
        (.critical, false, false, false, 0),
    ])
    func aConfiguredLevelIsTritonsSettings(level: Logger.Level, info: Bool, warning: Bool, error: Bool,
                                           verbose: UInt32) {
        let settings = LogSettings(level: level)
        #expect(settings == LogSettings(logInfo: info, logWarning: warning, logError: error, verboseLevel: verbose))
        // Every level at least as severe as the configured one is logged (notice and warning go together).
        for other in Logger.Level.allCases where other >= level {
            #expect(settings.allows(other) || (level == .warning && other == .notice), "\(other)")
        }
        #expect(!settings.allows(.debug) || level <= .debug)
    }

    @Test func eachSettingLetsItsLevelsThroughAndCriticalAlwaysPasses() {
        let none = LogSettings(logInfo: false, logWarning: false, logError: false, verboseLevel: 0)
        #expect(Logger.Level.allCases.filter(none.allows) == [.critical])
        #expect(none.lowestLevel == .critical)
        let verbose = LogSettings(logInfo: false, logWarning: false, logError: true, verboseLevel: 1)
        #expect(Logger.Level.allCases.filter(verbose.allows) == [.debug, .error, .critical])
        #expect(verbose.lowestLevel == .debug)
        #expect(LogSettings(verboseLevel: 7).allows(.trace))
        #expect(Logger.Level.allCases.filter(LogSettings(logInfo: false).allows) == [.notice, .warning, .error, .critical])
    }

    /// A change to the switch applies to the next line of every logger that reads it, copies included; a
    /// handler's own level still holds.
    @Test func theSwitchDecidesEveryLineOfEveryLogger() {
        let log = CapturedLog()
        let logSwitch = LogSwitch(LogSettings(level: .info))
        var logger = log.logger(level: .trace)
        logger.handler = SwitchedLogHandler(wrapping: logger.handler, logSwitch: logSwitch)
        var copy = logger
        copy[metadataKey: "request.id"] = "7"
        logger.debug("hidden")
        copy.info("shown")
        logSwitch.set(LogSettings(logInfo: false, verboseLevel: 1))
        copy.info("now hidden")
        logger.debug("now shown")
        logger.warning("still shown")
        #expect(logger.logLevel == .debug)
        #expect(log.records.map(\.message) == ["shown", "now shown", "still shown"])
        #expect(log.records.first?.metadata["request.id"] == "7")

        let quiet = CapturedLog()
        var critical = quiet.logger(level: .critical)
        critical.handler = SwitchedLogHandler(wrapping: critical.handler, logSwitch: logSwitch)
        critical.error("below the handler's own level")
        #expect(quiet.records.isEmpty && critical.logLevel == .critical)
    }

    @Test func answersEverySettingInTritonsNames() throws {
        let json = LogSettings(logInfo: false, verboseLevel: 3).json
        #expect(String(decoding: json, as: UTF8.self) == #"{"log_file":"","log_info":false,"log_warning":true,"#
                + #""log_error":true,"log_verbose_level":3,"log_format":"default"}"#)
    }

    @Test func aChangeSetsOnlyTheSettingsItNames() throws {
        let start = LogSettings(level: .info)
        let body = #"{"log_verbose_level":2,"log_error":false,"log_file":"","log_format":"default"}"#
        let changed = try start.updated(json: Data(body.utf8))
        #expect(changed == LogSettings(logInfo: true, logWarning: true, logError: false, verboseLevel: 2))
        #expect(try start.updated(json: Data("{}".utf8)) == start)
        #expect(try start.updated(json: Data(#"{"log_verbose_level":4294967295}"#.utf8)).verboseLevel == UInt32.max)
    }

    @Test(arguments: [
        (#"{"log_info":1}"#, "'log_info' must be a boolean (true or false), got 1"),
        (#"{"log_warning":"yes"}"#, "'log_warning' must be a boolean"),
        (#"{"log_error":null}"#, "'log_error' must be a boolean"),
        (#"{"log_verbose_level":-1}"#, "'log_verbose_level' must be an integer from 0 to 4294967295, got -1"),
        (#"{"log_verbose_level":1.5}"#, "'log_verbose_level' must be an integer"),
        (#"{"log_verbose_level":4294967296}"#, "'log_verbose_level' must be an integer"),
        (#"{"log_verbose_level":true}"#, "'log_verbose_level' must be an integer"),
        (#"{"log_file":"/tmp/x.log"}"#, "'log_file' cannot be changed: perceiverd logs to stderr"),
        (#"{"log_format":"ISO8601"}"#, "'log_format' must be \"default\""),
        (#"{"log_warnings":false}"#, "unknown log setting 'log_warnings' (settings: log_file, log_info,"),
        (#"{"log_errors":false}"#, "log_format; Triton's server and perceiverd call it 'log_error')"),
        (#"{"verbose":1}"#, "log_verbose_level, log_format)"),
        (#"{"log_info":true,"log_info":false}"#, "duplicate"),
        (#"[{"log_info":true}]"#, "expected a JSON object of log settings"),
        (#"{"log_info":tru}"#, "expected a JSON object of log settings"),
        ("", "expected a JSON object of log settings"),
    ])
    func aBadChangeIs400NamingTheSettingAndChangesNothing(body: String, expected: String) {
        do {
            _ = try LogSettings().updated(json: Data(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.status == 400)
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func anOversizedBodyIs413() {
        let body = Data(("{\"log_info\":true" + String(repeating: " ", count: 70_000) + "}").utf8)
        #expect(throws: RequestError.self) { try LogSettings().updated(json: body) }
        #expect((try? LogSettings().updated(json: body)) == nil)
        do { _ = try LogSettings().updated(json: body) } catch { #expect(error.status == 413) }
    }
}
