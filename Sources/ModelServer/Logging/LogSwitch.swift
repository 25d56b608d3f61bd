import Foundation

/// The log settings every `SwitchedLogHandler` of the process reads at each line: a change made here (by
/// `POST /v2/logging`) applies to the next line any thread logs.
///
/// Thread safety: `lock` guards `current`. That is why the class is `@unchecked Sendable`.
public final class LogSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var current: LogSettings

    public init(_ settings: LogSettings = LogSettings()) {
        current = settings
    }

    /// The settings in force.
    public var settings: LogSettings {
        lock.withLock { current }
    }

    /// Replaces the settings; the next line logged anywhere follows them.
    public func set(_ settings: LogSettings) {
        lock.withLock { current = settings }
    }
}
