import Logging

/// What the daemon logs, as Triton's logging extension names it (docs/reference/serving.md 3.8), mapped onto
/// swift-log's seven levels: `log_verbose_level` 1 lets debug through and 2 or more trace as well; `log_info`
/// info; `log_warning` notice and warning (swift-log's notice is a condition that may need attention, which
/// Triton files as a warning); `log_error` error. Critical is always logged. `log_file` and `log_format` are
/// reported and fixed: the log is stderr, in swift-log's one format.
public struct LogSettings: Sendable, Equatable {
    /// Info lines (every request's line among them).
    public var logInfo: Bool
    /// Notice and warning lines.
    public var logWarning: Bool
    /// Error lines.
    public var logError: Bool
    /// 0: no debug or trace lines; 1: debug; 2 and above: debug and trace.
    public var verboseLevel: UInt32

    public init(logInfo: Bool = true, logWarning: Bool = true, logError: Bool = true, verboseLevel: UInt32 = 0) {
        self.logInfo = logInfo
        self.logWarning = logWarning
        self.logError = logError
        self.verboseLevel = verboseLevel
    }

    /// The settings that log `level` and everything more severe (the configuration's `log_level`): `trace`
    /// is verbose level 2, `debug` 1; `notice` logs what `warning` logs.
    public init(level: Logger.Level) {
        self.init(logInfo: level <= .info, logWarning: level <= .warning, logError: level <= .error,
                  verboseLevel: level == .trace ? 2 : level == .debug ? 1 : 0)
    }

    /// Whether a line at `level` is logged.
    public func allows(_ level: Logger.Level) -> Bool {
        switch level {
        case .trace: return verboseLevel >= 2
        case .debug: return verboseLevel >= 1
        case .info: return logInfo
        case .notice, .warning: return logWarning
        case .error: return logError
        case .critical: return true
        }
    }

    /// The least severe level logged: what a `Logger` compares a line with before calling its handler.
    public var lowestLevel: Logger.Level {
        Logger.Level.allCases.first(where: allows) ?? .critical
    }
}

extension ServerConfiguration.LogLevel {
    /// The swift-log level of the same name.
    public var loggerLevel: Logger.Level {
        Logger.Level(rawValue: rawValue) ?? .info
    }
}
