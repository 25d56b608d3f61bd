import Logging

/// A `LogHandler` that passes a line to the handler it wraps only when a shared `LogSwitch` allows its level,
/// read at each line: installed by `perceiverd serve` over its stderr handler (for every logger the process
/// makes) and by `Daemon` over the logger it is given, so that `POST /v2/logging` changes what every
/// subsequent line does. A line must also pass the wrapped handler's own level, so a handler made quiet stays
/// quiet; `perceiverd serve` leaves its handler at trace and lets the switch decide.
public struct SwitchedLogHandler: LogHandler {
    /// The handler lines go to.
    public var wrapped: any LogHandler
    /// The settings that decide which levels pass.
    public let logSwitch: LogSwitch

    public init(wrapping wrapped: any LogHandler, logSwitch: LogSwitch) {
        self.wrapped = wrapped
        self.logSwitch = logSwitch
    }

    /// The least severe level both the switch and the wrapped handler let through; setting it sets the
    /// wrapped handler's.
    public var logLevel: Logger.Level {
        get { max(wrapped.logLevel, logSwitch.settings.lowestLevel) }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    /// The switch is read again here: between `Logger`'s check of `logLevel` and this call, a line may have
    /// passed a threshold that a change has since raised, or that lets debug through while info is off.
    public func log(event: LogEvent) {
        guard event.level >= wrapped.logLevel, logSwitch.settings.allows(event.level) else { return }
        wrapped.log(event: event)
    }
}
